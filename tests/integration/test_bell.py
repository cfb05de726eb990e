"""The bell (« Notifications »): one line per event, whatever the number of channels it went out
on, with the channels named; the unread counter counts events, not copies."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_requests.services import request_accept_phase
from tests.factories import StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


def test_an_event_sent_by_sms_email_and_bell_is_listed_once_with_its_channels(client, now):
    customer, user = customer_with_account(phone="+212612000001", email="amina@example.ma")
    request_ = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=request_.pk, staff=StaffFactory(), now=now, expect_phase="RECEVABILITE_ADMIN")
    channels = set(Message.objects.filter(user=user, kind="request").values_list("channel", flat=True))
    assert channels == {"SMS", "EMAIL", "BELL"}  # the event went out three times

    client.force_login(user)
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="unread-count">1<' in dashboard

    html = client.get(reverse("portal:notifications")).content.decode()
    items = re.findall(r"<li[^>]*>(.*?)</li>", html, re.S)
    about_request = [item for item in items if request_.number in item]
    assert len(about_request) == 1, about_request
    assert "SMS" in about_request[0] and "E-mail" in about_request[0]
    # opening the bell marks every copy read
    assert not Message.objects.filter(user=user, read_at__isnull=True).exists()
    assert 'data-testid="unread-count"' not in client.get(reverse("portal:dashboard")).content.decode()


def test_two_events_stay_two_lines(client, now):
    customer, user = customer_with_account(phone="+212612000002", email="karim@example.ma")
    first = ServiceRequestFactory(customer=customer)
    second = ServiceRequestFactory(customer=customer)
    staff = StaffFactory()
    request_accept_phase(request_id=first.pk, staff=staff, now=now)
    request_accept_phase(request_id=second.pk, staff=staff, now=now)
    client.force_login(user)
    assert 'data-testid="unread-count">2<' in client.get(reverse("portal:dashboard")).content.decode()
    html = client.get(reverse("portal:notifications")).content.decode()
    items = re.findall(r"<li[^>]*>(.*?)</li>", html, re.S)
    assert sum(first.number in item for item in items) == 1
    assert sum(second.number in item for item in items) == 1
