"""Reads for « Mes abonnements » (seed 000): the customer's dossiers with their status, and what the
RAK did on each (« la loupe liste les opérations effectuées sur vos abonnements par les équipes RAK
avec leurs statuts »), derived from the history the product already keeps: django-simple-history
writes a ``HistoricalDossier`` row at every save of a dossier (back office, request effects).

Consecutive history rows are compared field by field: the meter (pose, change, removal), the
tariff category, the billing mode and the status (cut = suspension, reconnection, termination,
reactivation) each make one operation with its date. The creation is dated by the dossier's start
date (dossiers loaded in bulk, the demo's, have no creation row). Fixed query count: the dossier's
history rows, then the meters they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_customer.models import Dossier, Meter

DONE = _("Réalisée")

STATUS_OPERATIONS = {
    (Dossier.Status.ACTIVE, Dossier.Status.SUSPENDED): _("Coupure (suspension de la fourniture)"),
    (Dossier.Status.SUSPENDED, Dossier.Status.ACTIVE): _("Rétablissement de la fourniture"),
    (Dossier.Status.ACTIVE, Dossier.Status.TERMINATED): _("Résiliation de l'abonnement"),
    (Dossier.Status.SUSPENDED, Dossier.Status.TERMINATED): _("Résiliation de l'abonnement"),
    (Dossier.Status.TERMINATED, Dossier.Status.ACTIVE): _("Réactivation de l'abonnement"),
    (Dossier.Status.TERMINATED, Dossier.Status.SUSPENDED): _("Réactivation de l'abonnement (fourniture suspendue)"),
}


@dataclass(frozen=True)
class DossierOperation:
    """One line under the magnifier: what was done, when, on what, and its status."""

    day: date
    label: str
    detail: str = ""
    status: str = ""
    #: sorts operations of one day in the order they happened
    at: datetime | None = None
    #: a request's number (the line links to « Suivi des demandes »)
    request_number: str = ""


def customer_dossiers(customer_id: int) -> list[Dossier]:
    """The customer's dossiers, active first then suspended then terminated, by number (one query)."""
    order: dict[str, int] = {Dossier.Status.ACTIVE: 0, Dossier.Status.SUSPENDED: 1, Dossier.Status.TERMINATED: 2}
    dossiers = list(Dossier.objects.filter(customer_id=customer_id).select_related("premises", "meter"))
    return sorted(dossiers, key=lambda d: (order.get(d.status, 3), d.number))


def customer_dossier(customer_id: int, number: str) -> Dossier | None:
    """One of the customer's dossiers (another customer's number: None, the view's 404)."""
    return Dossier.objects.filter(customer_id=customer_id, number=number).select_related("premises", "meter").first()


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def dossier_operations(dossier: Dossier) -> list[DossierOperation]:
    """The operations on ``dossier`` from its history (two queries), oldest first."""
    rows = list(
        dossier.history.order_by("history_date", "history_id").values(
            "history_type", "history_date", "status", "tariff_category", "billing_mode", "meter_id", "end_date"
        )
    )
    meter_ids = {row["meter_id"] for row in rows if row["meter_id"]}
    meters = dict(Meter.objects.filter(pk__in=meter_ids).values_list("pk", "number")) if meter_ids else {}
    operations = [
        DossierOperation(
            day=dossier.start_date,
            label=str(_("Création de l'abonnement")),
            detail=gettext("Dossier %(number)s — %(service)s")
            % {"number": dossier.number, "service": dossier.get_service_display()},
            status=str(DONE),
        )
    ]
    for before, after in zip(rows, rows[1:], strict=False):
        if after["history_type"] != "~":
            continue
        at = after["history_date"]
        day = timezone.localdate(at)
        if before["meter_id"] != after["meter_id"]:
            old, new = meters.get(before["meter_id"]), meters.get(after["meter_id"])
            if old is None:
                label, detail = _("Pose du compteur"), gettext("Compteur n° %(new)s") % {"new": new}
            elif new is None:
                label, detail = _("Dépose du compteur"), gettext("Compteur n° %(old)s") % {"old": old}
            else:
                label = _("Changement de compteur")
                detail = gettext("Compteur n° %(old)s remplacé par le n° %(new)s") % {"old": old, "new": new}
            operations.append(DossierOperation(day=day, at=at, label=str(label), detail=detail, status=str(DONE)))
        if before["tariff_category"] != after["tariff_category"]:
            operations.append(
                DossierOperation(
                    day=day,
                    at=at,
                    label=str(_("Changement de catégorie tarifaire")),
                    detail=f"{_label(Dossier.TariffCategory, before['tariff_category'])} → "
                    f"{_label(Dossier.TariffCategory, after['tariff_category'])}",
                    status=str(DONE),
                )
            )
        if before["billing_mode"] != after["billing_mode"]:
            operations.append(
                DossierOperation(
                    day=day,
                    at=at,
                    label=str(_("Changement du mode de facturation")),
                    detail=f"{_label(Dossier.BillingMode, before['billing_mode'])} → "
                    f"{_label(Dossier.BillingMode, after['billing_mode'])}",
                    status=str(DONE),
                )
            )
        status_label = STATUS_OPERATIONS.get((before["status"], after["status"]))
        if status_label is not None:
            detail = ""
            if after["status"] == Dossier.Status.TERMINATED and after["end_date"]:
                detail = gettext("Fin de l'abonnement le %(date)s") % {"date": f"{after['end_date']:%d/%m/%Y}"}
            operations.append(
                DossierOperation(day=day, at=at, label=str(status_label), detail=detail, status=str(DONE))
            )
    return operations
