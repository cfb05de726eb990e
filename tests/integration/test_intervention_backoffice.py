"""Field intervention orders in the back office (rak_requests.admin_interventions) and the
resolving actions posted through the helpdesk's complaint page: the technical team's list and
filters, « Marquer réalisée » (report into the complaint's thread, the agent in charge told),
« Annuler », the printable order, permissions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from rak_base import clock
from rak_base.models import Message
from rak_billing.models import Bill
from rak_requests.complaint_models import ComplaintCategory, ComplaintEntry, FieldIntervention
from rak_requests.complaints import selectors, services
from rak_requests.complaints.interventions import InterventionOrder, intervention_order
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data, followed_messages

pytestmark = pytest.mark.django_db


def _complaint(*, customer, user=None, category="fuite", **filing):
    values = {
        "category": ComplaintCategory.objects.get(code=category),
        "name": "Amina Alaoui",
        "phone": "",
        "message": "Fuite d'eau devant mon compteur.",
    }
    values.update(filing)
    return services.complaint_file(
        filing=services.ComplaintFiling(**values), customer=customer, user=user, now=clock.now()
    )


@pytest.fixture
def ordered():
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer)
    complaint = _complaint(customer=customer, user=user, dossier_id=dossier.pk)
    agent = staff_in("accueil", username="agent.accueil")
    services.complaint_take(complaint_id=complaint.pk, staff_user=agent, now=clock.now())
    order = intervention_order(
        complaint_id=complaint.pk,
        staff_user=agent,
        order=InterventionOrder(kind="LEAK_REPAIR", instructions="Couper la vanne, réparer le raccord."),
        now=clock.now(),
    )
    return complaint, order, agent, user


def _post_done(client, order, **fields):
    url = reverse("admin:rak_requests_fieldintervention_change", args=[order.pk])
    data = changeform_data(client.get(url))
    data.update({key: [value] for key, value in fields.items()})
    return client.post(url, data)


def test_technician_marks_done_and_the_report_reaches_the_thread_and_the_agent(client, ordered):
    complaint, order, agent, customer_user = ordered
    technician = staff_in("technique", client=client, username="tech.reseau")
    url = reverse("admin:rak_requests_fieldintervention_change", args=[order.pk])
    page = client.get(url).content.decode()
    assert order.number in page and "Marquer réalisée" in page and "Couper la vanne" in page

    # without a report: refused in French, nothing changes
    messages = followed_messages(client, _post_done(client, order, rak_requests_fieldintervention_mark_done=""))
    assert any("Rédigez le compte rendu" in m for m in messages)
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.PENDING

    report = "Raccord remplacé, fuite arrêtée, compteur vérifié."
    messages = followed_messages(
        client, _post_done(client, order, report_text=report, rak_requests_fieldintervention_mark_done="")
    )
    assert any("Intervention réalisée" in m for m in messages)
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.DONE and order.report == report
    assert order.done_by == technician and order.done_at is not None
    public = list(selectors.complaint_public_entries(complaint).filter(kind=ComplaintEntry.Kind.ACTION))
    assert any(report in e.body for e in public)  # the customer sees the report in « Mes réclamations »
    assert Message.objects.filter(channel="BELL", user=agent, subject__contains=order.number).exists()
    assert Message.objects.filter(channel="BELL", user=customer_user, body__contains=report).exists()  # told
    assert not Message.objects.filter(channel="SMS", body__contains=report).exists()  # the closure brings the SMS
    assert "Marquer réalisée" not in client.get(url).content.decode()  # nothing left to do


def test_internal_report_stays_out_of_the_customers_thread(client, ordered):
    complaint, order, _agent, _user = ordered
    staff_in("technique", client=client)
    _post_done(
        client,
        order,
        report_text="Branchement illicite constaté chez le voisin.",
        report_internal="on",
        rak_requests_fieldintervention_mark_done="",
    )
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.DONE
    entry = complaint.entries.get(data__action="intervention_done")
    assert entry.internal
    assert not Message.objects.filter(body__contains="Branchement illicite").exclude(channel="BELL").exists()
    assert not Message.objects.filter(user=_user, body__contains="Branchement illicite").exists()
    assert not selectors.complaint_public_entries(complaint).filter(pk=entry.pk).exists()


def test_cancel_needs_a_reason(client, ordered):
    complaint, order, _agent, _user = ordered
    staff_in("technique", client=client)
    messages = followed_messages(client, _post_done(client, order, rak_requests_fieldintervention_cancel=""))
    assert any("motif de l'annulation" in m for m in messages)
    _post_done(client, order, cancel_reason="Doublon de l'ordre précédent", rak_requests_fieldintervention_cancel="")
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.CANCELLED and "Doublon" in order.report
    entry = complaint.entries.get(data__action="intervention_cancelled")
    assert entry.internal


def test_only_the_technical_team_completes_an_order(client, ordered):
    _complaint_, order, _agent, _user = ordered
    staff_in("facturation", client=client)  # may view orders, may not carry them out
    url = reverse("admin:rak_requests_fieldintervention_change", args=[order.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Marquer réalisée" not in page.content.decode()
    client.post(url, {"report_text": "Fait", "rak_requests_fieldintervention_mark_done": ""})
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.PENDING


def test_list_filters_overdue_and_query_count(client, ordered, django_assert_max_num_queries):
    complaint, order, agent, _user = ordered
    today = timezone.localdate(clock.now())  # the régie's day (UTC's is the day before until 01:00)
    FieldIntervention.objects.filter(pk=order.pk).update(planned_for=today - timedelta(days=2), district="Hay Salam")
    for k in range(5):
        intervention_order(
            complaint_id=complaint.pk,
            staff_user=agent,
            order=InterventionOrder(
                kind="METER_CHECK",
                instructions=f"Contrôle {k}",
                planned_for=today + timedelta(days=k),
                district="Centre",
            ),
            now=clock.now(),
        )
    staff_in("technique", client=client)
    listing = reverse("admin:rak_requests_fieldintervention_changelist")
    with django_assert_max_num_queries(20):
        page = client.get(listing).content.decode()
    assert page.count("OI") >= 6 and 'data-testid="late"' in page
    overdue = client.get(listing, {"overdue": "yes"}).content.decode()
    assert order.number in overdue
    assert not any(o.number in overdue for o in FieldIntervention.objects.filter(kind="METER_CHECK"))
    by_district = client.get(listing, {"district": "Hay Salam"}).content.decode()
    assert order.number in by_district
    by_kind = client.get(listing, {"kind__exact": "METER_CHECK"}).content.decode()
    assert order.number not in by_kind


def test_printable_order_is_a_pdf(client, ordered):
    _complaint_, order, _agent, _user = ordered
    staff_in("technique", client=client)
    response = client.get(reverse("admin:rak_requests_fieldintervention_print_order", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


# --- resolving actions through the helpdesk's complaint page (H3's URL) --------------------------------


def _as_shown(complaint, data: dict) -> dict:
    """The post of the complaint's page: with the « dernière activité » it showed (stale check)."""
    complaint.refresh_from_db()
    return {**data, "expected_updated_at": complaint.updated_at.isoformat()}


def test_credit_note_through_the_complaint_page_and_403_without_permission(client):
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer)
    bill = bill_create(dossier=dossier, consumption=120)
    complaint = _complaint(customer=customer, user=user, category="facturation", bill_id=bill.pk)
    url = reverse("admin:rak_requests_complaint_action", args=[complaint.pk, "credit_note"])
    data = {"credit_note-amount": "30", "credit_note-reason": "Geste commercial"}

    staff_in("accueil", client=client)  # handles complaints, may not issue credit notes
    assert client.post(url, _as_shown(complaint, data)).status_code == 403
    assert not Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).exists()

    staff_in("facturation", client=client)
    response = client.post(url, _as_shown(complaint, data))
    assert response.status_code == 302, response.content.decode()[-3000:]
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE)
    assert note.total_ttc == Decimal("30.00")
    assert complaint.entries.filter(kind=ComplaintEntry.Kind.ACTION, data__credit_note_number=note.number).exists()

    # above what is left to credit: the French message on the page, nothing issued
    response = client.post(url, _as_shown(complaint, {"credit_note-amount": "9999", "credit_note-reason": "x"}))
    assert response.status_code == 400
    assert "ne peut pas dépasser" in response.content.decode()
    assert Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).count() == 1


def test_intervention_order_through_the_complaint_page(client):
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer)
    complaint = _complaint(customer=customer, user=user, dossier_id=dossier.pk)
    url = reverse("admin:rak_requests_complaint_action", args=[complaint.pk, "intervention"])
    data = {"intervention-kind": "LEAK_REPAIR", "intervention-instructions": "Réparer"}
    staff_in("recouvrement", client=client)  # no add_fieldintervention
    assert client.post(url, _as_shown(complaint, data)).status_code == 403
    staff_in("accueil", client=client)
    assert client.post(url, _as_shown(complaint, data)).status_code == 302
    assert FieldIntervention.objects.filter(complaint=complaint, kind="LEAK_REPAIR").count() == 1


def test_the_complaint_page_offers_the_actions_each_agent_may_take(client):
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer)
    bill = bill_create(dossier=dossier, consumption=120)
    complaint = _complaint(customer=customer, user=user, category="facturation", bill_id=bill.pk, dossier_id=dossier.pk)
    url = reverse("admin:rak_requests_complaint_change", args=[complaint.pk])
    staff_in("facturation", client=client)
    page = client.get(url).content.decode()
    for code in ("credit_note", "reading_review", "intervention"):
        assert f'data-testid="action-{code}"' in page
    assert "Émettre un avoir" in page and "Envoyer le relevé en vérification" in page
    staff_in("accueil", client=client)
    page = client.get(url).content.decode()
    assert 'data-testid="action-credit_note"' not in page and 'data-testid="action-intervention"' in page
