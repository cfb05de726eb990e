"""The requests' back office: queues with counters, overdue and « mes demandes » filters, the
request page's action buttons, the attachments viewer, the history, the low-code editing of types,
phases and documents, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_requests.models import Phase, RequestEvent, ServiceRequest
from rak_requests.services import attachment_add, request_note
from tests.factories import StaffFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data, followed_messages, page_messages
from tests.request_factories import ServiceRequestFactory, pdf_upload, subscription_type

pytestmark = pytest.mark.django_db

LIST = reverse("admin:rak_requests_servicerequest_changelist")


@pytest.fixture
def agent(client):
    user = staff_in("accueil", first_name="Salma")
    client.force_login(user)
    return user


def change_url(r) -> str:
    return reverse("admin:rak_requests_servicerequest_change", args=[r.pk])


def form_data(client, url) -> dict[str, list]:
    data = changeform_data(client.get(url))
    if data.get("documents") == [""]:
        del data["documents"]  # unchecked boxes are not posted by a browser
    return data


def press(client, r, button: str, **fields):
    url = change_url(r)
    data = form_data(client, url)
    data.update({key: [value] for key, value in fields.items()})
    data[f"rak_requests_servicerequest_{button}"] = [""]
    return client.post(url, data)


def test_queue_counters_and_overdue_filter_oldest_first(client, agent):
    now = clock.now()
    on_time = ServiceRequestFactory(filed_at=now, phase_due_at=now + timedelta(days=3))
    late = ServiceRequestFactory(filed_at=now - timedelta(days=20), phase_due_at=now - timedelta(days=2))
    later = ServiceRequestFactory(filed_at=now - timedelta(days=30), phase_due_at=now - timedelta(days=9))
    mine = ServiceRequestFactory(filed_at=now, phase_due_at=now + timedelta(days=1), assigned_to=agent)
    ServiceRequestFactory(status=ServiceRequest.Status.REJETEE, phase_due_at=now - timedelta(days=50))  # closed

    page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200
    row = html.split('data-testid="queue-row"')[1]
    assert "Recevabilité administrative" in row
    assert '<td class="p-2" data-testid="queue-total">4</td>' in row
    assert 'data-testid="queue-overdue">2</a>' in row
    assert page.context["queue_totals"] == {"total": 4, "complement": 0, "overdue": 2, "mine": 1}

    overdue = client.get(LIST + "?overdue=1")
    assert [r.number for r in overdue.context["cl"].result_list] == [later.number, late.number]
    assert "⚠" in overdue.content.decode()
    assert [r.number for r in client.get(LIST + "?mine=1").context["cl"].result_list] == [mine.number]
    assert on_time.number in html


def test_request_page_actions_complement_accept_reject(client, agent):
    customer, _ = customer_with_account(phone="+212612000020")
    r = ServiceRequestFactory(customer=customer)
    attachment_add(request=r, file=pdf_upload("cin.pdf"), now=clock.now(), label="Copie de la CIN")
    request_note(request_id=r.pk, staff=agent, text="Vérifier l'adresse", now=clock.now())
    page = client.get(change_url(r))
    html = page.content.decode()
    for label in ("Accepter la phase", "Demander un complément", "Rejeter", "Affecter", "Note interne"):
        assert label in html
    assert "Vérifier l&#x27;adresse" in html  # internal notes are shown to staff
    assert reverse("admin:rak_customer_customer_change", args=[customer.pk]) in html  # customer 360

    # the complement needs a message
    refused = press(client, r, "ask_complement", action_message="")
    assert any("Indiquez au client ce qui manque" in m for m in followed_messages(client, refused))
    bail = r.request_type.documents.order_by("position").last()
    asked = press(client, r, "ask_complement", action_message="Joignez le contrat de bail.", documents=str(bail.pk))
    assert asked["Location"] == change_url(r)
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.COMPLEMENT_DEMANDE
    assert Message.objects.filter(channel="SMS", recipient="+212612000020", body__contains="contrat de bail").exists()
    assert r.events.get(kind=RequestEvent.Kind.COMPLEMENT_ASKED).data["documents"] == [bail.label]
    # while the customer's answer is awaited, no acceptance button
    assert "Accepter la phase" not in client.get(change_url(r)).content.decode()

    ServiceRequest.objects.filter(pk=r.pk).update(status=ServiceRequest.Status.EN_COURS)
    accepted = press(client, r, "accept_phase")
    assert any("phase acceptée" in m for m in followed_messages(client, accepted))
    r.refresh_from_db()
    assert r.phase.code == "RECEVABILITE_TECH"

    rejected = press(client, r, "reject", action_message="Local non raccordable")
    followed_messages(client, rejected)
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.REJETEE
    assert r.events.filter(kind=RequestEvent.Kind.REJECTED, message="Local non raccordable").exists()
    closed_page = client.get(change_url(r))
    buttons = [a.description for a in closed_page.context["actions_submit_line"]]
    assert buttons == ["Note interne"]  # closed: only a note may still be added


def test_stale_page_cannot_accept_twice(client, agent):
    r = ServiceRequestFactory()
    url = change_url(r)
    data = form_data(client, url)  # the page as loaded, in Recevabilité administrative
    data["rak_requests_servicerequest_accept_phase"] = [""]
    client.post(url, data)
    second = client.post(url, data)  # the same stale page posted again
    assert any("a changé depuis l'affichage de votre page" in m for m in followed_messages(client, second))
    r.refresh_from_db()
    assert r.phase.code == "RECEVABILITE_TECH"
    assert r.events.filter(kind=RequestEvent.Kind.PHASE).count() == 1


def test_assign_and_note_from_the_page(client, agent):
    colleague = StaffFactory(username="karim")
    r = ServiceRequestFactory()
    press(client, r, "assign", agent=str(colleague.pk))
    r.refresh_from_db()
    assert r.assigned_to == colleague
    press(client, r, "add_note", action_message="Rappeler lundi")
    assert r.events.filter(kind=RequestEvent.Kind.NOTE, internal=True, message="Rappeler lundi").exists()


def test_attachment_viewer_opens_inline_for_staff_only(client, agent):
    r = ServiceRequestFactory()
    attachment = attachment_add(request=r, file=pdf_upload("bail.pdf"), now=clock.now())
    url = reverse("admin:rak_requests_servicerequest_attachment", args=[r.pk, attachment.pk])
    assert url in client.get(change_url(r)).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    other = ServiceRequestFactory()
    assert (
        client.get(reverse("admin:rak_requests_servicerequest_attachment", args=[other.pk, attachment.pk])).status_code
        == 404
    )

    client.force_login(staff_in("facturation"))  # no right on requests
    assert client.get(url).status_code == 403
    customer, user = customer_with_account(phone="+212612000021")
    client.force_login(user)
    assert client.get(url).status_code == 302  # to the back-office login


def test_supervisor_edits_phases_and_documents_with_history(client):
    supervisor = staff_in("superviseur")
    client.force_login(supervisor)
    request_type = subscription_type()
    phase = request_type.phases.get(code=Phase.Code.RECEVABILITE_ADMIN)
    url = reverse("admin:rak_requests_phase_change", args=[phase.pk])
    data = changeform_data(client.get(url))
    data.update({"name": ["Vérification des pièces"], "sla_days": ["3"]})
    response = client.post(url, data)
    assert response.status_code == 302, page_messages(client.get(url))
    phase.refresh_from_db()
    assert (phase.name, phase.sla_days) == ("Vérification des pièces", 3)
    assert phase.history.first().name == "Vérification des pièces"  # who changed what, kept
    assert client.get(reverse("admin:rak_requests_phase_history", args=[phase.pk])).status_code == 200
    # a request entering the phase from now on gets the new deadline
    r = ServiceRequestFactory(request_type=request_type, phase=phase)
    assert r.phase_due_at == r.filed_at + timedelta(days=3)

    document = request_type.documents.order_by("position").first()
    url = reverse("admin:rak_requests_requireddocument_change", args=[document.pk])
    data = changeform_data(client.get(url))
    data.update({"max_bytes": ["1048576"], "allowed_kinds": ["pdf"]})
    assert client.post(url, data).status_code == 302
    document.refresh_from_db()
    assert document.max_bytes == 1048576 and document.allowed_kinds == "pdf"

    client.force_login(staff_in("accueil"))  # the front desk reads the setup, does not change it
    assert client.post(url, data).status_code == 403


def test_queue_page_query_count_does_not_grow_with_requests(client, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    ServiceRequestFactory(assigned_to=agent)
    before = count()
    for _ in range(8):
        ServiceRequestFactory(assigned_to=StaffFactory())
    assert count() == before
