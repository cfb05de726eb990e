from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakCollectionsConfig(AppConfig):
    name = "rak_collections"
    verbose_name = _("Recouvrement")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each part registers its scheduler jobs, hooks and message templates in its own module
        # (``register()``), so that one part can be read without the others.
        from rak_collections import registry

        registry.register_all()
