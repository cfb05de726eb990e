"""Defects left by the probe and the review of issue 11, fixed by the lead (each test failed first):
- a landline given at the counter got the « SMS de prise en charge » (an SMS to a fixed line is lost);
- an intervention could be planned in 9999 (« prévue le vendredi 31 décembre 9999 »);
- a credit note or an intervention order, seen by the customer, did not count as the first answer:
  the complaint was still escalated « aucune première réponse »."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest

from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import services
from rak_requests.complaints.interventions import InterventionOrder, InterventionRefused, intervention_order
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _file(now, *, phone="0612345678", category="fuite", staff_user=None):
    filing = services.ComplaintFiling(
        category=ComplaintCategory.objects.get(code=category),
        name="Client Test",
        phone=phone,
        message="Fuite devant le compteur",
        address="12 rue de la Mamora, Kénitra",
        source=Complaint.Source.INCIDENT,
        channel=Complaint.Channel.AGENCY if staff_user else Complaint.Channel.WEB,
    )
    return services.complaint_file(filing=filing, now=now, staff_user=staff_user)


def test_a_landline_given_at_the_counter_gets_no_sms_but_a_mobile_does(now):
    agent = StaffFactory()
    landline = _file(now, phone="0537372100", staff_user=agent)
    assert landline.phone == "+212537372100"  # kept to call the customer back
    assert not Message.objects.filter(channel="SMS", recipient="+212537372100").exists()
    _file(now, phone="0612345678", staff_user=agent)
    assert Message.objects.filter(channel="SMS", recipient="+212612345678").count() == 1


def test_an_intervention_planned_beyond_a_year_is_refused(now):
    agent = StaffFactory()
    complaint = _file(now)
    order = InterventionOrder(
        kind="LEAK_REPAIR", instructions="Réparer la fuite", planned_for=datetime.date(9999, 12, 31)
    )
    with pytest.raises(InterventionRefused, match="plus d'un an"):
        intervention_order(complaint_id=complaint.pk, staff_user=agent, order=order, now=now)
    ok = InterventionOrder(
        kind="LEAK_REPAIR", instructions="Réparer la fuite", planned_for=now.date() + timedelta(days=3)
    )
    assert intervention_order(complaint_id=complaint.pk, staff_user=agent, order=ok, now=now).pk


def test_an_action_the_customer_sees_is_the_first_answer_an_internal_one_is_not(now):
    agent = StaffFactory()
    complaint = _file(now)
    services.complaint_action_record(
        complaint_id=complaint.pk, staff_user=agent, body="Vérification interne", internal=True, now=now
    )
    complaint.refresh_from_db()
    assert complaint.first_answered_at is None
    later = now + timedelta(hours=1)
    order = InterventionOrder(kind="LEAK_REPAIR", instructions="Réparer la fuite")
    intervention_order(complaint_id=complaint.pk, staff_user=agent, order=order, now=later)
    complaint.refresh_from_db()
    assert complaint.first_answered_at == later and complaint.status == Complaint.Status.IN_PROGRESS
    assert complaint.assigned_to == agent
