"""Writes on premises, meters and dossiers that other addons ask for (a request's effects: a
subscription opens a dossier, a termination closes one...). Exported through ``rak_customer.api``;
rak_requests never writes these tables itself.

Every service is keyword-only and atomic, and raises a ``DossierError`` subclass carrying the French
message when it refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.sequences import sequence_next
from rak_customer.models import Customer, Dossier, Meter, Premises, Service


class DossierError(RakError):
    default_message = _("Opération impossible sur ce dossier.")


class MeterAlreadyRegistered(DossierError):
    default_message = _("Ce compteur est déjà enregistré.")


class MeterNumberMissing(DossierError):
    default_message = _("Saisissez le numéro du compteur posé.")


DOSSIER_PREFIX: dict[str, str] = {Service.EAU: "EA", Service.ELECTRICITE: "EL", Service.ASSAINISSEMENT: "AS"}


def _next_number(*, sequence: str, model, field: str, prefix_len: int) -> int:
    """The next value of a numbering shared with the demo data (``EA00000012``, ``LK00000007``):
    the sequence starts after the highest number already there."""
    top = model.objects.aggregate(top=Max(field))["top"] or ""
    digits = top[prefix_len:]
    start = int(digits) + 1 if digits.isdigit() else 1
    return sequence_next(name=sequence, start=start)


def dossier_number_next(service: str) -> str:
    prefix = DOSSIER_PREFIX[service]
    while True:
        value = _next_number(sequence="customer.dossier", model=Dossier, field="number", prefix_len=2)
        number = f"{prefix}{value:08d}"
        if not Dossier.objects.filter(number=number).exists():
            return number


def premises_reference_next() -> str:
    while True:
        value = _next_number(sequence="customer.premises", model=Premises, field="reference", prefix_len=2)
        reference = f"LK{value:08d}"
        if not Premises.objects.filter(reference=reference).exists():
            return reference


@transaction.atomic
def premises_create(*, address: str, district: str, city: str = "", postal_code: str = "") -> Premises:
    """A new local with the next « LK » reference (fields cut to their column's size; an empty
    address or district is stored as « — », an empty city as Kénitra)."""
    return Premises.objects.create(
        reference=premises_reference_next(),
        address=(address or "")[:255] or "—",
        district=(district or "")[:80] or "—",
        city=(city or "")[:80] or "Kénitra",
        postal_code=(postal_code or "")[:10],
    )


@transaction.atomic
def meter_register(*, number: str, service: str, caliber: str, brand: str = "", installed_date: date) -> Meter:
    """A newly installed meter (number upper-cased; its caliber normalised by ``Meter.save``, an
    invalid one raises ``InvalidCaliber``)."""
    number = (number or "").strip().upper()
    if not number:
        raise MeterNumberMissing()
    if Meter.objects.filter(number=number).exists():
        raise MeterAlreadyRegistered(_("Le compteur n° %(number)s est déjà enregistré.") % {"number": number})
    return Meter.objects.create(
        number=number, service=service, caliber=caliber, brand=(brand or "").strip(), installed_date=installed_date
    )


@transaction.atomic
def dossier_open(
    *,
    customer: Customer,
    service: str,
    premises: Premises,
    start_date: date,
    meter: Meter | None = None,
    tariff_category: str = Dossier.TariffCategory.DOMESTIQUE,
    deposit_amount: Decimal = Decimal("0.00"),
) -> Dossier:
    """An ACTIVE dossier (subscription) with the next number of its service."""
    return Dossier.objects.create(
        number=dossier_number_next(service),
        customer=customer,
        service=service,
        status=Dossier.Status.ACTIVE,
        tariff_category=tariff_category,
        deposit_amount=deposit_amount,
        start_date=start_date,
        premises=premises,
        meter=meter,
    )


@transaction.atomic
def customer_promote_client(*, customer_id: int) -> bool:
    """A prospect whose first subscription is active becomes a CLIENT; returns whether it changed."""
    return bool(
        Customer.objects.filter(pk=customer_id, status=Customer.Status.PROSPECT).update(status=Customer.Status.CLIENT)
    )


class DossierNotActive(DossierError):
    default_message = _("Ce dossier n'est pas actif : sa catégorie tarifaire ne peut pas être changée.")


class TariffCategoryUnknown(DossierError):
    default_message = _("Catégorie tarifaire inconnue.")


@transaction.atomic
def dossier_tariff_category_set(
    *, dossier_ids: list[int], category: str, customer_id: int, reason: str = ""
) -> list[Dossier]:
    """Give the dossiers ``dossier_ids`` of ``customer_id`` the tariff ``category`` (« Compteur
    collectif » after an accepted request...): rows locked, each change written to the dossier's
    history with ``reason``; refused when a dossier is not the customer's or not ACTIVE. The next
    billing run bills them with the schedule of that category. Returns the dossiers."""
    if category not in Dossier.TariffCategory.values:
        raise TariffCategoryUnknown(str(TariffCategoryUnknown.default_message))
    ids = sorted(set(dossier_ids))
    dossiers = list(Dossier.objects.select_for_update().filter(pk__in=ids, customer_id=customer_id).order_by("pk"))
    if not ids or len(dossiers) != len(ids):
        raise DossierError(str(_("Ce dossier n'appartient pas à ce client.")))
    for dossier in dossiers:
        if dossier.status != Dossier.Status.ACTIVE:
            raise DossierNotActive(
                str(_("Le dossier %(number)s n'est pas actif : sa catégorie tarifaire ne peut pas être changée."))
                % {"number": dossier.number}
            )
    for dossier in dossiers:
        if dossier.tariff_category == category:
            continue
        dossier.tariff_category = category
        dossier._change_reason = (reason or str(_("Changement de catégorie tarifaire")))[:100]
        dossier.save(update_fields=["tariff_category"])
    return dossiers


class BillingModeRefused(DossierError):
    default_message = _("Le mode de facturation de ce dossier ne peut pas être modifié.")


@transaction.atomic
def dossier_billing_mode_set(*, dossier_id: int, billing_mode: str, reason: str = "") -> Dossier:
    """Set a dossier's billing mode (« Prélèvement bancaire » when a direct-debit mandate is
    accepted, back to « Normal » when it is revoked), under the dossier's row lock; the change is
    kept in the dossier's history with ``reason``. A terminated dossier is refused; setting the
    mode it already has changes nothing."""
    if billing_mode not in Dossier.BillingMode.values:
        raise BillingModeRefused(_("Mode de facturation inconnu."))
    dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
    if dossier.billing_mode == billing_mode:
        return dossier
    if dossier.status == Dossier.Status.TERMINATED:
        raise BillingModeRefused(
            _("Le dossier %(number)s est résilié : son mode de facturation ne change plus.")
            % {"number": dossier.number}
        )
    dossier.billing_mode = billing_mode
    dossier._change_reason = (reason or "")[:100]
    dossier.save(update_fields=["billing_mode"])
    return dossier


class DossierNotTerminable(DossierError):
    default_message = _("Ce dossier ne peut pas être résilié.")


@transaction.atomic
def dossier_terminate(*, dossier_id: int, end_date: date) -> Dossier:
    """« Résiliation »: the dossier becomes TERMINATED on ``end_date`` (under its row lock). A
    dossier already terminated on that date is returned unchanged (the closing may run twice);
    terminated on another date, or ending before it started, it is refused."""
    dossier = Dossier.objects.select_for_update().filter(pk=dossier_id).first()
    if dossier is None:
        raise DossierNotTerminable(_("Dossier introuvable."))
    if dossier.status == Dossier.Status.TERMINATED:
        if dossier.end_date == end_date:
            return dossier
        raise DossierNotTerminable(
            _("Le dossier %(number)s est déjà résilié depuis le %(date)s.")
            % {"number": dossier.number, "date": dossier.end_date.strftime("%d/%m/%Y") if dossier.end_date else "—"}
        )
    if end_date < dossier.start_date:
        raise DossierNotTerminable(
            _("La date de fin du dossier %(number)s ne peut pas précéder son début (%(date)s).")
            % {"number": dossier.number, "date": dossier.start_date.strftime("%d/%m/%Y")}
        )
    dossier.status = Dossier.Status.TERMINATED
    dossier.end_date = end_date
    dossier.save(update_fields=["status", "end_date"])
    return dossier
