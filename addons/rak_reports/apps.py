from datetime import timedelta

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class RakReportsConfig(AppConfig):
    name = "rak_reports"
    verbose_name = _("Rapports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rak_base.api import job_register
        from rak_reports import matviews, monthly
        from rak_reports.reports import load_all

        load_all()  # each report module registers its report and its materialised views
        pre_migrate.connect(matviews.on_pre_migrate, dispatch_uid="rak_reports_matviews_drop")
        post_migrate.connect(matviews.on_post_migrate, dispatch_uid="rak_reports_matviews_sync")
        job_register(
            "reports_refresh",
            matviews.matviews_refresh_job,
            every=timedelta(minutes=15),
            label=_("Rapports : rafraîchir les agrégats"),
        )
        monthly.register()  # the monthly report to the direction (rak_reports.monthly)
