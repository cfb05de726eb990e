from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakPaymentCmiConfig(AppConfig):
    name = "rak_payment_cmi"
    verbose_name = _("Paiement en ligne (CMI)")

    def ready(self) -> None:
        from rak_base.hooks import hook_subscribe
        from rak_billing.receipts import receipt_details_register
        from rak_payment_cmi.after_payment import order_paid_notify, receipt_details
        from rak_payment_cmi.services import HOOK_ORDER_PAID

        receipt_details_register(receipt_details)  # the card's details on the payment's receipt
        hook_subscribe(HOOK_ORDER_PAID, order_paid_notify)  # confirmation e-mail
        from rak_payment_cmi import jobs

        jobs.register()  # periodic job (rak_base.scheduler): unpaid orders expire
