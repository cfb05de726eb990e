"""« Demande de domiciliation bancaire » as the customer files it (/espace/services/domiciliation-bancaire/)
and as the front desk decides it: the seed's steps on the page, « Télécharger le formulaire de
demande » for one of the customer's addresses (another customer's → 404), each refusal with its
French message next to its field (RIB of the wrong length, wrong key, unknown bank, file too big or
not a document), filing with the bank read from the RIB, and acceptance: one mandate per dossier of
the address, the dossiers in « Prélèvement bancaire », the customer told."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_base.rib import rib_key
from rak_customer.models import Service
from rak_requests.models import Attachment, ServiceRequest
from tests.factories import DossierFactory, PremisesFactory, customer_with_account
from tests.request_factories import exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seeded_type():
    """The seed rows of the type (idempotent): a transactional test that ran before flushed them."""
    import importlib

    from django.apps import apps

    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    importlib.import_module("rak_requests.migrations.0009_direct_debit").seed(apps, None)


URL = reverse("portal:kind_service", args=["domiciliation-bancaire"])
FORM_PDF = reverse("portal:direct_debit_form_pdf")


def rib(bank: str = "007") -> str:
    first = bank + "780" + "0001234567890123"
    return first + rib_key(first)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def account():
    customer, user = customer_with_account(phone="+212612000055", email="salma@example.ma", first_name="Salma")
    home = PremisesFactory(reference="LK00000501", address="12 rue Ibn Sina")
    water = DossierFactory(customer=customer, premises=home, number="EA00000501")
    power = DossierFactory(customer=customer, premises=home, number="EL00000502", service=Service.ELECTRICITE)
    return customer, user, home, (water, power)


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def submit(client, **extra):
    data = {
        "premises": "LK00000501",
        "rib": rib(),
        "action": "submit",
        "doc_formulaire_signe": pdf_upload("formulaire.pdf"),
        "doc_rib": pdf_upload("rib.pdf"),
        "doc_cin": pdf_upload("cin.pdf"),
    }
    data.update(extra)
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def test_the_page_follows_the_seed(logged):
    page = text(logged.get(URL))
    assert "Demande de domiciliation bancaire" in page
    assert "Etape 1 : Téléchargez le formulaire depuis la demande en sélectionnant le local" in page
    assert "Etape 4 : Renseignez ensuite votre N° de RIB, le RIB doit contenir 24 chiffres." in page
    assert "Télécharger le formulaire de demande" in page
    assert "Sélectionnez l'adresse concernée par la demande" in page
    assert "12 rue Ibn Sina" in page
    assert "Formulaire de domiciliation signé par la banque *" in page
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in page
    assert "Toutes vos demandes de domiciliation bancaire" in page


def test_the_form_pdf_is_prefilled_for_the_customers_own_address_only(logged, account):
    response = logged.get(FORM_PDF, {"local": "LK00000501"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "formulaire-domiciliation-bancaire-LK00000501.pdf" in response["Content-Disposition"]

    stranger, _user = customer_with_account(phone="+212612000056")
    theirs = DossierFactory(customer=stranger, premises=PremisesFactory(reference="LK00000999"))
    assert logged.get(FORM_PDF, {"local": theirs.premises.reference}).status_code == 404
    assert logged.get(FORM_PDF, {"local": "LK-NOPE"}).status_code == 404
    assert logged.get(FORM_PDF).status_code == 404


def test_the_form_pdf_needs_a_logged_in_customer(client, account):
    response = client.get(FORM_PDF, {"local": "LK00000501"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0077800001234567890", "Le RIB doit contenir 24 chiffres."),
        (rib()[:22] + ("00" if rib()[22:] != "00" else "01"), "la clé RIB ne correspond pas"),
        (rib("999"), "Banque inconnue"),
        ("", "Veuillez saisir votre N° de RIB."),
    ],
)
def test_a_bad_rib_is_refused_next_to_its_field(logged, value, message):
    response = submit(logged, rib=value)
    assert response.status_code == 400
    assert message in text(response)
    assert not ServiceRequest.objects.exists()


def test_a_file_too_big_or_not_a_document_is_refused(logged):
    too_big = submit(logged, doc_formulaire_signe=oversized_pdf())
    assert too_big.status_code == 400
    assert "Le fichier est trop volumineux" in text(too_big)
    assert "la taille maximale autorisée est de 2 Mo" in text(too_big)
    wrong = submit(logged, doc_rib=exe_renamed_pdf())
    assert wrong.status_code == 400
    assert "Le fichier joint n'est pas dans un format accepté" in text(wrong)
    assert not ServiceRequest.objects.exists()


def test_someone_elses_address_is_refused(logged):
    stranger, _user = customer_with_account(phone="+212612000057")
    DossierFactory(customer=stranger, premises=PremisesFactory(reference="LK00000998"))
    response = submit(logged, premises="LK00000998")
    assert response.status_code == 400
    assert "Choisissez une des adresses de vos abonnements." in text(response)
    assert not ServiceRequest.objects.exists()


def test_filing_keeps_the_address_dossiers_rib_and_bank_and_acknowledges_it(logged, account):
    customer = account[0]
    response = submit(logged, rib=" ".join([rib()[:3], rib()[3:6], rib()[6:22], rib()[22:]]))
    assert response.status_code == 302
    filed = ServiceRequest.objects.get()
    assert filed.customer == customer
    assert filed.request_type.code == "DIRECT_DEBIT"
    assert filed.data["rib"] == rib()
    assert filed.data["bank_name"] == "Attijariwafa bank"
    assert filed.data["dossiers"] == ["EA00000501", "EL00000502"]
    assert filed.premises.reference == "LK00000501"
    assert sorted(d.number for d in filed.dossiers.all()) == ["EA00000501", "EL00000502"]
    assert sorted(Attachment.objects.filter(request=filed).values_list("document_code", flat=True)) == [
        "cin",
        "formulaire_signe",
        "rib",
    ]
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="salma@example.ma").exists()
    page = text(logged.get(URL))
    assert filed.number in page
    detail = text(logged.get(reverse("portal:request_detail", args=[filed.number])))
    assert "Attijariwafa bank" in detail
    assert "007 780 0001234567890123" in detail  # the RIB as printed on a RIB
    assert "Adresse concernée" in detail and "12 rue Ibn Sina" in detail
    assert "Dossier(s) concerné(s)" in detail and "EA00000501, EL00000502" in detail

    # a second request for the same address while the first is in progress
    again = submit(logged)
    assert again.status_code == 400
    assert "Une demande de domiciliation bancaire est déjà en cours pour cette adresse" in text(again)


def test_a_customer_without_subscription_is_told_why_there_is_no_address(client):
    _customer, user = customer_with_account(phone="+212612000058", email="sans@example.ma")
    client.force_login(user)
    page = text(client.get(URL))
    assert "Vous n'avez aucun abonnement actif" in page
    assert 'data-testid="direct-debit-download"' not in page
