"""Public endpoints of the API (issue 13), no token needed: « Nos agences », the simulator (the
portal's form and engine: same inputs, same refusals), « Vérifier un document » (throttled per
address on the portal's key), « Contactez-nous »."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rak_base.documents import document_register, reference_display
from rak_base.models import Document
from rak_customer.models import ContactMessage
from tests.api_helpers import api_client, assert_error
from tests.factories import AgencyFactory, CustomerFactory, customer_with_account

pytestmark = pytest.mark.django_db


def test_agencies_with_phone_as_written_and_directions():
    AgencyFactory(name="Agence Centre", phone="+212537372100", latitude="34.261100", longitude="-6.580200")
    body = api_client().get("/api/v1/agencies/").json()
    row = next(r for r in body["results"] if r["name"] == "Agence Centre")
    assert row["phone"] == "05 37 37 21 00" and row["phone_e164"] == "+212537372100"
    assert row["directions_url"].endswith("destination=34.261100,-6.580200")
    assert row["address"]


# --- simulator -------------------------------------------------------------------------------------


@pytest.fixture
def march_2026(monkeypatch):
    """The simulator uses the tariffs of « today »: 2 March 2026 (as the portal's tests)."""
    monkeypatch.setattr("rak_base.clock.now", lambda: datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Africa/Casablanca")))


def test_simulator_options_list_the_services_and_categories(march_2026):
    body = api_client().get("/api/v1/simulator/").json()
    assert {s["value"] for s in body["services"]} == {"ELECTRICITE", "EAU"}
    assert "DOMESTIQUE" in body["categories_by_service"]["ELECTRICITE"]
    assert body["max_days"] == 366


def test_simulator_gives_the_engines_bill_like_the_portal(march_2026, client):
    data = {"service": "ELECTRICITE", "category": "DOMESTIQUE", "consumption": "151", "days": 30}
    body = api_client().post("/api/v1/simulator/", data, format="json").json()
    assert body["service"] == "ELECTRICITE" and body["unit"] == "kWh"
    assert body["parts"][0]["lines"] and body["total_ttc"]
    portal = client.post(
        "/services/simulation/",
        {
            "service": "ELECTRICITE",
            "category": "DOMESTIQUE",
            "mode": "consommation",
            "consumption": "151",
            "period": "jours",
            "days": "30",
        },
    )
    assert str(portal.context["result"].total_ttc) == body["total_ttc"]
    water = (
        api_client()
        .post(
            "/api/v1/simulator/",
            {
                "service": "EAU",
                "category": "DOMESTIQUE",
                "mode": "index",
                "old_index": "100",
                "new_index": "118",
                "period": "dates",
                "start_date": "2026-01-01",
                "end_date": "2026-02-01",
            },
            format="json",
        )
        .json()
    )
    assert len(water["parts"]) >= 2 and water["consumption"] == "18.000" and water["days"] == 31


def test_simulator_refusals_are_the_portals(march_2026):
    client = api_client()
    body = assert_error(
        client.post("/api/v1/simulator/", {"service": "ELECTRICITE", "category": "DOMESTIQUE"}, format="json"), 400
    )
    assert body["fields"]["consumption"][0]["message"] == "Saisissez votre consommation."
    body = assert_error(
        client.post(
            "/api/v1/simulator/",
            {
                "service": "ELECTRICITE",
                "category": "DOMESTIQUE",
                "mode": "index",
                "old_index": "200",
                "new_index": "100",
            },
            format="json",
        ),
        400,
    )
    assert body["fields"]["new_index"][0]["message"].startswith("Le nouvel index doit être supérieur")
    body = assert_error(
        client.post(
            "/api/v1/simulator/",
            {"service": "ELECTRICITE", "category": "DOMESTIQUE", "consumption": "150", "days": 400},
            format="json",
        ),
        400,
    )
    assert body["fields"]["days"][0]["message"] == "La période ne peut pas dépasser 366 jours."
    assert_error(client.post("/api/v1/simulator/", {"service": "GAZ"}, format="json"), 400, "invalid")


# --- document verification -------------------------------------------------------------------------


@pytest.fixture
def document():
    customer = CustomerFactory(first_name="Fatima Zahra", last_name="El Idrissi")
    pdf = b"%PDF-1.7\n" + b"x" * 500
    return document_register(
        kind=Document.Kind.ATTESTATION,
        title="Attestation d'abonnement",
        owner_label=customer.display_name,
        subject=customer,
        pdf_bytes=pdf,
    ), pdf


def test_verify_a_reference_and_the_pdf(document):
    doc, pdf = document
    client = api_client()
    body = client.post(
        "/api/v1/documents/verify/", {"reference": reference_display(doc.reference).lower()}, format="json"
    ).json()
    assert body["verdict"] == "AUTHENTIC" and body["authentic"] and body["owner_masked"].startswith("Fa")
    assert body["document_title"] == "Attestation d'abonnement" and body["file_checked"] is False
    from django.core.files.uploadedfile import SimpleUploadedFile

    altered = SimpleUploadedFile("a.pdf", pdf.replace(b"x", b"y", 1), content_type="application/pdf")
    body = client.post(
        "/api/v1/documents/verify/", {"reference": doc.reference, "file": altered}, format="multipart"
    ).json()
    assert body["verdict"] == "ALTERED" and body["file_checked"] is True
    body = client.post("/api/v1/documents/verify/", {"reference": "ZZZZ-ZZZZ-ZZZ1"}, format="json").json()
    assert body["verdict"] == "NOT_FOUND" and body["document_title"] == ""


def test_verify_refusals_and_throttle(monkeypatch):
    client = api_client()
    body = assert_error(client.post("/api/v1/documents/verify/", {"reference": "ABC"}, format="json"), 400)
    assert (
        body["fields"]["reference"][0]["message"] == "Le code de référence compte 12 caractères (lettres et chiffres)."
    )
    monkeypatch.setattr("rak_portal.verify_forms.VERIFY_LIMIT", 2)
    monkeypatch.setattr("rak_portal.views.verify.VERIFY_LIMIT", 2)
    for _ in range(2):
        assert (
            client.post("/api/v1/documents/verify/", {"reference": "ZZZZ-ZZZZ-ZZZ1"}, format="json").status_code == 200
        )
    body = assert_error(client.post("/api/v1/documents/verify/", {"reference": "ZZZZ-ZZZZ-ZZZ2"}, format="json"), 429)
    assert "Trop de vérifications" in body["message"]
    # the same counter as the portal's page (same key: the address)
    from django.test import Client

    assert Client().post("/verifier-document/", {"reference": "ZZZZ-ZZZZ-ZZZ3"}).status_code == 429


# --- contact ---------------------------------------------------------------------------------------


def test_contact_message_public_and_signed_in(monkeypatch):
    data = {"name": "Amina", "email": "amina@example.ma", "subject": "Horaires", "body": "Quels horaires ?"}
    response = api_client().post("/api/v1/contact/", data, format="json")
    assert response.status_code == 201 and "bien été envoyé" in response.json()["message"]
    customer, user = customer_with_account()
    api_client(user).post("/api/v1/contact/", data, format="json")
    assert ContactMessage.objects.filter(customer=customer).count() == 1
    body = assert_error(api_client().post("/api/v1/contact/", {**data, "phone": "123"}, format="json"), 400)
    assert "phone" in body["fields"]
    monkeypatch.setattr("rak_portal.throttling.CONTACT_PER_IP_HOURLY", 2)
    assert_error(api_client().post("/api/v1/contact/", data, format="json"), 429, "throttled")
