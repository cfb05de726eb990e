from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakBaseConfig(AppConfig):
    name = "rak_base"
    verbose_name = _("Socle (messages, OTP, utilisateurs)")

    def ready(self) -> None:
        from rak_base import jobs, lookups  # noqa: F401 - lookups: registers __const, and __in past 100 values

        jobs.register()  # periodic jobs: outbox recovery, purges (rak_base.scheduler)
        from rak_base.uploads import pillow_limit

        pillow_limit()  # every Image.open of the process refuses decompression bombs
        from rak_base import task_results

        # a failed task's traceback masked before django-tasks stores it (names, CIN, phones out)
        task_results.connect()
        from django.db.models.signals import post_migrate

        from rak_base.message_templates import message_templates_post_migrate

        # infrastructure, not business flow: a « Modèles de messages » row for every registered
        # message, so staff can edit one nobody changed yet (rak_base.message_templates)
        post_migrate.connect(message_templates_post_migrate, sender=self, dispatch_uid="rak_message_templates_sync")
        from django.contrib.auth.signals import user_logged_in

        from rak_base.middleware import session_refreshed_at_login

        # a new login's session carries the time its idle expiry was set (SessionLifetimeMiddleware)
        user_logged_in.connect(session_refreshed_at_login, dispatch_uid="rak_session_refreshed_at_login")
