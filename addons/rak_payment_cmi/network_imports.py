"""Bulk import of payments collected by other networks (Tasshilat, Wafacash, Barid Cash, banks'
counters...): a CSV file, one payment per row, recorded in the customer ledger with
``payments_record_bulk`` (a fixed number of queries per 5,000 rows), with a per-row report.

File (separator « ; » or « , », UTF-8; headers without case or accents):

| column | required | meaning |
|---|---|---|
| ``code_client`` | one of the two | the customer's code |
| ``numero_facture`` (``facture``, ``n_facture``) | one of the two | a bill number (its customer pays) |
| ``montant`` | yes | ``123,45`` or ``123.45`` (DH) |
| ``date`` | yes | ``JJ/MM/AAAA [HH:MM[:SS]]`` or ``AAAA-MM-JJ [...]`` (Casablanca time) |
| ``reference`` (``reference_reseau``, ``ref``) | yes | the network's transaction reference |
| ``reseau`` | no | the network's name (else the name chosen on the import page) |
| ``motif`` | no | why a payment is more than the customer owes (else the row is rejected) |

Each row obeys the bounds of a staff payment (``rak_billing.ledger.payment_bounds_check``): a
positive amount, not dated in the future, at most the ceiling (rak.conf ``[payments]
max_amount``), above what the customer owes only with a ``motif``; a row out of bounds is rejected
in the report with the reason, the others are recorded.

Idempotent: each payment's ``external_id`` is ``RESEAU:<réseau>:<référence>`` (unique): importing
the same file — or a file overlapping an earlier one — records every payment once. The amount is
allocated like any payment (``rak_billing.allocation``): the bill the row names first, then the
customer's other open bills, oldest due date first. The same file imported again under another
network name is refused (its references would get another prefix and be paid twice), and a row
already recorded under another network name (same customer, amount, date and reference: the
file exported again) is rejected in the report; a reference
too long for ``external_id`` is rejected (cut, two references would become one); a row naming a
bill already settled is recorded with a note in the report (the money goes to the other bills).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from rak_base.imports import import_archive
from rak_base.money import money_format
from rak_billing.ledger import (
    PaymentRefused,
    PaymentRow,
    customer_balances,
    payment_bounds_check,
    payments_record_bulk,
)
from rak_billing.models import Bill, Payment
from rak_customer.models import Customer
from rak_payment_cmi.csvfiles import (
    ImportFileError,
    RowError,
    header_key,
    parse_amount,
    parse_datetime,
    read_rows,
)
from rak_payment_cmi.models import NetworkPaymentImport

ALIASES = {
    "code_client": ("code_client", "client", "code"),
    "facture": ("numero_facture", "n_facture", "no_facture", "num_facture", "facture", "reference_facture"),
    "montant": ("montant", "amount", "montant_paye"),
    "date": ("date", "date_paiement", "date_de_paiement"),
    "reference": ("reference", "reference_reseau", "ref", "reference_transaction", "n_transaction"),
    "reseau": ("reseau", "network", "canal"),
    "motif": ("motif", "raison", "commentaire"),
}
REQUIRED = ("montant", "date", "reference")
DEFAULT_NETWORK = "AUTRE"
EXTERNAL_ID_MAX = 120  # Payment.external_id


@dataclass(frozen=True)
class _Valid:
    line: int
    customer_id: int
    customer_code: str
    amount: Decimal
    paid_at: datetime.datetime
    external_id: str
    reference: str
    bill_id: int | None = None
    reason: str = ""
    note: str = ""  # shown in the report beside a recorded row


def external_id_for(network: str, reference: str) -> str:
    return f"RESEAU:{header_key(network).upper() or DEFAULT_NETWORK}:{reference.strip()}"[:120]


@transaction.atomic
def network_payments_import(
    *, data: bytes, file_name: str, now: datetime.datetime, network: str = "", user=None
) -> NetworkPaymentImport:
    """Import a network's payment file; returns the import with its counts and report."""
    sha256 = hashlib.sha256(data).hexdigest()
    prefix = external_id_for(network, "")
    earlier = next(
        (
            batch
            for batch in NetworkPaymentImport.objects.filter(sha256=sha256).order_by("created_at")
            if external_id_for(batch.network, "") != prefix
        ),
        None,
    )
    if earlier is not None:  # its references would get another network's prefix: paid twice
        raise ImportFileError(
            gettext(
                "Ce fichier a déjà été importé le %(date)s sous le réseau « %(network)s » : importez-le sous le "
                "même nom de réseau (rien ne sera enregistré deux fois)."
            )
            % {
                "date": f"{timezone.localtime(earlier.created_at):%d/%m/%Y %H:%M}",
                "network": earlier.network or gettext("sans nom"),
            }
        )
    rows = read_rows(data, ALIASES, REQUIRED)
    codes = {r["code_client"].upper() for _n, r in rows if r.get("code_client")}
    numbers = {r["facture"].upper() for _n, r in rows if r.get("facture")}
    customers = {c.code: c for c in Customer.objects.filter(code__in=codes).only("pk", "code")}
    bills = {b.number: b for b in Bill.objects.filter(number__in=numbers).select_related("customer")}
    report, valid, seen = [], [], set()
    for line, raw in rows:
        entry = {"line": line, "reference": raw.get("reference", ""), "amount": raw.get("montant", "")}
        try:
            valid_row = _check_row(raw, customers, bills, default_network=network, now=now)
            if valid_row.external_id in seen:
                raise RowError("Référence en double dans le fichier : ligne ignorée.")
            seen.add(valid_row.external_id)
        except RowError as exc:
            report.append({**entry, "status": "rejected", "reason": str(exc)})
            continue
        valid.append((line, valid_row, entry))
    existing = {
        p.external_id: p
        for p in Payment.objects.filter(external_id__in=[v.external_id for _l, v, _e in valid])
        .select_related("reversal")
        .only("external_id", "customer_id", "amount", "reversal__reversed_at")
    }
    twins = _recorded_under_another_network([v for _l, v, _e in valid if v.external_id not in existing])
    fresh = []
    # bounds in the order payments_record_bulk records them (customer, date): each row against
    # what the customer still owes after the rows before it
    balances = customer_balances({row.customer_id for _l, row, _e in valid})
    for _line, row, entry in sorted(valid, key=lambda v: (v[1].customer_id, v[1].paid_at, v[0])):
        entry = {**entry, "customer": row.customer_code}
        known = existing.get(row.external_id)
        twin = twins.get(_twin_key(row)) if known is None else None
        if twin is not None and twin != row.external_id:  # the same payment, another network name
            report.append(
                {
                    **entry,
                    "status": "rejected",
                    "reason": gettext(
                        "Déjà enregistré sous le réseau « %(network)s » (même client, montant, date et "
                        "référence) : ligne ignorée."
                    )
                    % {"network": twin.split(":", 2)[1]},
                }
            )
        elif known is None:
            owed = balances.get(row.customer_id, Decimal("0.00"))
            try:
                payment_bounds_check(
                    amount=row.amount, paid_at=row.paid_at, now=now, open_balance=owed, reason=row.reason
                )
            except PaymentRefused as exc:
                report.append({**entry, "status": "rejected", "reason": exc.message})
                continue
            balances[row.customer_id] = owed - row.amount
            fresh.append(row)
            report.append({**entry, "status": "created", "reason": row.note})
        elif getattr(known, "reversal", None) is not None:  # its reference is taken for good (unique)
            report.append(
                {
                    **entry,
                    "status": "rejected",
                    "reason": gettext(
                        "Le paiement de cette référence a été annulé le %(date)s : s'il est bon, "
                        "enregistrez-le au guichet (« Encaisser un paiement »)."
                    )
                    % {"date": f"{timezone.localtime(known.reversal.reversed_at):%d/%m/%Y}"},
                }
            )
        elif known.customer_id == row.customer_id and known.amount == row.amount:
            report.append({**entry, "status": "unchanged", "reason": "Déjà enregistré (import précédent)."})
        else:
            report.append(
                {
                    **entry,
                    "status": "rejected",
                    "reason": "Référence déjà enregistrée pour un autre paiement "
                    f"({money_format(known.amount, plain_space=True)}).",
                }
            )
    created = payments_record_bulk(
        [
            PaymentRow(
                customer_id=row.customer_id,
                amount=row.amount,
                method=Payment.Method.AGENT_NETWORK,
                paid_at=row.paid_at,
                reference=row.reference[:64],
                external_id=row.external_id,
                bill_ids=(row.bill_id,) if row.bill_id else (),
                reason=row.reason,
            )
            for row in fresh
        ],
        received_by=user,
        now=now,
    )
    report.sort(key=lambda e: e["line"])
    batch = NetworkPaymentImport.objects.create(
        file_name=file_name[:255],
        sha256=sha256,
        network=network[:40],
        uploaded_by=user,
        created_at=now,
        rows_total=len(rows),
        rows_created=created,
        rows_unchanged=sum(1 for e in report if e["status"] == "unchanged"),
        rows_rejected=sum(1 for e in report if e["status"] == "rejected"),
        amount_created=sum((row.amount for row in fresh), Decimal("0.00")),
        report=report,
    )
    # the file itself, kept with its report (private storage; an import is archived, never deleted)
    batch.file.save(f"paiements-{batch.pk}.csv", ContentFile(data), save=False)
    batch.save(update_fields=["file"])
    return batch


def _twin_key(row: _Valid) -> tuple:
    return (row.customer_id, row.amount, row.paid_at, row.external_id.split(":", 2)[2])


def _recorded_under_another_network(rows: list[_Valid]) -> dict[tuple, str]:
    """Network payments already recorded with the same customer, amount, date and reference as
    ``rows`` (whatever the network name they were imported under) -> their external id: a file
    exported again and imported under another name must not pay twice. One query."""
    if not rows:
        return {}
    found = Payment.objects.filter(
        method=Payment.Method.AGENT_NETWORK,
        customer_id__in={r.customer_id for r in rows},
        paid_at__gte=min(r.paid_at for r in rows),
        paid_at__lte=max(r.paid_at for r in rows),
        external_id__startswith="RESEAU:",
    ).values_list("external_id", "customer_id", "amount", "paid_at")
    return {
        (customer_id, amount, paid_at, external_id.split(":", 2)[2]): external_id
        for external_id, customer_id, amount, paid_at in found
        if external_id is not None  # always: filtered on its prefix
    }


def network_import_archive(*, import_id: int, staff_user, reason: str, now: datetime.datetime) -> NetworkPaymentImport:
    """Archive an import instead of deleting it: its file, its report and the payments it recorded
    stay (``rak_base.imports.import_archive``)."""
    return import_archive(model=NetworkPaymentImport, batch_id=import_id, staff_user=staff_user, reason=reason, now=now)


def _check_row(
    row: dict[str, str],
    customers: dict[str, Customer],
    bills: dict[str, Bill],
    *,
    default_network: str,
    now: datetime.datetime,
) -> _Valid:
    code = row.get("code_client", "").upper()
    number = row.get("facture", "").upper()
    customer = customers.get(code) if code else None
    if code and customer is None:
        raise RowError(f"Code client inconnu : {code}.")
    bill = None
    if number:
        bill = bills.get(number)
        if bill is None:
            raise RowError(f"Facture inconnue : {number}.")
        if customer is not None and bill.customer_id != customer.pk:
            raise RowError(f"La facture {number} n'appartient pas au client {code}.")
        customer = bill.customer
    if customer is None:
        raise RowError("Ni code client ni numéro de facture.")
    amount = parse_amount(row.get("montant", ""))
    paid_at = parse_datetime(row.get("date", ""))
    if paid_at > now:
        raise RowError("Date de paiement dans le futur.")
    reference = row.get("reference", "").strip()
    if not reference:
        raise RowError("Référence du réseau manquante.")
    network = row.get("reseau", "") or default_network or DEFAULT_NETWORK
    external_id = external_id_for(network, reference)
    # cut to fit, two references could become one (the second payment dropped as « déjà enregistré »)
    if len(external_id_for(network, "")) + len(reference) > EXTERNAL_ID_MAX:
        raise RowError(gettext("Référence du réseau trop longue (%(n)s caractères).") % {"n": len(reference)})
    note = ""
    if bill is not None and bill.settled_at is not None:
        note = gettext(
            "La facture %(number)s était déjà réglée : le montant va aux autres factures du client, puis à son crédit."
        ) % {"number": bill.number}
    return _Valid(
        line=0,
        customer_id=customer.pk,
        customer_code=customer.code,
        amount=amount,
        paid_at=paid_at,
        external_id=external_id,
        reference=f"{network} {reference}".strip(),
        bill_id=bill.pk if bill is not None else None,
        reason=row.get("motif", "").strip(),
        note=note,
    )
