"""« Suivi des demandes » as the customer sees it: the list with the red triangle, the detail page
(phase bar, state, expected date, summary, history), « Répondre » to a complement request,
« Annuler la demande », attachments through the access-checked view, 404s for other customers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_requests.models import RequestEvent, ServiceRequest
from rak_requests.services import (
    attachment_add,
    request_accept_phase,
    request_ask_complement,
    request_note,
    request_reject,
)
from tests.factories import StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory, exe_renamed_pdf, pdf_upload, termination_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return customer_with_account(phone="+212612000010", email="nadia@example.ma", first_name="Nadia")


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def test_list_shows_the_requests_with_the_red_triangle_when_an_action_is_expected(logged, account, now):
    customer, _ = account
    quiet = ServiceRequestFactory(customer=customer)
    waiting = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=waiting.pk, staff=StaffFactory(), message="Joignez le bail.", now=now)
    closed = ServiceRequestFactory(customer=customer, request_type=termination_type())
    request_reject(request_id=closed.pk, staff=StaffFactory(), reason="Impayés", now=now)
    ServiceRequestFactory()  # another customer's

    page = logged.get(reverse("portal:requests"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="request-row"') == 3
    assert html.count('data-testid="action-expected"') == 1
    rows = html.split('data-testid="request-row"')[1:]
    waiting_row = next(row for row in rows if waiting.number in row)
    assert 'data-testid="action-expected"' in waiting_row
    assert "Répondre à la demande de complément" in waiting_row
    assert "En cours : aucune action" in next(row for row in rows if quiet.number in row)
    closed_row = next(row for row in rows if closed.number in row)
    assert "Rejeté" in closed_row and "Demande de résiliation" in closed_row
    assert now.strftime("%d/%m/%Y") in closed_row  # date de traitement
    assert reverse("portal:request_detail", args=[waiting.number]) in waiting_row  # the magnifier
    assert "Suivi des demandes" in html  # the sidebar entry


def test_detail_shows_phase_bar_state_expected_date_summary_and_public_history(logged, account, now):
    customer, _ = account
    r = ServiceRequestFactory(customer=customer, data={"Usage": "Domestique", "Calibre": "15 mm"})
    staff = StaffFactory()
    attachment_add(request=r, file=pdf_upload(), now=now, label="Copie de la CIN")
    request_accept_phase(request_id=r.pk, staff=staff, now=now)
    request_note(request_id=r.pk, staff=staff, text="Vérifier le bail du propriétaire", now=now)

    html = logged.get(reverse("portal:request_detail", args=[r.number])).content.decode()
    bar = html.split('data-testid="phase-bar"')[1].split("</ol>")[0]
    assert '<li class="done">✓ Recevabilité administrative' in bar
    assert 'class="current" aria-current="step">Recevabilité technique' in bar
    assert "Pose du compteur" in bar
    assert "Appeler le service client" in html
    r.refresh_from_db()
    expected = (now + timedelta(days=r.phase.sla_days)).strftime("%d/%m/%Y")
    assert expected in html.split('data-testid="expected-date"')[1][:40]
    assert "15 mm" in html and customer.code in html and "Copie de la CIN" in html
    assert "Recevabilité technique" in html.split('data-testid="history"')[1]
    assert "bail du propriétaire" not in html  # internal notes stay internal
    assert 'data-testid="cancel-link"' not in html  # a phase was accepted: no cancel


def test_complement_answer_through_the_page(logged, account, now):
    customer, user = account
    r = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=r.pk, staff=StaffFactory(), message="La CIN est illisible.", now=now)
    detail = reverse("portal:request_detail", args=[r.number])
    html = logged.get(detail).content.decode()
    assert "La CIN est illisible." in html.split('data-testid="complement"')[1]
    assert "Répondre" in html

    answer = reverse("portal:request_answer", args=[r.number])
    empty = logged.post(answer, {"text": ""})
    assert empty.status_code == 400 and "Saisissez une réponse ou joignez un fichier." in empty.content.decode()
    bad = logged.post(answer, {"text": "", "file": exe_renamed_pdf()})
    assert bad.status_code == 400 and "format accepté" in bad.content.decode()

    done = logged.post(answer, {"text": "Voici la nouvelle copie.", "file": pdf_upload("cin-recto.pdf")}, follow=True)
    html = done.content.decode()
    assert "de nouveau en cours" in html
    assert "En cours : aucune action" in html
    assert "Voici la nouvelle copie." in html.split('data-testid="history"')[1]
    assert "cin-recto.pdf" in html.split('data-testid="attachments"')[1]
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.EN_COURS
    attachment = r.attachments.get()
    download = logged.get(reverse("portal:request_attachment", args=[attachment.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_cancel_with_confirmation_then_no_more_cancel(logged, account):
    customer, _ = account
    r = ServiceRequestFactory(customer=customer)
    detail = reverse("portal:request_detail", args=[r.number])
    assert 'data-testid="cancel-link"' in logged.get(detail).content.decode()
    confirm = logged.get(reverse("portal:request_cancel", args=[r.number]))
    assert "Voulez-vous vraiment annuler" in confirm.content.decode()
    done = logged.post(reverse("portal:request_cancel", args=[r.number]), follow=True)
    html = done.content.decode()
    assert f"Votre demande {r.number} a été annulée." in html
    assert "Annulé" in html and 'data-testid="cancel-link"' not in html
    assert RequestEvent.objects.filter(request=r, kind=RequestEvent.Kind.CANCELLED).exists()
    again = logged.post(reverse("portal:request_cancel", args=[r.number]), follow=True)
    assert "ne peut plus être annulée" in again.content.decode()


def test_another_customers_request_and_attachment_are_404(logged, now):
    other = ServiceRequestFactory()
    attachment = attachment_add(request=other, file=pdf_upload(), now=now)
    request_ask_complement(request_id=other.pk, staff=StaffFactory(), message="?", now=now)
    assert logged.get(reverse("portal:request_detail", args=[other.number])).status_code == 404
    assert logged.get(reverse("portal:request_attachment", args=[attachment.pk])).status_code == 404
    assert logged.post(reverse("portal:request_answer", args=[other.number]), {"text": "x"}).status_code == 404
    assert logged.post(reverse("portal:request_cancel", args=[other.number])).status_code == 404
    other.refresh_from_db()
    assert other.status == ServiceRequest.Status.COMPLEMENT_DEMANDE


def test_anonymous_is_sent_to_login(client):
    r = ServiceRequestFactory()
    response = client.get(reverse("portal:request_detail", args=[r.number]))
    assert response.status_code == 302


def test_query_counts_do_not_grow_with_requests_events_or_attachments(
    logged, account, now, django_assert_max_num_queries
):
    customer, _ = account
    staff = StaffFactory()

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert logged.get(url).status_code == 200
        return len(queries)

    first = ServiceRequestFactory(customer=customer)
    list_url, detail_url = reverse("portal:requests"), reverse("portal:request_detail", args=[first.number])
    list_before, detail_before = count(list_url), count(detail_url)
    for _ in range(5):
        ServiceRequestFactory(customer=customer)
    for text in ("a", "b", "c"):
        request_ask_complement(request_id=first.pk, staff=staff, message=text, now=now)
        from rak_requests.services import request_answer_complement

        request_answer_complement(request_id=first.pk, user=account[1], text=text, file=pdf_upload(), now=now)
    assert Message.objects.exists()
    assert count(list_url) == list_before
    assert count(detail_url) == detail_before
    with django_assert_max_num_queries(14):
        logged.get(detail_url)
