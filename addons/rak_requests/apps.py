from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakRequestsConfig(AppConfig):
    name = "rak_requests"
    verbose_name = _("Demandes et réclamations")
