"""rak_billing's periodic jobs (registered with the scheduler in ``RakBillingConfig.ready``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from rak_base.api import job_register
from rak_billing.billing import billing_runs_recover


def billing_runs_recover_job(*, now: datetime) -> str:
    """A billing run whose worker was killed mid-chunk continues by itself (no « Reprendre »)."""
    return _t("%(count)d campagne(s) relancée(s)") % {"count": billing_runs_recover(now=now)}


def register() -> None:
    job_register(
        "billing.runs_recover",
        billing_runs_recover_job,
        every=timedelta(minutes=1),
        label=_("Facturation : reprise des campagnes interrompues"),
        lease=timedelta(minutes=5),  # a short job: a killed worker's lease must not hold it for long
    )
