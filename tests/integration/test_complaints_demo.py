"""``manage.py demo_complaints --if-empty``: the demo helpdesk has work in every state, and the
demo customer sees complaints in « Mes réclamations »; a second run does nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from rak_customer.demo import DEMO_STAFF_USERNAME, demo_data_load, demo_logins_ensure
from rak_requests.complaint_models import Complaint

pytestmark = pytest.mark.django_db


def test_demo_complaints(now):
    demo_data_load(count=12, now=now, use_copy=False)
    demo_logins_ensure(now=now)
    call_command("demo_complaints", "--if-empty", "--count", "12", verbosity=0)
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses == {"NEW", "IN_PROGRESS", "WAITING_CUSTOMER", "CLOSED"}
    demo_customer_complaints = Complaint.objects.filter(customer__portal_account__isnull=False)
    assert demo_customer_complaints.count() >= 2 and all(c.user_id for c in demo_customer_complaints)
    assert Complaint.objects.filter(status="CLOSED", rating__isnull=False).exists()
    assert Complaint.objects.filter(assigned_to__username=DEMO_STAFF_USERNAME).exists()
    before = Complaint.objects.count()
    call_command("demo_complaints", "--if-empty", verbosity=0)
    assert Complaint.objects.count() == before
