"""Payment plans (« échéanciers ») for large debts.

A recouvrement agent grants a plan on some of a customer's open bills (``payment_plan_grant``):
under the customer's row lock, each covered bill's open amount is closed by a credit note
(``rak_billing`` ``credit_note_issue``: the bills are never edited) and the same debt comes back as
instalment bills (``Bill.Kind.INSTALMENT``, no VAT — the debt was taxed already — numbered and
debited to the ledger by ``bill_issue_other``): an optional down payment (« acompte », position 0,
due the day of the agreement), then ``instalments`` monthly bills from ``first_due_date``, the
amount split to the centime (the last one takes the remainder). The ledger's sum is unchanged:
credit notes (− debt) + instalments (+ debt).

Afterwards
- COMPLETED when every instalment bill is settled (``HOOK_BILLS_SETTLED``, whatever the channel;
  ``closed_at`` = when the last one was settled). A reversed payment that re-opens an instalment of
  a completed plan puts it back to ACTIVE (``HOOK_BILLS_REOPENED``).
- BROKEN by the scheduler (``plans_break_overdue``) when an instalment is still unpaid
  ``COLLECTIONS_PLAN_BROKEN_AFTER_DAYS`` days after its due date: ``broken_at``; the recouvrement
  team gets a bell notice and an e-mail, the customer an SMS / e-mail / bell notice. Its overdue
  instalments are then ordinary overdue bills: the reminders resume.
- CANCELLED by staff with a reason (``payment_plan_cancel``): the plan stops protecting the customer;
  its instalment bills stay on the account as they are (due on their dates, reminded when overdue).
While a plan is ACTIVE the reminders and cut-offs skip the customer (rak_collections.reminders
queries ``PaymentPlan`` status ACTIVE).

Settings (rak.conf ``[collections]`` through config.settings, defaults here):
``COLLECTIONS_PLAN_MIN_DEBT`` (smallest debt a plan covers, DH), ``COLLECTIONS_PLAN_MAX_INSTALMENTS``
(2..24), ``COLLECTIONS_PLAN_BROKEN_AFTER_DAYS``, ``COLLECTIONS_PLAN_FIRST_DUE_MAX_DAYS``.
"""

from __future__ import annotations

import calendar
import datetime
import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from rak_base.api import (
    RakError,
    each_item,
    event_key,
    hook_subscribe,
    job_register,
    message_queue_bell,
    message_queue_email,
    message_send,
    message_template_register,
    sequence_next,
)
from rak_base.money import money_format, round_money
from rak_base.prepared import prepared_cursor
from rak_billing.api import (
    HOOK_BILLS_REOPENED,
    HOOK_BILLS_SETTLED,
    CreditNoteRefused,
    OtherLine,
    UnableToIssueBill,
    bill_issue_other,
    bills_open,
    bills_with_outstanding,
    credit_note_issue,
)
from rak_billing.models import Bill
from rak_collections.models import Instalment, PaymentPlan, PaymentPlanBill
from rak_customer.api import Customer, customer_email, customer_sms_phone
from rak_customer.language import customer_language_code
from rak_customer.models import PortalAccount

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
AMOUNT_MAX = Decimal("1000000000.00")
RECOUVREMENT_GROUP = "recouvrement"
KIND = "payment_plan"
TEMPLATE_GRANTED = "plan.granted"
TEMPLATE_BROKEN = "plan.broken"
SMS, EMAIL, BELL = "SMS", "EMAIL", "BELL"

DEFAULT_MIN_DEBT = Decimal("500.00")
DEFAULT_MAX_INSTALMENTS = 24
DEFAULT_BROKEN_AFTER_DAYS = 15
DEFAULT_FIRST_DUE_MAX_DAYS = 92


class PlanRefused(RakError):
    default_message = _("L'échéancier ne peut pas être accordé.")


class PlanActionRefused(RakError):
    default_message = _("Cette action n'est pas possible sur cet échéancier.")


# --- settings ------------------------------------------------------------------------------------------


def plan_min_debt() -> Decimal:
    return Decimal(str(getattr(settings, "COLLECTIONS_PLAN_MIN_DEBT", DEFAULT_MIN_DEBT)))


def plan_max_instalments() -> int:
    return max(2, min(24, int(getattr(settings, "COLLECTIONS_PLAN_MAX_INSTALMENTS", DEFAULT_MAX_INSTALMENTS))))


def plan_broken_after_days() -> int:
    return int(getattr(settings, "COLLECTIONS_PLAN_BROKEN_AFTER_DAYS", DEFAULT_BROKEN_AFTER_DAYS))


def plan_first_due_max_days() -> int:
    return int(getattr(settings, "COLLECTIONS_PLAN_FIRST_DUE_MAX_DAYS", DEFAULT_FIRST_DUE_MAX_DAYS))


# --- pure helpers -------------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` ``months`` later, the day clamped to the month's last (31/01 + 1 → 28/02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_amount(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` parts to the centime: equal parts rounded down, the last one takes
    the remainder (so the parts add up to ``total`` exactly)."""
    total = round_money(total)
    if count < 1:
        raise PlanRefused(_("Le nombre d'échéances doit être d'au moins 2."))
    part = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    if part < CENT:
        raise PlanRefused(_("Le montant à échelonner est trop faible pour ce nombre d'échéances."))
    return [part] * (count - 1) + [total - part * (count - 1)]


def schedule_dates(first_due_date: datetime.date, count: int) -> list[datetime.date]:
    return [add_months(first_due_date, k) for k in range(count)]


def plan_number(year: int, value: int) -> str:
    return f"ECH{year}-{value:06d}"


def _money(value: Decimal) -> str:
    return money_format(value, plain_space=True)


def parse_money(value) -> Decimal:
    """A staff-typed amount (« 1 250,50 ») as a Decimal; PlanRefused when it is not a number."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value or "").strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        text = text.replace(",", ".")
        if not text:
            return ZERO
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise PlanRefused(_("Montant invalide : saisissez un nombre (ex. 1250,50).")) from None
    if not amount.is_finite():
        raise PlanRefused(_("Montant invalide : saisissez un nombre (ex. 1250,50)."))
    if abs(amount) > AMOUNT_MAX:
        raise PlanRefused(_("Montant trop élevé : vérifiez la saisie."))
    return amount


# --- reads --------------------------------------------------------------------------------------------


def customer_plan_candidates(customer: Customer | int, *, as_of: datetime.date) -> list[Bill]:
    """The customer's open bills a plan may cover (annotated ``paid`` and ``open_amount``,
    ``overdue``), oldest due date first."""
    bills = list(bills_with_outstanding(bills_open(customer)))
    for bill in bills:
        # paid: annotated by bills_with_outstanding; open_amount, overdue: for the form and the page
        bill.open_amount = round_money(bill.total_ttc - bill.paid)  # type: ignore[attr-defined]
        bill.overdue = bill.due_date < as_of  # type: ignore[attr-defined]
    return [b for b in bills if b.open_amount > ZERO]  # type: ignore[attr-defined]


def plan_next_due(plan: PaymentPlan) -> datetime.date | None:
    return (
        Instalment.objects.filter(plan=plan, bill__settled_at__isnull=True).aggregate(next=Min("due_date")).get("next")
    )


# --- grant --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanTerms:
    """What a plan will be (the grant page shows it before the agent confirms)."""

    total: Decimal
    down_payment: Decimal
    schedule: list[tuple[datetime.date, Decimal]]


def plan_terms_check(
    *,
    total: Decimal,
    instalments,
    first_due_date,
    down_payment,
    today: datetime.date,
) -> PlanTerms:
    """The terms of a plan for a debt of ``total``, or PlanRefused with the message to show."""
    try:
        count = int(instalments)
    except (TypeError, ValueError):
        raise PlanRefused(_("Indiquez le nombre d'échéances (un nombre entier).")) from None
    maximum = plan_max_instalments()
    if count < 2 or count > maximum:
        raise PlanRefused(_("Le nombre d'échéances doit être compris entre 2 et %(max)s.") % {"max": maximum})
    if not isinstance(first_due_date, datetime.date):
        raise PlanRefused(_("Indiquez la date de la première échéance."))
    if first_due_date < today:
        raise PlanRefused(_("La première échéance ne peut pas être dans le passé."))
    latest = today + datetime.timedelta(days=plan_first_due_max_days())
    if first_due_date > latest:
        raise PlanRefused(
            _("La première échéance doit tomber au plus tard le %(date)s.") % {"date": f"{latest:%d/%m/%Y}"}
        )
    down = round_money(parse_money(down_payment if down_payment is not None else ZERO))
    if down < ZERO:
        raise PlanRefused(_("L'acompte ne peut pas être négatif."))
    minimum = plan_min_debt()
    if total < minimum:
        raise PlanRefused(
            _("Un échéancier couvre une dette d'au moins %(min)s (dette choisie : %(total)s).")
            % {"min": _money(minimum), "total": _money(total)}
        )
    if down >= total:
        raise PlanRefused(
            _("L'acompte (%(down)s) doit être inférieur à la dette couverte (%(total)s).")
            % {"down": _money(down), "total": _money(total)}
        )
    amounts = split_amount(total - down, count)
    return PlanTerms(
        total=total, down_payment=down, schedule=list(zip(schedule_dates(first_due_date, count), amounts, strict=True))
    )


def _local_date(at: datetime.datetime) -> datetime.date:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


@transaction.atomic
def payment_plan_grant(
    *,
    customer: Customer,
    bills,
    instalments,
    first_due_date,
    down_payment=ZERO,
    reason: str = "",
    by,
    now: datetime.datetime,
) -> PaymentPlan:
    """Grant a payment plan on ``bills`` (open bills of ``customer``): credit notes close their
    open amounts, instalment bills bring the same debt back on the schedule. Refused with a French
    message (PlanRefused) when anything does not hold; nothing is written then."""
    if by is None:
        raise PlanRefused(_("L'échéancier doit être accordé par un agent identifié."))
    bill_ids = sorted({b if isinstance(b, int) else b.pk for b in (bills or [])})
    if not bill_ids:
        raise PlanRefused(_("Choisissez au moins une facture à échelonner."))
    today = _local_date(now)
    list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))  # the customer's lock
    if PaymentPlan.objects.filter(customer=customer, status=PaymentPlan.Status.ACTIVE).exists():
        raise PlanRefused(_("Ce client a déjà un échéancier en cours : annulez-le ou attendez qu'il soit soldé."))
    found = {
        b.pk: b for b in bills_with_outstanding(Bill.objects.filter(pk__in=bill_ids)).select_for_update(of=("self",))
    }
    if len(found) != len(bill_ids) or any(b.customer_id != customer.pk for b in found.values()):
        raise PlanRefused(_("Une facture choisie n'appartient pas à ce client."))
    covered = []
    for bill_id in bill_ids:
        bill = found[bill_id]
        open_amount = round_money(bill.total_ttc - bill.paid)
        if bill.kind == Bill.Kind.CREDIT_NOTE or bill.settled_at is not None or open_amount <= ZERO:
            raise PlanRefused(
                _("La facture %(number)s est déjà réglée : elle ne peut pas être échelonnée.") % {"number": bill.number}
            )
        covered.append((bill, open_amount))
    total = sum((amount for _bill, amount in covered), ZERO)
    terms = plan_terms_check(
        total=total, instalments=instalments, first_due_date=first_due_date, down_payment=down_payment, today=today
    )
    reason = (reason or "").strip()
    number = plan_number(today.year, sequence_next(name=f"payment-plan-{today.year}"))
    plan = PaymentPlan.objects.create(
        number=number,
        customer=customer,
        total_amount=total,
        down_payment=terms.down_payment,
        instalments_count=len(terms.schedule),
        first_due_date=terms.schedule[0][0],
        reason=reason,
        created_at=now,
        created_by=by,
    )
    with override(settings.LANGUAGE_CODE):  # ledger labels: French, as every other bill's
        note_reason = gettext("échéancier %(number)s") % {"number": number}
        try:
            for bill, amount in covered:
                note = credit_note_issue(bill=bill, reason=note_reason, issue_date=today, now=now, amount=amount)
                PaymentPlanBill.objects.create(plan=plan, bill=bill, amount=amount, credit_note=note)
            rows = ([(0, today, terms.down_payment)] if terms.down_payment > ZERO else []) + [
                (position, due, amount) for position, (due, amount) in enumerate(terms.schedule, start=1)
            ]
            for position, due, amount in rows:
                label = (
                    gettext("Acompte de l'échéancier %(number)s") % {"number": number}
                    if position == 0
                    else gettext("Échéancier %(number)s — échéance %(position)s/%(count)s")
                    % {"number": number, "position": position, "count": len(terms.schedule)}
                )
                instalment_bill = bill_issue_other(
                    kind=Bill.Kind.INSTALMENT,
                    customer=customer,
                    lines=[OtherLine(label=label, unit_price=amount, vat_rate=ZERO)],
                    issue_date=today,
                    due_date=due,
                    now=now,
                )
                Instalment.objects.create(
                    plan=plan, position=position, due_date=due, amount=amount, bill=instalment_bill
                )
        except (CreditNoteRefused, UnableToIssueBill) as exc:
            raise PlanRefused(exc.message) from exc
    # an instalment paid at once by credit the customer held: announced before its Instalment row existed
    plans_complete_settled(
        bill_ids=list(plan.instalments.filter(bill__settled_at__isnull=False).values_list("bill_id", flat=True))
    )
    plan.refresh_from_db(fields=["status", "closed_at"])
    _notify_granted(plan, customer=customer, terms=terms)
    return plan


# --- completion, reopening -------------------------------------------------------------------------------


def plans_complete_settled(*, bill_ids=(), **_payload) -> list[int]:
    """``HOOK_BILLS_SETTLED``: the plans (ACTIVE or BROKEN) whose instalment bills are now all
    settled become COMPLETED. Idempotent (a completed plan is left alone); three queries whatever
    the number of bills."""
    if not bill_ids:
        return []
    with prepared_cursor() as cursor:  # issue 15: in every payment's transaction, most often for nothing
        cursor.execute(
            "SELECT i.plan_id FROM rak_collections_instalment i"
            " JOIN rak_collections_paymentplan p ON p.id = i.plan_id"
            " WHERE i.bill_id = ANY(%s) AND p.status = ANY(%s)",
            [list(bill_ids), [PaymentPlan.Status.ACTIVE, PaymentPlan.Status.BROKEN]],
        )
        plan_ids = {plan_id for (plan_id,) in cursor.fetchall()}
    if not plan_ids:
        return []
    locked = list(
        PaymentPlan.objects.select_for_update()
        .filter(pk__in=sorted(plan_ids), status__in=[PaymentPlan.Status.ACTIVE, PaymentPlan.Status.BROKEN])
        .values_list("pk", flat=True)
    )
    stats = (
        Instalment.objects.filter(plan_id__in=locked)
        .order_by()
        .values("plan_id")
        .annotate(
            unsettled=Count("pk", filter=Q(bill__settled_at__isnull=True)),
            last_settled=Max("bill__settled_at"),
        )
    )
    done = []
    for row in stats:
        if row["unsettled"] == 0:
            PaymentPlan.objects.filter(pk=row["plan_id"]).update(
                status=PaymentPlan.Status.COMPLETED, closed_at=row["last_settled"], close_reason=""
            )
            done.append(row["plan_id"])
    return done


def plans_reopen(*, bill_ids=(), at=None, **_payload) -> list[int]:
    """``HOOK_BILLS_REOPENED``: a payment reversed re-opens an instalment of a completed plan — the
    plan is ACTIVE again (unless the customer has another active plan since)."""
    if not bill_ids:
        return []
    plans = list(
        PaymentPlan.objects.select_for_update(of=("self",)).filter(
            status=PaymentPlan.Status.COMPLETED, instalments__bill_id__in=list(bill_ids)
        )
    )
    reopened = []
    for plan in {p.pk: p for p in plans}.values():
        if PaymentPlan.objects.filter(customer_id=plan.customer_id, status=PaymentPlan.Status.ACTIVE).exists():
            continue
        PaymentPlan.objects.filter(pk=plan.pk).update(status=PaymentPlan.Status.ACTIVE, closed_at=None)
        reopened.append(plan.pk)
    return reopened


# --- broken plans (scheduler) -------------------------------------------------------------------------------


def plans_overdue(*, now: datetime.datetime) -> list[int]:
    """ACTIVE plans with an instalment still unpaid more than the grace days after its due date."""
    limit = _local_date(now) - datetime.timedelta(days=plan_broken_after_days())
    return sorted(
        set(
            Instalment.objects.filter(
                plan__status=PaymentPlan.Status.ACTIVE, bill__settled_at__isnull=True, due_date__lt=limit
            ).values_list("plan_id", flat=True)
        )
    )


@transaction.atomic
def payment_plan_break(*, plan: PaymentPlan | int, now: datetime.datetime) -> PaymentPlan | None:
    """Flag ``plan`` BROKEN if it is still ACTIVE with an instalment overdue past the grace days:
    ``broken_at``, the recouvrement team and the customer told. None when there is nothing to do."""
    pk = plan if isinstance(plan, int) else plan.pk
    locked = PaymentPlan.objects.select_for_update(of=("self",)).select_related("customer").filter(pk=pk).first()
    if locked is None or locked.status != PaymentPlan.Status.ACTIVE:
        return None
    limit = _local_date(now) - datetime.timedelta(days=plan_broken_after_days())
    late = (
        Instalment.objects.filter(plan=locked, bill__settled_at__isnull=True, due_date__lt=limit)
        .select_related("bill")
        .order_by("position")
        .first()
    )
    if late is None:
        return None
    locked.status = PaymentPlan.Status.BROKEN
    locked.broken_at = now
    with override(settings.LANGUAGE_CODE):
        locked.close_reason = gettext("Échéance %(position)s du %(date)s impayée (facture %(bill)s)") % {
            "position": late.position,
            "date": f"{late.due_date:%d/%m/%Y}",
            "bill": late.bill.number,
        }
    locked.save(update_fields=["status", "broken_at", "close_reason"])
    _notify_broken(locked, late=late)
    return locked


def plans_break_overdue(*, now: datetime.datetime) -> str:
    """Scheduler job: flag the broken plans (each in its own transaction)."""
    ids = plans_overdue(now=now)
    broken = each_item(ids, lambda pk: payment_plan_break(plan=pk, now=now), describe=lambda pk: f"échéancier {pk}")
    return f"{len(broken)} échéancier(s) rompu(s) sur {len(ids)} en retard"  # i18n: not for customers


# --- cancel --------------------------------------------------------------------------------------------------


@transaction.atomic
def payment_plan_cancel(*, plan: PaymentPlan | int, reason: str, by, now: datetime.datetime) -> PaymentPlan:
    """Staff end an ACTIVE or BROKEN plan, with a reason. Its instalment bills stay on the account
    as they are (the debt is still owed, on their due dates); the reminders no longer skip the
    customer."""
    reason = (reason or "").strip()
    if not reason:
        raise PlanActionRefused(_("Indiquez le motif de l'annulation."))
    if by is None:
        raise PlanActionRefused(_("L'annulation doit être faite par un agent identifié."))
    pk = plan if isinstance(plan, int) else plan.pk
    locked = PaymentPlan.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise PlanActionRefused(_("Échéancier introuvable."))
    if locked.status not in (PaymentPlan.Status.ACTIVE, PaymentPlan.Status.BROKEN):
        raise PlanActionRefused(
            _("Cet échéancier est « %(status)s » : il ne peut plus être annulé.")
            % {"status": locked.get_status_display()}
        )
    locked.status = PaymentPlan.Status.CANCELLED
    locked.closed_at = now
    locked.close_reason = (
        gettext("Annulé par %(who)s : %(reason)s") % {"who": by.get_full_name() or by.get_username(), "reason": reason}
    )[:255]
    locked.save(update_fields=["status", "closed_at", "close_reason"])
    return locked


# --- messages -------------------------------------------------------------------------------------------------


def _customer_recipients(customer: Customer) -> dict:
    account = PortalAccount.objects.filter(customer=customer).select_related("user").first()
    return {
        "phone": customer_sms_phone(customer) or "",
        "email": customer_email(customer) or "",
        "user": account.user if account else None,
    }


def _schedule_text(plan: PaymentPlan, language: str) -> str:
    rows = []
    with override(language):
        for instalment in plan.instalments.order_by("position"):
            what = (
                gettext("Acompte")
                if instalment.position == 0
                else gettext("Échéance %(position)s") % {"position": instalment.position}
            )
            rows.append(
                f"- {what} : {date_format(instalment.due_date, 'd/m/Y')} — "
                f"{money_format(instalment.amount, plain_space=True, language=language)}"
            )
    return "\n".join(rows)


def _notify_granted(plan: PaymentPlan, *, customer: Customer, terms: PlanTerms) -> None:
    language = customer_language_code(customer)
    first_date, first_amount = terms.schedule[0]
    context = {
        "number": plan.number,
        "total": money_format(plan.total_amount, plain_space=True, language=language),
        "count": str(len(terms.schedule)),
        "amount": money_format(first_amount, plain_space=True, language=language),
        "first_date": date_format(first_date, "d/m/Y"),
        "down_payment": money_format(terms.down_payment, plain_space=True, language=language),
        "schedule": _schedule_text(plan, language),
    }
    message_send(
        code=TEMPLATE_GRANTED,
        context=context,
        channels=[SMS, EMAIL, BELL],
        kind=KIND,
        language=language,
        **_customer_recipients(customer),
    )


def _notify_broken(plan: PaymentPlan, *, late: Instalment) -> None:
    customer = plan.customer
    language = customer_language_code(customer)
    message_send(
        code=TEMPLATE_BROKEN,
        context={
            "number": plan.number,
            "date": date_format(late.due_date, "d/m/Y"),
            "amount": money_format(late.amount, plain_space=True, language=language),
        },
        channels=[SMS, EMAIL, BELL],
        kind=KIND,
        language=language,
        **_customer_recipients(customer),
    )
    with override(settings.LANGUAGE_CODE):  # the back office's language
        subject = gettext("Échéancier %(number)s rompu — %(customer)s") % {
            "number": plan.number,
            "customer": f"{customer.code} {customer.display_name}",
        }
        body = gettext(
            "L'échéancier %(number)s du client %(customer)s est rompu : %(reason)s.\n"
            "Les relances reprennent sur les échéances impayées."
        ) % {"number": plan.number, "customer": f"{customer.code} {customer.display_name}", "reason": plan.close_reason}
    staff = get_user_model().objects.filter(groups__name=RECOUVREMENT_GROUP, is_active=True, is_staff=True).distinct()
    for user in staff:
        event = event_key()
        message_queue_bell(user=user, subject=subject, body=body, kind=KIND, event=event)
        if user.email:
            message_queue_email(to=user.email, subject=subject, body=body, user=user, kind=KIND, event=event)


def templates_register() -> None:
    number = {"number": (_("numéro de l'échéancier"), "ECH2026-000012")}
    message_template_register(
        TEMPLATE_GRANTED,
        label=_("Échéancier accordé : calendrier des échéances (au client)"),
        placeholders={
            **number,
            "total": (_("dette échelonnée"), "4 800,00 DH"),
            "count": (_("nombre d'échéances"), "6"),
            "amount": (_("montant de la première échéance"), "800,00 DH"),
            "first_date": (_("date de la première échéance"), "05/01/2027"),
            "down_payment": (_("acompte (0,00 DH si aucun)"), "0,00 DH"),
            "schedule": (_("calendrier : une ligne par échéance (e-mail)"), "- Echeance 1 : 05/01/2027 - 800,00 DH"),
        },
        required=("number",),
        defaults={
            SMS: (
                "",
                _(
                    "RAK : echeancier {number} accorde : {total} en {count} echeances, la 1re de {amount} le "
                    '{first_date}. Factures dans "Autres factures".'
                ),
            ),
            EMAIL: (
                _("Votre échéancier de paiement {number}"),
                _(
                    "Bonjour,\n\nUn échéancier de paiement n° {number} vous a été accordé pour une dette de {total}"
                    " (acompte : {down_payment}).\n\nCalendrier :\n{schedule}\n\nChaque échéance est une facture "
                    "de la rubrique « Autres factures » de l'agence en ligne : réglez-la avant sa date, en agence "
                    "ou en ligne. Une "
                    "échéance impayée met fin à l'échéancier et les relances reprennent.\n\nLa RAK"
                ),
            ),
            BELL: (
                _("Échéancier {number} accordé"),
                _("{total} en {count} échéances, la première de {amount} le {first_date}.\n{schedule}"),
            ),
        },
    )
    message_template_register(
        TEMPLATE_BROKEN,
        label=_("Échéancier rompu : échéance impayée (au client)"),
        placeholders={
            **number,
            "date": (_("date de l'échéance impayée"), "05/01/2027"),
            "amount": (_("montant de l'échéance impayée"), "800,00 DH"),
        },
        required=("number",),
        defaults={
            SMS: (
                "",
                _(
                    "RAK : l'echeance du {date} ({amount}) de votre echeancier {number} est impayee : "
                    "l'echeancier est rompu. Contactez votre agence."
                ),
            ),
            EMAIL: (
                _("Échéancier {number} rompu"),
                _(
                    "Bonjour,\n\nL'échéance du {date} ({amount}) de votre échéancier n° {number} n'a pas été "
                    "réglée : l'échéancier est rompu et les sommes impayées suivent la procédure de recouvrement "
                    "habituelle.\n\nRéglez-les ou prenez contact avec votre agence.\n\nLa RAK"
                ),
            ),
            BELL: (
                _("Échéancier {number} rompu"),
                _("L'échéance du {date} ({amount}) est impayée : l'échéancier est rompu. Contactez votre agence."),
            ),
        },
    )


def register() -> None:
    """Called at start-up (rak_collections.registry)."""
    templates_register()
    hook_subscribe(HOOK_BILLS_SETTLED, plans_complete_settled)
    hook_subscribe(HOOK_BILLS_REOPENED, plans_reopen)
    job_register(
        "collections_plans_broken",
        plans_break_overdue,
        every=datetime.timedelta(hours=6),
        label=_("Échéanciers rompus (échéance impayée après le délai de grâce)"),
    )
    from rak_collections import admin_plans

    admin_plans.panels_register()
