"""Reminders (« relances »): the daily job that follows each customer's overdue debt through the
reminder plan (data: ``ReminderPlan`` and its steps, edited in the back office).

The job (``reminders_run``, scheduler job ``collections_reminders``, safe to run as often as one
likes):

1. closes the open dunning cases whose overdue amount fell below the plan's minimum (PAID) and
   those of customers under an active payment plan (PLAN: reminders and cut-offs suspended while
   the plan is honoured; a broken plan's instalments are ordinary overdue bills again);
2. opens one case per customer whose overdue debt (bills due before today, their open amount)
   reaches the plan's minimum — set-based: one grouped query, one bulk insert;
3. does each step of the plan that is due and not done yet. A step is due ``days_after_due`` days
   after the oldest overdue due date of the case, and never sooner after the step before than the
   plan spaces them (a case opened on an old debt starts with the first step, not with the cut-off).
   Each step done is a ``ReminderEvent`` (unique per case × step: running the job twice does
   nothing twice): SMS or e-mail (message templates ``dunning_reminder``), formal notice (a PDF
   letter « Mise en demeure » in the document registry, e-mail + bell ``dunning_formal_notice``),
   cut-off (``rak_collections.cutoffs.cutoff_order_issue``).

Customers who pay drop out by themselves: « facture réglée » (``HOOK_BILLS_SETTLED``) closes their
case when the overdue amount falls below the minimum, in the payment's transaction.

Messages have the notification kind ``cutoff:…`` (« Avis de coupure pour impayé », always sent).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.signals import post_migrate
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.api import each_item, hook_subscribe, job_register, message_template_register
from rak_base.documents import document_reference_new, document_register, reference_display, verification_url
from rak_base.models import Document, Message
from rak_billing.api import HOOK_BILLS_SETTLED
from rak_billing.models import Bill
from rak_collections.cutoffs import (
    DEFAULT_CUT_FEE,
    ZERO,
    active_plans,
    amount_text,
    customer_notify,
    customers_under_plan,
    cutoff_order_issue,
    local_day,
    orders_sweep,
    overdue_amounts,
    plan_for,
)
from rak_collections.models import DunningCase, ReminderEvent, ReminderPlan, ReminderStep
from rak_customer.language import customer_language_code
from rak_customer.models import Customer, PortalAccount

CODE_REMINDER = "dunning_reminder"
CODE_FORMAL_NOTICE = "dunning_formal_notice"
JOB_NAME = "collections_reminders"
#: days the formal notice gives when the plan has no cut-off step after it
NOTICE_DAYS = 10

DEFAULT_PLAN = {
    "name": "Plan de relance standard",  # i18n: not for customers
    "min_amount": Decimal("50.00"),
    "steps": (
        (3, ReminderStep.Action.SMS, "Rappel par SMS"),  # i18n: not for customers
        (10, ReminderStep.Action.EMAIL, "Rappel par e-mail"),  # i18n: not for customers
        (20, ReminderStep.Action.FORMAL_NOTICE, "Mise en demeure"),  # i18n: not for customers
        (30, ReminderStep.Action.CUTOFF, "Ordre de coupure"),  # i18n: not for customers
    ),
}


# --- seeding -----------------------------------------------------------------------------------------


@transaction.atomic
def reminder_plan_seed() -> ReminderPlan | None:
    """The default plan (« Plan de relance standard »: J+3 SMS, J+10 e-mail, J+20 mise en demeure,
    J+30 ordre de coupure, from 50 DH; « frais de coupure »: rak.conf ``[collections] cut_fee``),
    created when there is no plan at all. Idempotent."""
    if ReminderPlan.objects.exists():
        return None
    plan = ReminderPlan.objects.create(
        name=DEFAULT_PLAN["name"],
        min_amount=DEFAULT_PLAN["min_amount"],
        cut_fee=Decimal(str(getattr(settings, "COLLECTIONS_CUT_FEE", DEFAULT_CUT_FEE))),  # rak.conf [collections]
    )
    ReminderStep.objects.bulk_create(
        ReminderStep(plan=plan, position=position, days_after_due=days, action=action, label=label)
        for position, (days, action, label) in enumerate(DEFAULT_PLAN["steps"], start=1)
    )
    return plan


def reminder_plan_post_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.name != "rak_collections":
        return
    reminder_plan_seed()


# --- closing cases -----------------------------------------------------------------------------------


def _close(case_ids: Iterable[int], *, status: str, reason: str, now: datetime.datetime) -> int:
    case_ids = list(case_ids)
    if not case_ids:
        return 0
    return DunningCase.objects.filter(pk__in=case_ids, status=DunningCase.Status.OPEN).update(
        status=status, closed_at=now, close_reason=reason[:255]
    )


def cases_close_paid(*, now: datetime.datetime, customer_ids: Iterable[int] | None = None) -> int:
    """Close the open cases (of ``customer_ids``, or all) whose customer's overdue amount is now
    below the plan's minimum. A fixed number of queries."""
    cases = DunningCase.objects.filter(status=DunningCase.Status.OPEN).select_related("plan")
    if customer_ids is not None:
        cases = cases.filter(customer_id__in=list(customer_ids))
    cases = list(cases.only("pk", "customer_id", "plan__min_amount"))
    if not cases:
        return 0
    overdue = overdue_amounts(as_of=local_day(now), customer_ids={c.customer_id for c in cases})
    settled = [
        case
        for case in cases
        if overdue.get(case.customer_id, (ZERO, None))[0] < max(case.plan.min_amount, Decimal("0.01"))
    ]
    if not settled:
        return 0
    # a payment plan's credit notes settle the debt too: those cases are « sous échéancier »
    planned = customers_under_plan({case.customer_id for case in settled})
    _close(
        [case.pk for case in settled if case.customer_id in planned],
        status=DunningCase.Status.PLAN,
        reason=gettext("Échéancier accordé"),
        now=now,
    )
    return _close(
        [case.pk for case in settled if case.customer_id not in planned],
        status=DunningCase.Status.PAID,
        reason=gettext("Dette échue réglée"),
        now=now,
    )


def on_bills_settled(*, bill_ids: list[int], customer_ids: list[int] | None = None, customer_id=None, **kwargs):
    """« Facture réglée »: the customers who paid drop out of the reminders at once."""
    customers = set(customer_ids or ([customer_id] if customer_id else []))
    if not customers or not DunningCase.objects.filter(status="OPEN", customer_id__in=customers).exists():
        return
    now = Bill.objects.filter(pk__in=bill_ids).aggregate(at=Max("settled_at"))["at"]
    if now is not None:
        cases_close_paid(now=now, customer_ids=customers)


# --- opening cases -----------------------------------------------------------------------------------


def cases_open(*, now: datetime.datetime) -> int:
    """One open case per customer whose overdue debt reaches the minimum of their plan, unless
    under an active payment plan. Returns how many were opened."""
    plans = active_plans()
    if not plans:
        return 0
    overdue = overdue_amounts(as_of=local_day(now))
    if not overdue:
        return 0
    already = set(
        DunningCase.objects.filter(status=DunningCase.Status.OPEN, customer_id__in=list(overdue)).values_list(
            "customer_id", flat=True
        )
    )
    fresh = [customer_id for customer_id in overdue if customer_id not in already]
    if not fresh:
        return 0
    skipped = customers_under_plan(fresh)
    kinds = dict(Customer.objects.filter(pk__in=fresh).values_list("pk", "kind"))
    rows = []
    for customer_id in fresh:
        plan = plan_for(kinds.get(customer_id, ""), plans)
        amount, oldest = overdue[customer_id]
        if plan is None or customer_id in skipped or amount < plan.min_amount:
            continue
        rows.append(
            DunningCase(customer_id=customer_id, plan=plan, oldest_due_date=oldest, amount_due=amount, opened_at=now)
        )
    # the one-open-case constraint: a case opened meanwhile (job run twice at once) is left alone
    return len(DunningCase.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True))


def cases_under_plan(*, now: datetime.datetime) -> int:
    """Open cases of customers now under an active payment plan: PLAN (reminders suspended)."""
    open_customers = DunningCase.objects.filter(status=DunningCase.Status.OPEN).values_list("customer_id", flat=True)
    under = customers_under_plan(open_customers)
    cases = DunningCase.objects.filter(status=DunningCase.Status.OPEN, customer_id__in=under).values_list(
        "pk", flat=True
    )
    return _close(cases, status=DunningCase.Status.PLAN, reason=gettext("Échéancier accordé"), now=now)


# --- steps ---------------------------------------------------------------------------------------------


DUE_SQL = """
SELECT DISTINCT c.id
FROM rak_collections_dunningcase c
JOIN rak_collections_reminderstep s ON s.plan_id = c.plan_id
LEFT JOIN LATERAL (
    SELECT p.days_after_due, e.at
    FROM rak_collections_reminderstep p
    JOIN rak_collections_reminderevent e ON e.step_id = p.id AND e.case_id = c.id
    WHERE p.plan_id = c.plan_id AND p.position < s.position
    ORDER BY p.position DESC
    LIMIT 1
) prev ON TRUE
WHERE c.status = 'OPEN'
  AND c.oldest_due_date + s.days_after_due <= %(as_of)s
  AND NOT EXISTS (SELECT 1 FROM rak_collections_reminderevent e WHERE e.case_id = c.id AND e.step_id = s.id)
  AND (
    prev.at IS NULL
    OR (prev.at AT TIME ZONE %(tz)s)::date + GREATEST(s.days_after_due - prev.days_after_due, 0) <= %(as_of)s
  )
ORDER BY c.id
"""


def cases_with_due_steps(*, as_of: datetime.date) -> list[int]:
    """The open cases with a step not done whose day has come, spacing after the step before
    included (``step_due_date``, in SQL): one query, so that a run with nothing to do costs nothing."""
    with connection.cursor() as cursor:
        cursor.execute(DUE_SQL, {"as_of": as_of, "tz": settings.TIME_ZONE})
        return [row[0] for row in cursor.fetchall()]


def step_due_date(
    step: ReminderStep, *, case: DunningCase, previous: ReminderStep | None, previous_at: datetime.date | None
) -> datetime.date:
    """When ``step`` is due for ``case``: its day after the oldest due date, and no sooner after
    the previous step than the plan spaces them."""
    due = case.oldest_due_date + datetime.timedelta(days=step.days_after_due)
    if previous is not None and previous_at is not None:
        gap = max(step.days_after_due - previous.days_after_due, 0)
        due = max(due, previous_at + datetime.timedelta(days=gap))
    return due


@transaction.atomic
def case_steps_run(*, case_id: int, now: datetime.datetime) -> list[ReminderEvent]:
    """Do the steps of one case that are due and not done yet, in order (under the case's lock)."""
    case = DunningCase.objects.select_for_update().select_related("customer", "plan").filter(pk=case_id).first()
    if case is None or case.status != DunningCase.Status.OPEN:
        return []
    as_of = local_day(now)
    overdue = overdue_amounts(as_of=as_of, customer_ids=[case.customer_id]).get(case.customer_id)
    if overdue is None or overdue[0] < max(case.plan.min_amount, Decimal("0.01")):
        _close([case.pk], status=DunningCase.Status.PAID, reason=gettext("Dette échue réglée"), now=now)
        return []
    if customers_under_plan([case.customer_id]):
        _close([case.pk], status=DunningCase.Status.PLAN, reason=gettext("Échéancier accordé"), now=now)
        return []
    case.amount_due = overdue[0]
    case.save(update_fields=["amount_due"])
    steps = list(case.plan.steps.order_by("position"))
    done = {event.step_id: event for event in case.events.all()}
    previous: ReminderStep | None = None
    previous_at: datetime.date | None = None
    events: list[ReminderEvent] = []
    for position, step in enumerate(steps):
        event = done.get(step.pk)
        if event is not None:
            previous, previous_at = step, local_day(event.at)
            continue
        if step_due_date(step, case=case, previous=previous, previous_at=previous_at) > as_of:
            break
        later = steps[position + 1 :]
        events.append(_step_do(case, step, now=now, later=later))
        previous, previous_at = step, as_of
    return events


def _deadline(
    case: DunningCase, step: ReminderStep, later: list[ReminderStep], *, as_of: datetime.date
) -> datetime.date:
    """The day the formal notice gives: the day of the plan's cut-off step (never sooner than the
    plan spaces them after this one); NOTICE_DAYS when the plan has no cut-off after it."""
    for cut in later:
        if cut.action == ReminderStep.Action.CUTOFF:
            gap = max(cut.days_after_due - step.days_after_due, 0)
            return max(
                case.oldest_due_date + datetime.timedelta(days=cut.days_after_due),
                as_of + datetime.timedelta(days=gap),
            )
    return as_of + datetime.timedelta(days=NOTICE_DAYS)


def _event(case: DunningCase, step: ReminderStep, *, now, outcome: str, detail: str = "") -> ReminderEvent:
    return ReminderEvent.objects.create(
        case=case,
        step=step,
        customer_id=case.customer_id,
        at=now,
        action=step.action,
        amount_due=case.amount_due,
        outcome=outcome,
        detail=detail[:255],
    )


def _step_do(case: DunningCase, step: ReminderStep, *, now, later: list[ReminderStep]) -> ReminderEvent:
    customer = case.customer
    language = customer_language_code(customer)
    as_of = local_day(now)
    with translation.override(language):
        context = {
            "code": customer.code,
            "name": customer.display_name,
            "amount": amount_text(case.amount_due, language),
            "due": formats.date_format(case.oldest_due_date, "d/m/Y"),
        }
    kind = f"cutoff:reminder:{case.pk}"
    if step.action == ReminderStep.Action.CUTOFF:
        orders = cutoff_order_issue(customer=customer, case=case, now=now)
        if not orders:
            return _event(
                case, step, now=now, outcome=ReminderEvent.Outcome.SKIPPED, detail=gettext("Aucun dossier actif")
            )
        return _event(
            case,
            step,
            now=now,
            outcome=ReminderEvent.Outcome.ORDER_ISSUED,
            detail=", ".join(order.number for order in orders),
        )
    if step.action == ReminderStep.Action.FORMAL_NOTICE:
        event = _event(case, step, now=now, outcome=ReminderEvent.Outcome.SENT)
        deadline = _deadline(case, step, later, as_of=as_of)
        document = formal_notice_register(case=case, event=event, deadline=deadline, language=language)
        with translation.override(language):
            context.update(
                deadline=formats.date_format(deadline, "d/m/Y"), reference=reference_display(document.reference)
            )
        sent = customer_notify(
            customer=customer,
            code=CODE_FORMAL_NOTICE,
            context=context,
            channels=[Message.Channel.EMAIL, Message.Channel.BELL, Message.Channel.SMS],
            kind=kind,
        )
        event.detail = gettext("Lettre %(reference)s") % {"reference": reference_display(document.reference)}
        if not sent:
            event.outcome = ReminderEvent.Outcome.NO_CONTACT
        event.save(update_fields=["detail", "outcome"])
        return event
    channel = Message.Channel.SMS if step.action == ReminderStep.Action.SMS else Message.Channel.EMAIL
    sent = customer_notify(
        customer=customer, code=CODE_REMINDER, context=context, channels=[channel, Message.Channel.BELL], kind=kind
    )
    outcome = (
        ReminderEvent.Outcome.SENT if any(m.channel == channel for m in sent) else ReminderEvent.Outcome.NO_CONTACT
    )
    detail = ", ".join(sorted({m.get_channel_display() for m in sent})) if sent else ""
    return _event(case, step, now=now, outcome=outcome, detail=detail)


# --- the formal notice letter -------------------------------------------------------------------------


def formal_notice_render(*, case: DunningCase, deadline: datetime.date, reference: str, language: str, now) -> bytes:
    from rak_base.pdf import pdf_render

    customer = case.customer
    dossier = customer.dossiers.select_related("premises").order_by("number").first()
    bills = list(
        Bill.objects.filter(customer=customer, settled_at__isnull=True, due_date__lt=local_day(now))
        .exclude(kind=Bill.Kind.CREDIT_NOTE)
        .order_by("due_date", "id")[:20]
    )
    with translation.override(language):
        html = render_to_string(
            "rak_collections/pdf/notice_letter.html",
            {
                "case": case,
                "customer": customer,
                "premises": dossier.premises if dossier else None,
                "amount": case.amount_due,
                "deadline": deadline,
                "bills": bills,
                "day": local_day(now),
                "reference": reference_display(reference),
                "verify_url": verification_url(reference),
            },
        )
    return pdf_render(html)


def formal_notice_register(
    *, case: DunningCase, event: ReminderEvent, deadline: datetime.date, language: str
) -> Document:
    """The « Mise en demeure » letter of ``event``, rendered once and kept in the document registry
    (owner: the customer's portal account; verifiable by its reference)."""
    reference = document_reference_new()
    pdf = formal_notice_render(case=case, deadline=deadline, reference=reference, language=language, now=event.at)
    account = PortalAccount.objects.filter(customer_id=case.customer_id).select_related("user").first()
    return document_register(
        kind=Document.Kind.OTHER,
        title=gettext("Mise en demeure — client %(code)s") % {"code": case.customer.code},
        owner=account.user if account else None,
        owner_label=case.customer.display_name,
        subject=event,
        pdf_bytes=pdf,
        reference=reference,
    )


# --- the job -------------------------------------------------------------------------------------------


def reminders_run(*, now: datetime.datetime) -> str:
    """The daily pass (safe to run often): close, open, then do the steps due, each case alone."""
    paid = cases_close_paid(now=now)
    planned = cases_under_plan(now=now)
    # a sweep behind « facture réglée »: a part payment settles no bill (no hook) yet may bring the
    # debt under the minimum; a debt cleared otherwise still gets its reconnection
    orders_sweep(now=now)
    opened = cases_open(now=now)
    events: list[ReminderEvent] = []
    each_item(
        cases_with_due_steps(as_of=local_day(now)),
        lambda case_id: events.extend(case_steps_run(case_id=case_id, now=now)),
        describe=lambda case_id: f"dossier de recouvrement {case_id}",  # i18n: not for customers
    )
    return gettext("%(opened)d ouverts, %(steps)d relances, %(paid)d réglés, %(plan)d sous échéancier") % {
        "opened": opened,
        "steps": len(events),
        "paid": paid,
        "plan": planned,
    }


def register() -> None:
    placeholders = {
        "code": (_("code client"), "200001234"),
        "name": (_("nom du client"), "Youssef Alaoui"),
        "amount": (_("montant échu"), "1 250,40 DH"),
        "due": (_("plus ancienne échéance impayée"), "15/01/2026"),
    }
    message_template_register(
        CODE_REMINDER,
        label=_("Recouvrement : rappel de facture impayée"),
        placeholders=placeholders,
        defaults={
            Message.Channel.SMS: (
                "",
                _(
                    "RAK : rappel, {amount} restent impayés sur votre compte {code} (échéance du {due} "
                    "dépassée). Payez sur l'agence en ligne ou en agence."
                ),
            ),
            Message.Channel.EMAIL: (
                _("Rappel : factures impayées — client {code}"),
                _(
                    "Bonjour {name},\n\nSauf erreur de notre part, {amount} restent impayés sur votre compte "
                    "client {code} ; la plus ancienne facture était à régler le {due}.\n\nVous pouvez payer "
                    "sur l'agence en ligne (« Mes factures impayées »), par les réseaux agréés ou en agence. "
                    "Si vous avez déjà réglé, ne tenez pas compte de ce message.\n\nLa RAK"
                ),
            ),
            Message.Channel.BELL: (
                _("Rappel : factures impayées"),
                _("{amount} restent impayés sur votre compte (échéance du {due} dépassée)."),
            ),
        },
        required=("amount",),
    )
    message_template_register(
        CODE_FORMAL_NOTICE,
        label=_("Recouvrement : mise en demeure"),
        placeholders={
            **placeholders,
            "deadline": (_("date limite de paiement"), "25/02/2026"),
            "reference": (_("référence de la lettre"), "7KQ2-M9XD-4TRA"),
        },
        defaults={
            Message.Channel.EMAIL: (
                _("Mise en demeure — client {code}"),
                _(
                    "Bonjour {name},\n\nMalgré nos rappels, {amount} restent impayés sur votre compte client "
                    "{code}. Par la présente, la RAK vous met en demeure de régler cette somme avant le "
                    "{deadline}. Passé cette date, la fourniture pourra être suspendue et des frais de "
                    "coupure vous seront facturés.\n\nLa lettre de mise en demeure porte la référence "
                    "{reference} : vous pouvez vérifier son authenticité sur l'agence en ligne "
                    "(« Vérifier un document »).\n\nLa RAK"
                ),
            ),
            Message.Channel.BELL: (
                _("Mise en demeure"),
                _("{amount} restent impayés. Réglez-les avant le {deadline} pour éviter la coupure."),
            ),
            Message.Channel.SMS: (
                "",
                _("RAK : mise en demeure. Réglez {amount} (client {code}) avant le {deadline} pour éviter la coupure."),
            ),
        },
        required=("amount", "deadline"),
    )
    job_register(
        JOB_NAME,
        reminders_run,
        every=datetime.timedelta(hours=6),
        label=_("Recouvrement : relances et ordres de coupure"),
        grace=datetime.timedelta(hours=2),
    )
    hook_subscribe(HOOK_BILLS_SETTLED, on_bills_settled)
    post_migrate.connect(reminder_plan_post_migrate, dispatch_uid="rak_collections_reminder_plan_seed")
