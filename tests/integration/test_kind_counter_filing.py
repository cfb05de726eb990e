"""Counter filing in the back office (« Déposer une demande » from the customer 360) with the test
kind: the same form, documents and checks as the portal, « Pièce d'identité vérifiée au guichet »
required instead of the OTP, channel AGENCY with the agent as actor, the acknowledgement queued; the
front desk (accueil) may, the technical service may not; the customer 360 lists every request of
the customer in a number of queries that does not grow with them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rak_base.models import Message
from rak_requests.models import RequestEvent, ServiceRequest
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.kind_factories import TEST_SLUG, trial_kind_registered, trial_type, with_test_templates
from tests.request_factories import ServiceRequestFactory, exe_renamed_pdf, pdf_upload, termination_type

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def trial(settings):
    with_test_templates(settings)
    request_type = trial_type()
    with trial_kind_registered() as kind:
        yield kind, request_type


@pytest.fixture
def customer():
    customer, _user = customer_with_account(phone="+212612000055", email="hind@example.ma", first_name="Hind")
    DossierFactory(customer=customer, number="D-700001")
    return customer


def _file_url(customer) -> str:
    return reverse("admin:rak_requests_counter_file", args=[customer.pk, TEST_SLUG])


def _post(client, customer, **extra):
    data = {"reason": "Départ", "dossiers": ["D-700001"], "doc_cin": pdf_upload(), "identity_checked": "on"}
    data.update(extra)
    return client.post(_file_url(customer), {k: v for k, v in data.items() if v is not None})


def test_the_customer_360_lists_the_requests_and_offers_counter_filing(client, customer, trial):
    _kind, request_type = trial
    staff_in("accueil", client=client)
    mine = ServiceRequestFactory(customer=customer, request_type=request_type, number="ES2026-000001")
    ServiceRequestFactory(customer=customer, request_type=termination_type(), number="RS2026-000001")
    ServiceRequestFactory(number="AB2026-000777")  # another customer's
    page = client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Demandes du client" in html
    assert html.count('data-testid="customer-request"') == 2
    assert "AB2026-000777" not in html
    assert reverse("admin:rak_requests_servicerequest_change", args=[mine.pk]) in html
    assert "Demande de résiliation" in html and "Traitement" in html and "En cours" in html
    assert reverse("admin:rak_requests_counter_choose", args=[customer.pk]) in html

    choose = client.get(reverse("admin:rak_requests_counter_choose", args=[customer.pk]))
    assert choose.status_code == 200
    assert "Demande d&#x27;essai" in choose.content.decode()
    assert _file_url(customer) in choose.content.decode()


def test_the_customer_360_takes_the_same_number_of_queries_whatever_the_number_of_requests(client, customer, trial):
    _kind, request_type = trial
    staff_in("accueil", client=client)
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    ServiceRequestFactory(customer=customer, request_type=request_type, number="ES2026-000100")
    client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(10):
        ServiceRequestFactory(customer=customer, request_type=request_type, number=f"ES2026-{n + 200:06d}")
    with CaptureQueriesContext(connection) as eleven:
        page = client.get(url)
    assert page.content.decode().count('data-testid="customer-request"') == 11
    assert len(eleven) == len(one)


def test_an_agent_files_at_the_counter_with_the_identity_checked(client, customer, sms_outbox):
    agent = staff_in("accueil", client=client)
    page = client.get(_file_url(customer))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Pièce d&#x27;identité vérifiée au guichet" in html
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in html

    unchecked = _post(client, customer, identity_checked=None)
    assert unchecked.status_code == 400
    assert "Vérifiez la pièce d&#x27;identité du client puis cochez cette case." in unchecked.content.decode()
    assert not ServiceRequest.objects.exists()

    done = _post(client, customer, doc_cin=None)  # the file posted before stays staged
    filed = ServiceRequest.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:rak_requests_servicerequest_change", args=[filed.pk])
    assert filed.channel == ServiceRequest.Channel.AGENCY and filed.customer == customer
    assert [d.number for d in filed.dossiers.all()] == ["D-700001"]
    assert filed.attachments.get().document_code == "cin"
    event = filed.events.get(kind=RequestEvent.Kind.FILED)
    assert event.actor == agent and event.actor_kind == RequestEvent.Actor.STAFF
    checked = filed.events.get(kind=RequestEvent.Kind.IDENTITY_CHECKED)
    assert checked.actor == agent and "Pièce d'identité vérifiée au guichet" in checked.message
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="hind@example.ma", kind="request").exists()
    assert not any("code de confirmation" in body for body in sms_outbox.bodies())
    follow = client.get(done["Location"])
    assert f"Demande {filed.number} déposée au guichet" in follow.content.decode()


def test_the_counter_applies_the_same_checks(client, customer):
    staff_in("accueil", client=client)
    wrong = _post(client, customer, doc_cin=exe_renamed_pdf())
    assert wrong.status_code == 400
    assert "n&#x27;est pas dans un format accepté" in wrong.content.decode()
    refused = _post(client, customer, reason="refus")
    assert refused.status_code == 400
    assert "Ce motif ne peut pas être accepté." in refused.content.decode()
    assert not ServiceRequest.objects.exists()


def test_without_the_permission_the_counter_is_refused(client, customer):
    staff_in("technique", client=client)
    assert client.get(reverse("admin:rak_requests_counter_choose", args=[customer.pk])).status_code == 403
    assert _post(client, customer).status_code == 403
    assert not ServiceRequest.objects.exists()
    page = client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk])).content.decode()
    assert "Demandes du client" in page
    assert reverse("admin:rak_requests_counter_choose", args=[customer.pk]) not in page


def test_the_counter_asks_for_the_missing_contact_details_first(client):
    staff_in("accueil", client=client)
    customer, _user = customer_with_account(phone="+212612000056")  # no e-mail
    DossierFactory(customer=customer, number="D-700002")
    refused = _post(client, customer, dossiers=["D-700002"])
    assert refused.status_code == 400
    assert "Le client n&#x27;a pas de N° de téléphone ou d&#x27;adresse mail" in refused.content.decode()
    assert not ServiceRequest.objects.exists()
