"""The self-reading customer corrects (or cancels) their own reading while the window is open and
before it is billed or reviewed; an implausible index asks for confirmation before it is saved
(a typo of 99,999,999 was accepted, then stuck until the next window)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from rak_base import clock
from rak_billing.models import MeterReading
from rak_billing.readings import reading_review
from tests.factories import StaffFactory, customer_with_account
from tests.reading_factories import (
    MeterReadingFactory,
    ReadingRoundFactory,
    dossier_in_round,
    monthly_history,
    png_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture
def customer_dossier():
    ReadingRoundFactory(code="T01", window_start_day=1, window_days=7)  # 01/03 -> 07/03: open on 02/03
    customer, user = customer_with_account(phone="+212611000001")
    dossier = dossier_in_round("T01", customer=customer)
    return customer, user, dossier


def rendered(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def submit(client, dossier, index, **extra):
    url = reverse("portal:self_reading_dossier", args=[dossier.number])
    return client.post(url, {"index": index, "photo": png_upload(), **extra})


def test_a_typo_asks_for_confirmation_and_nothing_is_saved_until_confirmed(client, customer_dossier):
    _customer, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    client.force_login(user)
    response = submit(client, dossier, "99999999")
    html = rendered(response)
    assert response.status_code == 400
    assert "Vérifiez l'index saisi" in html and 'name="confirm"' in html
    assert not MeterReading.objects.filter(dossier=dossier, source=MeterReading.Source.SELF).exists()
    # a sensible index goes through without any question
    assert submit(client, dossier, "1262").status_code == 302
    assert MeterReading.objects.get(dossier=dossier, source="SELF").index == 1262


def test_consumption_far_above_the_average_asks_then_confirmed_is_held(client, customer_dossier):
    _customer, user, dossier = customer_dossier
    monthly_history(dossier, last=datetime.date(2026, 2, 1), per_month=10)  # ends at 1060, 10 a month
    client.force_login(user)
    html = rendered(submit(client, dossier, "1400"))
    assert "Vérifiez l'index saisi" in html and "340" in html  # the consumption it gives
    assert not MeterReading.objects.filter(dossier=dossier, source="SELF").exists()
    assert submit(client, dossier, "1400", confirm="on").status_code == 302
    assert MeterReading.objects.get(dossier=dossier, source="SELF").status == MeterReading.Status.HELD


def test_own_reading_corrected_while_the_window_is_open(client, customer_dossier):
    _customer, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    client.force_login(user)
    assert submit(client, dossier, "1262").status_code == 302
    first = MeterReading.objects.get(dossier=dossier, source="SELF")
    page = rendered(client.get(reverse("portal:self_reading")))
    correct_url = reverse("portal:reading_correct", args=[first.pk])
    assert correct_url in page and "Corriger" in page

    response = client.post(correct_url, {"action": "corriger", "index": "1265"}, follow=True)
    html = rendered(response)
    assert "flash-success" in html and "1\u00a0265" in html
    first.refresh_from_db()
    assert first.status == MeterReading.Status.REJECTED and "corrigé" in first.review_note.lower()
    live = MeterReading.objects.exclude(status="REJECTED").get(dossier=dossier, source="SELF")
    assert live.index == 1265 and live.consumption == 15 and live.photo.name == first.photo.name  # photo kept


def test_own_reading_cancelled_then_read_again(client, customer_dossier):
    _customer, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    client.force_login(user)
    submit(client, dossier, "1262")
    reading = MeterReading.objects.get(dossier=dossier, source="SELF")
    client.post(reverse("portal:reading_correct", args=[reading.pk]), {"action": "annuler"})
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.REJECTED
    form = rendered(client.get(reverse("portal:self_reading_dossier", args=[dossier.number])))
    assert "Envoyer mon index" in form
    assert submit(client, dossier, "1263").status_code == 302


def test_no_correction_once_reviewed_or_for_an_agent_reading_or_another_customer(client, customer_dossier, now):
    _customer, user, dossier = customer_dossier
    monthly_history(dossier, last=datetime.date(2026, 2, 1), per_month=10)
    client.force_login(user)
    submit(client, dossier, "1400", confirm="on")
    held = MeterReading.objects.get(dossier=dossier, source="SELF")
    reading_review(reading_id=held.pk, staff_user=StaffFactory(), accept=True, now=now)
    response = client.post(reverse("portal:reading_correct", args=[held.pk]), {"action": "corriger", "index": "1070"})
    assert response.status_code in (302, 400)
    held.refresh_from_db()
    assert held.status == MeterReading.Status.ACCEPTED and held.index == 1400
    agent = MeterReading.objects.filter(dossier=dossier, source="AGENT").first()
    client.post(reverse("portal:reading_correct", args=[agent.pk]), {"action": "annuler"})
    agent.refresh_from_db()
    assert agent.status == MeterReading.Status.ACCEPTED
    _other, stranger = customer_with_account(phone="+212611000009")
    client.force_login(stranger)
    assert client.post(reverse("portal:reading_correct", args=[held.pk]), {"action": "annuler"}).status_code == 404
