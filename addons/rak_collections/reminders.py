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

Set-based (a billing run's due date can put 20,000+ customers on the same step the same day): the
cases with a step due are taken by chunks of ``CHUNK_SIZE`` (each chunk in its own transaction with
``each_item``: a failing chunk is rolled back alone, reported on the job's row, and done by the next
run). A chunk costs a fixed number of queries whatever its size: the cases locked, their overdue
amounts, payment plans, next due step (one SQL), contacts and portal accounts, the events inserted
with ``INSERT … ON CONFLICT (case, step) DO NOTHING RETURNING`` (only the rows actually inserted
are messaged: the unique case × step stays the guarantee against two runs at once), the messages
rendered per case in Python (``message_renderer``, one wording read per message, channel and
language) and queued with ``message_queue_bulk`` (customers' preferences honoured, delivery tasks
by batches). The cut-off step, which few cases reach, calls ``cutoff_order_issue`` per case, each
in its own savepoint.

The formal notice: the job inserts the event with its letter's reference (« Lettre XXXX-XXXX-XXXX »
in ``detail``) and sends the e-mail, bell and SMS with that reference at once, in the chunk's
transaction; the PDF letter is rendered and registered in the document registry by a background
task (``formal_notice_letters_task``, ``LETTERS_PER_TASK`` letters each, enqueued in the same
transaction) under that reference — the letter is verifiable, and downloadable in the back office,
once the worker has rendered it (0.3–1 s a letter). Chosen over sending from the task: the
messages of a run all leave with the run whatever the worker's backlog, and a letter that fails to
render (logged, the task failed, run it again: it renders only the letters still missing) does
not hold back the notice itself. The job's lease (4 h) covers a run of that size.

Customers who pay drop out by themselves: « facture réglée » (``HOOK_BILLS_SETTLED``) closes their
case when the overdue amount falls below the minimum, in the payment's transaction.

Messages have the notification kind ``cutoff:…`` (« Avis de coupure pour impayé », always sent).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, Max, OuterRef
from django.db.models.functions import Cast
from django.db.models.signals import post_migrate
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from rak_base.api import (
    each_item,
    event_key,
    hook_subscribe,
    job_register,
    message_queue_bulk,
    message_renderer,
    message_template_register,
)
from rak_base.documents import (
    document_for_subject,
    document_reference_new,
    document_register,
    reference_display,
    verification_url,
)
from rak_base.models import Document, Message
from rak_base.prepared import prepared_cursor
from rak_billing.api import HOOK_BILLS_SETTLED
from rak_billing.models import Bill
from rak_collections.cutoffs import (
    DEFAULT_CUT_FEE,
    ZERO,
    active_plans,
    amount_text,
    customers_under_plan,
    cutoff_order_issue,
    local_day,
    orders_sweep,
    overdue_amounts,
    plan_for,
)
from rak_collections.models import DunningCase, ReminderEvent, ReminderPlan, ReminderStep
from rak_customer.language import customer_language_code
from rak_customer.models import Contact, Customer, PortalAccount

if TYPE_CHECKING:
    from rak_base.message_templates import Renderer
from typing import Any

logger = logging.getLogger(__name__)

CODE_REMINDER = "dunning_reminder"
CODE_FORMAL_NOTICE = "dunning_formal_notice"
JOB_NAME = "collections_reminders"
#: days the formal notice gives when the plan has no cut-off step after it
NOTICE_DAYS = 10

DEFAULT_PLAN: dict[str, Any] = {
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
    open_cases = DunningCase.objects.filter(status=DunningCase.Status.OPEN).select_related("plan")
    if customer_ids is not None:
        open_cases = open_cases.filter(customer_id__in=list(customer_ids))
    cases = list(open_cases.only("pk", "customer_id", "plan__min_amount"))
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


def _open_case_exists(customer_ids: list[int]) -> bool:
    """Whether one of the customers has an open dunning case: a prepared statement (issue 15: this
    guard runs in every payment's transaction, most often for nothing)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM rak_collections_dunningcase WHERE status = %s AND customer_id = ANY(%s))",
            [DunningCase.Status.OPEN, customer_ids],
        )
        return bool(cursor.fetchone()[0])


def on_bills_settled(*, bill_ids: list[int], customer_ids: list[int] | None = None, customer_id=None, **kwargs):
    """« Facture réglée »: the customers who paid drop out of the reminders at once."""
    customers = set(customer_ids or ([customer_id] if customer_id else []))
    if not customers or not _open_case_exists(sorted(customers)):
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


#: cases per transaction in the job: a failing chunk is rolled back alone (reported on the job's row)
CHUNK_SIZE = 1000
#: formal notice letters per background task (each letter in its own transaction in the task)
LETTERS_PER_TASK = 20

NEXT_STEP_SQL = """
SELECT c.id, s.id
FROM rak_collections_dunningcase c
JOIN LATERAL (
    SELECT n.id, n.position, n.days_after_due
    FROM rak_collections_reminderstep n
    WHERE n.plan_id = c.plan_id
      AND NOT EXISTS (SELECT 1 FROM rak_collections_reminderevent e WHERE e.case_id = c.id AND e.step_id = n.id)
    ORDER BY n.position
    LIMIT 1
) s ON TRUE
LEFT JOIN LATERAL (
    SELECT p.days_after_due, e.at
    FROM rak_collections_reminderstep p
    JOIN rak_collections_reminderevent e ON e.step_id = p.id AND e.case_id = c.id
    WHERE p.plan_id = c.plan_id AND p.position < s.position
    ORDER BY p.position DESC
    LIMIT 1
) prev ON TRUE
WHERE c.id = ANY(%(ids)s)
  AND c.status = 'OPEN'
  AND c.oldest_due_date + s.days_after_due <= %(as_of)s
  AND (
    prev.at IS NULL
    OR (prev.at AT TIME ZONE %(tz)s)::date + GREATEST(s.days_after_due - prev.days_after_due, 0) <= %(as_of)s
  )
"""

EVENTS_INSERT_SQL = """
INSERT INTO rak_collections_reminderevent
    (case_id, step_id, customer_id, at, action, amount_due, outcome, detail, letter)
VALUES {rows}
ON CONFLICT (case_id, step_id) DO NOTHING
RETURNING id, case_id
"""


def next_steps_due(*, case_ids: list[int], as_of: datetime.date) -> dict[int, int]:
    """``{case id: step id}``: the first step not done of each open case of ``case_ids``, when its
    day has come (``step_due_date``, in SQL). One query."""
    if not case_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(NEXT_STEP_SQL, {"ids": list(case_ids), "as_of": as_of, "tz": settings.TIME_ZONE})
        return dict(cursor.fetchall())


def _events_insert(rows: list[tuple]) -> dict[int, int]:
    """Insert ``(case id, step id, customer id, at, action, amount, outcome, detail)`` rows; a case ×
    step already done is left alone (the unique constraint). Returns ``{case id: event id}`` of the
    rows actually inserted: only those are acted upon."""
    inserted: dict[int, int] = {}
    for start in range(0, len(rows), CHUNK_SIZE):
        batch = rows[start : start + CHUNK_SIZE]
        sql = EVENTS_INSERT_SQL.format(rows=", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, '[]'::jsonb)"] * len(batch)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in batch for value in row])
            inserted.update((case_id, event_id) for event_id, case_id in cursor.fetchall())
    return inserted


def _contacts(customer_ids: list[int]) -> tuple[dict[int, str], dict[int, str], dict[int, int]]:
    """(SMS number, e-mail, portal account's user id) by customer, as ``customer_notify`` picks
    them (the SMS number; the primary, then verified, then oldest e-mail): three queries."""
    phones: dict[int, str] = {}
    for customer_id, value in (
        Contact.objects.filter(customer_id__in=customer_ids, kind=Contact.Kind.PHONE, is_sms=True)
        .order_by("id")
        .values_list("customer_id", "value")
    ):
        phones.setdefault(customer_id, value)
    emails: dict[int, str] = {}
    for customer_id, value in (
        Contact.objects.filter(customer_id__in=customer_ids, kind=Contact.Kind.EMAIL)
        .order_by("customer_id", "-is_primary_email", "-verified_at", "id")
        .values_list("customer_id", "value")
    ):
        emails.setdefault(customer_id, value)
    users: dict[int, int] = {}
    for customer_id, user_id in (
        PortalAccount.objects.filter(customer_id__in=customer_ids).order_by("id").values_list("customer_id", "user_id")
    ):
        users.setdefault(customer_id, user_id)
    return phones, emails, users


def _references_new(count: int) -> list[str]:
    """``count`` fresh document references (``document_reference_new``), checked in one query."""
    from rak_base.documents import ALPHABET, REFERENCE_LENGTH

    references: list[str] = []
    while len(references) < count:
        fresh = {
            "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH)) for _ in range(count - len(references))
        }
        fresh -= set(references)
        fresh -= set(Document.objects.filter(reference__in=fresh).values_list("reference", flat=True))
        references.extend(sorted(fresh))
    return references


class _Messages:
    """The customer messages of one chunk: rendered per case in Python (one wording read per
    message, channel and language), queued at once with ``message_queue_bulk``."""

    def __init__(self, phones, emails, users) -> None:
        self.phones, self.emails, self.users = phones, emails, users
        self.renderers: dict[tuple[str, str, str], Renderer] = {}
        self.messages: list[Message] = []

    def add(self, *, case: DunningCase, code: str, context: dict, channels: list[str], language: str) -> list[str]:
        """Queue message ``code`` to the case's customer on ``channels`` that have a recipient;
        returns those channels."""
        customer_id = case.customer_id
        recipients: dict[str, Any] = {
            Message.Channel.SMS: self.phones.get(customer_id, ""),
            Message.Channel.EMAIL: self.emails.get(customer_id, ""),
            Message.Channel.BELL: self.users.get(customer_id),
        }
        targets = [channel for channel in Message.Channel.values if channel in channels and recipients.get(channel)]
        event = event_key() if len(targets) > 1 else ""
        for channel in targets:
            key = (code, channel, language)
            if key not in self.renderers:
                self.renderers[key] = message_renderer(code=code, channel=channel, language=language)
            subject, body = self.renderers[key](context)
            self.messages.append(
                Message(
                    channel=channel,
                    recipient="" if channel == Message.Channel.BELL else recipients[channel],
                    subject=subject,
                    body=body,
                    user_id=self.users.get(customer_id),
                    kind=f"cutoff:reminder:{case.pk}"[:40],
                    event=event,
                )
            )
        return targets

    def queue(self) -> int:
        return message_queue_bulk(self.messages) if self.messages else 0


def _context(case: DunningCase, language: str) -> dict:
    customer = case.customer
    with translation.override(language):
        return {
            "code": customer.code,
            "name": customer.display_name,
            "amount": amount_text(case.amount_due, language),
            "due": formats.date_format(case.oldest_due_date, "d/m/Y"),
        }


def _channels_detail(channels: list[str]) -> str:
    labels = dict(Message.Channel.choices)
    return ", ".join(sorted({str(labels[channel]) for channel in channels}))


@transaction.atomic
def cases_steps_run(*, case_ids: list[int], now: datetime.datetime) -> int:
    """Do the due steps of the cases ``case_ids`` (a chunk of the job), under the cases' locks, in a
    fixed number of queries whatever their number (the cut-off step, which few cases reach, aside:
    ``cutoff_order_issue`` per case). Returns the number of steps done."""
    as_of = local_day(now)
    cases = {
        case.pk: case
        for case in DunningCase.objects.select_for_update(of=("self",))
        .select_related("customer", "plan")
        .filter(pk__in=list(case_ids), status=DunningCase.Status.OPEN)
        .order_by("pk")
    }
    if not cases:
        return 0
    overdue = overdue_amounts(as_of=as_of, customer_ids={case.customer_id for case in cases.values()})
    paid = [
        pk
        for pk, case in cases.items()
        if overdue.get(case.customer_id, (ZERO, None))[0] < max(case.plan.min_amount, Decimal("0.01"))
    ]
    _close(paid, status=DunningCase.Status.PAID, reason=gettext("Dette échue réglée"), now=now)
    for pk in paid:
        del cases[pk]
    planned = customers_under_plan({case.customer_id for case in cases.values()}) if cases else set()
    planned_cases = [pk for pk, case in cases.items() if case.customer_id in planned]
    _close(planned_cases, status=DunningCase.Status.PLAN, reason=gettext("Échéancier accordé"), now=now)
    for pk in planned_cases:
        del cases[pk]
    changed = []
    for case in cases.values():
        amount = overdue[case.customer_id][0]
        if case.amount_due != amount:
            case.amount_due = amount
            changed.append(case)
    DunningCase.objects.bulk_update(changed, ["amount_due"], batch_size=CHUNK_SIZE)
    done = 0
    pending = list(cases)
    steps: dict[int, list[ReminderStep]] = {}
    contacts = None
    while pending:  # more than once only for steps a plan puts on the same day
        due = next_steps_due(case_ids=pending, as_of=as_of)
        if not due:
            break
        if not steps:
            for step in ReminderStep.objects.filter(plan_id__in={case.plan_id for case in cases.values()}).order_by(
                "plan_id", "position"
            ):
                steps.setdefault(step.plan_id, []).append(step)
        if contacts is None:
            contacts = _contacts([case.customer_id for case in cases.values()])
        done += _steps_do([(cases[case_id], step_id) for case_id, step_id in due.items()], steps, contacts, now=now)
        pending = list(due)
    return done


def _steps_do(due: list[tuple[DunningCase, int]], steps: dict[int, list[ReminderStep]], contacts, *, now) -> int:
    as_of = local_day(now)
    by_id = {step.pk: step for plan_steps in steps.values() for step in plan_steps}
    messages = _Messages(*contacts)
    phones, emails, users = contacts
    rows: list[tuple] = []
    planned: dict[int, tuple] = {}  # case id -> (step, channels, (reference, deadline) of a formal notice)
    cutoffs: list[tuple[DunningCase, ReminderStep]] = []
    notices = [
        (case, by_id[step_id]) for case, step_id in due if by_id[step_id].action == ReminderStep.Action.FORMAL_NOTICE
    ]
    references = iter(_references_new(len(notices)))
    for case, step_id in due:
        step = by_id[step_id]
        if step.action == ReminderStep.Action.CUTOFF:
            cutoffs.append((case, step))
            continue
        available = {
            Message.Channel.SMS: bool(phones.get(case.customer_id)),
            Message.Channel.EMAIL: bool(emails.get(case.customer_id)),
            Message.Channel.BELL: bool(users.get(case.customer_id)),
        }
        if step.action == ReminderStep.Action.FORMAL_NOTICE:
            channels = [Message.Channel.EMAIL, Message.Channel.BELL, Message.Channel.SMS]
            reference = next(references)
            later = [s for s in steps[case.plan_id] if s.position > step.position]
            deadline = _deadline(case, step, later, as_of=as_of)
            sent = any(available[channel] for channel in channels)
            outcome = ReminderEvent.Outcome.SENT if sent else ReminderEvent.Outcome.NO_CONTACT
            detail = gettext("Lettre %(reference)s") % {"reference": reference_display(reference)}
            extra = (reference, deadline)
        else:
            channel = Message.Channel.SMS if step.action == ReminderStep.Action.SMS else Message.Channel.EMAIL
            channels = [channel, Message.Channel.BELL]
            outcome = ReminderEvent.Outcome.SENT if available[channel] else ReminderEvent.Outcome.NO_CONTACT
            detail = _channels_detail([c for c in channels if available[c]])
            extra = None
        planned[case.pk] = (step, channels, extra)
        rows.append((case.pk, step.pk, case.customer_id, now, step.action, case.amount_due, outcome, detail[:255]))
    inserted = _events_insert(rows)
    cases = {case.pk: case for case, _step_id in due}
    letters: list[list] = []
    for case_id, event_id in inserted.items():
        case = cases[case_id]
        step, channels, extra = planned[case_id]
        language = customer_language_code(case.customer)
        context = _context(case, language)
        code = CODE_REMINDER
        if extra is not None:
            reference, deadline = extra
            code = CODE_FORMAL_NOTICE
            with translation.override(language):
                context.update(deadline=formats.date_format(deadline, "d/m/Y"), reference=reference_display(reference))
            letters.append([event_id, reference, deadline.isoformat(), language])
        messages.add(case=case, code=code, context=context, channels=channels, language=language)
    messages.queue()
    if letters:  # kept on the event: the sweep renders it again if its task is lost
        ReminderEvent.objects.bulk_update(
            [ReminderEvent(pk=event_id, letter=[ref, day, lang]) for event_id, ref, day, lang in letters], ["letter"]
        )
    for start in range(0, len(letters), LETTERS_PER_TASK):
        formal_notice_letters_task.enqueue(letters[start : start + LETTERS_PER_TASK])
    # each cut-off in its own savepoint: one failing is reported on the job's row, the chunk goes on
    each_item(
        cutoffs,
        lambda pair: _cutoff_step(pair[0], pair[1], now=now),
        describe=lambda pair: f"ordre de coupure, dossier de recouvrement {pair[0].pk}",  # i18n: not for customers
    )
    return len(inserted) + len(cutoffs)


def _cutoff_step(case: DunningCase, step: ReminderStep, *, now) -> ReminderEvent:
    orders = cutoff_order_issue(customer=case.customer, case=case, now=now)
    if not orders:
        return _event(case, step, now=now, outcome=ReminderEvent.Outcome.SKIPPED, detail=gettext("Aucun dossier actif"))
    return _event(
        case,
        step,
        now=now,
        outcome=ReminderEvent.Outcome.ORDER_ISSUED,
        detail=", ".join(order.number for order in orders),
    )


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
    *, case: DunningCase, event: ReminderEvent, deadline: datetime.date, language: str, reference: str | None = None
) -> Document:
    """The « Mise en demeure » letter of ``event``, rendered once and kept in the document registry
    (owner: the customer's portal account; verifiable by its reference, the one the job gave the
    messages)."""
    reference = reference or document_reference_new()
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


def formal_notice_letter_make(*, event_id: int, reference: str, deadline: datetime.date, language: str) -> bool:
    """Render and register the letter of one formal notice event, unless it is there already (a
    task run twice). Returns whether a letter was registered."""
    with transaction.atomic():
        event = ReminderEvent.objects.select_related("case__customer", "case__plan").filter(pk=event_id).first()
        if event is None or document_for_subject(kind=Document.Kind.OTHER, subject=event) is not None:
            return False
        case = event.case
        case.amount_due = event.amount_due  # the amount of the day of the notice
        formal_notice_register(case=case, event=event, deadline=deadline, language=language, reference=reference)
        return True


@task(queue_name="default")
def formal_notice_letters_task(letters: list[list]) -> int:
    """Render the letters of formal notices the job gave (``[event id, reference, deadline ISO,
    language]`` each), each in its own transaction: one failing is logged and the others go on (the
    task then fails with the first error, visible in the task results; running it again renders
    only the letters still missing)."""
    made, failure = 0, None
    for event_id, reference, deadline, language in letters:
        try:
            made += formal_notice_letter_make(
                event_id=event_id,
                reference=reference,
                deadline=datetime.date.fromisoformat(deadline),
                language=language,
            )
        except Exception as exc:  # one letter must not keep the others from being rendered
            logger.exception("mise en demeure : lettre de l'événement %s en échec", event_id)
            failure = failure or exc
    if failure is not None:
        raise failure
    return made


#: a letter still missing this long after its notice is given to the worker again
LETTER_RECOVER_AFTER = datetime.timedelta(hours=1)


def formal_notice_letters_recover(*, now: datetime.datetime) -> int:
    """Formal notices whose letter is still not in the document registry an hour later (a worker
    died with the task, or the task failed): enqueue their rendering again (idempotent: a letter
    registered meanwhile is skipped). Set-based: one query, one task per ``LETTERS_PER_TASK``."""
    missing = Document.objects.filter(
        kind=Document.Kind.OTHER,
        subject_type="rak_collections.reminderevent",
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
    )
    letters = [
        [event_id, *letter]
        for event_id, letter in ReminderEvent.objects.filter(
            action=ReminderStep.Action.FORMAL_NOTICE, at__lt=now - LETTER_RECOVER_AFTER
        )
        .exclude(letter=[])
        .exclude(Exists(missing))
        .values_list("pk", "letter")
    ]
    for start in range(0, len(letters), LETTERS_PER_TASK):
        formal_notice_letters_task.enqueue(letters[start : start + LETTERS_PER_TASK])
    return len(letters)


# --- the job -------------------------------------------------------------------------------------------


def reminders_run(*, now: datetime.datetime) -> str:
    """The daily pass (safe to run often): close, open, then do the steps due, each case alone."""
    paid = cases_close_paid(now=now)
    planned = cases_under_plan(now=now)
    # a sweep behind « facture réglée »: a part payment settles no bill (no hook) yet may bring the
    # debt under the minimum; a debt cleared otherwise still gets its reconnection
    orders_sweep(now=now)
    opened = cases_open(now=now)
    due = cases_with_due_steps(as_of=local_day(now))
    steps: list[int] = []
    each_item(
        [due[start : start + CHUNK_SIZE] for start in range(0, len(due), CHUNK_SIZE)],
        lambda chunk: steps.append(cases_steps_run(case_ids=chunk, now=now)),
        describe=lambda chunk: (
            f"dossiers de recouvrement {chunk[0]} à {chunk[-1]} ({len(chunk)})"  # i18n: not for customers
        ),
    )
    formal_notice_letters_recover(now=now)
    return gettext("%(opened)d ouverts, %(steps)d relances, %(paid)d réglés, %(plan)d sous échéancier") % {
        "opened": opened,
        "steps": sum(steps),
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
        # 20,000+ customers on the same step the same day: the run must keep its lease (another
        # worker would take it again)
        lease=datetime.timedelta(hours=4),
    )
    hook_subscribe(HOOK_BILLS_SETTLED, on_bills_settled)
    post_migrate.connect(reminder_plan_post_migrate, dispatch_uid="rak_collections_reminder_plan_seed")
