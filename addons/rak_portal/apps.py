from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakPortalConfig(AppConfig):
    name = "rak_portal"
    verbose_name = _("Portail client")
