from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakBillingConfig(AppConfig):
    name = "rak_billing"
    verbose_name = _("Facturation")

    def ready(self) -> None:
        from rak_base.hooks import hook_subscribe
        from rak_billing import jobs, provisions, timeline
        from rak_billing.ledger import HOOK_BILLS_SETTLED

        # a paid advance invoice (« carte congé ») pays the bills already open from its provision
        hook_subscribe(HOOK_BILLS_SETTLED, provisions.on_bills_settled)
        timeline.register()  # the customer 360's timeline: bills, payments, reversals, refunds, readings
        jobs.register()  # billing runs whose worker was killed continue by themselves
        from rak_billing.partitions import partitions_job_register

        partitions_job_register()  # the month partitions of bills are created ahead
