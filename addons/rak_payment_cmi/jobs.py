"""rak_payment_cmi's periodic job, registered with rak_base's scheduler in
``RakPaymentCmiConfig.ready``: unpaid payment orders expire, then the advance invoices whose every
order expired are cancelled by a credit note (what ``manage.py cmi_orders_expire`` does by hand)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from rak_base.api import each_item, job_register
from rak_payment_cmi.paying import advance_invoices_cancel_unpaid
from rak_payment_cmi.services import payment_orders_expire

EXPIRE_EVERY = timedelta(minutes=15)


def cmi_orders_expire_job(*, now: datetime) -> str:
    counts: dict[str, int] = {}

    def run(step: str) -> None:
        if step == "orders":
            counts[step] = payment_orders_expire(now=now)
        else:
            counts[step] = advance_invoices_cancel_unpaid(now=now)

    # two steps, each isolated: expiring the orders failing does not keep the advances uncancelled
    each_item(["orders", "advances"], run, describe=lambda step: {"orders": "ordres", "advances": "avances"}[step])
    report = "%(orders)d ordre(s) expiré(s), %(advances)d facture(s) d'avance annulée(s)"  # i18n: not for customers
    return _t(report) % {"orders": counts.get("orders", 0), "advances": counts.get("advances", 0)}


def register() -> None:
    job_register(
        "cmi.orders_expire",
        cmi_orders_expire_job,
        every=EXPIRE_EVERY,
        label=_("Paiement en ligne : expiration des ordres non payés"),
    )
