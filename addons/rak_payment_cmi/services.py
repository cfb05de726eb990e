"""Writes of the CMI payment addon: payment orders, the checkout form, the gateway's messages.

The protocol (CMI 3D_PAY_HOSTING, ``hashAlgorithm=ver3``):

1. ``payment_order_create`` freezes what is paid (bills and their outstanding amounts, the fee);
2. ``order_checkout_form`` gives the gateway URL and the signed fields the browser posts there
   (« Payer »), and marks the order SENT;
3. CMI calls ``callbackUrl`` server to server (``payment_apply_callback``): the message is stored
   raw first, then its HASH is verified, the order found by ``oid`` and locked, amount and
   currency checked. ``ProcReturnCode=00`` + ``Response=Approved`` records the payment once (row
   lock on the order, unique ``trans_id``, ``Payment.external_id = "CMI:<TransId>"``) and answers
   ``ACTION=POSTAUTH`` (capture); a declined attempt changes no money and answers ``APPROVED``
   (acknowledged); anything technical (bad HASH, unknown oid, wrong amount, exception) answers
   ``FAILURE``. CMI may call several times for one oid (failures then a success; retries).
4. The browser comes back to okUrl / failUrl (``payment_order_return``): stored, verified, never
   taken as proof of payment; the return page waits for the callback.

States: CREATED → SENT → PAID | DECLINED | FAILED | AMOUNT_MISMATCH | EXPIRED | CANCELLED. DECLINED and FAILED
say the last attempt failed: a later approved callback for the same oid still pays the order (the
customer may retry on CMI's page), and so does a late one for an EXPIRED order (the bank took the
money). PAID and AMOUNT_MISMATCH are final for automation; a mismatch is resolved by staff.
Every change happens under ``select_for_update()`` and writes a ``PaymentOrderEvent``.

The same bills are never paid twice (issue 8):
- one order at a time: ``payment_order_create`` refuses (``OrderPending``) while another order
  for one of the bills awaits the gateway (payable, younger than ``[cmi] order_expiry_minutes``);
  the check runs under the customer's row lock, so two tabs posting at once make one order. Its
  owner may abandon it (``payment_order_abandon``: CANCELLED), or let it expire;
- an approved callback for an order whose bills are no longer owed as frozen (settled by another
  payment, or partly paid so that capturing would over-pay) is not captured: the order becomes
  CANCELLED with its reason, the customer is told (``HOOK_ORDER_CANCELLED``), and CMI is answered
  ``APPROVED`` without ``ACTION=POSTAUTH`` (see ``ANSWER_RELEASE``). The check runs under the
  customer's row lock, taken in the same order as ``rak_billing.ledger.payment_record`` (order
  row, then customer row, then bills), so two approved orders for the same bills capture once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base import clock
from rak_base.errors import RakError
from rak_base.hooks import hook_fire
from rak_base.money import money_format, round_money
from rak_base.prepared import prepared_cursor
from rak_base.scheduler import each_item
from rak_billing.api import (
    bills_with_outstanding,
    online_fee_invoice_issue,
    online_fee_invoice_number,
    payment_record,
    vat_rate_online_fee,
)
from rak_billing.models import Bill, Payment
from rak_customer.models import Customer
from rak_payment_cmi import hashing
from rak_payment_cmi.after_payment import order_cancelled_notify
from rak_payment_cmi.models import (
    CURRENCY_MAD,
    CmiCallback,
    PaymentOrder,
    PaymentOrderBill,
    PaymentOrderEvent,
    PaymentSettings,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _PaidNow(TypedDict):
        paid_now: Decimal | None

    #: an order line annotated by ``_order_lines`` with ``paid_now`` (allocated to its bill so far)
    OrderLineWithPaid: TypeAlias = WithAnnotations[PaymentOrderBill, _PaidNow]

logger = logging.getLogger(__name__)

Status = PaymentOrder.Status
Outcome = CmiCallback.Outcome

#: fired in the transaction that marks an order PAID: ``hook_fire(HOOK_ORDER_PAID, order_id=...)``;
#: the callback adds ``order=`` (locked, with its customer and payment) and ``lines=`` (its lines
#: with their bills) so that subscribers need not read them again. From the callback, the fee
#: invoice (``order.fee_bill``) still has its provisional number then: it gets its number last
HOOK_ORDER_PAID = "payment_order_paid"
#: fired when an approved payment is not captured because its bills were already settled
HOOK_ORDER_CANCELLED = "payment_order_cancelled"

ANSWER_CAPTURE = "ACTION=POSTAUTH"
ANSWER_ACKNOWLEDGED = "APPROVED"
ANSWER_FAILURE = "FAILURE"
#: The answer that leaves a PreAuth uncaptured. In CMI's 3D_PAY_HOSTING protocol (NestPay) the
#: merchant's answer to the callback decides the capture: ``ACTION=POSTAUTH`` turns the
#: pre-authorisation into a sale; ``APPROVED`` acknowledges the message without capturing, so the
#: pre-authorisation is never turned into a debit (the issuer releases the held amount when it
#: lapses; staff can also void it at once in CMI's merchant centre, and the settlement file then
#: shows it ANNULEE, matched NO_MONEY); ``FAILURE`` tells CMI the merchant could not process the
#: message, and CMI notifies again. Source: CMI's integration guide is given to merchants, not
#: published; the public merchant integrations of the CMI kit found by a code search (2026-12) all
#: answer ``ACTION=POSTAUTH`` for ProcReturnCode 00, ``APPROVED`` otherwise (documented there as
#: « acknowledge without debiting »), ``FAILURE`` on a bad HASH or an error (« CMI will retry »).
#: This addon already answers ``APPROVED`` for a declined attempt and for a second transaction on
#: a paid order. So a payment whose bills are already settled is answered ``APPROVED``:
#: acknowledged (no retry), not captured.
ANSWER_RELEASE = ANSWER_ACKNOWLEDGED

ZERO = Decimal("0.00")
OID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: nothing to confuse on the phone
AUTHENTICATED_MD_STATUS = {"1", "2", "3", "4"}  # 3-D Secure: full or attempted authentication

_ATTEMPT = {Status.PAID, Status.DECLINED, Status.FAILED, Status.AMOUNT_MISMATCH, Status.EXPIRED, Status.CANCELLED}
TRANSITIONS: dict[str, set[str]] = {
    Status.CREATED: {Status.SENT, *_ATTEMPT},
    Status.SENT: set(_ATTEMPT),
    Status.DECLINED: {Status.SENT, *_ATTEMPT},
    Status.FAILED: {Status.SENT, *_ATTEMPT},
    # a late approved callback: paid when the bills are still owed, else cancelled (not captured)
    Status.EXPIRED: {Status.PAID, Status.AMOUNT_MISMATCH, Status.CANCELLED},
    # abandoned by its owner, or not captured (bills already settled): a late approved callback
    # still pays bills that are still owed (the bank took the money)
    Status.CANCELLED: {Status.PAID, Status.AMOUNT_MISMATCH, Status.CANCELLED},
    Status.PAID: set(),
    Status.AMOUNT_MISMATCH: set(),
}
PAYABLE = {Status.CREATED, Status.SENT, Status.DECLINED, Status.FAILED}


class PaymentOrderError(RakError):
    default_message = _("Le paiement en ligne n'a pas pu être préparé.")


class NothingToPay(PaymentOrderError):
    default_message = _("Aucune Facture à payer ou identifiants client inexistant")


class OrderNotPayable(PaymentOrderError):
    default_message = _("Cet ordre de paiement ne peut plus être payé : recommencez depuis la liste de vos factures.")


class GatewayNotConfigured(PaymentOrderError):
    default_message = _("Le paiement en ligne est momentanément indisponible. Veuillez réessayer plus tard.")


class IllegalTransition(PaymentOrderError):
    default_message = _("Changement de statut impossible pour cet ordre de paiement.")


class OrderPending(PaymentOrderError):
    """Another order for (some of) the same bills awaits the gateway; ``order`` is that order
    (show it, with a link, only to its owner)."""

    default_message = _("Un paiement en ligne de ces factures est déjà en cours.")

    def __init__(self, message: str | None = None, *, order: PaymentOrder, **params: object) -> None:
        super().__init__(message, **params)
        self.order = order


# --- billing ----------------------------------------------------------------------------------------


def _outstanding(bills: Iterable[Bill]) -> dict[int, Decimal]:
    """What is still owed on each bill: ``total_ttc`` minus what was allocated to it."""
    rows = bills_with_outstanding(Bill.objects.filter(pk__in=[bill.pk for bill in bills]))
    return {pk: total - paid for pk, total, paid in rows.values_list("pk", "total_ttc", "paid")}


def _lock_customer(customer_id: int) -> None:
    """The customer's row lock: the one ``rak_billing.ledger.payment_record`` takes before it
    allocates (and every ledger write), so what is owed cannot change while it is held."""
    with prepared_cursor() as cursor:
        cursor.execute("SELECT id FROM rak_customer_customer WHERE id = %s FOR UPDATE", [customer_id])


def _day(at: datetime):
    return (timezone.localtime(at) if timezone.is_aware(at) else at).date()


def _dh(amount: Decimal) -> str:
    """« 1 070,00 » (plain spaces: the text also goes out by SMS/e-mail), « DH » written by the caller."""
    return money_format(amount, currency="", plain_space=True)


def _fee_vat_rate(fee_amount: Decimal, fee_vat: Decimal, *, on_date) -> Decimal:
    """The VAT rate the fee was priced with when the caller does not say: the VAT table's « Frais
    du service en ligne » line on ``on_date`` (else the back office setting) when it gives this
    VAT, else the rate the two amounts imply."""
    if fee_vat <= ZERO or fee_amount <= ZERO:
        return Decimal("0.0000")
    rate = vat_rate_online_fee(on_date=on_date)
    if rate is None:
        rate = (PaymentSettings.objects.filter(pk=1).first() or PaymentSettings(pk=1)).fee_vat_rate
    rate = Decimal(rate)
    if round_money(fee_amount * rate) == fee_vat:
        return rate.quantize(Decimal("0.0001"))
    return (fee_vat / fee_amount).quantize(Decimal("0.0001"))


def order_pending_for_bills(bill_ids: Iterable[int], *, now: datetime) -> PaymentOrder | None:
    """The order awaiting the gateway (payable, younger than the expiry delay) for one of
    ``bill_ids``, the most recent first; None when there is none."""
    since = now - timedelta(minutes=settings.CMI_ORDER_EXPIRY_MINUTES)
    return (
        PaymentOrder.objects.filter(
            order_bills__bill_id__in=list(bill_ids), status__in=PAYABLE, created_at__gt=since, created_at__lte=now
        )
        .order_by("-created_at", "-pk")
        .first()
    )


# --- transitions ----------------------------------------------------------------------------------


def _transition(
    order: PaymentOrder,
    to: str,
    *,
    now: datetime,
    callback: CmiCallback | None = None,
    note: str = "",
    fields: Iterable[str] = (),
) -> None:
    """Move a locked ``order`` to ``to``, save ``fields`` with it and write the history row."""
    before = order.status
    if to not in TRANSITIONS[before]:
        raise IllegalTransition(
            f"Ordre {order.oid} : passage de {before} à {to} impossible."
        )  # i18n: not for customers
    order.status = to
    order.updated_at = now
    order.save(update_fields=["status", "updated_at", *fields])
    if before != to:
        PaymentOrderEvent.objects.create(
            order=order, at=now, from_status=before, to_status=to, callback=callback, note=note[:255]
        )


def _lock(order: PaymentOrder | int | str) -> PaymentOrder:
    if isinstance(order, str):
        return PaymentOrder.objects.select_for_update().get(oid=order)
    pk = order if isinstance(order, int) else order.pk
    return PaymentOrder.objects.select_for_update().get(pk=pk)


# --- orders -----------------------------------------------------------------------------------------


def oid_new(now: datetime) -> str:
    """``RAK`` + yymmdd + 12 random base32 characters (60 bits): alphanumeric, 21 characters,
    not guessable (the return page is found by it)."""
    random_part = "".join(secrets.choice(OID_ALPHABET) for _ in range(12))
    return f"RAK{now:%y%m%d}{random_part}"


@transaction.atomic
def payment_order_create(
    *,
    customer: Customer,
    bills: Iterable[Bill],
    email: str,
    now: datetime,
    purpose: str = PaymentOrder.Purpose.BILLS,
    fee_amount: Decimal = ZERO,
    fee_vat: Decimal = ZERO,
    fee_vat_rate: Decimal | None = None,
    card_type: str = PaymentOrder.CardType.MOROCCAN,
    lang: str = PaymentOrder.Lang.FR,
    bill_to_name: str = "",
    tel: str = "",
) -> PaymentOrder:
    """An order paying ``bills`` (the customer's, open, amounts owed now) plus the online-service
    fee (``fee_amount`` + ``fee_vat`` at ``fee_vat_rate``, computed by the caller). Every
    amount comes from the database; nothing the browser sent about amounts is used."""
    bills = list(bills)
    if not bills:
        raise NothingToPay()
    if len({bill.pk for bill in bills}) != len(bills):
        raise PaymentOrderError(gettext("Une facture est sélectionnée deux fois."))
    if purpose not in PaymentOrder.Purpose.values:
        raise PaymentOrderError(gettext("Objet de paiement inconnu."))
    if card_type not in PaymentOrder.CardType.values:
        raise PaymentOrderError(gettext("Choisissez le type de votre carte bancaire."))
    if lang not in PaymentOrder.Lang.values:
        raise PaymentOrderError(gettext("Langue de la page de paiement inconnue."))
    fee_amount, fee_vat = round_money(fee_amount), round_money(fee_vat)
    if fee_amount < ZERO or fee_vat < ZERO:
        raise PaymentOrderError(gettext("Les frais du service en ligne ne peuvent pas être négatifs."))
    # one order at a time for the same bills: checked under the customer's row lock (two tabs
    # posting at once are serialised here; the second one sees the first's order)
    _lock_customer(customer.pk)
    pending = order_pending_for_bills([bill.pk for bill in bills], now=now)
    if pending is not None:
        raise OrderPending(order=pending)
    locked = list(Bill.objects.select_for_update().filter(pk__in=[bill.pk for bill in bills]).order_by("pk"))
    outstanding = _outstanding(locked)
    for bill in locked:
        if bill.customer_id != customer.pk or bill.kind == Bill.Kind.CREDIT_NOTE:
            raise NothingToPay()
        if bill.settled_at is not None or outstanding[bill.pk] <= ZERO:
            raise PaymentOrderError(gettext("La facture %(number)s est déjà réglée.") % {"number": bill.number})
    amount_bills = sum((outstanding[bill.pk] for bill in locked), ZERO)
    order = PaymentOrder.objects.create(
        oid=oid_new(now),
        customer=customer,
        purpose=purpose,
        amount_bills=amount_bills,
        fee_amount=fee_amount,
        fee_vat=fee_vat,
        fee_vat_rate=Decimal(fee_vat_rate)
        if fee_vat_rate is not None
        else _fee_vat_rate(fee_amount, fee_vat, on_date=_day(now)),
        amount_total=amount_bills + fee_amount + fee_vat,
        currency=CURRENCY_MAD,
        email=email.strip(),
        bill_to_name=(bill_to_name or str(customer)).strip()[:120],
        tel=tel.strip()[:20],
        lang=lang,
        card_type=card_type,
        status=Status.CREATED,
        created_at=now,
        updated_at=now,
    )
    PaymentOrderBill.objects.bulk_create(
        PaymentOrderBill(order=order, bill=bill, amount=outstanding[bill.pk]) for bill in locked
    )
    PaymentOrderEvent.objects.create(order=order, at=now, from_status="", to_status=Status.CREATED)
    return order


def _absolute(name: str) -> str:
    return f"{settings.SITE_URL}{reverse(name)}"


@transaction.atomic
def order_checkout_form(order: PaymentOrder, *, now: datetime | None = None) -> tuple[str, dict[str, str]]:
    """``(gateway_url, fields)`` for the auto-submitting form that takes the browser to CMI
    (3D_PAY_HOSTING, PreAuth, HASH ver3); the order becomes SENT. Raises ``OrderNotPayable``
    once it is paid, flagged or expired, ``GatewayNotConfigured`` without client id/store key."""
    now = now or clock.now()
    if not (settings.CMI_GATEWAY_URL and settings.CMI_CLIENT_ID and settings.CMI_STORE_KEY):
        raise GatewayNotConfigured()
    order = _lock(order)
    if order.status not in PAYABLE:
        raise OrderNotPayable()
    fields = {
        "clientid": settings.CMI_CLIENT_ID,
        "storetype": "3D_PAY_HOSTING",
        "TranType": "PreAuth",
        "amount": hashing.amount_format(order.amount_total),
        "currency": order.currency,
        "oid": order.oid,
        "okUrl": _absolute("cmi:ok"),
        "failUrl": _absolute("cmi:fail"),
        "callbackUrl": _absolute("cmi:callback"),
        # « Annuler » on CMI's page: the browser comes back here (GET, nothing signed, no callback)
        "shopurl": f"{settings.SITE_URL}{reverse('cmi:order_left', args=[order.oid])}",
        "lang": order.lang,
        "rnd": secrets.token_hex(10),
        "hashAlgorithm": "ver3",
        "encoding": "UTF-8",
        "BillToName": order.bill_to_name,
        "email": order.email,
        "tel": order.tel,
        "CallbackResponse": "true",
        "AutoRedirect": "true",
    }
    if order.status != Status.SENT:
        _transition(
            order, Status.SENT, now=now, note="Client redirigé vers la plateforme de paiement"
        )  # i18n: not for customers
    return settings.CMI_GATEWAY_URL, hashing.sign(fields, settings.CMI_STORE_KEY)


@transaction.atomic
def payment_order_abandon(*, order: PaymentOrder | str, customer: Customer, now: datetime) -> PaymentOrder:
    """The owner gives up an order awaiting the gateway (« Abandonner ce paiement »): CANCELLED,
    so that another order for its bills can be made. A late approved callback for it still pays
    bills that are still owed. Raises ``OrderNotPayable`` for someone else's order or an order
    that no longer awaits the gateway."""
    order = _lock(order)
    if order.customer_id != customer.pk or order.status not in PAYABLE:
        raise OrderNotPayable()
    local = timezone.localtime(now) if timezone.is_aware(now) else now
    order.cancel_reason = gettext("Abandonné par le client le %(date)s à %(time)s.") % {
        "date": f"{local:%d/%m/%Y}",
        "time": f"{local:%H:%M}",
    }
    _transition(order, Status.CANCELLED, now=now, note=order.cancel_reason, fields=["cancel_reason"])
    return order


def payment_orders_expire(*, now: datetime, older_than: timedelta | None = None) -> int:
    """Mark EXPIRED the orders not paid ``older_than`` after creation (default
    ``[cmi] order_expiry_minutes``). A late approved callback still pays an expired order. Each
    order in its own transaction (``each_item``): one that fails is logged and reported on the
    scheduler's row, the others expire; one being paid right now (locked) is skipped."""
    older_than = older_than or timedelta(minutes=settings.CMI_ORDER_EXPIRY_MINUTES)
    stale = PaymentOrder.objects.filter(status__in=PAYABLE, created_at__lt=now - older_than)
    expired: list[int] = []

    def expire(order_id: int) -> None:
        order = stale.select_for_update(skip_locked=True).filter(pk=order_id).first()
        if order is not None:
            _transition(order, Status.EXPIRED, now=now, note="Aucun paiement dans le délai")  # i18n: not for customers
            expired.append(order_id)

    each_item(list(stale.order_by("pk").values_list("pk", flat=True)), expire, describe=lambda pk: f"ordre #{pk}")
    return len(expired)


# --- gateway messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    outcome: str
    response: str
    detail: str = ""


def _fields_of(data: Mapping[str, object]) -> dict[str, str]:
    """A QueryDict or a dict -> ``{name: last value}`` (PHP's ``$_POST`` keeps the last one)."""
    if hasattr(data, "lists"):
        return {name: values[-1] if values else "" for name, values in data.lists()}
    return {name: "" if value is None else str(value) for name, value in data.items()}


def _storable(value):
    """PostgreSQL text and jsonb cannot hold NUL: stored as the six characters ``\\u0000``."""
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value.replace("\x00", "\\u0000") if isinstance(value, str) else value


def _raw_of(data: Mapping[str, object], fields: dict[str, str]) -> dict[str, object]:
    """The message as posted: a name posted several times keeps all its values (a list); a NUL
    byte is kept as the text ``\\u0000``."""
    if hasattr(data, "lists"):
        raw = {name: values if len(values) > 1 else fields[name] for name, values in data.lists()}
    else:
        raw = dict(fields)
    return {_storable(name): _storable(value) for name, value in raw.items()}


def _has_nul(fields: Mapping[str, str]) -> bool:
    return any("\x00" in name or "\x00" in value for name, value in fields.items())


#: The raw message's own transaction does not wait for the WAL flush (``synchronous_commit`` off for
#: that transaction only): it is visible at once, and durable as soon as any later commit is — the WAL
#: is written in order, so the processing transaction's synchronous commit (the money, the order PAID,
#: the message's outcome: every path ends with that UPDATE, or the FAILURE one) flushes it too, before
#: CMI is answered. A crash between the two can only lose a message that was never answered, which CMI
#: sends again. Saves one disk flush per callback.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


def _message_store(
    *, kind: str, data: Mapping[str, object], fields: dict[str, str], remote_ip: str | None, now: datetime
) -> CmiCallback:
    """Write the message as received, in its own committed transaction, before anything can fail."""
    outermost = not connection.in_atomic_block  # inside a caller's transaction: its own durability
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute(_ASYNC_COMMIT)
        return CmiCallback.objects.create(
            kind=kind,
            received_at=now,
            remote_ip=remote_ip or None,
            raw=_raw_of(data, fields),
            oid=_storable(fields.get("oid", ""))[:128],
            trans_id=_storable(fields.get("TransId", ""))[:128],
            proc_return_code=_storable(fields.get("ProcReturnCode", ""))[:8],
        )


def _record(callback: CmiCallback, verdict: Verdict, **changes) -> None:
    for name, value in {"outcome": verdict.outcome, "response": verdict.response, **changes}.items():
        setattr(callback, name, value)
    callback.detail = verdict.detail[:2000]
    callback.save(update_fields=["outcome", "response", "detail", *changes])


def _failed_attempt_status(fields: Mapping[str, str]) -> str:
    """DECLINED when the bank said no; FAILED for 3-D Secure failures and platform errors."""
    if fields.get("mdStatus", "") and fields["mdStatus"] not in AUTHENTICATED_MD_STATUS:
        return Status.FAILED
    return Status.DECLINED if fields.get("Response", "").lower() == "declined" else Status.FAILED


def _attempt_note(fields: Mapping[str, str]) -> str:
    parts = [f"ProcReturnCode={fields.get('ProcReturnCode', '') or '∅'}", f"Response={fields.get('Response', '')}"]
    if fields.get("mdStatus"):
        parts.append(f"mdStatus={fields['mdStatus']}")
    message = fields.get("ErrMsg") or fields.get("mdErrorMsg")
    if message:
        parts.append(message)
    return " ".join(parts)


def _process_callback(callback: CmiCallback, fields: dict[str, str], now: datetime) -> Verdict:
    """Inside the caller's transaction: everything that follows storing the message."""
    if _has_nul(fields):  # never from CMI: no lookup with it (PostgreSQL refuses NUL in a query)
        verdict = Verdict(
            Outcome.BAD_HASH, ANSWER_FAILURE, "Octet NUL dans le message : message ignoré."
        )  # i18n: not for customers
        _record(callback, verdict)
        return verdict
    if not hashing.hash_verify(fields, settings.CMI_STORE_KEY):
        callback.order_id = PaymentOrder.objects.filter(oid=fields.get("oid", "")).values_list("pk", flat=True).first()
        verdict = Verdict(
            Outcome.BAD_HASH, ANSWER_FAILURE, "HASH ver3 non conforme : message ignoré."
        )  # i18n: not for customers
        _record(callback, verdict, order_id=callback.order_id)
        return verdict
    callback.hash_valid = True
    if fields.get("clientid", "") != settings.CMI_CLIENT_ID:
        verdict = Verdict(
            Outcome.INVALID, ANSWER_FAILURE, "clientid différent de celui du marchand."
        )  # i18n: not for customers
        _record(callback, verdict, hash_valid=True)
        return verdict
    order = (
        PaymentOrder.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(oid=fields.get("oid", ""))
        .first()
    )
    if order is None:
        verdict = Verdict(
            Outcome.UNKNOWN_ORDER, ANSWER_FAILURE, "Aucun ordre de paiement pour cet oid."
        )  # i18n: not for customers
        _record(callback, verdict, hash_valid=True)
        return verdict
    callback.order = order
    verdict = _apply(order, callback, fields, now)
    _record(callback, verdict, hash_valid=True, order=order)
    if verdict.outcome == Outcome.APPLIED and order.fee_bill is not None:  # no query: _apply set it, or no fee
        # the fee invoice's gap-free number, as this transaction's last write: the year's
        # bill-number row is locked from here to the COMMIT only (issue 15)
        online_fee_invoice_number(bill=order.fee_bill)
    return verdict


def _apply(order: PaymentOrder, callback: CmiCallback, fields: dict[str, str], now: datetime) -> Verdict:
    code = fields.get("ProcReturnCode", "")
    response = fields.get("Response", "")
    if code != "00":
        if order.status in TRANSITIONS and Status.DECLINED in TRANSITIONS[order.status]:
            order.proc_return_code = code[:4]
            _transition(
                order,
                _failed_attempt_status(fields),
                now=now,
                callback=callback,
                note=_attempt_note(fields),
                fields=["proc_return_code"],
            )
        return Verdict(Outcome.DECLINED, ANSWER_ACKNOWLEDGED, _attempt_note(fields))
    if response.lower() != "approved":
        return Verdict(Outcome.INVALID, ANSWER_FAILURE, f"ProcReturnCode=00 mais Response={response!r}.")
    trans_id = fields.get("TransId", "").strip()
    if not trans_id:
        return Verdict(Outcome.INVALID, ANSWER_FAILURE, "Transaction acceptée sans TransId.")  # i18n: not for customers
    if order.status == Status.PAID:
        if order.trans_id == trans_id:
            return Verdict(
                Outcome.DUPLICATE, ANSWER_CAPTURE, f"Déjà enregistré (paiement {order.payment_id})."
            )  # i18n: not for customers
        return Verdict(
            Outcome.SECOND_SUCCESS,
            ANSWER_ACKNOWLEDGED,
            f"Ordre déjà payé par la transaction {order.trans_id} : {trans_id} non capturée, à annuler au CMI.",
        )  # i18n: not for customers
    if order.status == Status.CANCELLED and order.trans_id == trans_id:
        return Verdict(
            Outcome.ALREADY_SETTLED, ANSWER_RELEASE, f"Déjà refusée : {order.cancel_reason}"
        )  # i18n: not for customers
    if order.status == Status.AMOUNT_MISMATCH:
        return Verdict(
            Outcome.AMOUNT_MISMATCH, ANSWER_FAILURE, "Ordre en anomalie de montant : traitement manuel."
        )  # i18n: not for customers
    amount = hashing.amount_parse(fields.get("amount", ""))
    currency = fields.get("currency", "").strip()
    if amount != order.amount_total or currency != order.currency:
        order.trans_id = trans_id[:64]
        order.proc_return_code = code
        order.auth_code = fields.get("AuthCode", "")[:16]
        order.masked_pan = fields.get("maskedCreditCard", fields.get("MaskedPan", ""))[:32]
        # i18n: not for customers (the order's history, staff)
        note = (
            f"Montant reçu {fields.get('amount', '')} {currency}, "
            f"attendu {order.amount_total} {order.currency}"
        )  # i18n: not for customers
        _transition(
            order,
            Status.AMOUNT_MISMATCH,
            now=now,
            callback=callback,
            note=note,
            fields=["trans_id", "proc_return_code", "auth_code", "masked_pan"],
        )
        return Verdict(Outcome.AMOUNT_MISMATCH, ANSWER_FAILURE, note + " : non enregistré.")  # i18n: not for customers
    _lock_customer(order.customer_id)  # order row, then customer row: payment_record's order
    lines = _order_lines(order)
    short = _bills_no_longer_owed(lines)
    if short:
        return _refuse_settled(order, callback, fields, trans_id, short, now)
    payment = order_capture_record(order, trans_id=trans_id, paid_at=now, lines=lines, number_later=True)
    order.payment = payment
    order.paid_at = now
    order.trans_id = trans_id[:64]
    order.proc_return_code = code
    order.auth_code = fields.get("AuthCode", "")[:16]
    order.masked_pan = fields.get("maskedCreditCard", fields.get("MaskedPan", ""))[:32]
    _transition(
        order,
        Status.PAID,
        now=now,
        callback=callback,
        note=f"Transaction {trans_id}, autorisation {order.auth_code or '—'}",
        fields=["payment", "paid_at", "trans_id", "proc_return_code", "auth_code", "masked_pan", "fee_bill"],
    )
    hook_fire(HOOK_ORDER_PAID, order_id=order.pk, order=order, lines=lines)
    return Verdict(
        Outcome.APPLIED, ANSWER_CAPTURE, f"Paiement {payment.pk} de {money_format(payment.amount)} enregistré."
    )


def order_capture_record(
    order: PaymentOrder,
    *,
    trans_id: str,
    paid_at: datetime,
    lines: Sequence[PaymentOrderBill] | None = None,
    number_later: bool = False,
) -> Payment:
    """Record what CMI captured for ``order`` (a locked, not yet paid order; the caller then
    marks it PAID): one payment of ``amount_total`` — the day's payments equal CMI's settlement
    total to the centime — allocated to the order's bills (their amounts) and, when there is a
    fee, to the « Frais du service en ligne » invoice issued here (HT and VAT as charged), which
    the fee part settles at once: the bills are credited exactly their amounts, the fee never
    becomes customer credit. Sets ``order.fee_bill`` (saved by the caller's transition). ``lines``:
    the order's lines with their bills when the caller has read them (``_order_lines``).
    ``number_later``: the fee invoice has a provisional number until the caller, as its
    transaction's last write, calls ``online_fee_invoice_number`` (the callback does)."""
    if lines is None:
        lines = list(order.order_bills.select_related("bill"))
    bills = [line.bill for line in lines]  # the bills the customer chose
    if order.fee_amount + order.fee_vat > ZERO:
        local = timezone.localtime(paid_at) if timezone.is_aware(paid_at) else paid_at
        order.fee_bill = online_fee_invoice_issue(
            customer=order.customer,
            fee_ht=order.fee_amount,
            fee_vat=order.fee_vat,
            vat_rate=order.fee_vat_rate
            or _fee_vat_rate(order.fee_amount, order.fee_vat, on_date=_day(order.created_at)),
            issue_date=local.date(),
            label=gettext("Frais du service en ligne — paiement par carte, commande %(oid)s") % {"oid": order.oid},
            number_later=number_later,
        )
        bills.append(order.fee_bill)
    return payment_record(
        customer=order.customer,
        amount=order.amount_total,
        method=Payment.Method.CARD_CMI,
        paid_at=paid_at,
        reference=order.oid,
        external_id=f"CMI:{trans_id}",
        received_by=None,
        bills=bills,
    )


_BILL_FIELDS = list(Bill._meta.concrete_fields)
#: the fields whose database value Django converts (none today): applied as the ORM would
_BILL_CONVERTERS = [(i, field.from_db_value) for i, field in enumerate(_BILL_FIELDS) if hasattr(field, "from_db_value")]
#: The order's lines with their bills and what was allocated to each bill so far, oldest due date
#: first. A prepared statement (``rak_base.prepared``): the join reaches the partitioned bill table
#: without its partition key, which PostgreSQL would plan partition by partition on every callback
#: (a few ms of its CPU); prepared, its generic plan prunes the partitions when it runs.
_ORDER_LINES_SQL = (
    "SELECT l.id, l.amount, "  # noqa: S608 - column names from the model
    + ", ".join(f'b."{field.column}"' for field in _BILL_FIELDS)
    + ", COALESCE((SELECT SUM(a.amount) FROM rak_billing_paymentallocation a WHERE a.bill_id = b.id), 0)"
    " FROM rak_payment_cmi_paymentorderbill l JOIN rak_billing_bill b ON b.id = l.bill_id"
    " WHERE l.order_id = %s ORDER BY b.due_date, l.bill_id"
)


def _order_lines(order: PaymentOrder) -> list[OrderLineWithPaid]:
    """The order's lines with their bills, oldest due date first, each with ``paid_now``: what was
    allocated to its bill so far — one prepared statement, models built from its rows."""
    with prepared_cursor() as cursor:
        cursor.execute(_ORDER_LINES_SQL, [order.pk])
        rows = cursor.fetchall()
    names = [field.attname for field in _BILL_FIELDS]
    lines = []
    for line_id, amount, *values, paid in rows:
        for i, convert in _BILL_CONVERTERS:
            values[i] = convert(values[i], None, connection)
        bill = Bill.from_db(connection.alias, names, values)
        line = PaymentOrderBill(id=line_id, order=order, bill=bill, amount=amount)
        line._state.adding, line._state.db = False, connection.alias
        line.paid_now = paid  # type: ignore[attr-defined]  # the annotation _order_lines adds
        lines.append(line)
    return cast("list[OrderLineWithPaid]", lines)


def _bills_no_longer_owed(lines: list[OrderLineWithPaid]) -> list[tuple[str, Decimal, Decimal]]:
    """``(number, frozen amount, owed now)`` of the order's bills (``_order_lines``) on which less is
    owed now (``total_ttc`` minus what was allocated to it) than the order would pay (settled, or
    partly paid by another payment): capturing would over-pay. The caller holds the customer's row
    lock."""
    short = []
    for line in lines:
        now_owed = max(round_money(line.bill.total_ttc - (line.paid_now or ZERO)), ZERO)
        if now_owed < line.amount:
            short.append((line.bill.number, line.amount, now_owed))
    return short


def _refuse_settled(
    order: PaymentOrder,
    callback: CmiCallback,
    fields: dict[str, str],
    trans_id: str,
    short: list[tuple[str, Decimal, Decimal]],
    now: datetime,
) -> Verdict:
    """Not captured: the order's bills are no longer owed as frozen. CANCELLED with the reason,
    the customer told, CMI answered without ``ACTION=POSTAUTH``."""
    detail = ", ".join(
        gettext("%(number)s (reste dû %(owed)s DH au lieu de %(amount)s DH)")
        % {"number": number, "owed": _dh(owed), "amount": _dh(amount)}
        for number, amount, owed in short
    )
    order.cancel_reason = gettext(
        "Factures déjà réglées par un autre paiement : %(detail)s. La transaction %(trans_id)s "
        "(%(total)s DH) n'a pas été capturée : la pré-autorisation est libérée, la carte n'est pas débitée."
    ) % {"detail": detail, "trans_id": trans_id, "total": _dh(order.amount_total)}
    order.trans_id = trans_id[:64]
    order.proc_return_code = fields.get("ProcReturnCode", "")[:4]
    order.auth_code = fields.get("AuthCode", "")[:16]
    order.masked_pan = fields.get("maskedCreditCard", fields.get("MaskedPan", ""))[:32]
    _transition(
        order,
        Status.CANCELLED,
        now=now,
        callback=callback,
        note=order.cancel_reason,
        fields=["cancel_reason", "trans_id", "proc_return_code", "auth_code", "masked_pan"],
    )
    order_cancelled_notify(order_id=order.pk)  # e-mail, SMS, bell: « not charged, already paid »
    hook_fire(HOOK_ORDER_CANCELLED, order_id=order.pk)
    return Verdict(Outcome.ALREADY_SETTLED, ANSWER_RELEASE, order.cancel_reason)


def payment_apply_callback(*, data: Mapping[str, object], remote_ip: str | None, now: datetime) -> CmiCallback:
    """Handle CMI's server-to-server callback; ``callback.response`` is the text to answer
    (``ACTION=POSTAUTH``, ``APPROVED`` or ``FAILURE``). The raw message is kept whatever happens."""
    fields = _fields_of(data)
    callback = _message_store(kind=CmiCallback.Kind.CALLBACK, data=data, fields=fields, remote_ip=remote_ip, now=now)
    try:
        with transaction.atomic():
            _process_callback(callback, fields, now)
    except Exception as exc:
        # Answer FAILURE (CMI then leaves the authorisation for a manual capture or void) and keep
        # the reason next to the raw message for support; the traceback goes to the log.
        logger.exception("CMI callback %s (oid %s) failed", callback.pk, fields.get("oid", ""))
        CmiCallback.objects.filter(pk=callback.pk).update(
            outcome=Outcome.ERROR, response=ANSWER_FAILURE, detail=f"{type(exc).__name__}: {exc}"[:2000]
        )
        callback.refresh_from_db()
    return callback


@transaction.atomic
def _process_return(callback: CmiCallback, fields: dict[str, str], now: datetime) -> PaymentOrder | None:
    oid = fields.get("oid", "")
    if _has_nul(fields):
        _record(
            callback, Verdict(Outcome.BAD_HASH, "", "Octet NUL dans le message : message ignoré.")
        )  # i18n: not for customers
        return None
    if not hashing.hash_verify(fields, settings.CMI_STORE_KEY):
        _record(callback, Verdict(Outcome.BAD_HASH, "", "HASH ver3 non conforme."))
        return None
    order = PaymentOrder.objects.select_for_update().filter(oid=oid).first()
    if order is None:
        _record(
            callback, Verdict(Outcome.UNKNOWN_ORDER, "", "Aucun ordre de paiement pour cet oid."), hash_valid=True
        )  # i18n: not for customers
        return None
    if callback.kind == CmiCallback.Kind.FAIL_RETURN and fields.get("ProcReturnCode", "") != "00":
        if order.status in PAYABLE:
            order.proc_return_code = fields.get("ProcReturnCode", "")[:4]
            _transition(
                order,
                _failed_attempt_status(fields),
                now=now,
                callback=callback,
                note="Retour navigateur (failUrl) : " + _attempt_note(fields),
                fields=["proc_return_code"],
            )
    _record(callback, Verdict(Outcome.RETURN, "", _attempt_note(fields)), hash_valid=True, order=order)
    return order


def payment_order_return(
    *, kind: str, data: Mapping[str, object], remote_ip: str | None, now: datetime
) -> tuple[CmiCallback, PaymentOrder | None]:
    """The browser's return to okUrl or failUrl: stored raw, HASH verified. It never marks an
    order paid (the callback does); a signed failUrl return records the failed attempt. Returns
    the stored message and the order (None when the HASH or the oid is not recognised)."""
    if kind not in (CmiCallback.Kind.OK_RETURN, CmiCallback.Kind.FAIL_RETURN):
        raise ValueError(kind)
    fields = _fields_of(data)
    callback = _message_store(kind=kind, data=data, fields=fields, remote_ip=remote_ip, now=now)
    order = _process_return(callback, fields, now)
    return callback, order
