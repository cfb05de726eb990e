"""Direct debit (« Prélèvement bancaire »): mandates, the monthly files sent to the banks, the
banks' reject files. Models in ``rak_billing.direct_debit_models``; file formats documented in
docs/OPERATIONS.md (« Prélèvements bancaires »).

Services
- ``mandate_create``: a mandate for one dossier (RIB checked by ``rak_base.rib``), the dossier
  switched to « Prélèvement bancaire » through ``rak_customer``'s ``dossier_billing_mode_set``; a
  previous active mandate of the dossier is revoked (replaced: a new account).
- ``mandate_revoke``: with a reason; the dossier goes back to « Normal ».
- ``debits_export``: « Exporter les prélèvements du mois »: every open bill of a dossier billed
  by direct debit with an active mandate (not terminated), issued before the end of the month,
  gets one ``DebitOrder`` and its DIRECT_DEBIT payment (``external_id`` = the order's reference)
  for what is still owed after the customer's own credit, grouped in one file per bank;
  set-based (bulk inserts per chunk of 5,000 customers, ``HOOK_BILLS_SETTLED`` once per chunk;
  figures in docs/BENCHMARKS.md). A bill already in a SENT order is never exported again (a
  partial unique constraint): exporting twice debits nothing twice.
- ``debit_rejects_import``: a bank's reject file: each rejected order's payment is reversed
  (``payment_reverse``: the bill re-opens), the order marked REJECTED, the customer told (SMS,
  e-mail, bell). Idempotent per order; a line that cannot be applied is reported, never a 500.
- ``debit_reject_import_archive``: an import is archived with a reason, never deleted.
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.hooks import hook_fire
from rak_base.imports import import_archive
from rak_base.money import money_format, round_money
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_base.rib import rib_validate
from rak_base.sequences import sequence_next
from rak_base.uploads import upload_validate
from rak_billing.direct_debit_models import DebitBatch, DebitOrder, DebitRejectImport, Mandate
from rak_billing.ledger import (
    HOOK_BILLS_SETTLED,
    ZERO,
    _announce_settled,
    _apply_credit,
    _payment_label,
    _settle_many,
    bill_outstanding,
    bills_with_outstanding,
    customers_with_credit,
    payment_reverse,
)
from rak_billing.models import Bill, LedgerEntry, Payment, PaymentAllocation
from rak_customer.api import dossier_billing_mode_set
from rak_customer.language import customer_language
from rak_customer.models import Customer, Dossier, PortalAccount
from rak_customer.selectors import customer_email, customer_sms_phone

REJECTS_MAX_BYTES = 5 * 1024 * 1024
REPORT_MAX_LINES = 5000
EXPORT_LOCK = 0x52414B44  # pg_advisory_xact_lock key of « Exporter les prélèvements » ("RAKD")


class DirectDebitError(RakError):
    default_message = _("Opération de prélèvement impossible.")

    def __init__(self, message: object = None, **params: object) -> None:
        super().__init__(str(message or self.default_message), **params)


class MandateRefused(DirectDebitError):
    default_message = _("Le mandat de prélèvement ne peut pas être enregistré.")


class DebitExportRefused(DirectDebitError):
    default_message = _("L'export des prélèvements n'est pas possible.")


class RejectImportRefused(DirectDebitError):
    default_message = _("Le fichier de rejets ne peut pas être importé.")


# --- mandates ------------------------------------------------------------------------------------


def mandate_reference_next(year: int) -> str:
    return f"MDT{year}-{sequence_next(name=f'billing.mandate.{year}'):06d}"


@transaction.atomic
def mandate_create(
    *,
    dossier_id: int,
    rib: str,
    signed_date: datetime.date,
    now: datetime.datetime,
    request_reference: str = "",
    created_by=None,
) -> Mandate:
    """An ACTIVE mandate for the dossier and the dossier billed by direct debit from now on. The
    dossier's previous active mandate, if any, is revoked (« remplacé par … »)."""
    checked = rib_validate(rib)  # InvalidRib: the French reason
    dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
    if dossier.status == Dossier.Status.TERMINATED:
        raise MandateRefused(
            _("Le dossier %(number)s est résilié : il ne peut pas être prélevé.") % {"number": dossier.number}
        )
    reference = mandate_reference_next(timezone.localdate(now).year)
    for previous in Mandate.objects.select_for_update().filter(dossier_id=dossier_id, status=Mandate.Status.ACTIVE):
        previous.status = Mandate.Status.REVOKED
        previous.revoked_at = now
        previous.revoked_by = created_by
        previous.revoke_reason = gettext("Remplacé par le mandat %(reference)s") % {"reference": reference}
        previous.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    mandate = Mandate.objects.create(
        reference=reference,
        dossier_id=dossier_id,
        rib=checked.number,
        bank_code=checked.bank_code,
        bank_name=checked.bank_name,
        signed_date=signed_date,
        request_reference=(request_reference or "")[:20],
        created_by=created_by,
        created_at=now,
    )
    dossier_billing_mode_set(
        dossier_id=dossier_id,
        billing_mode=Dossier.BillingMode.DIRECT_DEBIT,
        reason=gettext("Mandat de prélèvement %(reference)s") % {"reference": reference},
    )
    return mandate


@transaction.atomic
def mandate_revoke(*, mandate_id: int, by, reason: str, now: datetime.datetime) -> Mandate:
    """Revoke a mandate (the customer closed the account, asked to stop...): reason, who, when;
    the dossier goes back to « Normal » (bills paid by the customer). Orders already sent stay."""
    reason = (reason or "").strip()
    if not reason:
        raise MandateRefused(_("Indiquez le motif de la révocation."))
    mandate = Mandate.objects.select_for_update().get(pk=mandate_id)
    if mandate.status != Mandate.Status.ACTIVE:
        raise MandateRefused(_("Ce mandat est déjà révoqué."))
    mandate.status = Mandate.Status.REVOKED
    mandate.revoked_at = now
    mandate.revoked_by = by
    mandate.revoke_reason = reason[:255]
    mandate.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    dossier = Dossier.objects.get(pk=mandate.dossier_id)
    if dossier.status != Dossier.Status.TERMINATED:
        dossier_billing_mode_set(
            dossier_id=mandate.dossier_id,
            billing_mode=Dossier.BillingMode.NORMAL,
            reason=gettext("Mandat %(reference)s révoqué") % {"reference": mandate.reference},
        )
    return mandate


def mandate_active(dossier_id: int) -> Mandate | None:
    return Mandate.objects.filter(dossier_id=dossier_id, status=Mandate.Status.ACTIVE).first()


def customer_mandates(dossier_ids: list[int]) -> dict[int, Mandate]:
    """dossier id -> its active mandate, for the dossiers that have one (one query)."""
    rows = Mandate.objects.filter(dossier_id__in=list(dossier_ids), status=Mandate.Status.ACTIVE).order_by("pk")
    return {mandate.dossier_id: mandate for mandate in rows}


# --- monthly export --------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _amount_text(value: Decimal) -> str:
    return f"{round_money(value):.2f}"


def _field(value: str) -> str:
    """A value fit for one field of the bank file: no separator, no line break."""
    return " ".join(str(value).replace(";", " ").split())


def debits_to_export(*, period: datetime.date):
    """The bills a monthly export would debit: open, issued before the end of ``period``'s month,
    of a dossier billed by direct debit with an active mandate and not terminated (its closing
    revokes the mandate; a dossier terminated another way is never debited either), not already in
    a SENT order."""
    sent = DebitOrder.objects.filter(bill_id=OuterRef("pk"), status=DebitOrder.Status.SENT)
    active = Mandate.objects.filter(dossier_id=OuterRef("dossier_id"), status=Mandate.Status.ACTIVE)
    return (
        bills_with_outstanding(
            Bill.objects.filter(
                settled_at__isnull=True,
                issue_date__lt=_next_month(month_start(period)),
                dossier__billing_mode=Dossier.BillingMode.DIRECT_DEBIT,
            )
            .exclude(kind=Bill.Kind.CREDIT_NOTE)
            .exclude(dossier__status=Dossier.Status.TERMINATED)
        )
        .filter(Exists(active))
        .exclude(Exists(sent))
        .annotate(outstanding=F("total_ttc") - F("paid"))
        .filter(outstanding__gt=ZERO)
        .select_related("customer", "dossier")
        .order_by("due_date", "id")
    )


@dataclass
class ExportResult:
    batches: list[DebitBatch] = field(default_factory=list)
    orders: int = 0
    total: Decimal = ZERO


def debit_order_reference(year: int, value: int) -> str:
    """``PRL2026000000042``: the year and the rank in that year's sequence of orders."""
    return f"PRL{year}{value:08d}"


def batch_file_content(batch: DebitBatch, orders: list[DebitOrder]) -> bytes:
    """The bank file of one batch (format: docs/OPERATIONS.md « Prélèvements bancaires »)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    created = timezone.localtime(batch.created_at)
    writer.writerow(
        [
            "E",
            "RAK",
            batch.reference,
            batch.bank_code,
            _field(batch.bank_name),
            f"{created:%Y%m%d}",
            f"{batch.period:%Y%m}",
            batch.orders_count,
            _amount_text(batch.total_amount),
        ]
    )
    for order in orders:
        bill = order.bill
        writer.writerow(
            [
                "D",
                order.reference,
                order.mandate.rib,
                _amount_text(order.amount),
                bill.number,
                f"{bill.due_date:%Y%m%d}",
                bill.customer.code,
                _field(bill.customer.display_name)[:60],
                order.mandate.reference,
            ]
        )
    writer.writerow(["T", batch.orders_count, _amount_text(batch.total_amount)])
    return out.getvalue().encode("utf-8")


EXPORT_CHUNK = 5000


@transaction.atomic
def debits_export(*, period: datetime.date, by, now: datetime.datetime) -> ExportResult:
    """« Exporter les prélèvements du mois » of ``period``'s month: one ``DebitBatch`` (a file) per
    bank, one ``DebitOrder`` per bill, each bill's payment recorded (method DIRECT_DEBIT,
    ``external_id`` = the order's reference). Serialised (one export at a time); a bill already
    sent is skipped, so exporting again only adds the bills issued since.

    Set-based, as ``ledger.payments_record_bulk``: the customers of the bills to debit are taken
    by chunks of 5,000; per chunk, under their row locks (the ledger's lock order: customers, then
    mandates and bills), a customer's older credit (a payment or credit-note remainder) is applied
    first — the bank is never asked for what the customer already paid —, then the bills are read
    again with what is still owed, and the orders, payments, ledger credits and allocations are
    written with bulk inserts, the bills settled with one UPDATE and ``HOOK_BILLS_SETTLED`` fired
    once for the chunk. A fixed number of statements per chunk, whatever its size."""
    if by is None:
        raise DebitExportRefused(_("L'export doit être fait par un agent identifié."))
    period = month_start(period)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPORT_LOCK])
    customer_ids = sorted(set(debits_to_export(period=period).order_by().values_list("customer_id", flat=True)))
    result = ExportResult()
    batches: dict[str, DebitBatch] = {}
    year = timezone.localdate(now).year
    for start in range(0, len(customer_ids), EXPORT_CHUNK):
        _export_chunk(
            customer_ids[start : start + EXPORT_CHUNK], period=period, by=by, now=now, year=year, batches=batches
        )
    for bank_code in sorted(batches):
        batch = batches[bank_code]
        orders = list(
            DebitOrder.objects.filter(batch=batch)
            .select_related("bill__customer", "mandate")
            .order_by("bill__due_date", "bill_id")
        )
        batch.orders_count = len(orders)
        batch.total_amount = round_money(sum((o.amount for o in orders), ZERO))
        batch.file.save(batch.file_name, ContentFile(batch_file_content(batch, orders)), save=False)
        batch.save(update_fields=["orders_count", "total_amount", "file"])
        result.batches.append(batch)
        result.orders += batch.orders_count
        result.total += batch.total_amount
    return result


def _batch_for(bank_code: str, bank_name: str, *, period, by, now, batches: dict[str, DebitBatch]) -> DebitBatch:
    batch = batches.get(bank_code)
    if batch is None:
        rank = DebitBatch.objects.filter(period=period, bank_code=bank_code).count() + 1
        batch = batches[bank_code] = DebitBatch.objects.create(
            reference=f"PRL-{period:%Y%m}-{bank_code}-{rank:02d}",
            period=period,
            bank_code=bank_code,
            bank_name=bank_name,
            file_name=f"prelevements-{period:%Y-%m}-{bank_code}-{rank:02d}.csv",
            created_by=by,
            created_at=now,
        )
    return batch


def _export_chunk(
    customer_ids: list[int], *, period, by, now: datetime.datetime, year: int, batches: dict[str, DebitBatch]
) -> None:
    list(Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk").values_list("pk"))
    settled_by_credit: list[int] = []
    for customer_id in customers_with_credit(customer_ids):  # rare: their credit pays before the bank
        _left, settled = _apply_credit(customer_id, at=now)
        _announce_settled(customer_id=customer_id, bill_ids=settled)
        settled_by_credit += settled
    mandates = {
        m.dossier_id: m
        for m in Mandate.objects.filter(
            dossier__customer_id__in=customer_ids, status=Mandate.Status.ACTIVE
        ).select_for_update(of=("self",))
    }
    bills = [
        bill
        for bill in debits_to_export(period=period).filter(customer_id__in=customer_ids).select_for_update(of=("self",))
        if bill.dossier_id in mandates
    ]
    if not bills:
        return
    first = sequence_next(name=f"billing.debit.{year}", count=len(bills))
    rows = []
    for offset, bill in enumerate(bills):
        reference = debit_order_reference(year, first + offset)
        rows.append((bill, mandates[bill.dossier_id], round_money(bill.outstanding), reference))
    payments = Payment.objects.bulk_create(
        (
            Payment(
                customer_id=bill.customer_id,
                amount=amount,
                method=Payment.Method.DIRECT_DEBIT,
                paid_at=now,
                reference=reference,
                external_id=reference,
                received_by=by,
            )
            for bill, _mandate, amount, reference in rows
        ),
        batch_size=1000,
    )
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(
                customer_id=payment.customer_id,
                kind=LedgerEntry.Kind.PAYMENT,
                entry_date=timezone.localdate(now),
                amount=-payment.amount,
                payment=payment,
                label=_payment_label(payment),
            )
            for payment in payments
        ),
        batch_size=1000,
    )
    PaymentAllocation.objects.bulk_create(
        (
            PaymentAllocation(bill_id=bill.pk, payment=payment, amount=amount)
            for (bill, _mandate, amount, _reference), payment in zip(rows, payments, strict=True)
        ),
        batch_size=1000,
    )
    DebitOrder.objects.bulk_create(
        (
            DebitOrder(
                reference=reference,
                batch=_batch_for(mandate.bank_code, mandate.bank_name, period=period, by=by, now=now, batches=batches),
                bill_id=bill.pk,
                mandate=mandate,
                amount=amount,
                payment=payment,
            )
            for (bill, mandate, amount, reference), payment in zip(rows, payments, strict=True)
        ),
        batch_size=1000,
    )
    done = _settle_many({bill.pk: now for bill, *_rest in rows})  # each paid in full: its outstanding
    if done:  # one call for the chunk, as a network payments file
        customers = sorted({customer_id for _bill_id, customer_id in done})
        hook_fire(
            HOOK_BILLS_SETTLED,
            bill_ids=sorted(bill_id for bill_id, _customer_id in done),
            customer_id=customers[0] if len(customers) == 1 else None,
            customer_ids=customers,
        )


# --- reject files ---------------------------------------------------------------------------------


HEADER_WORDS = {"reference", "ref", "reference_ordre", "reference_de_l_ordre", "ordre", "n_ordre"}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower().strip()
    return "_".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def reject_rows(data: bytes) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a reject file: ``reference;code;motif`` per line (separator « ; »,
    « , » or tab), an optional header line, an optional leading record type « R »; blank lines
    skipped."""
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first.count) if first else ";"
    try:
        lines = list(enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1))
    except csv.Error as exc:  # a field of more than 128 Ko, a stray quote at the end...: not a bank's file
        raise RejectImportRefused(
            _(
                "Le fichier de rejets est illisible (une ligne trop longue ou mal formée) : une ligne par rejet, "
                "« référence ; code de rejet ; motif »."
            )
        ) from exc
    rows: list[tuple[int, list[str]]] = []
    for number, cells in lines:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if cells[0].upper() == "R" and len(cells) > 1:
            cells = cells[1:]
        if not rows and _key(cells[0]) in HEADER_WORDS:
            continue  # header line
        rows.append((number, cells))
    return rows


@dataclass
class RejectImportResult:
    batch: DebitRejectImport
    previously_imported: DebitRejectImport | None = None


def _reject_words(order: DebitOrder, due: Decimal) -> str:
    """What the customer is told: the whole bill to pay again, only what the customer's credit
    (a deposit released at a termination, an earlier overpayment...) did not cover, or nothing."""
    words = {
        "bill": order.bill.number,
        "amount": money_format(order.amount, plain_space=True),
        "reason": order.reject_reason or order.reject_code,
        "due": money_format(due, plain_space=True),
    }
    if due <= ZERO:
        return (
            gettext(
                "le prélèvement de votre facture %(bill)s (%(amount)s) a été rejeté par votre banque "
                "(motif : %(reason)s). Cette facture a été réglée par le crédit de votre compte : vous "
                "n'avez rien à payer."
            )
            % words
        )
    if due < order.amount:
        return (
            gettext(
                "le prélèvement de votre facture %(bill)s (%(amount)s) a été rejeté par votre banque "
                "(motif : %(reason)s). Le crédit de votre compte en a réglé une partie ; il reste à "
                "régler %(due)s : payez-la en ligne, dans une agence RAK ou auprès de nos partenaires."
            )
            % words
        )
    return (
        gettext(
            "le prélèvement de votre facture %(bill)s (%(amount)s) a été rejeté par votre banque "
            "(motif : %(reason)s). Cette facture est à nouveau à régler : payez-la en ligne, dans une "
            "agence RAK ou auprès de nos partenaires."
        )
        % words
    )


def _notify_rejected(order: DebitOrder, *, due: Decimal) -> None:
    """Tell the customer, in their language: SMS (SMS number), e-mail (primary e-mail) and bell
    (portal account)."""
    with customer_language(order.bill.customer):
        _notify_rejected_compose(order, due=due)


def _notify_rejected_compose(order: DebitOrder, *, due: Decimal) -> None:
    bill = order.bill
    customer = bill.customer
    text = _reject_words(order, due)
    subject = gettext("Prélèvement rejeté — facture %(bill)s") % {"bill": bill.number}
    account = PortalAccount.objects.filter(customer_id=customer.pk).select_related("user").first()
    user = account.user if account else None
    event = event_key()
    phone = customer_sms_phone(customer)
    if phone:
        message_queue_sms(to=phone, body=f"RAK : {text}"[:459], user=user, kind="direct_debit", event=event)
    email = customer_email(customer)
    if email:
        message_queue_email(
            to=email,
            subject=subject,
            body=gettext("Bonjour,\n\nNous vous informons que %(text)s\n\nLa RAK\n") % {"text": text},
            user=user,
            kind="direct_debit",
            event=event,
        )
    if user is not None:
        message_queue_bell(
            user=user, subject=subject, body=text[:1].upper() + text[1:], kind="direct_debit", event=event
        )


@transaction.atomic
def debit_order_reject(
    *,
    reference: str,
    code: str,
    reason: str,
    by,
    now: datetime.datetime,
    reject_import: DebitRejectImport | None = None,
) -> tuple[DebitOrder, Decimal | None]:
    """The bank rejected order ``reference``: its payment reversed (the bill re-opens), the order
    REJECTED with the bank's code and reason, the customer told. Returns (order, due): ``due`` is
    what is left to pay on the bill after the customer's credit was applied again, None for an
    order already rejected, left as it is."""
    order = DebitOrder.objects.select_for_update().filter(reference=reference).first()
    if order is None:
        raise RejectImportRefused(_("Ordre de prélèvement inconnu : %(reference)s.") % {"reference": reference})
    if order.status == DebitOrder.Status.REJECTED:
        return order, None
    code = (code or "").strip()[:10]
    reason = (reason or "").strip()[:255]
    payment_reverse(
        payment=order.payment_id,
        reason=gettext("Prélèvement %(reference)s rejeté par la banque — %(code)s %(reason)s")
        % {"reference": order.reference, "code": code, "reason": reason},
        by=by,
        at=now,
    )
    order.status = DebitOrder.Status.REJECTED
    order.reject_code = code
    order.reject_reason = reason
    order.rejected_at = now
    order.reject_import = reject_import
    order.save(update_fields=["status", "reject_code", "reject_reason", "rejected_at", "reject_import"])
    order = DebitOrder.objects.select_related("bill__customer").get(pk=order.pk)
    due = bill_outstanding(order.bill)  # after the customer's credit was applied again
    _notify_rejected(order, due=due)
    return order, due


def _keep_file(batch: DebitRejectImport, data: bytes) -> None:
    batch.file.save(f"rejets-prelevements-{batch.pk}.csv", ContentFile(data), save=False)
    batch.save(update_fields=["file"])


@transaction.atomic
def debit_rejects_import(*, file, file_name: str, by, now: datetime.datetime) -> RejectImportResult:
    """Import a bank's reject file (format: docs/OPERATIONS.md). The file is kept; each line is
    applied in its own savepoint (``debit_order_reject``) and reported: « rejet enregistré »,
    « déjà enregistré » (imported before: nothing changes) or the reason it could not be applied.
    ``UploadRefused`` / ``RejectImportRefused`` when the whole file cannot be read."""
    if by is None:
        raise RejectImportRefused(_("L'import doit être fait par un agent identifié."))
    validated = upload_validate(file, kinds={"csv"}, max_bytes=REJECTS_MAX_BYTES)
    validated.file.seek(0)
    data = validated.file.read()
    rows = reject_rows(data)
    if not rows:
        raise RejectImportRefused(_("Le fichier ne contient aucune ligne de rejet."))
    previous = DebitRejectImport.objects.filter(sha256=validated.sha256).order_by("created_at").first()
    batch = DebitRejectImport.objects.create(
        file_name=(file_name or "rejets.csv")[:255],
        sha256=validated.sha256,
        uploaded_by=by,
        created_at=now,
        rows_total=len(rows),
    )
    _keep_file(batch, data)
    report = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        reference = cells[0] if cells else ""
        code = cells[1] if len(cells) > 1 else ""
        reason = " ".join(c for c in cells[2:] if c)
        entry = {"line": line, "reference": reference, "code": code}
        if not reference:
            batch.rows_errors += 1
            report.append({**entry, "level": "error", "reason": gettext("Référence de l'ordre manquante.")})
            continue
        if not code:
            batch.rows_errors += 1
            report.append({**entry, "level": "error", "reason": gettext("Code de rejet manquant.")})
            continue
        if reference in seen:
            batch.rows_unchanged += 1
            report.append(
                {
                    **entry,
                    "level": "unchanged",
                    "reason": gettext("Ligne en double (déjà à la ligne %(line)d).") % {"line": seen[reference]},
                }
            )
            continue
        seen[reference] = line
        try:
            with transaction.atomic():
                order, due = debit_order_reject(
                    reference=reference, code=code, reason=reason, by=by, now=now, reject_import=batch
                )
        except RakError as exc:
            batch.rows_errors += 1
            report.append({**entry, "level": "error", "reason": exc.message})
            continue
        if due is not None:
            batch.rows_rejected += 1
            if due <= ZERO:
                words = gettext("Rejet enregistré : la facture %(bill)s est réglée par le crédit du client.")
            elif due < order.amount:
                words = gettext("Rejet enregistré : la facture %(bill)s est à nouveau à régler (reste %(due)s).")
            else:
                words = gettext("Rejet enregistré : la facture %(bill)s est à nouveau à régler.")
            report.append(
                {
                    **entry,
                    "level": "rejected",
                    "reason": words % {"bill": order.bill.number, "due": money_format(due, plain_space=True)},
                }
            )
        else:
            batch.rows_unchanged += 1
            report.append(
                {
                    **entry,
                    "level": "unchanged",
                    "reason": gettext("Rejet déjà enregistré le %(date)s : rien n'a changé.")
                    % {"date": f"{timezone.localtime(order.rejected_at):%d/%m/%Y %H:%M}"},
                }
            )
    batch.report = report[:REPORT_MAX_LINES]
    batch.save(update_fields=["rows_rejected", "rows_unchanged", "rows_errors", "report"])
    return RejectImportResult(batch=batch, previously_imported=previous)


def debit_reject_import_archive(*, batch_id: int, staff_user, reason: str, now: datetime.datetime) -> DebitRejectImport:
    """Archive a reject file instead of deleting it (``rak_base.imports.import_archive``)."""
    return import_archive(model=DebitRejectImport, batch_id=batch_id, staff_user=staff_user, reason=reason, now=now)


# --- demo ---------------------------------------------------------------------------------------------


@transaction.atomic
def demo_mandates_create(*, now: datetime.datetime, seed: int = 2026) -> int:
    """Demo data: an active mandate (a valid RIB of a known bank, deterministic for ``seed``) for
    each dossier already billed by direct debit without one, so that « Exporter les prélèvements du
    mois » has something to export. Returns how many were created."""
    import random

    from rak_base.rib import BANKS, rib_key

    rng = random.Random(f"{seed}:mandates")  # noqa: S311 - demo data
    banks = sorted(BANKS)
    missing = list(
        Dossier.objects.filter(billing_mode=Dossier.BillingMode.DIRECT_DEBIT)
        .exclude(mandates__status=Mandate.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", "start_date")
    )
    year = timezone.localdate(now).year
    first = sequence_next(name=f"billing.mandate.{year}", count=len(missing)) if missing else 0
    rows = []
    for offset, (dossier_id, start_date) in enumerate(missing):
        digits = rng.choice(banks) + "780" + f"{rng.randrange(10**16):016d}"
        number = digits + rib_key(digits)
        rows.append(
            Mandate(
                reference=f"MDT{year}-{first + offset:06d}",
                dossier_id=dossier_id,
                rib=number,
                bank_code=number[:3],
                bank_name=BANKS[number[:3]],
                signed_date=start_date,
                created_at=now,
            )
        )
    Mandate.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
