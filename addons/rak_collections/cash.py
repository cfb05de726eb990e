"""Cash closing of the agency counters (« clôture de caisse »).

At the end of the day each agent opens « Clôture de caisse »: the payments they recorded
(``Payment.received_by`` = the agent) and paid that day, per method (count, expected total); they
type what the counter holds per method; the difference is computed; a difference other than zero
needs an explanation; « Clôturer » (``cash_closing_close``) writes the closing CLOSED with its lines
and the payments it counted (``CashClosingEntry``), and nothing of it changes afterwards.

What happens after a day is closed (decided here):
- a payment recorded afterwards with that day's date (« enregistré après la clôture ») is counted by
  the agent's next closing (a later day), marked late — it is never lost nor counted twice (a
  payment is counted once: unique entry);
- a payment counted by a closing and reversed afterwards (cheque returned, wrong customer) shows on
  the agent's next closing as a negative adjustment (« annulé après clôture »), once;
- a payment reversed before its day is closed is simply not expected (it was never kept);
- a payment of a day that has not been closed yet waits for that day's closing (it is not moved to
  another day's). Reversals are taken by the first closing of a day that ends after them; late
  payments by the agent's next closing; both within ``ADJUSTMENT_LOOKBACK_DAYS``.
The agency is the agent's counter post (``CounterPost``): an agent without one cannot close.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.api import RakError
from rak_base.money import money_format, round_money
from rak_billing.models import Payment
from rak_collections.models import CashClosing, CashClosingLine, CounterPost
from rak_collections.models.cash import CashClosingEntry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ZERO = Decimal("0.00")
ADJUSTMENT_LOOKBACK_DAYS = 62
COUNTED_MAX = Decimal("100000000.00")
#: always shown on the closing page, even without a payment
COUNTER_METHODS = (Payment.Method.CASH, Payment.Method.CHEQUE)
SUPERVISE_PERMISSION = "rak_collections.supervise_cashclosing"


class CashClosingRefused(RakError):
    default_message = _("La clôture de caisse ne peut pas être enregistrée.")


@dataclass
class CashEntry:
    payment: Payment
    kind: str  # CashClosingEntry.Kind
    late: bool
    method: str
    amount: Decimal  # negative for a reversal

    @property
    def label(self) -> str:
        if self.kind == CashClosingEntry.Kind.REVERSED:
            return gettext("Annulé après clôture")
        if self.late:
            return gettext("Enregistré après la clôture du %(date)s") % {
                "date": f"{timezone.localdate(self.payment.paid_at):%d/%m/%Y}"
            }
        return ""


@dataclass
class CashLine:
    method: str
    label: StrOrPromise
    payments_count: int = 0
    expected: Decimal = ZERO
    counted: Decimal | None = None
    typed: str = ""  # the closing page: what the agent typed, shown back with the form's errors

    @property
    def difference(self) -> Decimal | None:
        return None if self.counted is None else round_money(self.counted - self.expected)


@dataclass
class CashDay:
    agent: object
    day: datetime.date
    entries: list[CashEntry] = field(default_factory=list)
    lines: list[CashLine] = field(default_factory=list)

    @property
    def expected_total(self) -> Decimal:
        return sum((line.expected for line in self.lines), ZERO)

    @property
    def adjustments(self) -> list[CashEntry]:
        return [e for e in self.entries if e.late or e.kind == CashClosingEntry.Kind.REVERSED]


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of ``day`` in the site's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def counter_post_agency(agent):
    post = CounterPost.objects.filter(user=agent).select_related("agency").first()
    return post.agency if post else None


def cash_day(*, agent, day: datetime.date) -> CashDay:
    """What ``agent``'s counter should hold for ``day``, as it stands now: the day's payments not
    reversed and not counted yet, then the adjustments (late payments, reversals after closing)."""
    start, end = day_bounds(day)
    since = start - datetime.timedelta(days=ADJUSTMENT_LOOKBACK_DAYS)
    counted_ids = set(
        CashClosingEntry.objects.filter(
            kind=CashClosingEntry.Kind.COUNTED, payment__received_by=agent, payment__paid_at__gte=since
        ).values_list("payment_id", flat=True)
    )
    reversed_ids = set(
        CashClosingEntry.objects.filter(
            kind=CashClosingEntry.Kind.REVERSED, payment__received_by=agent, payment__paid_at__gte=since
        ).values_list("payment_id", flat=True)
    )
    closed_days = set(
        CashClosing.objects.filter(
            agent=agent, status=CashClosing.Status.CLOSED, day__gte=since.date(), day__lt=day
        ).values_list("day", flat=True)
    )
    payments = (
        Payment.objects.filter(received_by=agent, paid_at__gte=since, paid_at__lt=end)
        .select_related("customer", "reversal")
        .order_by("paid_at", "pk")
    )
    entries: list[CashEntry] = []
    for payment in payments:
        reversal = getattr(payment, "reversal", None)  # None: not reversed
        paid_day = timezone.localdate(payment.paid_at)
        if payment.pk in counted_ids:
            if reversal is not None and payment.pk not in reversed_ids and reversal.reversed_at < end:
                entries.append(
                    CashEntry(payment, CashClosingEntry.Kind.REVERSED, False, payment.method, -payment.amount)
                )
            continue
        if reversal is not None and reversal.reversed_at < end:
            continue  # reversed before it was counted: never kept
        if paid_day == day:
            entries.append(CashEntry(payment, CashClosingEntry.Kind.COUNTED, False, payment.method, payment.amount))
        elif paid_day in closed_days:  # recorded after its day was closed
            entries.append(CashEntry(payment, CashClosingEntry.Kind.COUNTED, True, payment.method, payment.amount))
    lines: dict[str, CashLine] = {
        method: CashLine(method=method, label=Payment.Method(method).label) for method in COUNTER_METHODS
    }
    for entry in entries:
        line = lines.setdefault(
            entry.method,
            CashLine(method=entry.method, label=dict(Payment.Method.choices).get(entry.method, entry.method)),
        )
        line.payments_count += 1
        line.expected = round_money(line.expected + entry.amount)
    order = list(Payment.Method.values)
    return CashDay(
        agent=agent,
        day=day,
        entries=entries,
        lines=sorted(lines.values(), key=lambda li: order.index(li.method) if li.method in order else len(order)),
    )


def parse_counted(value) -> Decimal:
    """A counted amount typed by the agent (« 1 250,50 »): ≥ 0, at most 100 million."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value if value is not None else "").strip()
        for space in (" ", "\u00a0", "\u202f"):
            text = text.replace(space, "")
        text = text.replace(",", ".")
        if not text:
            raise CashClosingRefused(_("Saisissez le montant compté pour chaque mode (0 s'il n'y a rien)."))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CashClosingRefused(_("Montant compté invalide : saisissez un nombre (ex. 1250,50).")) from None
    if not amount.is_finite():
        raise CashClosingRefused(_("Montant compté invalide : saisissez un nombre (ex. 1250,50)."))
    if amount < 0:
        raise CashClosingRefused(_("Un montant compté ne peut pas être négatif."))
    if amount > COUNTED_MAX:
        raise CashClosingRefused(_("Montant compté trop élevé : vérifiez la saisie."))
    return round_money(amount)


@transaction.atomic
def cash_closing_close(
    *, agent, day: datetime.date, counted: dict, explanation: str = "", by, now: datetime.datetime
) -> CashClosing:
    """Close ``agent``'s ``day``: lines per method (expected from the payments, counted as typed),
    the difference, the payments counted; CLOSED — it cannot change afterwards. Refused with a
    French message (CashClosingRefused) when the day is in the future, already closed, the agent
    has no counter post, an amount is invalid, or a difference is not explained."""
    if by is None or agent is None:
        raise CashClosingRefused(_("La clôture doit être faite par un agent identifié."))
    if not isinstance(day, datetime.date):
        raise CashClosingRefused(_("Indiquez la journée à clôturer."))
    today = timezone.localdate(now)
    if day > today:
        raise CashClosingRefused(_("Une journée à venir ne peut pas être clôturée."))
    if day < today - datetime.timedelta(days=ADJUSTMENT_LOOKBACK_DAYS):
        raise CashClosingRefused(_("Cette journée est trop ancienne pour être clôturée ici."))
    agency = counter_post_agency(agent)
    if agency is None:
        raise CashClosingRefused(
            _("Cet agent n'a pas de poste de guichet : un superviseur doit lui attribuer son agence.")
        )
    list(get_user_model().objects.select_for_update().filter(pk=agent.pk).values_list("pk"))  # one closing at a time
    closing = (
        CashClosing.objects.select_for_update(of=("self",))
        .filter(agent=agent, day=day)
        .select_related("closed_by")
        .first()
    )
    if closing is not None and closing.status == CashClosing.Status.CLOSED:
        raise CashClosingRefused(
            _("Cette journée a déjà été clôturée le %(date)s par %(who)s.")
            % {
                "date": f"{timezone.localtime(closing.closed_at):%d/%m/%Y %H:%M}",
                "who": (closing.closed_by.get_full_name() or closing.closed_by.get_username())
                if closing.closed_by
                else "",
            }
        )
    state = cash_day(agent=agent, day=day)
    counted = counted or {}
    for line in state.lines:
        line.counted = parse_counted(counted.get(line.method))
    unknown = set(counted) - {line.method for line in state.lines}
    for method in sorted(unknown):  # money of a method nobody recorded: a line of its own
        if method not in Payment.Method.values:
            raise CashClosingRefused(_("Mode de paiement inconnu."))
        amount = parse_counted(counted[method])
        if amount:
            state.lines.append(CashLine(method=method, label=Payment.Method(method).label, counted=amount))
    explanation = (explanation or "").strip()
    difference = sum((line.difference or ZERO for line in state.lines), ZERO)  # every line counted above
    if any(line.difference for line in state.lines) and not explanation:
        raise CashClosingRefused(
            _("Écart de %(amount)s : expliquez-le avant de clôturer.")
            % {"amount": money_format(difference, plain_space=True)},
            field="explanation",
        )
    if closing is None:
        closing = CashClosing(agent=agent, day=day)
    closing.agency = agency
    closing.status = CashClosing.Status.CLOSED
    closing.expected_total = state.expected_total
    closing.counted_total = sum((line.counted or ZERO for line in state.lines), ZERO)
    closing.difference = difference
    closing.explanation = explanation
    closing.closed_at = now
    closing.closed_by = by
    closing.save()
    CashClosingLine.objects.filter(closing=closing).delete()
    CashClosingLine.objects.bulk_create(
        CashClosingLine(
            closing=closing,
            method=line.method,
            payments_count=line.payments_count,
            expected=line.expected,
            counted=line.counted or ZERO,
            difference=line.difference or ZERO,
        )
        for line in state.lines
    )
    CashClosingEntry.objects.bulk_create(
        CashClosingEntry(closing=closing, payment=e.payment, kind=e.kind, late=e.late, method=e.method, amount=e.amount)
        for e in state.entries
    )
    return closing


def closing_lines_by_method(closing: CashClosing) -> list[CashClosingLine]:
    lines = list(closing.lines.all())
    labels = dict(Payment.Method.choices)
    for line in lines:
        line.label = labels.get(line.method, line.method)  # type: ignore[attr-defined]  # for the template
    return lines
