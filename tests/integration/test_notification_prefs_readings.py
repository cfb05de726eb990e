"""« Relevés » × SMS turned off in « Mes notifications » holds back the reading notices' SMS too
(issue 13): they were queued without the account, so the outbox could not read the preference."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from rak_base import clock
from rak_base.models import Message
from rak_base.notification_preferences import notification_preferences_set
from rak_billing.readings.services import readings_notify_held
from tests.factories import customer_with_account
from tests.reading_factories import MeterReadingFactory, dossier_in_round

pytestmark = pytest.mark.django_db


def test_held_reading_sms_honours_the_readings_preference_and_shares_the_bells_event():
    quiet, quiet_user = customer_with_account(phone="+212612000011")
    notification_preferences_set(user=quiet_user, choices={("READINGS", "SMS"): False}, now=clock.now())
    other, other_user = customer_with_account(phone="+212612000012")
    today = timezone.localdate(clock.now())
    readings = []
    for customer in (quiet, other):
        dossier = dossier_in_round("T-PREF", customer=customer)
        readings.append(
            MeterReadingFactory(dossier=dossier, reading_date=today - datetime.timedelta(days=2), index=Decimal(4000))
        )

    readings_notify_held(readings)

    quiet_sms = Message.objects.get(channel="SMS", recipient="+212612000011")
    assert quiet_sms.user == quiet_user and quiet_sms.status == Message.Status.SKIPPED
    other_sms = Message.objects.get(channel="SMS", recipient="+212612000012")
    assert other_sms.status == Message.Status.QUEUED
    bell = Message.objects.get(channel="BELL", user=other_user)
    assert other_sms.event and bell.event == other_sms.event  # one notice in the bell
