"""The outbox (rak_base.outbox) with the real worker (rak_worker -> django-tasks db_worker).

What an operator would notice: a message written in a transaction that rolls back never leaves;
each queued message leaves exactly once, even with duplicate tasks or a restarted worker; a
gateway that fails is retried with growing delays, then the message is marked FAILED with its
error; codes and passwords are masked in the outbox once sent."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rak_base.models import Message
from rak_base.outbox import message_queue_email, message_queue_sms, message_retry, outbox_recover, retry_delay
from rak_base.tasks import message_deliver_task

pytestmark = pytest.mark.django_db

PHONE = "+212612345678"


class Boom(Exception):
    pass


def make_due() -> None:
    """Let time pass for the outbox: every scheduled retry is due now."""
    now = timezone.now()
    DBTaskResult.objects.filter(status="READY").update(run_after=now)
    Message.objects.filter(status=Message.Status.QUEUED).update(next_attempt_at=now)


def ready_tasks() -> int:
    return DBTaskResult.objects.filter(status="READY").count()


# --- a local SMS gateway ------------------------------------------------------------------------


class Gateway:
    """A real HTTP server on 127.0.0.1 that answers every request with ``status``."""

    def __init__(self) -> None:
        self.status = 500
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                gateway.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                payload = b'{"id": "op-42"}' if gateway.status < 300 else b"erreur interne de la passerelle"
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    with Gateway() as gw:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP = {
            "url": gw.url,
            "method": "POST",
            "user": "rak",
            "password": "s3cret",
            "timeout": 5,
            "body_template": '{"from": "{sender}", "to": "{to}", "text": "{text}"}',
            "content_type": "application/json",
        }
        yield gw


# --- transactions ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # a real rollback, and a worker that sees only commits
def test_message_queued_in_a_rolled_back_transaction_is_never_sent(run_worker, sms_lines):
    committed = message_queue_sms(to=PHONE, body="Message validé.")
    with pytest.raises(Boom), transaction.atomic():
        message_queue_sms(to=PHONE, body="Votre demande est enregistrée.")
        raise Boom

    assert list(Message.objects.values_list("pk", flat=True)) == [committed.pk]
    assert DBTaskResult.objects.count() == 1, "the task row went with the message"
    run_worker()
    assert [json.loads(line)["text"] for line in sms_lines()] == ["Message validé."]


def test_committed_message_is_delivered_by_the_worker(run_worker, sms_lines, settings):
    message = message_queue_sms(to=PHONE, body="Votre facture de mars est disponible.", kind="bill")
    assert message.status == Message.Status.QUEUED
    assert sms_lines() == [], "nothing leaves before the worker runs"

    run_worker()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.provider_id == "dev"
    [line] = sms_lines()
    assert json.loads(line) | {"at": None} == {
        "at": None,
        "from": settings.SMS_SENDER,
        "to": PHONE,
        "text": "Votre facture de mars est disponible.",
        "reference": f"RAK-{message.pk}",
    }


def test_each_message_is_delivered_exactly_once(run_worker, sms_lines):
    messages = [message_queue_sms(to=f"+21261234567{i}", body=f"Message {i}") for i in range(3)]
    # A duplicate task (e.g. a recovery racing a live worker) must not send twice.
    message_deliver_task.enqueue(messages[0].pk)

    run_worker()
    run_worker()

    lines = [json.loads(line) for line in sms_lines()]
    assert sorted(line["text"] for line in lines) == ["Message 0", "Message 1", "Message 2"]
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}
    assert ready_tasks() == 0


def test_email_goes_through_the_same_outbox(run_worker):
    message_queue_email(to="client@example.ma", subject="Votre facture", body="Bonjour, votre facture est prête.")
    assert mail.outbox == []

    run_worker()

    [email] = mail.outbox
    assert email.to == ["client@example.ma"]
    assert email.subject == "Votre facture"
    assert Message.objects.get().status == Message.Status.SENT


# --- retries --------------------------------------------------------------------------------------


def test_retry_delay_doubles_and_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30) == timedelta(hours=6)


def test_failing_gateway_is_retried_with_backoff_then_marked_failed(settings, gateway, run_worker):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    message = message_queue_sms(to=PHONE, body="Votre branchement est programmé.")

    before = timezone.now()
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)
    assert "HTTP 500" in message.last_error
    assert "erreur interne de la passerelle" in message.last_error
    assert before + timedelta(seconds=30) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert len(gateway.requests) == 1
    sent = gateway.requests[0]
    assert json.loads(sent["body"]) == {"from": "RAK", "to": PHONE, "text": "Votre branchement est programmé."}
    assert sent["auth"].startswith("Basic ")

    # Not due yet: a worker running now leaves it alone.
    run_worker()
    message.refresh_from_db()
    assert message.attempts == 1
    assert len(gateway.requests) == 1
    assert ready_tasks() == 1

    make_due()
    before = timezone.now()
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 2)
    assert before + timedelta(seconds=60) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=60)

    make_due()
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 3)
    assert message.next_attempt_at is None
    assert "HTTP 500" in message.last_error
    assert message.sent_at is None
    assert len(gateway.requests) == 3
    assert ready_tasks() == 0, "a failed message is not retried by itself"


def test_gateway_back_up_delivers_on_next_attempt(settings, gateway, run_worker):
    message = message_queue_sms(to=PHONE, body="Rappel : facture impayée.")
    run_worker()
    gateway.status = 200
    make_due()
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id) == (Message.Status.SENT, 2, "op-42")
    assert message.last_error == ""
    assert len(gateway.requests) == 2


def test_unreachable_gateway_is_an_error_recorded_on_the_message(settings, run_worker):
    with Gateway() as gw:
        url = gw.url
    # The server is closed: the port refuses connections.
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP = {
        "url": url,
        "method": "POST",
        "user": "",
        "password": "",
        "timeout": 2,
        "body_template": '{"to": "{to}", "text": "{text}"}',
        "content_type": "application/json",
    }
    message = message_queue_sms(to=PHONE, body="Test")
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)
    assert "injoignable" in message.last_error


def test_back_office_retry_sends_a_failed_message_again(settings, gateway, run_worker):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = message_queue_sms(to=PHONE, body="Coupure programmée demain.")
    run_worker()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED

    gateway.status = 200
    message_retry(message_id=message.pk)
    run_worker()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 1)
    assert len(gateway.requests) == 2


# --- sensitive content ----------------------------------------------------------------------------


def test_sensitive_body_is_redacted_once_sent(run_worker, sms_lines):
    secret = message_queue_sms(to=PHONE, body="RAK : votre mot de passe provisoire est Xk7-pQ2m.", sensitive=True)
    plain = message_queue_sms(to=PHONE, body="RAK : votre demande est validée.")
    assert "Xk7-pQ2m" in Message.objects.get(pk=secret.pk).body, "readable until it is sent"

    run_worker()

    secret.refresh_from_db()
    plain.refresh_from_db()
    assert secret.body == Message.REDACTED
    assert plain.body == "RAK : votre demande est validée."
    assert not Message.objects.filter(body__contains="Xk7-pQ2m").exists()
    assert any("Xk7-pQ2m" in line for line in sms_lines()), "the customer did receive it"


def test_sensitive_body_is_kept_while_delivery_keeps_failing(settings, gateway, run_worker):
    message = message_queue_sms(to=PHONE, body="Code 123456", sensitive=True)
    run_worker()
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.body == "Code 123456", "still needed for the next attempt"


# --- recovery after a killed worker ---------------------------------------------------------------


def strand(message: Message, *, minutes_ago: int = 15) -> None:
    """What ``kill -9`` on a worker leaves: the task claimed (RUNNING) and the message still
    QUEUED, since the delivery transaction never committed."""
    started = timezone.now() - timedelta(minutes=minutes_ago)
    updated = DBTaskResult.objects.filter(status="READY").update(
        status="RUNNING",
        started_at=started,
        worker_ids=["worker-tue"],
    )
    assert updated == 1
    Message.objects.filter(pk=message.pk).update(next_attempt_at=started)


def test_restarted_worker_delivers_a_stranded_message_once(run_worker, sms_lines):
    message = message_queue_sms(to=PHONE, body="Votre compteur sera relevé demain.")
    strand(message)
    assert ready_tasks() == 0, "nothing left for a plain db_worker to pick up"

    output = run_worker()

    assert "1 message(s) en attente remis dans la file" in output
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 1)
    assert len(sms_lines()) == 1

    run_worker()
    assert len(sms_lines()) == 1


def test_periodic_recovery_only_takes_overdue_messages():
    fresh = message_queue_sms(to=PHONE, body="Tout neuf")
    stranded = message_queue_sms(to=PHONE, body="Abandonné")
    Message.objects.filter(pk=stranded.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=11))
    tasks_before = set(DBTaskResult.objects.values_list("id", flat=True))

    assert outbox_recover(now=timezone.now()) == 1
    new_tasks = DBTaskResult.objects.exclude(id__in=tasks_before)
    assert [task.args_kwargs["args"] for task in new_tasks] == [[stranded.pk]]
    assert Message.objects.get(pk=fresh.pk).status == Message.Status.QUEUED


# --- hardening: sensitive failures, periodic recovery --------------------------------------------


def test_sensitive_message_failing_for_good_is_redacted_and_cannot_be_resent(settings):
    from rak_base.errors import RakError
    from rak_base.outbox import message_deliver, message_queue_sms, message_retry

    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP = {**settings.SMS_HTTP, "url": "http://127.0.0.1:9/unreachable", "timeout": 1}
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = message_queue_sms(
        to="+212612345678", body="RAK : votre mot de passe Xy7kPq2mZa.", kind="password", sensitive=True
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "Xy7kPq2mZa" not in message.body
    with pytest.raises(RakError, match="ne peut pas être renvoyé"):
        message_retry(message_id=message.pk)


def test_the_scheduler_recovers_a_message_whose_task_died_with_a_worker(run_worker, sms_lines):
    """The periodic recovery is a scheduler job (« base.outbox_recover », every 5 minutes), not a
    self-rescheduling task chain: a queued message whose task row was lost is queued again."""
    from datetime import timedelta

    from django_tasks_db.models import DBTaskResult

    from rak_base import scheduler
    from rak_base.models import ScheduledJob
    from rak_base.outbox import message_queue_sms

    message = message_queue_sms(to="+212612345678", body="RAK : message resté en file.")
    DBTaskResult.objects.all().delete()  # the worker that held its task died
    stale_at = timezone.now() + timedelta(minutes=11)
    scheduler.jobs_sync(now=stale_at)
    ScheduledJob.objects.exclude(name="base.outbox_recover").update(enabled=False)
    assert scheduler.jobs_run_due(now=stale_at, worker="t") == ["base.outbox_recover"]
    row = ScheduledJob.objects.get(name="base.outbox_recover")
    assert row.last_result == "1 message(s) remis en file" and row.next_run_at == stale_at + timedelta(minutes=5)
    run_worker()
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENT
    assert any("message resté en file" in line for line in sms_lines())
