"""Cut-off orders (« ordres de coupure ») and reconnection orders (« ordres de rétablissement »).

- ``cutoff_order_issue``: one order per active dossier of the customer (the reminder plan's CUTOFF
  step, or a member of staff); the customer gets the « avis de coupure » (SMS, e-mail, bell —
  notification kind ``cutoff``, always sent).
- ``cutoff_order_execute``: the technical team cut the supply: the dossier becomes SUSPENDED (a row
  of the dossier's history, « Coupure ») and the « frais de coupure » invoice is issued through
  rak_billing (ledger debit, VAT « frais et travaux »); ``cutoff_order_not_done``: they could not
  (reason); ``cutoff_order_cancel``: staff cancel it, or the customer paid before the cut.
- « Facture réglée » (``HOOK_BILLS_SETTLED``, same transaction as the payment): the orders still to
  do of a customer whose overdue debt fell below the plan's minimum are cancelled, and once the
  customer owes nothing overdue any more (the cut-off fee included, due or not) a reconnection
  order is issued for each executed cut-off that has none, to be done the same day
  (``due_at`` = end of that day); ``reconnection_order_execute`` → dossier ACTIVE again.

Amount overdue: the open amount (total − allocations) of the bills not settled whose due date is
before the day (``rak_billing.api.bills_exigible`` + ``bills_with_outstanding``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.api import RakError, hook_subscribe, message_send, message_template_register, sequence_next
from rak_base.models import Message
from rak_base.money import money_format, round_money
from rak_base.prepared import prepared_cursor
from rak_billing.api import (
    HOOK_BILLS_SETTLED,
    OtherLine,
    bill_issue_other,
    bills_exigible,
    bills_with_outstanding,
)
from rak_billing.models import Bill
from rak_collections.models import CutoffOrder, DunningCase, PaymentPlan, ReconnectionOrder, ReminderPlan
from rak_customer.api import customer_email, customer_portal_user, customer_sms_phone
from rak_customer.language import customer_language_code
from rak_customer.models import Customer, Dossier

ZERO = Decimal("0.00")
#: the fee when no reminder plan names one (HT; rak.conf may set ``COLLECTIONS_CUT_FEE``)
DEFAULT_CUT_FEE = Decimal("100.00")

CODE_CUTOFF_NOTICE = "dunning_cutoff_notice"
CODE_RECONNECTION = "dunning_reconnection"


class CutoffError(RakError):
    default_message = _("Cette opération n'est pas possible sur cet ordre.")


# --- reads -------------------------------------------------------------------------------------------


def local_day(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now) if timezone.is_aware(now) else now.date()


def overdue_amounts(
    *, as_of: datetime.date, customer_ids: Iterable[int] | None = None
) -> dict[int, tuple[Decimal, datetime.date]]:
    """``{customer_id: (amount overdue, oldest due date)}`` of the customers (all, or
    ``customer_ids``) with an open amount on bills due before ``as_of``: one grouped query."""
    bills = bills_exigible(Bill.objects.all(), as_of=as_of)
    if customer_ids is not None:
        bills = bills.filter(customer_id__in=list(customer_ids))
    rows = (
        bills_with_outstanding(bills)
        .order_by()
        .values("customer_id")
        .annotate(amount=Sum(F("total_ttc") - F("paid")), oldest=Min("due_date"))
    )
    return {
        row["customer_id"]: (round_money(row["amount"]), row["oldest"])
        for row in rows
        if round_money(row["amount"]) > ZERO
    }


def active_plans() -> dict[str, ReminderPlan]:
    """The active reminder plans by customer kind (``""``: the plan for every other kind)."""
    return {plan.customer_kind: plan for plan in ReminderPlan.objects.filter(is_active=True)}


def plan_for(kind: str, plans: dict[str, ReminderPlan]) -> ReminderPlan | None:
    return plans.get(kind) or plans.get("")


def cut_fee_for(customer: Customer, case: DunningCase | None = None) -> Decimal:
    plan = case.plan if case is not None else plan_for(customer.kind, active_plans())
    if plan is not None:
        return plan.cut_fee
    return Decimal(str(getattr(settings, "COLLECTIONS_CUT_FEE", DEFAULT_CUT_FEE)))


# --- notifications -----------------------------------------------------------------------------------


def customer_notify(
    *, customer: Customer, code: str, context: dict, channels: Iterable[str], kind: str
) -> list[Message]:
    """Send message ``code`` to the customer on ``channels`` (SMS number, primary e-mail, portal
    account's bell), in the customer's language. Returns the messages queued (none: no contact)."""
    return message_send(
        code=code,
        context=context,
        channels=channels,
        user=customer_portal_user(customer.pk),
        phone=customer_sms_phone(customer) or "",
        email=customer_email(customer) or "",
        kind=kind,
        language=customer_language_code(customer),
    )


def amount_text(value: Decimal, language: str) -> str:
    return money_format(value, plain_space=True, language=language)


# --- numbers -----------------------------------------------------------------------------------------


def _number(prefix: str, sequence: str, day: datetime.date) -> str:
    value = sequence_next(name=f"{sequence}-{day.year}")
    return f"{prefix}{day.year}-{value:06d}"


# --- dossier status (with its history row) -----------------------------------------------------------


def _dossier_status_set(*, dossier_id: int, status: str, reason: str) -> Dossier:
    """The dossier's status under its row lock; django-simple-history writes the history row that
    « Mes abonnements » reads (« Coupure », « Rétablissement de la fourniture »)."""
    dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
    if dossier.status != status:
        dossier.status = status
        dossier._change_reason = reason[:100]
        dossier.save(update_fields=["status"])
    return dossier


# --- cut-off orders ----------------------------------------------------------------------------------


@transaction.atomic
def cutoff_order_issue(
    *, customer: Customer, case: DunningCase | None = None, now: datetime.datetime, by=None
) -> list[CutoffOrder]:
    """One order per active dossier of ``customer`` that has no order to do yet; the « avis de
    coupure » is sent once for them. Returns the orders issued (none: nothing to cut)."""
    day = local_day(now)
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
    dossiers = list(
        Dossier.objects.filter(customer=customer, status=Dossier.Status.ACTIVE)
        .exclude(cutoff_orders__status=CutoffOrder.Status.ISSUED)
        .order_by("number")
    )
    if not dossiers:
        return []
    amount, _oldest = overdue_amounts(as_of=day, customer_ids=[customer.pk]).get(customer.pk, (ZERO, None))
    orders = [
        CutoffOrder.objects.create(
            number=_number("OC", "cutoff", day),
            customer=customer,
            dossier=dossier,
            case=case,
            amount_due=amount,
            issued_at=now,
            issued_by=by,
        )
        for dossier in dossiers
    ]
    language = customer_language_code(customer)
    customer_notify(
        customer=customer,
        code=CODE_CUTOFF_NOTICE,
        context={
            "code": customer.code,
            "amount": amount_text(amount, language),
            "dossiers": ", ".join(d.number for d in dossiers),
        },
        channels=[Message.Channel.SMS, Message.Channel.EMAIL, Message.Channel.BELL],
        kind=f"cutoff:order:{orders[0].pk}",
    )
    return orders


def _locked_order(order: CutoffOrder | int) -> CutoffOrder:
    order_id = order if isinstance(order, int) else order.pk
    found = CutoffOrder.objects.select_for_update().filter(pk=order_id).first()
    if found is None:
        raise CutoffError(_("Ordre de coupure introuvable."))
    return found


def _refuse_unless_issued(order: CutoffOrder) -> None:
    if order.status != CutoffOrder.Status.ISSUED:
        raise CutoffError(
            _("L'ordre %(number)s n'est plus à exécuter (%(status)s).")
            % {"number": order.number, "status": order.get_status_display()}
        )


@transaction.atomic
def cutoff_order_execute(
    *,
    order: CutoffOrder | int,
    now: datetime.datetime,
    by,
    meter_index: Decimal | None = None,
    note: str = "",
) -> CutoffOrder:
    """The supply was cut: dossier SUSPENDED, « frais de coupure » invoice issued (ledger debit)."""
    order = _locked_order(order)
    _refuse_unless_issued(order)
    if meter_index is not None and meter_index < 0:
        raise CutoffError(_("L'index du compteur ne peut pas être négatif."))
    dossier = Dossier.objects.select_for_update().get(pk=order.dossier_id)
    if dossier.status == Dossier.Status.TERMINATED:
        raise CutoffError(_("Le dossier %(number)s est résilié : il n'y a rien à couper.") % {"number": dossier.number})
    _dossier_status_set(
        dossier_id=dossier.pk,
        status=Dossier.Status.SUSPENDED,
        reason=gettext("Coupure pour impayé, ordre %(number)s") % {"number": order.number},
    )
    customer = Customer.objects.get(pk=order.customer_id)
    case = DunningCase.objects.select_related("plan").filter(pk=order.case_id).first() if order.case_id else None
    fee = cut_fee_for(customer, case)
    day = local_day(now)
    if fee > ZERO:
        order.fee_bill = bill_issue_other(
            kind=Bill.Kind.CUT_FEE,
            customer=customer,
            dossier=dossier,
            lines=[
                OtherLine(
                    label=gettext("Frais de coupure (ordre %(number)s)") % {"number": order.number}, unit_price=fee
                )
            ],
            issue_date=day,
            now=now,
        )
    order.status = CutoffOrder.Status.EXECUTED
    order.executed_at = now
    order.executed_by = by
    order.meter_index = meter_index
    order.note = (note or "").strip()
    order.save(update_fields=["status", "executed_at", "executed_by", "meter_index", "note", "fee_bill"])
    return order


@transaction.atomic
def cutoff_order_not_done(*, order: CutoffOrder | int, reason: str, now: datetime.datetime, by) -> CutoffOrder:
    """The technical team could not cut (meter inaccessible, customer absent...): the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise CutoffError(_("Indiquez pourquoi l'ordre n'a pas été exécuté."))
    order = _locked_order(order)
    _refuse_unless_issued(order)
    order.status = CutoffOrder.Status.NOT_DONE
    order.executed_at = now
    order.executed_by = by
    order.closed_reason = reason[:255]
    order.save(update_fields=["status", "executed_at", "executed_by", "closed_reason"])
    return order


@transaction.atomic
def cutoff_order_cancel(*, order: CutoffOrder | int, reason: str, now: datetime.datetime, by=None) -> CutoffOrder:
    reason = (reason or "").strip()
    if not reason:
        raise CutoffError(_("Indiquez le motif de l'annulation."))
    order = _locked_order(order)
    _refuse_unless_issued(order)
    order.status = CutoffOrder.Status.CANCELLED
    order.closed_reason = reason[:255]
    order.save(update_fields=["status", "closed_reason"])
    return order


# --- reconnection ------------------------------------------------------------------------------------


def _end_of_day(now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now) if timezone.is_aware(now) else now
    return local.replace(hour=23, minute=59, second=59, microsecond=0)


def _fees_unpaid(customer_ids: Iterable[int]) -> set[int]:
    """Customers with an unsettled cut-off fee invoice, due or not."""
    return set(
        Bill.objects.filter(customer_id__in=list(customer_ids), kind=Bill.Kind.CUT_FEE, settled_at__isnull=True)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def reconnections_issue(*, customer_ids: Iterable[int], now: datetime.datetime) -> list[ReconnectionOrder]:
    """A reconnection order, due by the end of the day, for each executed cut-off without one of
    the customers among ``customer_ids`` who owe nothing overdue any more (cut-off fee included).
    A fixed number of queries, plus a few per order issued."""
    waiting = list(
        CutoffOrder.objects.filter(
            customer_id__in=list(customer_ids), status=CutoffOrder.Status.EXECUTED, reconnection__isnull=True
        )
        .select_related("customer", "dossier")
        .order_by("customer_id", "pk")
    )
    if not waiting:
        return []
    customers = {order.customer_id for order in waiting}
    day = local_day(now)
    owing = set(overdue_amounts(as_of=day, customer_ids=customers)) | _fees_unpaid(customers)
    issued: list[ReconnectionOrder] = []
    by_customer: dict[int, list[ReconnectionOrder]] = {}
    for order in waiting:
        if order.customer_id in owing:
            continue
        reconnection = ReconnectionOrder.objects.create(
            number=_number("OR", "reconnection", day),
            cutoff=order,
            customer_id=order.customer_id,
            dossier_id=order.dossier_id,
            issued_at=now,
            due_at=_end_of_day(now),
        )
        issued.append(reconnection)
        by_customer.setdefault(order.customer_id, []).append(reconnection)
    for orders in by_customer.values():
        customer = orders[0].customer
        customer_notify(
            customer=customer,
            code=CODE_RECONNECTION,
            context={"code": customer.code, "dossiers": ", ".join(o.dossier.number for o in orders)},
            channels=[Message.Channel.SMS, Message.Channel.BELL],
            kind=f"cutoff:reconnection:{orders[0].pk}",
        )
    return issued


def orders_cancel_paid(*, customer_ids: Iterable[int], now: datetime.datetime) -> int:
    """Cancel the orders still to do of the customers whose overdue debt fell below their plan's
    minimum (the customer paid before the cut). Returns how many."""
    pending = list(
        CutoffOrder.objects.filter(customer_id__in=list(customer_ids), status=CutoffOrder.Status.ISSUED)
        .select_related("customer", "case__plan")
        .select_for_update(of=("self",))
    )
    if not pending:
        return 0
    overdue = overdue_amounts(as_of=local_day(now), customer_ids={o.customer_id for o in pending})
    plans = active_plans()
    cancelled = []
    for order in pending:
        plan = order.case.plan if order.case else plan_for(order.customer.kind, plans)
        minimum = plan.min_amount if plan is not None else Decimal("0.01")
        amount = overdue.get(order.customer_id, (ZERO, None))[0]
        if amount < max(minimum, Decimal("0.01")):
            cancelled.append(order.pk)
    if cancelled:
        CutoffOrder.objects.filter(pk__in=cancelled).update(
            status=CutoffOrder.Status.CANCELLED, closed_reason=gettext("Dette réglée avant la coupure")
        )
    return len(cancelled)


#: A cut-off still to execute, or executed and not yet followed by a reconnection order, for one of
#: the customers (the ``Q(ISSUED) | Q(EXECUTED, reconnection__isnull=True)`` of the cut-off desk)
_CUTOFF_PENDING_SQL = """
SELECT EXISTS (
    SELECT 1 FROM rak_collections_cutofforder c
    WHERE c.customer_id = ANY(%(customers)s)
      AND (c.status = %(issued)s OR (c.status = %(executed)s AND NOT EXISTS (
          SELECT 1 FROM rak_collections_reconnectionorder r WHERE r.cutoff_id = c.id)))
)
"""


def _cutoff_pending_exists(customer_ids: list[int]) -> bool:
    """Whether one of the customers has a cut-off to cancel or a reconnection to issue: a prepared
    statement (issue 15: this guard runs in every payment's transaction, most often for nothing)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _CUTOFF_PENDING_SQL,
            {
                "customers": customer_ids,
                "issued": CutoffOrder.Status.ISSUED,
                "executed": CutoffOrder.Status.EXECUTED,
            },
        )
        return bool(cursor.fetchone()[0])


def on_bills_settled(*, bill_ids: list[int], customer_ids: list[int] | None = None, customer_id=None, **kwargs):
    """« Facture réglée »: cancel what need not be cut any more, issue the reconnections due."""
    customers = set(customer_ids or ([customer_id] if customer_id else []))
    if not customers:
        return
    if not _cutoff_pending_exists(sorted(customers)):
        return
    now = Bill.objects.filter(pk__in=bill_ids).aggregate(at=Max("settled_at"))["at"]
    if now is None:
        return
    orders_cancel_paid(customer_ids=customers, now=now)
    reconnections_issue(customer_ids=customers, now=now)


def orders_sweep(*, now: datetime.datetime) -> tuple[int, int]:
    """What the hook does, for every customer with an order pending (the reminders' job runs it):
    (orders cancelled, reconnections issued)."""
    customers = set(
        CutoffOrder.objects.filter(
            Q(status=CutoffOrder.Status.ISSUED) | Q(status=CutoffOrder.Status.EXECUTED, reconnection__isnull=True)
        ).values_list("customer_id", flat=True)
    )
    if not customers:
        return 0, 0
    with transaction.atomic():
        cancelled = orders_cancel_paid(customer_ids=customers, now=now)
        issued = reconnections_issue(customer_ids=customers, now=now)
    return cancelled, len(issued)


@transaction.atomic
def reconnection_order_execute(
    *, order: ReconnectionOrder | int, now: datetime.datetime, by, note: str = ""
) -> ReconnectionOrder:
    """The supply is back: dossier ACTIVE again (history row « Rétablissement »), customer told."""
    order_id = order if isinstance(order, int) else order.pk
    locked = ReconnectionOrder.objects.select_for_update().filter(pk=order_id).first()
    if locked is None:
        raise CutoffError(_("Ordre de rétablissement introuvable."))
    if locked.status != ReconnectionOrder.Status.ISSUED:
        raise CutoffError(_("L'ordre %(number)s est déjà exécuté.") % {"number": locked.number})
    dossier = Dossier.objects.select_for_update().get(pk=locked.dossier_id)
    if dossier.status == Dossier.Status.SUSPENDED:
        _dossier_status_set(
            dossier_id=dossier.pk,
            status=Dossier.Status.ACTIVE,
            reason=gettext("Rétablissement, ordre %(number)s") % {"number": locked.number},
        )
    locked.status = ReconnectionOrder.Status.EXECUTED
    locked.executed_at = now
    locked.executed_by = by
    locked.note = (note or "").strip()
    locked.save(update_fields=["status", "executed_at", "executed_by", "note"])
    return locked


def customers_under_plan(customer_ids: Iterable[int] | None = None) -> set[int]:
    plans = PaymentPlan.objects.filter(status=PaymentPlan.Status.ACTIVE)
    if customer_ids is not None:  # a list, or a queryset of ids used as a subquery
        plans = plans.filter(customer_id__in=customer_ids if isinstance(customer_ids, QuerySet) else list(customer_ids))
    return set(plans.values_list("customer_id", flat=True))


# --- wiring ------------------------------------------------------------------------------------------


def register() -> None:
    message_template_register(
        CODE_CUTOFF_NOTICE,
        label=_("Recouvrement : avis de coupure pour impayé"),
        placeholders={
            "code": (_("code client"), "200001234"),
            "amount": (_("montant échu"), "1 250,40 DH"),
            "dossiers": (_("dossiers concernés"), "E000012345"),
        },
        defaults={
            Message.Channel.SMS: (
                "",
                _(
                    "RAK : avis de coupure. Faute de paiement de {amount} (client {code}), la fourniture "
                    "sera suspendue. Réglez vite pour l'éviter."
                ),
            ),
            Message.Channel.EMAIL: (
                _("Avis de coupure pour impayé — client {code}"),
                _(
                    "Bonjour,\n\nMalgré nos relances, {amount} restent impayés sur votre compte client {code}.\n"
                    "Un ordre de coupure a été émis pour : {dossiers}. La fourniture sera suspendue par nos "
                    "équipes si la dette n'est pas réglée.\n\nPayez dès maintenant sur l'agence en ligne ou "
                    "en agence : l'ordre sera annulé automatiquement.\n\nLa RAK"
                ),
            ),
            Message.Channel.BELL: (
                _("Avis de coupure pour impayé"),
                _(
                    "{amount} restent impayés. Un ordre de coupure a été émis pour : {dossiers}. Réglez votre "
                    "dette pour l'annuler."
                ),
            ),
        },
        required=("amount",),
    )
    message_template_register(
        CODE_RECONNECTION,
        label=_("Recouvrement : rétablissement de la fourniture"),
        placeholders={
            "code": (_("code client"), "200001234"),
            "dossiers": (_("dossiers concernés"), "E000012345"),
        },
        defaults={
            Message.Channel.SMS: (
                "",
                _("RAK : merci, votre dette est réglée (client {code}). La fourniture sera rétablie aujourd'hui."),
            ),
            Message.Channel.BELL: (
                _("Rétablissement de la fourniture"),
                _("Votre dette est réglée. La fourniture sera rétablie aujourd'hui ({dossiers})."),
            ),
        },
    )
    hook_subscribe(HOOK_BILLS_SETTLED, on_bills_settled)
