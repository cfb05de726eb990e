from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakRequestsConfig(AppConfig):
    name = "rak_requests"
    verbose_name = _("Demandes et réclamations")

    def ready(self) -> None:
        from rak_base.hooks import hook_subscribe
        from rak_billing.api import HOOK_BILLS_REOPENED, HOOK_BILLS_SETTLED
        from rak_requests import jobs, kinds, settlement  # noqa: F401 - kinds: every type's module registers itself

        # (each kind module also registers its « facture réglée » handlers, see settlement.py)

        # « facture réglée » (any channel): the request that owns the bill moves on (settlement.py)
        hook_subscribe(HOOK_BILLS_SETTLED, settlement.on_bills_settled)
        # a reversed payment re-opens a request's bill: history note + supervisors told
        hook_subscribe(HOOK_BILLS_REOPENED, settlement.on_bills_reopened)
        jobs.register()  # periodic jobs (rak_base.scheduler): SLA escalation, staging purge
        from rak_requests import (
            admin_counter,  # « Déposer une demande » at the counter, the customer 360's requests
            admin_lifecycle,  # noqa: F401 - back office: calls and identity checks, installation orders
            admin_quotes,  # noqa: F401  (« Émettre un devis », registered on Quote)
        )

        admin_counter.hooks_register()

        # issue 11: the helpdesk, field interventions and outage notices (back office), their message
        # templates and scheduler jobs
        from rak_requests import admin_complaints, admin_interventions, admin_outages, outages  # noqa: F401
        from rak_requests.complaints import actions, escalation, notify

        notify.templates_register()
        escalation.jobs_register()
        actions.hooks_register()  # a reading's review decision back into the complaint's thread
        outages.register()
        from rak_requests import timeline

        timeline.register()  # the customer 360's timeline: requests and complaints
