"""Defects found by trying issue 10's pages from outside (a customer following seed 000 word by
word, an attacker replaying and forging posts), each pinned here by a test that failed before its fix:

- « Demande d'attestation »: the same « Générer » posted twice (a double click, a reloaded form)
  generated two attestations and two requests; now the second post gives the first one back (and at
  the counter, the second « Déposer une demande » is refused with the first one's number).
- A GET on a form's target (e.g. a request's « repondre » address, bookmarked or typed) answered
  Django's 405 with an empty page; now the French page says what to do.
- « Importer les rejets » (back office, recouvrement): a CSV line with a field over 128 Ko ended in a
  500 (``_csv.Error``); now the file is refused on the page with its French message, nothing stored.
- « Exporter les prélèvements du mois »: the month 9999-12 ended in a 500 (the month's end
  overflowed) and 1900-01 was exported; now a month outside 2000 … next year is refused on the page.
- The back office's object pages with an id that is not one (/backoffice/…/servicerequest/x/change/,
  mandates, reject imports, readings…) ended in a 500 (the action buttons' permission checks queried
  ``pk="x"``); now a 404.
- « Mes provisions »: each pane's title (« Relevé de compte », « Abonnement concernés », « Dépôt de
  garantie ») was written twice, as the heading and as a hidden table caption, so a browser looking
  for the seed's text found two elements; the tables are now named by their heading.
- « Demande de résiliation »: the seed's explanation (the ID document's formats and size, the OTP by
  SMS) was missing from the page; the dossiers' help stays the one place with « Sélectionnez un ou
  plusieurs dossiers à résilier. » (a text a browser test finds exactly once); during the OTP step
  the explanation is left out, so the code's field comes first on a phone.
"""

from __future__ import annotations

import datetime
import html as html_lib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rak_base import clock
from rak_base.models import Document
from rak_billing.direct_debit_models import DebitBatch, DebitRejectImport
from rak_customer.models import Dossier
from rak_requests.models import ServiceRequest
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.request_factories import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    customer, user = customer_with_account(phone="+212612000931", email="probe@example.ma", first_name="Samira")
    dossier = DossierFactory(customer=customer, number="EA00000931", deposit_amount=Decimal("180.00"))
    return customer, user, dossier


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


@pytest.fixture
def fixed_now(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)
    return now


def text(response) -> str:
    return " ".join(html_lib.unescape(response.content.decode()).replace("\xa0", " ").split())


def test_attestation_posted_twice_is_generated_once(logged, account, fixed_now):
    url = reverse("portal:attestations")
    form = {"attestation_type": "ABONNEMENT", "dossier_number": "EA00000931"}

    first = logged.post(url, form)
    second = logged.post(url, form)  # the same « Générer » again a moment later

    assert first.status_code == second.status_code == 302
    requests = ServiceRequest.objects.filter(customer=account[0], request_type__code="ATTESTATION")
    assert requests.count() == 1
    assert Document.objects.filter(kind=Document.Kind.ATTESTATION).count() == 1
    page = text(logged.get(url))
    number = requests.get().number
    assert f"Votre attestation n° {number} a été générée" in page
    assert logged.get(reverse("portal:attestation_pdf", args=[number])).status_code == 200


def test_attestation_asked_again_later_is_a_new_one(logged, account, fixed_now, monkeypatch):
    url = reverse("portal:attestations")
    form = {"attestation_type": "ABONNEMENT", "dossier_number": "EA00000931"}
    assert logged.post(url, form).status_code == 302
    monkeypatch.setattr(clock, "now", lambda: fixed_now + datetime.timedelta(minutes=1))

    assert logged.post(url, form).status_code == 302

    assert ServiceRequest.objects.filter(customer=account[0], request_type__code="ATTESTATION").count() == 2


def test_get_on_a_post_only_address_shows_a_french_page(logged):
    response = logged.get(reverse("portal:request_answer", args=["RS2026-000001"]))

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    page = text(response)
    assert "Action impossible depuis cette adresse" in page
    assert "utilisez le bouton prévu" in page


def test_termination_page_explains_the_seed_steps(logged):
    page = text(logged.get(reverse("portal:kind_service", args=["resiliation"])))

    assert "Pour envoyer une demande de résiliation :" in page
    assert (
        "Joignez votre pièce d'identité sous format PDF, image ou fichier compressé, la taille du fichier ne peut "
        "pas être supérieure à 2M." in page
    )
    assert "Vous recevrez un SMS contenant un code de confirmation OTP" in page
    assert page.count("Sélectionnez un ou plusieurs dossiers à résilier.") == 1


def test_a_reject_file_with_an_endless_field_is_refused_on_the_page(client):
    staff_in("recouvrement", client=client)
    endless = SimpleUploadedFile("rejets.csv", b"A" * 200_000 + b";AM04;Provision insuffisante\r\n", "text/csv")

    response = client.post(reverse("admin:rak_billing_debitrejectimport_import_rejects"), {"file": endless})

    assert response.status_code == 200
    assert "Le fichier de rejets est illisible (une ligne trop longue ou mal formée)" in text(response)
    assert not DebitRejectImport.objects.exists()


def test_provisions_panes_titles_are_written_once(client, account):
    customer, user, _dossier = account
    DossierFactory(customer=customer, billing_mode=Dossier.BillingMode.ADVANCE)
    client.force_login(user)
    advance_page = text(client.get(reverse("portal:provisions")))
    for label in ("Relevé de compte", "Abonnement concernés", "Avance sur consommation"):
        assert advance_page.count(label) == 1, label
    assert 'aria-labelledby="pane-dossiers"' in advance_page

    _other, other_user = customer_with_account(phone="+212612000933")
    DossierFactory(customer=_other, deposit_amount=Decimal("300.00"))
    client.force_login(other_user)
    deposit_page = text(client.get(reverse("portal:provisions")))
    assert deposit_page.count("Dépôt de garantie") == 1


@pytest.mark.parametrize(
    "model",
    ["rak_requests/servicerequest", "rak_billing/mandate", "rak_billing/debitrejectimport", "rak_billing/meterreading"],
)
def test_back_office_page_of_an_id_that_is_not_one_is_a_404(client, model):
    staff_in("superviseur", client=client)

    response = client.get(f"/backoffice/{model}/x/change/")

    assert response.status_code == 404


def test_termination_otp_step_comes_first_without_the_explanation(logged):
    url = reverse("portal:kind_service", args=["resiliation"])
    sent = logged.post(url, {"action": "submit", "dossiers": ["EA00000931"], "doc_cin": pdf_upload()})
    assert sent.status_code == 302

    page = logged.get(url).content.decode()

    assert 'data-testid="otp-step"' in page
    assert "Saisissez le code OTP puis cliquez sur le bouton" in html_lib.unescape(page)
    assert 'data-testid="kind-intro"' not in page


@pytest.mark.parametrize("month", ["9999-12", "1900-01"])
def test_export_of_an_absurd_month_is_refused_on_the_page(client, month):
    staff_in("recouvrement", client=client)

    response = client.post(reverse("admin:rak_billing_debitbatch_export"), {"month": month})

    assert response.status_code == 200
    assert "Indiquez un mois entre 2000 et" in text(response)
    assert not DebitBatch.objects.exists()


def test_attestation_filed_twice_at_the_counter_is_generated_once(client, account, fixed_now):
    customer, _user, dossier = account
    staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "attestation"])
    form = {"attestation_type": "ABONNEMENT", "dossier_number": dossier.number, "identity_checked": "on"}

    client.post(url, form)
    again = client.post(url, form)

    filed = ServiceRequest.objects.get(customer=customer, request_type__code="ATTESTATION")
    assert f"Cette attestation vient d'être générée (n° {filed.number})" in text(again)
    assert Document.objects.filter(kind=Document.Kind.ATTESTATION).count() == 1
