"""A worker killed between the SMS gateway's answer and the commit sends the message again
(at-least-once delivery). Each SMS carries a client reference (``{reference}`` in the HTTP body
template) that stays the same across attempts, so the operator can drop the duplicate."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.utils import timezone

from rak_base.models import Message
from rak_base.outbox import message_deliver, message_queue_sms
from tests.integration.test_outbox import Gateway

pytestmark = pytest.mark.django_db


class Killed(Exception):
    """The worker process dying after the gateway answered, before its transaction committed."""


@pytest.fixture
def gateway(settings):
    with Gateway() as gw:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP = {
            "url": gw.url,
            "method": "POST",
            "user": "",
            "password": "",
            "timeout": 5,
            "body_template": '{"from": "{sender}", "to": "{to}", "text": "{text}", "client_ref": "{reference}"}',
            "content_type": "application/json",
        }
        yield gw


def test_the_same_reference_reaches_the_gateway_when_a_killed_worker_sends_again(gateway):
    gateway.status = 200
    message = message_queue_sms(to="+212612345678", body="Votre facture de mars est disponible.", kind="bill")

    with pytest.raises(Killed), transaction.atomic():
        message_deliver(message_id=message.pk, now=timezone.now())
        raise Killed  # the gateway accepted the SMS, the « sent » never reached the database
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED

    message_deliver(message_id=message.pk, now=timezone.now())
    message.refresh_from_db()
    assert message.status == Message.Status.SENT

    first, second = (json.loads(request["body"]) for request in gateway.requests)
    assert first["client_ref"] == second["client_ref"] == f"RAK-{message.pk}"
    assert first["text"] == second["text"] == "Votre facture de mars est disponible."


def test_the_reference_is_kept_across_a_refused_attempt_and_its_retry(gateway):
    gateway.status = 503
    message = message_queue_sms(to="+212612345678", body="Code client 1234.", kind="info")
    message_deliver(message_id=message.pk, now=timezone.now())
    gateway.status = 200
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    message_deliver(message_id=message.pk, now=timezone.now())
    other = message_queue_sms(to="+212612345678", body="Autre message.", kind="info")
    message_deliver(message_id=other.pk, now=timezone.now())

    references = [json.loads(request["body"])["client_ref"] for request in gateway.requests]
    assert references == [f"RAK-{message.pk}", f"RAK-{message.pk}", f"RAK-{other.pk}"]


def test_dev_backend_writes_the_reference_too(sms_lines):
    message = message_queue_sms(to="+212612345678", body="Bonjour.", kind="info")
    message_deliver(message_id=message.pk, now=timezone.now())
    [line] = sms_lines()
    assert json.loads(line)["reference"] == f"RAK-{message.pk}"
