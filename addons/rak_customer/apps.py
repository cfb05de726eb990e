from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakCustomerConfig(AppConfig):
    name = "rak_customer"
    verbose_name = _("Clientèle")
