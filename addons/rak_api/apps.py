from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakApiConfig(AppConfig):
    name = "rak_api"
    verbose_name = _("API mobile")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rak_api import schema  # noqa: F401  (drf-spectacular extension for the device tokens)
