"""Reconciliation with the gateway: import CMI's settlement file (« relevé des transactions »),
match each transaction with the payment orders by TransId then oid, list what disagrees, and
resolve a line in one click.

The settlement file (CSV, « ; » or « , », UTF-8; headers without case or accents; one row per
transaction of the day as the merchant centre exports it):

| column | aliases | example |
|---|---|---|
| ``date`` | ``date_transaction``, ``trxdate`` | ``02/03/2026 10:15:03`` or ``2026-03-02 10:15:03`` |
| ``oid`` | ``commande``, ``order_id``, ``n_commande`` | ``RAK260302K7Q2M9XD4TRA`` |
| ``transid`` | ``trans_id``, ``n_transaction``, ``transaction`` | ``26061Ab12cD3eF`` |
| ``autorisation`` | ``code_autorisation``, ``authcode``, ``auth_code`` | ``448788`` |
| ``montant`` | ``amount`` | ``221.24`` (the amount charged, fee included) |
| ``carte`` | ``masked_pan``, ``n_carte``, ``card`` | ``4111 11** **** 1111`` |
| ``statut`` | ``status``, ``etat`` | ``ACCEPTEE``, ``REMBOURSEE``, ``ANNULEE``, ``REFUSEE`` |

Results per line (``SettlementLine.Check``): MATCHED; NOT_RECORDED (the bank took the money, the
order is not paid here: the callback was lost) → « Enregistrer le paiement » records it with
``payment_record`` (``external_id = CMI:<TransId>``, the order's bills first), marks the order
PAID, sends the receipt e-mail, and cancels, with a credit note, every late fee (CUT_FEE bill)
issued to the customer on or after the gateway's payment date; AMOUNT_DIFFERS, DOUBLE_CHARGE,
UNKNOWN_ORDER (money at the gateway that must go back) and REFUNDED_HERE_PAID, NOT_AT_GATEWAY
(recorded here, not or no longer at the gateway) → « Signaler » (flagged for a refund or an
accounting check, with a note). Importing the same file twice is refused (SHA-256).

A captured order is one payment of what CMI took (bills + the online-service fee and its VAT, the
fee settling a « Frais du service en ligne » invoice), so the file's days balance to the centime:
``settlement_summary`` — the file's accepted total = the orders captured on those days (fee
included) = the card payments recorded = the bills paid + the fee income (HT + VAT). A
transaction accepted at CMI for an order cancelled here (bills already settled: not captured)
is flagged as money to give back.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from rak_base.errors import RakError
from rak_base.hooks import hook_fire
from rak_base.money import money_format, round_money
from rak_billing.ledger import credit_note_issue
from rak_billing.models import Bill, Payment, PaymentAllocation, PaymentReversal
from rak_payment_cmi import services
from rak_payment_cmi.csvfiles import ImportFileError, RowError, parse_amount, parse_datetime, read_rows
from rak_payment_cmi.models import PaymentOrder, SettlementImport, SettlementLine

Check = SettlementLine.Check
GatewayStatus = SettlementLine.GatewayStatus
ALIASES = {
    "date": ("date", "date_transaction", "trxdate", "date_heure"),
    "oid": ("oid", "commande", "order_id", "n_commande", "numero_commande"),
    "transid": ("transid", "trans_id", "n_transaction", "transaction", "numero_transaction"),
    "autorisation": ("autorisation", "code_autorisation", "authcode", "auth_code"),
    "montant": ("montant", "amount"),
    "carte": ("carte", "masked_pan", "n_carte", "card", "numero_carte"),
    "statut": ("statut", "status", "etat"),
}
REQUIRED = ("date", "montant", "statut")
STATUSES = {
    GatewayStatus.ACCEPTED: ("ACCEPTEE", "ACCEPTE", "APPROVED", "CAPTUREE", "CAPTURE", "PAYEE", "OK", "POSTAUTH"),
    GatewayStatus.REFUNDED: ("REMBOURSEE", "REMBOURSE", "REFUND", "REFUNDED", "CREDIT"),
    GatewayStatus.CANCELLED: ("ANNULEE", "ANNULE", "VOID", "CANCELLED", "ANNULATION"),
    GatewayStatus.DECLINED: ("REFUSEE", "REFUSE", "DECLINED", "ERROR", "ECHEC"),
}
NEEDS_APPLY = {Check.NOT_RECORDED}
NEEDS_FLAG = {
    Check.AMOUNT_DIFFERS,
    Check.DOUBLE_CHARGE,
    Check.UNKNOWN_ORDER,
    Check.REFUNDED_HERE_PAID,
    Check.NOT_AT_GATEWAY,
    Check.NOT_RECORDED,
}


class ReconciliationError(RakError):
    default_message = "Ce rapprochement ne peut pas être traité."


def _status(text: str) -> str:
    key = (text or "").strip().upper().replace("É", "E").replace("È", "E").replace(" ", "")
    for status, words in STATUSES.items():
        if key in words:
            return status
    raise RowError(f"Statut inconnu : « {text} » (ACCEPTEE, REMBOURSEE, ANNULEE ou REFUSEE).")


@dataclass
class _Row:
    line: int
    at: datetime.datetime
    oid: str
    trans_id: str
    auth_code: str
    amount: Decimal
    card: str
    status: str


def _match(row: _Row, order: PaymentOrder | None) -> tuple[str, str]:
    """(check, detail) of one gateway transaction against its order."""
    if row.status in (GatewayStatus.REFUNDED, GatewayStatus.CANCELLED):
        if order is not None and order.status == PaymentOrder.Status.PAID and order.trans_id == row.trans_id:
            reversal = (  # a PAID order has its payment (cmi_order_paid_has_payment)
                PaymentReversal.objects.filter(payment_id=order.payment_id).first()
                if order.payment_id is not None
                else None
            )
            if reversal is not None:  # « Annuler le paiement » done here: both sides agree
                return Check.MATCHED, (
                    f"Remboursé au CMI, paiement annulé ici le {timezone.localtime(reversal.reversed_at):%d/%m/%Y}."
                )
            return Check.REFUNDED_HERE_PAID, "Paiement enregistré ici mais remboursé ou annulé au CMI."
        return Check.NO_MONEY, ""
    if row.status == GatewayStatus.DECLINED:
        return Check.NO_MONEY, ""
    if order is None:
        return Check.UNKNOWN_ORDER, "Aucun ordre de paiement pour cet oid / TransId : à rembourser."
    if order.status == PaymentOrder.Status.PAID:
        if order.trans_id and order.trans_id != row.trans_id:
            return Check.DOUBLE_CHARGE, f"Ordre déjà payé par la transaction {order.trans_id} : à rembourser."
        if row.amount != order.amount_total:
            return (
                Check.AMOUNT_DIFFERS,
                f"{money_format(row.amount)} au CMI, {money_format(order.amount_total)} enregistrés ici.",
            )
        return Check.MATCHED, ""
    if order.status == PaymentOrder.Status.CANCELLED and order.trans_id == row.trans_id:
        return Check.DOUBLE_CHARGE, (
            "Ordre annulé ici (factures déjà réglées, non capturé) mais transaction acceptée au CMI : "
            "à annuler ou rembourser."
        )
    if order.status == PaymentOrder.Status.AMOUNT_MISMATCH or row.amount != order.amount_total:
        return (
            Check.AMOUNT_DIFFERS,
            f"{money_format(row.amount)} au CMI, {money_format(order.amount_total)} attendus par l'ordre.",
        )
    return Check.NOT_RECORDED, f"Payé au CMI, ordre « {order.get_status_display()} » ici (notification perdue)."


@transaction.atomic
def settlement_import(*, data: bytes, file_name: str, now: datetime.datetime, user=None) -> SettlementImport:
    """Import and match a settlement file; returns the import with its lines."""
    sha256 = hashlib.sha256(data).hexdigest()
    previous = SettlementImport.objects.filter(sha256=sha256).first()
    if previous is not None:
        raise ImportFileError(
            f"Ce relevé a déjà été importé le {timezone.localtime(previous.created_at):%d/%m/%Y %H:%M}."
        )
    rows, rejected = [], []
    for line, values in read_rows(data, ALIASES, REQUIRED):
        try:
            row = _Row(
                line=line,
                at=parse_datetime(values.get("date", "")),
                oid=values.get("oid", "")[:64],
                trans_id=values.get("transid", "")[:64],
                auth_code=values.get("autorisation", "")[:16],
                amount=parse_amount(values.get("montant", "")),
                card=values.get("carte", "")[:32],
                status=_status(values.get("statut", "")),
            )
            if not row.oid and not row.trans_id:
                raise RowError("Ni oid ni TransId.")
        except RowError as exc:
            rejected.append({"line": line, "reason": str(exc)})
            continue
        rows.append(row)
    by_trans = {
        o.trans_id: o for o in PaymentOrder.objects.filter(trans_id__in=[r.trans_id for r in rows if r.trans_id])
    }
    by_oid = {o.oid: o for o in PaymentOrder.objects.filter(oid__in=[r.oid for r in rows if r.oid])}
    settlement = SettlementImport.objects.create(
        file_name=file_name[:255],
        sha256=sha256,
        uploaded_by=user,
        created_at=now,
        rows_total=len(rows) + len(rejected),
        rows_rejected=len(rejected),
        report=rejected,
    )
    lines, seen_trans = [], set()
    for row in rows:
        order = by_trans.get(row.trans_id) if row.trans_id else None
        order = order or by_oid.get(row.oid)
        check, detail = _match(row, order)
        if row.status in (GatewayStatus.ACCEPTED, GatewayStatus.REFUNDED, GatewayStatus.CANCELLED) and row.trans_id:
            seen_trans.add(row.trans_id)
        lines.append(
            SettlementLine(
                settlement=settlement,
                line_no=row.line,
                transaction_at=row.at,
                oid=row.oid or (order.oid if order else ""),
                trans_id=row.trans_id,
                auth_code=row.auth_code,
                amount=row.amount,
                card_mask=row.card,
                gateway_status=row.status,
                order=order,
                check_result=check,
                detail=detail[:255],
            )
        )
    if rows:
        zone = timezone.get_current_timezone()
        first_day = min(timezone.localtime(r.at, zone).date() for r in rows)
        last_day = max(timezone.localtime(r.at, zone).date() for r in rows)
        start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        settlement.period_start, settlement.period_end = min(r.at for r in rows), max(r.at for r in rows)
        # recorded here (paid by a callback) during the file's days, absent from the file
        for order in PaymentOrder.objects.filter(
            status=PaymentOrder.Status.PAID, paid_at__gte=start, paid_at__lt=end, trans_id__isnull=False
        ).exclude(trans_id__in=seen_trans):
            lines.append(
                SettlementLine(
                    settlement=settlement,
                    transaction_at=order.paid_at,
                    oid=order.oid,
                    trans_id=order.trans_id or "",
                    auth_code=order.auth_code,
                    amount=order.amount_total,
                    card_mask=order.masked_pan,
                    gateway_status=GatewayStatus.ABSENT,
                    order=order,
                    check_result=Check.NOT_AT_GATEWAY,
                    detail="Paiement enregistré ici, absent du relevé CMI : vérifier au centre marchand.",
                )
            )
    SettlementLine.objects.bulk_create(lines)
    settlement.rows_matched = sum(1 for line in lines if line.check_result == Check.MATCHED)
    settlement.rows_mismatched = sum(1 for line in lines if line.check_result not in (Check.MATCHED, Check.NO_MONEY))
    settlement.save(update_fields=["period_start", "period_end", "rows_matched", "rows_mismatched"])
    return settlement


def _lock_line(line_id: int) -> SettlementLine:
    line = (
        SettlementLine.objects.select_for_update(of=("self",))
        .select_related("order", "settlement")
        .filter(pk=line_id)
        .first()
    )
    if line is None:
        raise ReconciliationError("Ligne de rapprochement introuvable.")
    if line.resolution:
        raise ReconciliationError(f"Cette ligne est déjà traitée ({line.get_resolution_display()}).")
    return line


def late_fees_cancel(*, customer_id: int, paid_on: datetime.date, reason: str, now: datetime.datetime) -> list[Bill]:
    """Credit notes on the late fees (CUT_FEE bills) issued to the customer on or after
    ``paid_on``: the customer had paid, the fee should never have been charged."""
    notes = []
    fees = Bill.objects.filter(customer_id=customer_id, kind=Bill.Kind.CUT_FEE, issue_date__gte=paid_on).order_by("id")
    for fee in fees:
        credited = fee.credit_notes.aggregate(total=Sum("total_ttc"))["total"] or Decimal("0.00")
        if round_money(fee.total_ttc - credited) > 0:
            notes.append(credit_note_issue(bill=fee, reason=reason, issue_date=timezone.localdate(now), now=now))
    return notes


@transaction.atomic
def settlement_line_apply(*, line_id: int, user, now: datetime.datetime) -> SettlementLine:
    """« Enregistrer le paiement »: the gateway was paid, this order was not (lost callback)."""
    line = _lock_line(line_id)
    if line.check_result not in NEEDS_APPLY or line.order_id is None:
        raise ReconciliationError("Seul un paiement accepté au CMI et non enregistré ici peut être enregistré.")
    order = PaymentOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=line.order_id)
    if order.status == PaymentOrder.Status.PAID:
        raise ReconciliationError(f"L'ordre {order.oid} est déjà payé (transaction {order.trans_id}).")
    if not line.trans_id:
        raise ReconciliationError("Le relevé ne donne pas de TransId pour cette transaction.")
    if line.amount != order.amount_total:
        raise ReconciliationError("Le montant du relevé diffère de celui de l'ordre : signalez la ligne.")
    paid_at = line.transaction_at or now
    payment = services.order_capture_record(order, trans_id=line.trans_id, paid_at=paid_at)
    order.payment = payment
    order.paid_at = paid_at
    order.trans_id = line.trans_id
    order.auth_code = order.auth_code or line.auth_code
    order.masked_pan = order.masked_pan or line.card_mask
    order.proc_return_code = "00"
    services._transition(
        order,
        PaymentOrder.Status.PAID,
        now=now,
        note=f"Rapprochement CMI : transaction {line.trans_id} du relevé « {line.settlement.file_name} »",
        fields=["payment", "paid_at", "trans_id", "auth_code", "masked_pan", "proc_return_code", "fee_bill"],
    )
    hook_fire(services.HOOK_ORDER_PAID, order_id=order.pk)
    paid_on = timezone.localdate(paid_at)
    notes = late_fees_cancel(
        customer_id=order.customer_id,
        paid_on=paid_on,
        reason=f"Paiement par carte du {paid_on:%d/%m/%Y} (transaction {line.trans_id}) constaté au rapprochement",
        now=now,
    )
    line.resolution = SettlementLine.Resolution.APPLIED
    line.resolved_at, line.resolved_by = now, user
    line.resolution_note = f"Paiement {payment.pk} de {money_format(payment.amount)} enregistré." + (
        f" Frais de retard annulés par avoir : {', '.join(n.number for n in notes)}." if notes else ""
    )
    line.save(update_fields=["resolution", "resolved_at", "resolved_by", "resolution_note"])
    return line


@transaction.atomic
def settlement_line_flag(*, line_id: int, user, now: datetime.datetime, note: str = "") -> SettlementLine:
    """« Signaler »: a refund or a void to make at the gateway, or a payment to check (note kept)."""
    line = _lock_line(line_id)
    if line.check_result not in NEEDS_FLAG:
        raise ReconciliationError("Cette ligne ne présente pas d'écart.")
    line.resolution = SettlementLine.Resolution.REFUND_FLAGGED
    line.resolved_at, line.resolved_by = now, user
    line.resolution_note = (note or line.detail or "Signalé").strip()[:2000]
    line.save(update_fields=["resolution", "resolved_at", "resolved_by", "resolution_note"])
    return line


# --- the day's totals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementSummary:
    """What a settlement file's days add up to, on both sides (the back office's report)."""

    first_day: datetime.date | None
    last_day: datetime.date | None
    gateway_total: Decimal  # the file's accepted transactions
    captured_total: Decimal  # the orders paid here on those days, fee included
    payments_total: Decimal  # the card payments recorded for them
    bills_total: Decimal  # of which allocated to the customers' bills
    fee_ht: Decimal  # of which the online-service fee (« Frais du service en ligne » invoices)
    fee_vat: Decimal  # and its VAT

    @property
    def fee_total(self) -> Decimal:
        return self.fee_ht + self.fee_vat

    @property
    def difference(self) -> Decimal:
        """The file's total minus the payments recorded: zero when the day balances."""
        return self.gateway_total - self.payments_total


def _sum(queryset, field: str) -> Decimal:
    money = DecimalField(max_digits=14, decimal_places=2)
    return queryset.aggregate(total=Coalesce(Sum(field), Decimal("0.00"), output_field=money))["total"]


def settlement_summary(settlement: SettlementImport) -> SettlementSummary:
    """The file's days (Casablanca time): CMI's accepted total beside the orders captured, the
    payments recorded, and their split into bills paid and fee income (HT, VAT)."""
    zero = Decimal("0.00")
    gateway_total = _sum(settlement.lines.filter(gateway_status=GatewayStatus.ACCEPTED), "amount")
    if settlement.period_start is None or settlement.period_end is None:
        return SettlementSummary(None, None, gateway_total, zero, zero, zero, zero, zero)
    zone = timezone.get_current_timezone()
    first_day = timezone.localtime(settlement.period_start, zone).date()
    last_day = timezone.localtime(settlement.period_end, zone).date()
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    orders = PaymentOrder.objects.filter(status=PaymentOrder.Status.PAID, paid_at__gte=start, paid_at__lt=end)
    payments = Payment.objects.filter(cmi_order__in=orders)
    fee_bills = Bill.objects.filter(cmi_fee_order__in=orders)
    # what these payments paid that day: a later reversal (its negative allocations) is its own day's
    bills_paid = PaymentAllocation.objects.filter(payment__in=payments, reversal__isnull=True).exclude(
        bill__kind=Bill.Kind.ONLINE_FEE
    )
    return SettlementSummary(
        first_day=first_day,
        last_day=last_day,
        gateway_total=gateway_total,
        captured_total=_sum(orders, "amount_total"),
        payments_total=_sum(payments, "amount"),
        bills_total=_sum(bills_paid, "amount"),
        fee_ht=_sum(fee_bills, "total_ht"),
        fee_vat=_sum(fee_bills, "total_tva"),
    )
