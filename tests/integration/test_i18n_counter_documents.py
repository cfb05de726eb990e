"""A document made at the counter is in the customer's language (issue 12): the back office is French,
but an attestation the front desk generates for a customer who reads Arabic is written in Arabic —
and in French for a customer who never chose a language."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from rak_base.models import Document
from tests.factories import DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db


def _pdf_text(document: Document) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(document.file.read())).pages)


@pytest.mark.parametrize(("language", "expected"), [("ar", "شهادة"), ("", "est abonné(e)")])
def test_an_attestation_generated_at_the_counter_is_in_the_customers_language(client, language, expected):
    customer = customer_with_account(phone="+212612000313", first_name="Hind", last_name="Tazi")[0]
    customer.language = language
    customer.save(update_fields=["language"])
    dossier = DossierFactory(customer=customer)
    staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "attestation"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
    assert 'lang="fr"' in page.content.decode()  # the back office stays French

    client.post(url, {"attestation_type": "ABONNEMENT", "dossier_number": dossier.number, "identity_checked": "on"})

    document = Document.objects.get(kind=Document.Kind.ATTESTATION)
    text = _pdf_text(document)
    assert expected in text, text
    if language == "ar":
        assert "Attestation d'abonnement" not in text
