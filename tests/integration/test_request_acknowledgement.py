"""The acknowledgement of a request filed online reads as a sentence in the bell and the e-mail:
« Votre demande de résiliation a bien été reçue et prise en charge. » (it began « votre … » — the
bell showed a lower-case first word, the e-mail « Bonjour,\\n\\nvotre … »)."""

from __future__ import annotations

import pytest

from rak_base.models import Message
from tests.integration.test_termination_pages import (  # noqa: F401 - fixtures
    PHONE,
    account,
    file_through_the_flow,
    fixed_now,
    logged,
)

pytestmark = pytest.mark.django_db


def test_acknowledgement_starts_with_a_capital_in_the_bell_and_the_email(logged, sms_outbox, fixed_now):  # noqa: F811
    filed = file_through_the_flow(logged, sms_outbox)

    bell = Message.objects.get(channel=Message.Channel.BELL, kind="request", subject__contains=filed.number)
    assert bell.body.startswith("Votre demande de résiliation a bien été reçue et prise en charge.")
    email = Message.objects.get(channel=Message.Channel.EMAIL, kind="request", recipient="nadia@example.ma")
    assert "Bonjour,\n\nVotre demande de résiliation a bien été reçue" in email.body
    assert any(f"{filed.number} — Votre demande de résiliation" in body for body in sms_outbox.bodies(PHONE))
