"""The complaint services (rak_requests.complaints): filing, the thread, the staff's answers,
closure, reopening and rating — each refusal with its French message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints import selectors, services
from rak_requests.complaints.errors import (
    ComplaintAlreadyRated,
    ComplaintClosed,
    ComplaintRefused,
    ComplaintReopenExpired,
    ComplaintResultRequired,
    ComplaintThrottled,
)
from rak_requests.complaints.sla import SlaState, deadline_after
from tests.factories import DossierFactory, StaffFactory, customer_with_account

CASABLANCA = ZoneInfo("Africa/Casablanca")

pytestmark = pytest.mark.django_db


def _filing(**kwargs) -> services.ComplaintFiling:
    values = {
        "category": ComplaintCategory.objects.get(code="facturation"),
        "name": "Amina Alaoui",
        "phone": "0612345678",
        "message": "Ma facture de février est trop élevée.",
        "email": "amina@example.ma",
    }
    values.update(kwargs)
    return services.ComplaintFiling(**values)


def test_categories_seeded_with_their_deadlines():
    codes = set(ComplaintCategory.objects.values_list("code", flat=True))
    assert {
        "facturation",
        "releve-compteur",
        "coupure",
        "fuite",
        "qualite-eau",
        "branchement-travaux",
        "accueil",
        "autre",
    } <= codes
    fuite = ComplaintCategory.objects.get(code="fuite")
    assert fuite.is_urgent and fuite.is_incident and fuite.sla_hours < 48


def test_public_filing_numbers_and_sends_the_sms_de_prise_en_charge(now):
    complaint = services.complaint_file(filing=_filing(), now=now, ip="10.0.0.1")
    assert complaint.number.startswith(f"REC{now.year}-")
    assert complaint.status == Complaint.Status.NEW and complaint.customer is None
    assert complaint.phone == "+212612345678"
    sms = Message.objects.get(channel="SMS", recipient="+212612345678")
    assert complaint.number in sms.body and "prise en charge" in sms.body
    assert Message.objects.filter(channel="EMAIL", recipient="amina@example.ma").exists()
    entry = complaint.entries.get()
    assert entry.kind == ComplaintEntry.Kind.FILED and entry.body.startswith("Ma facture")


def test_public_filing_links_the_customer_only_when_code_and_phone_match(now):
    customer, _user = customer_with_account(phone="+212612345678")
    linked = services.complaint_file(filing=_filing(customer_code=customer.code.lower()), now=now)
    assert linked.customer == customer and linked.user is not None
    stranger = services.complaint_file(filing=_filing(customer_code=customer.code, phone="0698765432"), now=now)
    assert stranger.customer is None and stranger.customer_code_given == customer.code


def test_public_filing_needs_a_phone_and_is_throttled_per_phone(now):
    with pytest.raises(ComplaintRefused, match="téléphone"):
        services.complaint_file(filing=_filing(phone=""), now=now)
    with override_settings(COMPLAINT_PER_PHONE_DAILY=2):
        services.complaint_file(filing=_filing(), now=now)
        services.complaint_file(filing=_filing(), now=now)
        with pytest.raises(ComplaintThrottled, match="plusieurs réclamations"):
            services.complaint_file(filing=_filing(), now=now)


def test_logged_in_filing_refuses_another_customers_dossier(now):
    customer, user = customer_with_account()
    other = DossierFactory()
    with pytest.raises(ComplaintRefused, match="ne fait pas partie de vos abonnements"):
        services.complaint_file(filing=_filing(dossier_id=other.pk), customer=customer, user=user, now=now)
    own = DossierFactory(customer=customer)
    complaint = services.complaint_file(filing=_filing(dossier_id=own.pk), customer=customer, user=user, now=now)
    assert complaint.dossier == own and complaint.district == own.premises.district


def test_reply_close_reopen_rate(now):
    customer, user = customer_with_account()
    agent = StaffFactory()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    services.complaint_reply(
        complaint_id=complaint.pk,
        staff_user=agent,
        body="Pouvez-vous envoyer une photo du compteur ?",
        asks_information=True,
        now=now + timedelta(hours=1),
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.WAITING_CUSTOMER
    assert complaint.assigned_to == agent and complaint.first_answered_at == now + timedelta(hours=1)
    services.complaint_customer_add(
        complaint_id=complaint.pk,
        customer=customer,
        user=user,
        body="Voici l'index : 1234",
        now=now + timedelta(hours=2),
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS
    services.complaint_note(
        complaint_id=complaint.pk, staff_user=agent, body="Index cohérent", now=now + timedelta(hours=3)
    )
    with pytest.raises(ComplaintResultRequired):
        services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="  ", now=now)
    services.complaint_close(
        complaint_id=complaint.pk, staff_user=agent, result="Facture rectifiée par avoir.", now=now + timedelta(days=1)
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED
    closing_sms = Message.objects.filter(channel="SMS", body__contains="Facture rectifiée").get()
    assert complaint.number in closing_sms.body
    # the customer sees the thread without the internal note
    kinds = [e.kind for e in selectors.complaint_public_entries(complaint)]
    assert "NOTE" not in kinds and kinds[-1] == "CLOSED"
    with pytest.raises(ComplaintClosed):
        services.complaint_customer_add(complaint_id=complaint.pk, customer=customer, user=user, body="x", now=now)
    services.complaint_rate(
        complaint_id=complaint.pk, customer=customer, user=user, rating=4, now=now + timedelta(days=2)
    )
    with pytest.raises(ComplaintAlreadyRated):
        services.complaint_rate(complaint_id=complaint.pk, customer=customer, user=user, rating=5, now=now)
    services.complaint_reopen(
        complaint_id=complaint.pk,
        customer=customer,
        user=user,
        reason="Toujours trop élevée",
        now=now + timedelta(days=3),
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS and complaint.reopen_count == 1 and complaint.rating is None


def test_reopen_refused_after_the_configured_days(now):
    customer, user = customer_with_account()
    agent = StaffFactory()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="Réglé.", now=now)
    with override_settings(COMPLAINT_REOPEN_DAYS=15), pytest.raises(ComplaintReopenExpired, match="15 jours"):
        services.complaint_reopen(
            complaint_id=complaint.pk, customer=customer, user=user, reason="encore", now=now + timedelta(days=16)
        )


def test_another_customers_complaint_is_not_found(now):
    customer, user = customer_with_account()
    other, _ = customer_with_account(phone="+212611111111")
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    with pytest.raises(Complaint.DoesNotExist):
        selectors.complaint_for_customer(other, complaint.number)
    with pytest.raises(Complaint.DoesNotExist):
        services.complaint_rate(complaint_id=complaint.pk, customer=other, user=None, rating=1, now=now)


def test_deadlines_urgent_in_hours_others_in_working_days():
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=CASABLANCA)
    assert deadline_after(friday_evening, hours=12, urgent=True) == datetime(2026, 3, 7, 6, 0, tzinfo=CASABLANCA)
    # 72 h filed on a Friday evening: three working days later, Wednesday evening
    assert deadline_after(friday_evening, hours=72, urgent=False) == datetime(2026, 3, 11, 18, 0, tzinfo=CASABLANCA)


def test_queue_sla_filter_and_counters(now):
    agent = StaffFactory()
    urgent = services.complaint_file(
        filing=_filing(
            category=ComplaintCategory.objects.get(code="coupure"), source="INCIDENT", address="Rue 5, Saknia"
        ),
        now=now,
    )
    services.complaint_file(filing=_filing(), now=now)
    later = now + timedelta(hours=13)
    overdue = Complaint.objects.filter(selectors.complaint_queue_sla_filter(SlaState.OVERDUE, later))
    assert list(overdue) == [urgent]
    counters = selectors.complaint_counters(user=agent, now=later, day_start=later.replace(hour=0))
    assert counters.open == 2 and counters.overdue == 1 and counters.unassigned == 2 and counters.mine == 0


@pytest.mark.parametrize("lat,lon", [("91", "-6.5"), ("34.2", "181"), ("NaN", "1"), ("abc", "2")])
def test_incident_position_out_of_range_is_refused_not_a_500(now, lat, lon):
    filing = _filing(
        category=ComplaintCategory.objects.get(code="fuite"), source="INCIDENT", latitude=lat, longitude=lon
    )
    with pytest.raises(ComplaintRefused, match="position"):
        services.complaint_file(filing=filing, now=now)


def test_incident_position_is_kept(now):
    filing = _filing(
        category=ComplaintCategory.objects.get(code="fuite"),
        source="INCIDENT",
        latitude="34.2610123",
        longitude="-6.5802",
    )
    complaint = services.complaint_file(filing=filing, now=now)
    assert str(complaint.latitude) == "34.261012" and str(complaint.longitude) == "-6.580200"


def test_staff_alerts_come_from_the_templates(now):
    """Assignment, a customer's message and a reopening tell the staff through the editable
    templates (complaint.assigned, complaint.customer_message, complaint.reopened)."""
    customer, user = customer_with_account()
    boss, agent = StaffFactory(), StaffFactory()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    services.complaint_assign(complaint_id=complaint.pk, staff_user=boss, assignee=agent, now=now)
    services.complaint_customer_add(complaint_id=complaint.pk, customer=customer, user=user, body="Index 1234", now=now)
    services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="Réglé.", now=now)
    services.complaint_reopen(complaint_id=complaint.pk, customer=customer, user=user, reason="Pas réglé", now=now)
    bells = Message.objects.filter(channel="BELL", user=agent).order_by("id")
    assert [m.kind for m in bells] == ["complaint"] * 3
    assert all(complaint.number in (m.subject + m.body) for m in bells)
    assert "Index 1234" in bells[1].body and "Pas réglé" in bells[2].body
