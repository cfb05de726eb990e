from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakPortalConfig(AppConfig):
    name = "rak_portal"
    verbose_name = _("Portail client")

    def ready(self) -> None:
        from rak_base.hooks import hook_subscribe
        from rak_payment_cmi.api import HOOK_ORDER_RETURN_PAGE
        from rak_portal.views.payments import order_return_page

        hook_subscribe(HOOK_ORDER_RETURN_PAGE, order_return_page)  # the card-payment return page's look and links
