"""Filing requests through the API as an app does: the public wizard (abonnement, branchement) with
its draft as a signed token (person and OTP, info, documents checked by content and size, terms),
a signed-in customer's wizard from step 2, a type's form that asks an OTP (résiliation), the final
index, quotes, the subscription's contract, attestations — with 401, 404 for another customer's
objects and each refusal's stable code."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from rak_base import clock
from rak_customer.models import Customer
from rak_requests.filing import request_file
from rak_requests.models import Quote, RequestType, ServiceRequest
from rak_requests.quotes import quote_issue, quote_lines_parse
from tests.api_helpers import api_client, assert_error
from tests.factories import CustomerFactory, DossierFactory, StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory, exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db

PERSON = {
    "kind": "PARTICULIER",
    "civility": "M",
    "last_name": "Alaoui",
    "first_name": "Youssef",
    "identity": "GK 123456",
    "email": "youssef.alaoui@example.ma",
    "phone": "06 61 23 45 67",
}
PHONE = "+212661234567"
INFO = {
    "services": ["EAU", "ELECTRICITE"],
    "address": "12 rue Tarik Ibn Ziad",
    "district": "Maamora",
    "city": "Kénitra",
    "usage": "DOMESTIQUE",
    "tariff_category_eau": "EAU_DOMESTIQUE",
    "tariff_category_electricite": "BT_DOMESTIQUE",
    "power_kva": "6",
    "caliber_mm": "15",
}
WIZARD = "/api/v1/request-types/abonnement/draft/"
TERMINATION = "/api/v1/request-types/resiliation/requests/"


@pytest.fixture(autouse=True)
def _request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


def _documents(code=RequestType.Code.SUBSCRIPTION) -> dict:
    rtype = RequestType.objects.get(code=code)
    return {f"doc_{d.code}": pdf_upload(f"{d.code}.pdf") for d in rtype.documents.filter(required=True)}


def _verified_draft(client, sms_outbox, person=PERSON, phone=PHONE) -> str:
    sent = client.post(WIZARD + "person/", person, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["otp_sent"] is True and phone[-2:] in sent.json()["message"]
    verified = client.post(
        WIZARD + "otp/", {"draft": sent.json()["draft"], "otp": sms_outbox.last_code(phone)}, format="json"
    )
    assert verified.status_code == 200, verified.content
    assert verified.json()["phone_verified"] is True and verified.json()["next_step"] == 2
    return verified.json()["draft"]


# --- the public wizard ------------------------------------------------------------------------------------


def test_a_new_person_files_a_subscription_in_four_steps(sms_outbox):
    client = api_client()
    draft = _verified_draft(client, sms_outbox)
    info = client.post(WIZARD + "info/", {"draft": draft, **INFO}, format="json")
    assert info.status_code == 200, info.content
    assert info.json()["next_step"] == 3
    assert any(row["value"] == "Kénitra" for row in info.json()["summary"])
    docs = client.post(WIZARD + "documents/", {"draft": info.json()["draft"], **_documents()}, format="multipart")
    assert docs.status_code == 200, docs.content
    assert docs.json()["next_step"] == 4 and all(d["staged"] for d in docs.json()["documents"] if d["required"])
    filed = client.post(
        WIZARD + "submit/",
        {"draft": docs.json()["draft"], "accept_terms": True, "accept_data_processing": True},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    body = filed.json()
    assert body["account_created"] is True and "se terminant par 67" in body["password_delivery"]
    request = ServiceRequest.objects.get(number=body["request"]["number"])
    assert request.request_type.code == "SUBSCRIPTION" and request.customer.code == body["customer_code"]
    assert request.attachments.count() == len(_documents())
    assert request.data["city"] == "Kénitra" and request.data["phone"] == PHONE


def test_wizard_refusals(sms_outbox):
    client = api_client()
    # a step before the phone is verified, a forged or foreign draft
    assert_error(client.post(WIZARD + "info/", INFO, format="json"), 400, "draft_invalid")
    assert_error(client.post(WIZARD + "info/", {"draft": "abc:def", **INFO}, format="json"), 400, "draft_invalid")
    sent = client.post(WIZARD + "person/", PERSON, format="json").json()
    assert_error(
        client.post(WIZARD + "info/", {"draft": sent["draft"], **INFO}, format="json"), 400, "phone_not_verified"
    )
    wrong = "000000" if sms_outbox.last_code(PHONE) != "000000" else "111111"
    assert_error(
        client.post(WIZARD + "otp/", {"draft": sent["draft"], "otp": wrong}, format="json"), 400, "otp_invalid"
    )
    other_kind = "/api/v1/request-types/branchement/draft/otp/"
    assert_error(client.post(other_kind, {"draft": sent["draft"], "otp": wrong}, format="json"), 400, "draft_invalid")
    # field errors of the portal's form
    body = assert_error(client.post(WIZARD + "person/", {**PERSON, "phone": "0522"}, format="json"), 400, "invalid")
    assert "phone" in body["fields"]
    # a CIN the RAK knows logs in instead
    CustomerFactory(cin="AB123456")
    assert_error(
        client.post(WIZARD + "person/", {**PERSON, "identity": "AB123456"}, format="json"), 400, "identity_known"
    )
    other = {**PERSON, "identity": "GK 654321", "phone": "0661234599"}
    draft = _verified_draft(api_client(), sms_outbox, person=other, phone="+212661234599")
    # documents before the information, missing or refused documents, the terms
    assert_error(client.post(WIZARD + "documents/", {"draft": draft}, format="multipart"), 400, "draft_incomplete")
    info = client.post(WIZARD + "info/", {"draft": draft, **INFO}, format="json").json()
    files = _documents()
    first = next(iter(files))
    missing = assert_error(client.post(WIZARD + "documents/", {"draft": info["draft"]}, format="multipart"), 400)
    assert first in missing["fields"]
    refused = assert_error(
        client.post(WIZARD + "documents/", {"draft": info["draft"], first: exe_renamed_pdf()}, format="multipart"), 400
    )
    assert first in refused["fields"]
    big = assert_error(
        client.post(WIZARD + "documents/", {"draft": info["draft"], first: oversized_pdf()}, format="multipart"), 400
    )
    assert "2 Mo" in big["fields"][first][0]["message"]
    assert_error(
        client.post(
            WIZARD + "submit/",
            {"draft": info["draft"], "accept_terms": True, "accept_data_processing": True},
            format="json",
        ),
        400,
        "draft_incomplete",
    )
    docs = client.post(WIZARD + "documents/", {"draft": info["draft"], **files}, format="multipart").json()
    terms = assert_error(
        client.post(
            WIZARD + "submit/",
            {"draft": docs["draft"], "accept_terms": False, "accept_data_processing": True},
            format="json",
        ),
        400,
        "invalid",
    )
    assert "accept_terms" in terms["fields"]
    assert not ServiceRequest.objects.exists()


def test_a_signed_in_customer_starts_at_step_two_and_their_draft_is_theirs():
    customer, user = customer_with_account(phone="+212612000320", email="amine@example.ma")
    client = api_client(user)
    info = client.post(
        "/api/v1/request-types/branchement/draft/info/", {**INFO, "building_type": "VILLA", "units": 1}, format="json"
    )
    assert info.status_code == 200, info.content
    draft = info.json()["draft"]
    # another customer cannot use it
    _other, other_user = customer_with_account(phone="+212612000321")
    assert_error(
        api_client(other_user).post(
            "/api/v1/request-types/branchement/draft/documents/", {"draft": draft}, format="multipart"
        ),
        400,
        "draft_invalid",
    )
    docs = client.post(
        "/api/v1/request-types/branchement/draft/documents/",
        {"draft": draft, **_documents(RequestType.Code.CONNECTION)},
        format="multipart",
    )
    assert docs.status_code == 200, docs.content
    filed = client.post(
        "/api/v1/request-types/branchement/draft/submit/",
        {"draft": docs.json()["draft"], "accept_terms": True, "accept_data_processing": True},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["account_created"] is False
    request = ServiceRequest.objects.get(number=filed.json()["request"]["number"])
    assert request.customer == customer and request.request_type.code == "CONNECTION"
    assert Customer.objects.count() == 2


# --- a type's form with its OTP (résiliation) -------------------------------------------------------------


@pytest.fixture
def terminating():
    customer, user = customer_with_account(phone="+212612000330", email="nadia@example.ma")
    DossierFactory(customer=customer, number="EA00003301")
    return customer, user


def test_termination_is_confirmed_by_the_code_received_by_sms(terminating, sms_outbox):
    customer, user = terminating
    client = api_client(user)
    pending = client.post(
        TERMINATION, {"dossiers": ["EA00003301"], "reason": "Départ", "doc_cin": pdf_upload()}, format="multipart"
    )
    assert pending.status_code == 202, pending.content
    assert pending.json()["otp_required"] is True and pending.json()["phone_hint"] == "30"
    assert not ServiceRequest.objects.exists()
    code = sms_outbox.last_code("+212612000330")
    # posted again at once: the code already sent stays valid, a new draft is given
    again = client.post(TERMINATION, {"dossiers": ["EA00003301"], "doc_cin": pdf_upload()}, format="multipart")
    assert again.status_code == 202 and sms_outbox.last_code("+212612000330") == code
    wrong = "000000" if code != "000000" else "111111"
    confirm = TERMINATION + "confirm/"
    assert_error(
        client.post(confirm, {"draft": pending.json()["draft"], "otp": wrong}, format="json"), 400, "otp_invalid"
    )
    assert_error(client.post(confirm, {"draft": "x", "otp": code}, format="json"), 400, "draft_invalid")
    filed = client.post(confirm, {"draft": pending.json()["draft"], "otp": code}, format="json")
    assert filed.status_code == 201, filed.content
    request = ServiceRequest.objects.get(number=filed.json()["request"]["number"])
    assert request.request_type.code == "TERMINATION" and request.data["dossiers"] == ["EA00003301"]
    assert request.attachments.get().document_code == "cin"
    # the same dossier again: refused next to the field
    again = assert_error(
        client.post(TERMINATION, {"dossiers": ["EA00003301"], "doc_cin": pdf_upload()}, format="multipart"), 400
    )
    assert "dossiers" in again["fields"]


def test_termination_refusals(terminating):
    _customer, user = terminating
    client = api_client(user)
    DossierFactory(number="EA00009999")  # another customer's
    theirs = assert_error(
        client.post(TERMINATION, {"dossiers": ["EA00009999"], "doc_cin": pdf_upload()}, format="multipart"), 400
    )
    assert "dossiers" in theirs["fields"]
    missing = assert_error(client.post(TERMINATION, {"dossiers": ["EA00003301"]}, format="multipart"), 400)
    assert "doc_cin" in missing["fields"]
    bad = assert_error(
        client.post(
            TERMINATION, {"dossiers": ["EA00003301"], "doc_cin": exe_renamed_pdf("cin.pdf")}, format="multipart"
        ),
        400,
    )
    assert "doc_cin" in bad["fields"]
    assert_error(api_client().post(TERMINATION, {}, format="multipart"), 401)
    assert_error(client.post("/api/v1/request-types/abonnement/requests/", {}, format="multipart"), 404, "not_found")
    assert not ServiceRequest.objects.exists()


def test_termination_without_a_phone_or_email_asks_for_them_first():
    customer, user = customer_with_account(phone="+212612000340")
    DossierFactory(customer=customer, number="EA00003401")
    assert_error(
        api_client(user).post(TERMINATION, {"dossiers": ["EA00003401"], "doc_cin": pdf_upload()}, format="multipart"),
        400,
        "contact_missing",
    )


def test_collective_meter_is_filed_at_once_without_otp(sms_outbox):
    customer, user = customer_with_account(phone="+212612000345", email="driss@example.ma")
    DossierFactory(customer=customer, number="EA00003451")
    files = _documents(RequestType.Code.COLLECTIVE_METER)
    url = "/api/v1/request-types/compteurs-collectifs/requests/"
    assert_error(api_client(user).post(url, {"dossiers": [], **files}, format="multipart"), 400, "invalid")
    filed = api_client(user).post(
        url, {"dossiers": ["EA00003451"], **_documents(RequestType.Code.COLLECTIVE_METER)}, format="multipart"
    )
    assert filed.status_code == 201, filed.content
    request = ServiceRequest.objects.get(number=filed.json()["request"]["number"])
    assert request.request_type.code == "COLLECTIVE_METER" and request.attachments.count() == len(files)


def test_final_index_not_awaited_is_refused(terminating):
    customer, user = terminating
    r = ServiceRequestFactory(customer=customer)
    from tests.reading_factories import png_upload

    assert_error(
        api_client(user).post(
            f"/api/v1/requests/{r.number}/final-index/",
            {"dossier": "EA00003301", "index": "120", "photo": png_upload()},
            format="multipart",
        ),
        400,
        "final_reading_not_expected",
    )


# --- quotes -----------------------------------------------------------------------------------------------


def _quoted(customer, now) -> Quote:
    rtype = RequestType.objects.get(code=RequestType.Code.CONNECTION)
    rtype.documents.update(required=False)
    request = request_file(
        request_type=rtype, customer=customer, data={"address": "12 rue Tarik", "units": 4}, attachments=[], now=now
    )
    return quote_issue(
        request_id=request.pk, lines=quote_lines_parse("Branchement BT ; 1 ; 4500"), now=now, actor=StaffFactory()
    )


def test_quotes_list_pdf_and_accept(now):
    customer, user = customer_with_account(phone="+212612000350", email="omar@example.ma")
    quote = _quoted(customer, now)
    client = api_client(user)
    listing = client.get("/api/v1/quotes/")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    row = listing.json()["results"][0]
    assert row["number"] == quote.number and row["can_accept"] is True and Decimal(row["amount_ht"]) == Decimal(4500)
    pdf = client.get(f"/api/v1/quotes/{quote.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    tracking = client.get(f"/api/v1/requests/{quote.request.number}/").json()
    assert tracking["actions"]["accept_quote"] is True
    accepted = client.post(f"/api/v1/quotes/{quote.pk}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["quote"]["status"] == "ACCEPTE" and accepted.json()["quote"]["works_bill"]["number"]
    assert client.get(f"/api/v1/requests/{quote.request.number}/").json()["actions"]["pay_works"] is True
    pay = f"/api/v1/requests/{quote.request.number}/pay/"
    body = assert_error(client.post(pay, {"conditions": False}, format="json"), 400, "invalid")
    assert "conditions" in body["fields"]
    paying = client.post(pay, {"conditions": True}, format="json")
    assert paying.status_code == 201, paying.content
    assert paying.json()["checkout"]["method"] == "POST" and paying.json()["checkout"]["fields"]
    assert paying.json()["order"]["purpose"] == "REQUEST_FEE"
    assert_error(client.post(f"/api/v1/quotes/{quote.pk}/accept/"), 400, "quote_not_acceptable")
    # another customer's quote
    _other, other_user = customer_with_account(phone="+212612000351")
    other = api_client(other_user)
    assert_error(other.get(f"/api/v1/quotes/{quote.pk}/"), 404, "not_found")
    assert_error(other.get(f"/api/v1/quotes/{quote.pk}/pdf/"), 404, "not_found")
    assert_error(other.post(f"/api/v1/quotes/{quote.pk}/accept/"), 404, "not_found")


# --- the subscription's call and contracts -----------------------------------------------------------------


def test_call_and_signature_refused_before_their_phase(now):
    customer, user = customer_with_account(phone="+212612000360", email="hiba@example.ma")
    r = ServiceRequestFactory(customer=customer)  # in « Recevabilité administrative »
    client = api_client(user)
    assert_error(client.post(f"/api/v1/requests/{r.number}/call/"), 400, "call_refused")
    pay = f"/api/v1/requests/{r.number}/pay/"
    assert_error(client.post(pay, {"conditions": True}, format="json"), 400, "payment_refused")
    _other, other_user = customer_with_account(phone="+212612000361")
    assert_error(api_client(other_user).post(pay, {"conditions": True}, format="json"), 404, "not_found")
    assert_error(client.post("/api/v1/contracts/999999/sign/", {"signature": "data:,"}, format="json"), 404)
    assert_error(client.get("/api/v1/contracts/999999/pdf/"), 404)


# --- attestations --------------------------------------------------------------------------------------


def test_attestation_generated_listed_and_its_pdf(now):
    customer, user = customer_with_account(phone="+212612000370", email="hind@example.ma")
    dossier = DossierFactory(customer=customer)
    client = api_client(user)
    generated = client.post(
        "/api/v1/attestations/", {"attestation_type": "ABONNEMENT", "dossier_number": dossier.number}, format="json"
    )
    assert generated.status_code == 201, generated.content
    body = generated.json()
    assert body["pdf_available"] is True and body["reference"]
    listing = client.get("/api/v1/attestations/")
    assert [a["number"] for a in listing.json()] == [body["number"]]
    pdf = client.get(f"/api/v1/attestations/{body['number']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF")
    # another customer's attestation and dossier
    _other, other_user = customer_with_account(phone="+212612000371")
    other = api_client(other_user)
    assert_error(other.get(f"/api/v1/attestations/{body['number']}/pdf/"), 404, "not_found")
    assert_error(
        other.post(
            "/api/v1/attestations/", {"attestation_type": "ABONNEMENT", "dossier_number": dossier.number}, format="json"
        ),
        400,
        "attestation_dossier_not_found",
    )


def test_attestation_refusals(now):
    customer, user = customer_with_account(phone="+212612000380")
    dossier = DossierFactory(customer=customer)
    client = api_client(user)
    assert_error(
        client.post(
            "/api/v1/attestations/",
            {"attestation_type": "RESILIATION", "dossier_number": dossier.number},
            format="json",
        ),
        400,
        "dossier_not_terminated",
    )
    assert_error(
        client.post(
            "/api/v1/attestations/",
            {"attestation_type": "CONSOMMATION", "dossier_number": dossier.number},
            format="json",
        ),
        400,
        "no_readings",
    )
    body = assert_error(
        client.post("/api/v1/attestations/", {"attestation_type": "AUTRE", "dossier_number": 12}, format="json"), 400
    )
    assert set(body["fields"]) == {"attestation_type", "dossier_number"}
    assert_error(api_client().get("/api/v1/attestations/"), 401)
