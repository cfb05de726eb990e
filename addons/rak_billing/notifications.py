"""After a billing run: deduct the bills of the dossiers billed by advance from the customers'
provisions (``provisions.provisions_apply``), apply the credits customers hold to their new bills,
then tell each customer « votre facture est disponible » — one SMS (SMS number), one e-mail
(primary e-mail) and one bell notification (portal account) per customer and run, whatever the
number of their dossiers — set-based: one grouped query, ``message_queue_bulk`` per batch of customers.
Each customer's texts are composed in their own language (``Customer.language``, issue 12)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from rak_base import clock
from rak_base.models import Message
from rak_base.money import money_format, round_money
from rak_base.outbox import event_key, message_queue_bulk
from rak_billing.ledger import customers_with_credit, ledger_apply_credit
from rak_billing.models import Bill, BillingRun
from rak_billing.provisions import provisions_apply
from rak_customer.language import customer_language
from rak_customer.models import Contact, PortalAccount

NOTIFY_BATCH = 5000


def notification_kind(run_id: int) -> str:
    return f"bill_available:{run_id}"


def _amount(value: Decimal) -> str:
    return money_format(value, plain_space=True)  # SMS and plain-text e-mail: ordinary spaces


def bill_available_texts(
    *, month: str, count: int, total: Decimal, due: str, estimated: bool, paid: bool = False
) -> tuple[str, str, str]:
    """(SMS body, e-mail subject, e-mail / bell body) of « votre facture est disponible ».
    ``paid``: every bill of the message is already settled when it is sent (deducted from the
    provision of a « carte congé » customer, or paid by the customer's credit): « déjà réglée »
    instead of « à régler avant le … »."""
    what = ngettext("Votre facture", "Vos %(count)d factures", count) % {"count": count}
    verb = ngettext("est disponible", "sont disponibles", count)
    note = " " + gettext("(consommation estimée)") if estimated else ""
    consult = ngettext("Consultez-la", "Consultez-les", count)
    if paid:
        settled = ngettext(
            "déjà réglée (déduite de votre provision ou de votre crédit)",
            "déjà réglées (déduites de votre provision ou de votre crédit)",
            count,
        )
        sms = gettext(
            "RAK : %(what)s de %(month)s%(note)s %(verb)s : %(total)s, %(settled)s. %(consult)s sur l'agence en ligne."
        ) % {
            "what": what,
            "month": month,
            "note": note,
            "verb": verb,
            "total": _amount(total),
            "settled": settled,
            "consult": consult,
        }
        subject = gettext("%(what)s RAK de %(month)s %(verb)s") % {"what": what, "month": month, "verb": verb}
        body = gettext(
            "Bonjour,\n\n%(what)s de %(month)s%(note)s %(verb)s sur votre agence en ligne RAK.\n"
            "Montant : %(total)s — %(settled)s.\n\n%(consult)s dans « Mes consommations ».\n\nLa RAK"
        ) % {
            "what": what,
            "month": month,
            "note": note,
            "verb": verb,
            "total": _amount(total),
            "settled": settled,
            "consult": consult,
        }
        return sms, subject, body
    values = {"what": what, "month": month, "note": note, "verb": verb, "total": _amount(total), "due": due}
    sms = gettext(
        "RAK : %(what)s de %(month)s%(note)s %(verb)s : %(total)s à régler avant le %(due)s. "
        "%(consult)s sur l'agence en ligne."
    ) % {**values, "consult": consult}
    subject = gettext("%(what)s RAK de %(month)s %(verb)s") % values
    body = gettext(
        "Bonjour,\n\n%(what)s de %(month)s%(note)s %(verb)s sur votre agence en ligne RAK.\n"
        "Montant : %(total)s — à régler avant le %(due)s.\n\n%(actions)s\n\nLa RAK"
    ) % {
        **values,
        "actions": ngettext(
            "Vous pouvez la consulter, la télécharger et la payer dans « Mes consommations ».",
            "Vous pouvez les consulter, les télécharger et les payer dans « Mes consommations ».",
            count,
        ),
    }
    return sms, subject, body


def billing_run_finalize(*, run_id: int, notify: bool = True) -> int:
    """Apply credits, then queue the notifications of a finished run. Idempotent: a run whose
    notifications are queued is not notified again. Returns the number of messages queued."""
    run = BillingRun.objects.get(pk=run_id)
    if run.status != BillingRun.Status.DONE:
        return 0
    now = clock.now()
    customer_ids = Bill.objects.filter(run_id=run_id).values_list("customer_id", flat=True).distinct()
    # « carte congé »: the bills of the dossiers billed by advance are deducted from the provision
    provisions_apply(customer_ids=customer_ids, at=now)
    for customer_id in customers_with_credit(customer_ids):
        ledger_apply_credit(customer=customer_id, at=now)
    return billing_run_notify(run=run) if notify else 0


NOTIFY_LOCK = 7303  # advisory lock class, key = run id: two finalisations of a run notify one after the other


@transaction.atomic
def billing_run_notify(*, run: BillingRun) -> int:
    kind = notification_kind(run.pk)
    with connection.cursor() as cursor:  # a re-queued finalisation racing a slow one: the second sees the first's
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [NOTIFY_LOCK, run.pk])
    if Message.objects.filter(kind=kind).exists():
        return 0
    phone = Contact.objects.filter(customer_id=OuterRef("customer_id"), kind=Contact.Kind.PHONE, is_sms=True)
    email = Contact.objects.filter(customer_id=OuterRef("customer_id"), kind=Contact.Kind.EMAIL, is_primary_email=True)
    account = PortalAccount.objects.filter(customer_id=OuterRef("customer_id"))
    groups = (
        Bill.objects.filter(run_id=run.pk)
        .values("customer_id", "customer__language")
        .annotate(
            count=Count("id"),
            total=Sum("total_ttc"),
            due=Min("due_date"),
            estimated=Count("id", filter=Q(estimated=True)),
            unsettled=Count("id", filter=Q(settled_at__isnull=True)),
            phone=Subquery(phone.values("value")[:1]),
            email=Subquery(email.values("value")[:1]),
            user_id=Subquery(account.values("user_id")[:1]),
        )
        .order_by("customer_id")
    )
    queued = 0
    batch: list[Message] = []
    for group in groups.iterator(chunk_size=NOTIFY_BATCH):
        with customer_language(SimpleNamespace(language=group["customer__language"])):
            sms, subject, body = bill_available_texts(
                month=date_format(run.period_start, "F Y"),  # « janvier 2026 », « يناير 2026 », « January 2026 »
                count=group["count"],
                total=round_money(group["total"]),
                due=date_format(group["due"], "d/m/Y"),
                estimated=bool(group["estimated"]),
                paid=not group["unsettled"],
            )
        user_id = group["user_id"]
        event = event_key()  # the bell lists the SMS, e-mail and notification once
        if group["phone"]:
            batch.append(
                Message(
                    channel=Message.Channel.SMS,
                    recipient=group["phone"],
                    user_id=user_id,
                    kind=kind,
                    body=sms,
                    event=event,
                )
            )
        if group["email"]:
            batch.append(
                Message(
                    channel=Message.Channel.EMAIL,
                    recipient=group["email"],
                    user_id=user_id,
                    kind=kind,
                    subject=subject,
                    body=body,
                    event=event,
                )
            )
        if user_id:
            batch.append(
                Message(
                    channel=Message.Channel.BELL, user_id=user_id, kind=kind, subject=subject, body=body, event=event
                )
            )
        if len(batch) >= NOTIFY_BATCH:
            queued += message_queue_bulk(batch)
            batch = []
    if batch:
        queued += message_queue_bulk(batch)
    return queued
