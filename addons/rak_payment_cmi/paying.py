"""Paying from the portal: which bills can be paid, what the selection costs (bills + the
online-service fee), and the payment orders the pages create — quick-pay without login, the
logged-in « Payer en ligne », advance top-ups (« Alimentation des avances ») and request fees.

Amounts always come from the database: a page sends bill ids (and, for an advance, the amount
the customer wants to put on the account), never a total. Bills marked exigible (due date
passed) are part of every payment of bills whether or not the browser sent them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from rak_base import clock
from rak_base.money import money_format, round_money
from rak_base.scheduler import each_item
from rak_billing.api import vat_rate_online_fee
from rak_billing.ledger import (
    OtherLine,
    bill_is_exigible,
    bill_issue_other,
    bills_open,
    bills_with_outstanding,
    credit_note_issue,
)
from rak_billing.models import Bill
from rak_billing.receipts import bill_payment_description
from rak_customer.models import Customer, Dossier
from rak_customer.selectors import customer_email
from rak_payment_cmi import fees
from rak_payment_cmi.models import PaymentOrder, PaymentSettings
from rak_payment_cmi.services import PAYABLE, NothingToPay, OrderPending, PaymentOrderError, payment_order_create

ZERO = Decimal("0.00")
Purpose = PaymentOrder.Purpose


class ExigibleBillRequired(PaymentOrderError):
    default_message = gettext_lazy("Les factures exigibles sont obligatoires dans le paiement.")


class AdvanceRefused(PaymentOrderError):
    default_message = gettext_lazy("Cette avance ne peut pas être payée en ligne.")


class AmountChanged(PaymentOrderError):
    default_message = gettext_lazy(
        "Le montant de vos factures vient de changer : vérifiez votre sélection et recommencez."
    )


class BillNotPayable(PaymentOrderError):
    """A bill id that is not among the customer's bills to pay (unknown, or another customer's:
    the same answer, nothing about it is told)."""

    default_message = gettext_lazy("Cette facture ne figure pas parmi vos factures à payer.")


class BillAlreadyPaid(PaymentOrderError):
    default_message = gettext_lazy("Cette facture est déjà réglée.")


# --- settings and fee -------------------------------------------------------------------------------


def payment_settings_get() -> PaymentSettings:
    """The back office's settings (defaults when never saved: 1 % + 10 % VAT)."""
    return PaymentSettings.objects.filter(pk=1).first() or PaymentSettings(pk=1)


@transaction.atomic
def payment_settings_fee_disable() -> PaymentSettings:
    """« Aucun frais »: the utility bears the online-service fee (the regulator's rule since 2024)."""
    current, _created = PaymentSettings.objects.select_for_update().get_or_create(pk=1)
    current.fee_mode = PaymentSettings.FeeMode.NONE
    current.save()
    return current


def fee_vat_rate_on(on_date: datetime.date | None = None, current: PaymentSettings | None = None) -> Decimal:
    """The fee's VAT rate on ``on_date`` (default today): the VAT table's versioned « Frais du
    service en ligne » line; the back office setting only when the table has no line then."""
    rate = vat_rate_online_fee(on_date=on_date or timezone.localdate(clock.now()))
    if rate is None:
        rate = (current or payment_settings_get()).fee_vat_rate
    return Decimal(rate)


def fee_for(
    amount: Decimal,
    current: PaymentSettings | None = None,
    *,
    on_date: datetime.date | None = None,
    vat_rate: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """``(fee excluding tax, its VAT)`` for paying ``amount`` online on ``on_date`` (default today);
    a page that already read the settings and the fee's VAT rate passes them (no query)."""
    current = current or payment_settings_get()
    return fees.fee_compute(
        amount,
        mode=current.fee_mode,
        fixed=current.fee_fixed,
        percent=current.fee_percent,
        vat_rate=vat_rate if vat_rate is not None else fee_vat_rate_on(on_date, current),
    )


# --- what can be paid ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayableBill:
    bill: Bill
    open_amount: Decimal
    exigible: bool

    @property
    def description(self) -> str:
        return bill_payment_description(self.bill, exigible=self.exigible)


@dataclass
class Selection:
    """The chosen bills and what paying them online costs."""

    bills: list[PayableBill] = field(default_factory=list)
    amount: Decimal = ZERO
    fee: Decimal = ZERO
    fee_vat: Decimal = ZERO

    @property
    def fee_total(self) -> Decimal:
        return self.fee + self.fee_vat

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee_total

    @property
    def ids(self) -> list[int]:
        return [item.bill.pk for item in self.bills]


def payable_bills(customer_id: int, *, as_of: datetime.date) -> list[PayableBill]:
    """The customer's bills with something left to pay, oldest due date first (one query)."""
    rows = bills_with_outstanding(bills_open(customer_id)).select_related("dossier")
    items = []
    for bill in rows:
        open_amount = round_money(bill.total_ttc - bill.paid)
        if open_amount > ZERO:
            items.append(PayableBill(bill, open_amount, bill_is_exigible(bill, as_of=as_of)))
    return items


def selection_compute(
    payable: list[PayableBill],
    bill_ids: Iterable[int | str],
    *,
    current: PaymentSettings | None = None,
    vat_rate: Decimal | None = None,
) -> Selection:
    """The selection of ``bill_ids`` among ``payable`` (ids that are not there are ignored),
    exigible bills always included, with the fee on the total."""
    wanted = set()
    for value in bill_ids:
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            continue
    chosen = [item for item in payable if item.exigible or item.bill.pk in wanted]
    amount = sum((item.open_amount for item in chosen), ZERO)
    fee, fee_vat = fee_for(amount, current, vat_rate=vat_rate)
    return Selection(bills=chosen, amount=amount, fee=fee, fee_vat=fee_vat)


def selection_for_order(
    payable: list[PayableBill], bill_ids: Iterable[int | str], *, customer_id: int, strict: bool = False
) -> Selection:
    """The bills « Payer » pays. The portal's pages (``strict=False``) take ``selection_compute``:
    ids that are not payable are ignored (a tampered form) and exigible bills are always added.
    The API (``strict=True``) pays exactly the ids sent: an id that is not among the customer's
    payable bills is ``BillAlreadyPaid`` (one of theirs, settled) or ``BillNotPayable`` (unknown or
    another customer's), and a missing exigible bill is refused by ``order_create_for_bills``."""
    if not strict:
        return selection_compute(payable, bill_ids)
    wanted: list[int] = []
    for value in bill_ids:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise BillNotPayable() from None
        if pk not in wanted:
            wanted.append(pk)
    by_id = {item.bill.pk: item for item in payable}
    for pk in wanted:
        if pk in by_id:
            continue
        bill = Bill.objects.filter(pk=pk, customer_id=customer_id).only("number").first() if pk < 2**63 else None
        if bill is not None:
            raise BillAlreadyPaid(gettext("La facture %(number)s est déjà réglée.") % {"number": bill.number})
        raise BillNotPayable()
    chosen = [item for item in payable if item.bill.pk in wanted]
    amount = sum((item.open_amount for item in chosen), ZERO)
    fee, fee_vat = fee_for(amount)
    return Selection(bills=chosen, amount=amount, fee=fee, fee_vat=fee_vat)


def payment_email_default(*, user, customer: Customer) -> str:
    """The address the payment confirmation goes to unless the customer types another: the
    account's e-mail, else the customer's (primary first)."""
    account_email = getattr(user, "email", "") if user is not None else ""
    return account_email or customer_email(customer) or ""


def quickpay_customer(code: str, *, as_of: datetime.date) -> Customer | None:
    """Quick-pay: the customer with this code, only when there is something to pay (the page
    answers the same whether the code is unknown or nothing is due)."""
    code = (code or "").strip().upper()
    if not code:
        return None
    customer = Customer.objects.filter(code=code).first()
    if customer is None or not payable_bills(customer.pk, as_of=as_of):
        return None
    return customer


def customer_address(customer_id: int) -> str:
    dossier = (
        Dossier.objects.filter(customer_id=customer_id)
        .select_related("premises")
        .order_by("status", "number")  # ACTIVE sorts first
        .first()
    )
    return str(dossier.premises) if dossier else ""


# --- orders -------------------------------------------------------------------------------------------


def _local_date(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now) if timezone.is_aware(now) else now.date()


def _gateway_language() -> str:
    """The active language when CMI's page offers it (fr, ar, en), else French."""
    code = (translation.get_language() or "").split("-")[0]
    return code if code in PaymentOrder.Lang.values else PaymentOrder.Lang.FR


@transaction.atomic
def order_create_for_bills(
    *,
    customer: Customer,
    bills: Iterable[Bill],
    email: str,
    now: datetime.datetime,
    purpose: str = Purpose.BILLS,
    card_type: str = PaymentOrder.CardType.MOROCCAN,
    lang: str | None = None,
    tel: str = "",
    bill_to_name: str = "",
    require_exigible: bool | None = None,
) -> PaymentOrder:
    """A payment order for ``bills`` of ``customer`` with the online-service fee of the back
    office's settings. Amounts are what is still owed on each bill, read under lock. For a
    payment of bills (``purpose=BILLS``) every exigible bill of the customer must be among them.

    Used by the quick-pay and portal pages, by advance top-ups, and by the requests addon for a
    request's fees (``purpose=REQUEST_FEE``, the request's invoice as the only bill). The CMI page
    speaks ``lang``, by default the language the customer is reading the site in."""
    lang = lang or _gateway_language()
    bills = list(bills)
    if not bills:
        raise NothingToPay()
    if any(bill.customer_id != customer.pk for bill in bills):
        raise NothingToPay()
    as_of = _local_date(now)
    if require_exigible is None:
        require_exigible = purpose == Purpose.BILLS
    if require_exigible:
        chosen = {bill.pk for bill in bills}
        missing = [
            item.bill.number
            for item in payable_bills(customer.pk, as_of=as_of)
            if item.exigible and item.bill.pk not in chosen
        ]
        if missing:
            raise ExigibleBillRequired(
                gettext("Les factures exigibles sont obligatoires dans le paiement : %(numbers)s.")
                % {"numbers": ", ".join(missing)}
            )
    expected = sum(
        (
            round_money(b.total_ttc - b.paid)
            for b in bills_with_outstanding(Bill.objects.filter(pk__in=[bill.pk for bill in bills]))
        ),
        ZERO,
    )
    fee, fee_vat = fee_for(expected, on_date=as_of)
    order = payment_order_create(
        customer=customer,
        bills=bills,
        email=email,
        now=now,
        purpose=purpose,
        fee_amount=fee,
        fee_vat=fee_vat,
        fee_vat_rate=fee_vat_rate_on(as_of) if fee_vat else None,
        card_type=card_type,
        lang=lang,
        bill_to_name=bill_to_name or customer.display_name,
        tel=tel,
    )
    if order.amount_bills != expected:  # a payment landed between the read and the lock
        raise AmountChanged()
    return order


@transaction.atomic
def bills_order_create(
    *,
    customer: Customer,
    bill_ids: Iterable[int | str],
    email: str,
    card_type: str,
    now: datetime.datetime,
    strict: bool = False,
    expected_total: Decimal | None = None,
) -> PaymentOrder:
    """« Payer » of « Payer mes factures » (portal recap, quick-pay, the API): the order for the
    chosen bills among the customer's payable ones (``selection_for_order``), the fee of the back
    office's settings. ``expected_total`` (the API: the total the app showed, fee included) must be
    the order's total, else ``AmountChanged`` and nothing is kept. Guards of
    ``order_create_for_bills``: ``OrderPending`` while another order for one of the bills awaits
    the gateway (two submissions make one order), ``NothingToPay``, ``ExigibleBillRequired``."""
    payable = payable_bills(customer.pk, as_of=_local_date(now))
    selection = selection_for_order(payable, bill_ids, customer_id=customer.pk, strict=strict)
    if not selection.bills:
        raise NothingToPay()
    order = order_create_for_bills(
        customer=customer,
        bills=[item.bill for item in selection.bills],
        email=email,
        card_type=card_type,
        now=now,
    )
    if expected_total is not None and order.amount_total != round_money(expected_total):
        raise AmountChanged()
    return order


def advance_order_pending(*, dossier_id: int, now: datetime.datetime) -> PaymentOrder | None:
    """The dossier's advance order awaiting the gateway (payable, younger than the expiry delay)."""
    since = now - datetime.timedelta(minutes=settings.CMI_ORDER_EXPIRY_MINUTES)
    return (
        PaymentOrder.objects.filter(
            purpose=Purpose.ADVANCE,
            bills__dossier_id=dossier_id,
            status__in=PAYABLE,
            created_at__gt=since,
            created_at__lte=now,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def advance_dossiers(customer_id: int) -> list[Dossier]:
    """The customer's dossiers billed by advance (« carte congé »), active first."""
    return list(
        Dossier.objects.filter(customer_id=customer_id, billing_mode=Dossier.BillingMode.ADVANCE)
        .exclude(status=Dossier.Status.TERMINATED)
        .select_related("premises")
        .order_by("number")
    )


def advance_amount_parse(text: str, current: PaymentSettings | None = None) -> Decimal:
    """The amount typed for an advance, checked against the back office's bounds."""
    current = current or payment_settings_get()
    try:
        amount = Decimal(str(text).strip().replace(" ", "").replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise AdvanceRefused(gettext("Saisissez un montant en dirhams, par exemple 200 ou 150,50.")) from exc
    if not amount.is_finite():
        raise AdvanceRefused(gettext("Saisissez un montant en dirhams, par exemple 200 ou 150,50."))
    # bounds before rounding: 1e309 is a finite Decimal that quantize() cannot hold (a 500 before)
    if amount < current.advance_min or amount > current.advance_max:
        raise AdvanceRefused(
            gettext("Le montant de l'avance doit être compris entre %(min)s et %(max)s.")
            % {"min": money_format(current.advance_min), "max": money_format(current.advance_max)}
        )
    if amount != round_money(amount):
        raise AdvanceRefused(gettext("Saisissez un montant en dirhams avec au plus deux décimales."))
    return amount


@transaction.atomic
def advance_order_create(
    *,
    customer: Customer,
    dossier: Dossier,
    amount: Decimal,
    email: str,
    now: datetime.datetime,
    card_type: str = PaymentOrder.CardType.MOROCCAN,
    expected_total: Decimal | None = None,
) -> PaymentOrder:
    """« Alimentation des avances sur consommation »: an advance invoice of ``amount`` for the
    dossier (``bill_issue_other`` kind ADVANCE, no VAT: the consumption it pays for carries it),
    then a payment order for it. ``expected_total`` (the API), when given, must be the order's
    total. One advance awaiting the gateway per dossier (``OrderPending``)."""
    if dossier.customer_id != customer.pk or dossier.billing_mode != Dossier.BillingMode.ADVANCE:
        raise AdvanceRefused(gettext("Ce dossier n'est pas facturé par avance."))
    if dossier.status == Dossier.Status.TERMINATED:
        raise AdvanceRefused(gettext("Ce dossier est résilié."))
    amount = advance_amount_parse(str(amount))
    # one advance at a time per dossier (a double click, two tabs, an app retrying): under the
    # customer's row lock, an advance order of the dossier still awaiting the gateway is refused
    # like a second order for the same bills (its owner resumes or abandons it)
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    pending = advance_order_pending(dossier_id=dossier.pk, now=now)
    if pending is not None:
        raise OrderPending(order=pending)
    today = _local_date(now)
    # stored in French (the bill as issued, read by the back office and the bill PDF), whatever the
    # language of the customer's page; the portal shows it in the reader's language (line_labels)
    with translation.override(settings.LANGUAGE_CODE):
        label = gettext("Avance sur consommation — dossier %(number)s") % {"number": dossier.number}
    bill = bill_issue_other(
        kind=Bill.Kind.ADVANCE,
        customer=customer,
        dossier=dossier,
        lines=[
            OtherLine(
                label=label,
                unit_price=amount,
                vat_rate=ZERO,
            )
        ],
        issue_date=today,
        due_date=today,
        now=now,
    )
    if bill.settled_at is not None:  # the customer's credit already covered it
        raise AdvanceRefused(gettext("Votre crédit couvre déjà cette avance : aucun paiement n'est nécessaire."))
    order = order_create_for_bills(
        customer=customer, bills=[bill], email=email, now=now, purpose=Purpose.ADVANCE, card_type=card_type
    )
    if expected_total is not None and order.amount_total != round_money(expected_total):
        raise AmountChanged()  # the total the app showed (advance + fee): nothing is kept
    return order


def advance_invoices_cancel_unpaid(*, now: datetime.datetime) -> int:
    """Advance invoices whose online payment never came (every order for them EXPIRED):
    cancelled by a credit note, so they neither weigh on the balance nor become exigible.
    (The scheduler's « ordres de paiement expirés » job and ``manage.py cmi_orders_expire`` run it
    after expiring the orders; a late approved callback still records the money, which then stays
    on the account as credit.) Each bill in its own transaction: one that fails is logged and the
    others are cancelled all the same."""
    stale = (
        Bill.objects.filter(
            kind=Bill.Kind.ADVANCE,
            settled_at__isnull=True,
            payment_orders__purpose=Purpose.ADVANCE,
            payment_orders__status=PaymentOrder.Status.EXPIRED,
        )
        .exclude(payment_orders__status__in=[s for s in PaymentOrder.Status.values if s != PaymentOrder.Status.EXPIRED])
        .distinct()
        .order_by("pk")
    )
    cancelled: list[int] = []

    def cancel(bill_id: int) -> None:
        bill = Bill.objects.select_for_update().get(pk=bill_id)
        if bill.settled_at is not None or bill.credit_notes.exists():
            return
        credit_note_issue(
            bill=bill,
            reason="Avance non payée en ligne (ordre de paiement expiré)",  # i18n: not for customers
            issue_date=_local_date(now),
            now=now,
        )
        cancelled.append(bill_id)

    each_item(list(stale.values_list("pk", flat=True)), cancel, describe=lambda pk: f"facture d'avance #{pk}")
    return len(cancelled)
