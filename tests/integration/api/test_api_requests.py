"""Requests in the API as an app uses them: the catalogue, « Suivi des demandes » (list, tracking,
receipt), answering a complement, cancelling; 401 without a token, 404 for another customer's
request, each refusal with its stable code. The wizard (abonnement, branchement), the types'
forms (résiliation with OTP), quotes, contracts and attestations: test_api_requests_filing.py."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from rak_base import clock
from rak_requests.models import Attachment, RequestEvent, ServiceRequest
from rak_requests.services import request_accept_phase, request_ask_complement
from tests.api_helpers import api_client, assert_error
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory, exe_renamed_pdf, pdf_upload, termination_type

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture
def account():
    customer, user = customer_with_account(phone="+212612000310", email="salma@example.ma", first_name="Salma")
    DossierFactory(customer=customer, number="EA00003101")
    return customer, user


# --- the catalogue ---------------------------------------------------------------------------------------


def test_catalogue_is_public_with_documents_login_and_otp():
    response = api_client().get("/api/v1/request-types/")
    assert response.status_code == 200, response.content
    entries = {e["slug"]: e for e in response.json()}
    assert {"abonnement", "branchement", "resiliation", "attestation"} <= set(entries)
    subscription = entries["abonnement"]
    assert subscription["filing"] == "wizard"
    assert subscription["login_required"] is False and subscription["otp_required"] is True
    assert subscription["documents"] and all(d["max_bytes"] > 0 for d in subscription["documents"])
    assert {f["name"] for f in subscription["fields"]} >= {"services", "address", "usage"}
    termination = entries["resiliation"]
    assert termination["filing"] == "form" and termination["login_required"] is True
    assert termination["otp_required"] is True
    assert [d["code"] for d in termination["documents"]] == ["cin"]
    assert termination["fields"] == []  # its dossiers are a signed-in customer's
    assert entries["attestation"]["filing"] == "attestation"


def test_catalogue_of_a_signed_in_customer_offers_their_dossiers(account):
    _customer, user = account
    response = api_client(user).get("/api/v1/request-types/resiliation/")
    assert response.status_code == 200
    fields = {f["name"]: f for f in response.json()["fields"]}
    assert fields["dossiers"]["type"] == "multiple_choice" and fields["dossiers"]["required"] is True
    assert [c["value"] for c in fields["dossiers"]["choices"]] == ["EA00003101"]
    # a signed-in customer files a subscription without the phone step
    assert api_client(user).get("/api/v1/request-types/abonnement/").json()["otp_required"] is False


def test_unknown_type_is_404():
    assert_error(api_client().get("/api/v1/request-types/nulle-part/"), 404, "not_found")


# --- « Suivi des demandes » -------------------------------------------------------------------------------


def test_list_needs_a_token():
    assert_error(api_client().get("/api/v1/requests/"), 401, "not_authenticated")
    assert_error(api_client().get("/api/v1/requests/AB2026-000001/"), 401, "not_authenticated")


def test_list_shows_only_the_customers_requests_paginated_in_bounded_queries(
    account, now, django_assert_max_num_queries
):
    customer, user = account
    for _ in range(3):
        ServiceRequestFactory(customer=customer)
    waiting = ServiceRequestFactory(customer=customer, request_type=termination_type())
    request_ask_complement(request_id=waiting.pk, staff=StaffFactory(), message="Joignez la CIN.", now=now)
    ServiceRequestFactory()  # another customer's
    client = api_client(user)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/requests/?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"]
    rows = {r["number"]: r for r in client.get("/api/v1/requests/").json()["results"]}
    assert set(rows) == set(ServiceRequest.objects.filter(customer=customer).values_list("number", flat=True))
    row = rows[waiting.number]
    assert row["status"] == "COMPLEMENT_DEMANDE" and row["action_expected"] is True
    assert row["status_label"] == "Répondre à la demande de complément"
    assert row["type_code"] == "TERMINATION" and row["phase"]["code"]


def test_tracking_shows_phases_history_and_what_is_awaited(account, now):
    customer, user = account
    r = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=r.pk, staff=StaffFactory(), now=now)
    request_ask_complement(
        request_id=r.pk, staff=StaffFactory(), message="Joignez le bail.", documents=["Bail"], now=now
    )
    response = api_client(user).get(f"/api/v1/requests/{r.number}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["done"] for s in body["steps"]][:2] == [True, False] and body["steps"][1]["current"] is True
    assert body["complement"]["message"] == "Joignez le bail." and body["complement"]["documents"] == ["Bail"]
    assert body["actions"]["answer_complement"] is True
    assert any(e["kind"] == "COMPLEMENT_ASKED" for e in body["events"])
    assert not any(e["kind"] == "NOTE" for e in body["events"])


def test_another_customers_request_is_404(account):
    _customer, user = account
    theirs = ServiceRequestFactory()
    client = api_client(user)
    for url in (
        f"/api/v1/requests/{theirs.number}/",
        f"/api/v1/requests/{theirs.number}/receipt/",
    ):
        assert_error(client.get(url), 404, "not_found")
    assert_error(client.post(f"/api/v1/requests/{theirs.number}/cancel/"), 404, "not_found")
    assert_error(
        client.post(f"/api/v1/requests/{theirs.number}/complement/", {"text": "x"}, format="json"), 404, "not_found"
    )


def test_answer_a_complement_with_a_message_and_a_file(account, now):
    customer, user = account
    r = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=r.pk, staff=StaffFactory(), message="Joignez le bail.", now=now)
    client = api_client(user)
    response = client.post(
        f"/api/v1/requests/{r.number}/complement/",
        {"text": "Voici le bail.", "file": pdf_upload("bail.pdf")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "EN_COURS" and body["actions"]["answer_complement"] is False
    assert [a["original_name"] for a in body["attachments"]] == ["bail.pdf"]
    file = client.get(f"/api/v1/requests/attachments/{body['attachments'][0]['id']}/")
    assert file.status_code == 200 and file["Content-Type"] == "application/pdf"
    _other, other_user = customer_with_account(phone="+212612000311")
    assert_error(
        api_client(other_user).get(f"/api/v1/requests/attachments/{body['attachments'][0]['id']}/"), 404, "not_found"
    )
    assert RequestEvent.objects.filter(request=r, kind=RequestEvent.Kind.COMPLEMENT_ANSWERED).exists()
    # nothing is asked any more
    assert_error(
        client.post(f"/api/v1/requests/{r.number}/complement/", {"text": "Encore"}, format="json"), 400, "wrong_state"
    )


def test_complement_refusals(account, now):
    customer, user = account
    r = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=r.pk, staff=StaffFactory(), message="Joignez le bail.", now=now)
    client = api_client(user)
    url = f"/api/v1/requests/{r.number}/complement/"
    assert_error(client.post(url, {"text": "  "}, format="json"), 400, "answer_missing")
    body = assert_error(
        client.post(url, {"text": "Le bail", "file": exe_renamed_pdf("bail.pdf")}, format="multipart"), 400, "invalid"
    )
    assert "file" in body["fields"]
    assert_error(client.post(url, {"text": 12}, format="json"), 400, "invalid")
    assert not Attachment.objects.filter(request=r).exists()
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.COMPLEMENT_DEMANDE


def test_cancel_in_the_first_phase_then_refused(account, now):
    customer, user = account
    r = ServiceRequestFactory(customer=customer)
    client = api_client(user)
    response = client.post(f"/api/v1/requests/{r.number}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "ANNULEE"
    assert_error(client.post(f"/api/v1/requests/{r.number}/cancel/"), 400, "cancel_not_allowed")
    later = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=later.pk, staff=StaffFactory(), now=now)
    assert_error(client.post(f"/api/v1/requests/{later.number}/cancel/"), 400, "cancel_not_allowed")
