"""« Demande d'attestations » at the counter: the front desk (accueil) generates an attestation for a
customer who walks in, from the customer 360 (« Déposer une demande »), with the portal's form and
refusals (rak_requests.admin_counter, the kind's ``customer_form``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base.documents import document_verify
from rak_base.models import Document
from rak_requests.models import ServiceRequest
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.integration.test_attestations import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return customer_with_account(phone="+212612000212", first_name="Hind", last_name="Tazi")[0]


def test_the_front_desk_generates_one_at_the_counter_with_the_same_refusals(client, customer):
    """« Déposer une demande » from the customer 360 (accueil): the same form (type + the customer's
    dossiers), the same refusals; filed AGENCY, the attestation issued at once."""
    active = DossierFactory(customer=customer)
    staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "attestation"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Type d'attestation" in page_text(page) and active.number in page_text(page)

    refused = client.post(
        url, {"attestation_type": "RESILIATION", "dossier_number": active.number, "identity_checked": "on"}
    )
    assert f"Le dossier {active.number} n'est pas résilié (statut : actif)" in page_text(refused)
    assert not ServiceRequest.objects.exists()

    client.post(url, {"attestation_type": "ABONNEMENT", "dossier_number": active.number, "identity_checked": "on"})

    filed = ServiceRequest.objects.get()
    assert filed.channel == ServiceRequest.Channel.AGENCY and filed.status == ServiceRequest.Status.ACCEPTEE
    document = Document.objects.get(kind=Document.Kind.ATTESTATION)
    assert document_verify(document.reference).authentic
