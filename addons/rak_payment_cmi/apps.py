from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakPaymentCmiConfig(AppConfig):
    name = "rak_payment_cmi"
    verbose_name = _("Paiement en ligne (CMI)")
