from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakRequestsConfig(AppConfig):
    name = "rak_requests"
    verbose_name = _("Demandes et réclamations")

    def ready(self) -> None:
        from rak_base.hooks import hook_subscribe
        from rak_payment_cmi.api import HOOK_ORDER_PAID
        from rak_requests.lifecycle import on_order_paid

        hook_subscribe(HOOK_ORDER_PAID, on_order_paid)  # paying the fees invoice moves the request on
        from rak_requests import (
            admin_lifecycle,  # noqa: F401 - back office: calls and identity checks, installation orders
            admin_quotes,  # noqa: F401  (« Émettre un devis », registered on Quote)
        )
