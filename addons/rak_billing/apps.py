from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakBillingConfig(AppConfig):
    name = "rak_billing"
    verbose_name = _("Facturation")
