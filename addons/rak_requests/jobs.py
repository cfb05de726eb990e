"""rak_requests' periodic jobs, registered with rak_base's scheduler in ``RakRequestsConfig.ready``:
SLA escalation every 15 minutes, purge of abandoned staged uploads every day."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from rak_base.api import job_register
from rak_requests.filing import STAGING_MAX_AGE, staging_purge
from rak_requests.services import requests_escalate_overdue

ESCALATE_EVERY = timedelta(minutes=15)


def requests_escalate_job(*, now: datetime) -> str:
    escalated = requests_escalate_overdue(now=now)
    return _t("%(count)d demande(s) escaladée(s)") % {"count": escalated}  # i18n: not for customers


def staging_purge_job(*, now: datetime) -> str:
    removed = staging_purge(max_age=STAGING_MAX_AGE)
    words = "%(count)d dossier(s) de pièces jointes abandonnées supprimé(s)"  # i18n: not for customers
    return _t(words) % {"count": removed}


def register() -> None:
    job_register(
        "requests.escalate",
        requests_escalate_job,
        every=ESCALATE_EVERY,
        label=_("Demandes : escalade des délais (SLA) dépassés"),
    )
    job_register(
        "requests.staging_purge",
        staging_purge_job,
        every=timedelta(days=1),
        label=_("Demandes : purge des pièces jointes abandonnées"),
        grace=timedelta(hours=2),
    )
