from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class RakCmiSandboxConfig(AppConfig):
    """A local stand-in for CMI's 3D_PAY_HOSTING gateway, for development, tests and the demo.

    Settings install it only outside production; if it were ever listed in a production
    configuration anyway, start-up stops here."""

    name = "rak_cmi_sandbox"
    verbose_name = "Simulateur CMI (développement)"

    def ready(self) -> None:
        if getattr(settings, "RAK_MODE", "production") == "production":
            raise ImproperlyConfigured("rak_cmi_sandbox (simulateur CMI) est interdit en production.")
