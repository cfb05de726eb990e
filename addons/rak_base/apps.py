from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakBaseConfig(AppConfig):
    name = "rak_base"
    verbose_name = _("Socle (messages, OTP, utilisateurs)")

    def ready(self) -> None:
        from rak_base import jobs

        jobs.register()  # periodic jobs: outbox recovery, purges (rak_base.scheduler)
        from rak_base.uploads import pillow_limit

        pillow_limit()  # every Image.open of the process refuses decompression bombs
