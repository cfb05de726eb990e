"""The outbox honours « Mes notifications » (issue 13): a test per channel (SMS, e-mail, bell,
push), the « toujours envoyé » kinds that ignore an opt-out, the bulk path (set-based: the same
number of queries for 3 or 30 customers), and « Coupures et travaux × SMS » = the customer's flag
``sms_service_notices`` (issue 11)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from rak_base import clock
from rak_base.models import Message, NotificationPreference
from rak_base.notification_preferences import NotificationPreferenceLocked, notification_preferences_set
from rak_base.outbox import message_queue_bell, message_queue_bulk, message_queue_email, message_queue_sms
from rak_customer.notification_preferences import customer_notification_matrix, customer_notification_preferences_set
from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_webpush import push_service, vapid  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def turn_off(user, category: str, channel: str) -> None:
    notification_preferences_set(user=user, choices={(category, channel): False}, now=clock.now())


def test_sms_turned_off_is_recorded_skipped_and_never_sent(now, run_worker, sms_lines):
    from rak_requests.services import request_accept_phase
    from tests.request_factories import ServiceRequestFactory

    customer, user = customer_with_account(phone="+212612000001", email="amina@example.ma")
    turn_off(user, "REQUESTS", "SMS")
    request_ = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=request_.pk, staff=StaffFactory(), now=now, expect_phase="RECEVABILITE_ADMIN")

    copies = {m.channel: m for m in Message.objects.filter(user=user, kind="request")}
    assert copies["SMS"].status == Message.Status.SKIPPED and copies["SMS"].next_attempt_at is None
    assert copies["EMAIL"].status == Message.Status.QUEUED and copies["BELL"].status == Message.Status.SENT
    run_worker()
    assert sms_lines() == []
    assert [m.to for m in mail.outbox] == [["amina@example.ma"]]
    assert Message.objects.get(pk=copies["SMS"].pk).status == Message.Status.SKIPPED  # the worker left it


def test_email_turned_off(run_worker):
    _customer, user = customer_with_account()
    turn_off(user, "REFUNDS", "EMAIL")
    message = message_queue_email(
        to="k@example.ma", subject="Remboursement", body="Effectué.", user=user, kind="refund"
    )
    assert message.status == Message.Status.SKIPPED
    assert not DBTaskResult.objects.exists()  # no delivery task
    run_worker()
    assert mail.outbox == []
    # another category on the same channel is still sent
    other = message_queue_email(to="k@example.ma", subject="Demande", body="Acceptée.", user=user, kind="request")
    assert other.status == Message.Status.QUEUED


def test_bell_turned_off_is_not_in_the_customers_bell(client):
    _customer, user = customer_with_account()
    turn_off(user, "COMPLAINTS", "BELL")
    skipped = message_queue_bell(user=user, subject="Réclamation REC-1", body="Réponse.", kind="complaint.reply")
    assert skipped.status == Message.Status.SKIPPED and skipped.sent_at is None
    assert not Message.objects.for_user(user).exists()
    client.force_login(user)
    assert 'data-testid="unread-count"' not in client.get(reverse("portal:dashboard")).content.decode()
    assert "REC-1" not in client.get(reverse("portal:notifications")).content.decode()


def test_push_turned_off(push_service):  # noqa: F811
    from rak_base.outbox import message_deliver

    _customer, user = customer_with_account()
    push_service.subscribe(user, "phone")
    turn_off(user, "BILLS", "PUSH")
    bell = message_queue_bell(user=user, subject="Facture", body="Disponible.", kind="bill_available:9")
    assert bell.status == Message.Status.SENT
    push = Message.objects.get(channel="PUSH", user=user)
    assert push.status == Message.Status.SKIPPED
    message_deliver(message_id=push.pk)
    assert push_service.received == []


def test_always_sent_kinds_ignore_an_opt_out(push_service, run_worker, sms_lines):  # noqa: F811
    _customer, user = customer_with_account()
    push_service.subscribe(user, "phone")
    with pytest.raises(NotificationPreferenceLocked):
        turn_off(user, "PAYMENTS", "SMS")
    # even a row written behind the services' back (an import, a hand edit) changes nothing
    for category in ("PAYMENTS", "ACCOUNT"):
        for channel in ("SMS", "EMAIL", "BELL", "PUSH"):
            NotificationPreference.objects.create(
                user=user, category=category, channel=channel, enabled=False, updated_at=clock.now()
            )
    sms = message_queue_sms(to="+212612345678", body="RAK : paiement de 250 MAD reçu.", user=user, kind="payment")
    bell = message_queue_bell(user=user, subject="Paiement confirmé", body="Reçu.", kind="payment", event=sms.event)
    otp = message_queue_sms(to="+212612345678", body="RAK : code 123456", user=user, kind="otp", sensitive=True)
    assert {sms.status, otp.status} == {Message.Status.QUEUED} and bell.status == Message.Status.SENT
    assert Message.objects.get(channel="PUSH", user=user).status == Message.Status.QUEUED
    run_worker()
    assert len(sms_lines()) == 2


def test_staff_alerts_and_unknown_kinds_are_never_held_back():
    staff = StaffFactory()
    for category in ("REQUESTS",):
        NotificationPreference.objects.create(
            user=staff, category=category, channel="BELL", enabled=False, updated_at=clock.now()
        )
    assert message_queue_bell(user=staff, subject="x", body="y", kind="scheduler").status == Message.Status.SENT
    assert message_queue_bell(user=staff, subject="x", body="y", kind="nouveau_type").status == Message.Status.SENT


def _bill_notices(users) -> list[Message]:
    messages = []
    for i, user in enumerate(users):
        event = f"ev{i:04d}"
        messages += [
            Message(
                channel="SMS", recipient=f"+2126610{i:05d}", user=user, kind="bill_available:1", body="s", event=event
            ),
            Message(
                channel="EMAIL",
                recipient=f"c{i}@example.ma",
                user=user,
                kind="bill_available:1",
                subject="F",
                body="m",
                event=event,
            ),
            Message(channel="BELL", user=user, kind="bill_available:1", subject="F", body="b", event=event),
        ]
    return messages


def test_bulk_path_honours_each_customers_choice_set_based(django_assert_num_queries, run_worker, sms_lines):
    users = [customer_with_account(phone=f"+21261200{i:04d}")[1] for i in range(30)]
    turn_off(users[0], "BILLS", "SMS")
    turn_off(users[1], "BILLS", "EMAIL")
    turn_off(users[2], "BILLS", "BELL")

    with django_assert_num_queries(5) as small:  # preferences, INSERT, task INSERT (+ savepoint pair)
        message_queue_bulk(_bill_notices(users[:3]), per_task=1000)
    with django_assert_num_queries(len(small.captured_queries)):
        message_queue_bulk(_bill_notices(users[3:]), per_task=1000)

    status = {(m.user_id, m.channel): m.status for m in Message.objects.all()}
    assert status[(users[0].pk, "SMS")] == status[(users[1].pk, "EMAIL")] == status[(users[2].pk, "BELL")] == "SKIPPED"
    assert status[(users[0].pk, "EMAIL")] == "QUEUED" and status[(users[1].pk, "SMS")] == "QUEUED"
    assert Message.objects.filter(status="SKIPPED").count() == 3
    run_worker()
    assert len(sms_lines()) == 29 and len(mail.outbox) == 29


def test_bulk_path_adds_one_push_copy_per_notice_worded_from_the_bell(push_service):  # noqa: F811
    users = [customer_with_account(phone=f"+21261300{i:04d}")[1] for i in range(3)]
    push_service.subscribe(users[0], "a")
    push_service.subscribe(users[1], "b")
    turn_off(users[1], "BILLS", "PUSH")
    queued = message_queue_bulk(_bill_notices(users))
    assert queued == 9 + 2
    pushes = {m.user_id: m for m in Message.objects.filter(channel="PUSH")}
    assert set(pushes) == {users[0].pk, users[1].pk}
    assert pushes[users[0].pk].status == "QUEUED" and pushes[users[0].pk].subject == "F"
    assert pushes[users[0].pk].body == "b" and pushes[users[1].pk].status == "SKIPPED"


def test_outages_sms_cell_is_the_customers_flag():
    customer, user = customer_with_account()
    customer_notification_preferences_set(
        user=user, customer=customer, choices={("OUTAGES", "SMS"): False, ("OUTAGES", "BELL"): False}, now=clock.now()
    )
    customer.refresh_from_db()
    assert customer.sms_service_notices is False
    assert customer.history.first().history_change_reason == "Avis de coupure par SMS : refusés"
    assert not NotificationPreference.objects.filter(category="OUTAGES", channel="SMS").exists()
    rows = {
        row.code: {c.channel: c for c in row.cells}
        for row in customer_notification_matrix(user=user, customer=customer)
    }
    assert rows["OUTAGES"]["SMS"].enabled is False and rows["OUTAGES"]["BELL"].enabled is False
    assert rows["PAYMENTS"]["SMS"].locked and rows["PAYMENTS"]["SMS"].enabled
    # the counter turns it back on: the matrix follows
    customer.sms_service_notices = True
    customer.save()
    rows = {
        row.code: {c.channel: c for c in row.cells}
        for row in customer_notification_matrix(user=user, customer=customer)
    }
    assert rows["OUTAGES"]["SMS"].enabled is True


def test_every_kind_the_code_sends_has_a_category():
    """A message kind written as a literal anywhere in the addons (``kind="refund"``) belongs to a
    category, so that the customer's choice reaches it (an unknown kind is always sent)."""
    import ast
    from pathlib import Path

    from rak_base.notification_kinds import category_of

    senders = {"message_queue_sms", "message_queue_email", "message_queue_bell", "message_send", "Message", "_notify"}
    kinds = set()
    for path in Path("addons").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in senders
            ):
                for keyword in node.keywords:
                    if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant):
                        kinds.add(keyword.value.value)
    assert {"payment", "request", "refund", "otp", "security"} <= kinds
    assert [kind for kind in sorted(kinds) if category_of(kind) is None] == []
    for kind in ("bill_available:12", "outage:3:notice", "complaint.filed", "complaint"):
        assert category_of(kind) is not None
