"""Complaints through the API (issue 13): categories, « Mes réclamations », filing (with a file
checked like the portal's, the SMS limits and the per-phone throttle), the detail with the exchange,
« Ajouter une information », reopen within the allowed days, rating, the attachment, incidents
(a cut already covered by an outage notice), outage notices of the customer's districts. Each
refusal with its code; another customer's complaint is 404; no token is 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintCategory, OutageNotice
from rak_requests.complaints import services
from tests.api_helpers import api_client, assert_error
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.reading_factories import png_upload
from tests.request_factories import exe_renamed_pdf, pdf_upload

pytestmark = pytest.mark.django_db

LIST = "/api/v1/complaints/"
INCIDENTS = "/api/v1/incidents/"


@pytest.fixture
def owner():
    customer, user = customer_with_account(phone="+212612345678")
    dossier = DossierFactory(customer=customer, premises__district="Maamora", service="EAU")
    return customer, user, dossier


def category(code: str = "facturation") -> ComplaintCategory:
    return ComplaintCategory.objects.get(code=code)


def file_one(customer, user, *, now=None, **kwargs) -> Complaint:
    values = {
        "category": category(kwargs.pop("code", "facturation")),
        "name": "Karim Idrissi",
        "phone": "0612345678",
        "message": kwargs.pop("message", "Ma facture est trop élevée."),
        "subject": kwargs.pop("subject", "Facture trop élevée"),
    }
    values.update(kwargs)
    return services.complaint_file(
        filing=services.ComplaintFiling(**values), customer=customer, user=user, now=now or clock.now()
    )


def closed(customer, user, *, closed_at=None) -> Complaint:
    complaint = file_one(customer, user)
    services.complaint_close(
        complaint_id=complaint.pk,
        staff_user=StaffFactory(),
        result="Index corrigé, avoir émis.",
        now=closed_at or clock.now(),
    )
    return complaint


# --- categories, list, detail -------------------------------------------------------------------------


def test_categories_are_public_and_translated():
    body = api_client().get("/api/v1/complaint-categories/").json()
    codes = {row["code"]: row for row in body["results"]}
    assert "facturation" in codes and codes["facturation"]["name"] == "Facturation"
    assert any(row["is_incident"] for row in body["results"])
    english = api_client(language="en").get("/api/v1/complaint-categories/").json()
    assert {row["code"]: row["name"] for row in english["results"]}["facturation"] == "Billing"


def test_list_needs_a_token():
    assert_error(api_client().get(LIST), 401)


def test_list_shows_only_mine_open_first_in_a_fixed_number_of_queries(owner, django_assert_max_num_queries):
    customer, user, _dossier = owner
    first = closed(customer, user)
    open_one = file_one(customer, user, subject="Encore ouverte", message="Autre message")
    other, other_user = customer_with_account(phone="+212612345600")
    file_one(other, other_user, phone="0612345600", subject="Pas à moi")
    for i in range(5):
        file_one(customer, user, message=f"Message {i}", phone=f"06123456{10 + i}")
    client = api_client(user)
    with django_assert_max_num_queries(8):
        body = client.get(LIST).json()
    numbers = [row["number"] for row in body["results"]]
    assert body["count"] == 7 and first.number == numbers[-1] and open_one.number in numbers
    row = body["results"][-1]
    assert row["status"] == "CLOSED" and row["is_open"] is False and row["sla_text"].startswith("Clôturée le")
    assert all(r["subject"] != "Pas à moi" for r in body["results"])


def test_detail_shows_the_exchange_without_internal_notes(owner):
    customer, user, _dossier = owner
    complaint = file_one(customer, user)
    agent = StaffFactory()
    now = clock.now()
    services.complaint_note(complaint_id=complaint.pk, staff_user=agent, body="NOTE SECRÈTE", now=now)
    services.complaint_reply(
        complaint_id=complaint.pk,
        staff_user=agent,
        body="Merci d'envoyer une photo du compteur.",
        asks_information=True,
        now=now + timedelta(minutes=1),
    )
    body = api_client(user).get(f"{LIST}{complaint.number}/").json()
    assert body["status"] == "WAITING_CUSTOMER" and body["waiting_for_customer"] is True
    assert body["can_add_info"] is True and body["can_reopen"] is False and body["can_rate"] is False
    texts = [e["body"] for e in body["entries"]]
    assert "Merci d'envoyer une photo du compteur." in texts and not any("SECRÈTE" in t for t in texts)
    assert body["entries"][0]["from_customer"] is True and body["entries"][-1]["kind"] == "INFO_REQUEST"


def test_another_customers_complaint_is_404_everywhere(owner):
    customer, user, _dossier = owner
    other, other_user = customer_with_account(phone="+212612345600")
    theirs = closed(other, other_user)
    client = api_client(user)
    base = f"{LIST}{theirs.number}/"
    assert_error(client.get(base), 404, "not_found")
    assert_error(client.post(base + "messages/", {"body": "Bonjour"}, format="json"), 404)
    assert_error(client.post(base + "reopen/", {"reason": "Toujours pas"}, format="json"), 404)
    assert_error(client.post(base + "rating/", {"rating": 5}, format="json"), 404)
    assert_error(client.get(f"{LIST}REC-INCONNUE/"), 404)
    assert_error(client.get(f"{LIST}%00/"), 400, "bad_request")  # a NUL: refused before any lookup


# --- filing ------------------------------------------------------------------------------------------


def test_filing_with_a_file_sends_the_sms_and_answers_the_complaint(owner):
    customer, user, dossier = owner
    response = api_client(user).post(
        LIST,
        {
            "category": category().pk,
            "message": "Ma facture est trop élevée.",
            "dossier": dossier.pk,
            "file": pdf_upload("facture.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    complaint = Complaint.objects.get(number=body["number"])
    assert complaint.customer == customer and complaint.channel == Complaint.Channel.MOBILE
    assert complaint.dossier == dossier and complaint.phone == "+212612345678"
    assert body["entries"][0]["attachment"]["name"] == "facture.pdf"
    assert Message.objects.filter(channel="SMS", recipient="+212612345678", body__contains=complaint.number).exists()
    # the file, to its owner only
    url = body["entries"][0]["attachment"]["url"]
    download = api_client(user).get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    other, other_user = customer_with_account(phone="+212612345600")
    assert_error(api_client(other_user).get(url), 404)


def test_filing_refusals_have_the_portals_messages(owner):
    _customer, user, _dossier = owner
    client = api_client(user)
    missing = assert_error(client.post(LIST, {}, format="json"), 400, "invalid")
    assert {"category", "message"} <= set(missing["fields"])
    other_dossier = DossierFactory()
    body = assert_error(
        client.post(LIST, {"category": category().pk, "message": "x", "dossier": other_dossier.pk}, format="json"), 400
    )
    assert body["fields"]["dossier"][0]["message"] == "Ce dossier ne fait pas partie de vos abonnements."
    body = assert_error(client.post(LIST, {"category": 999999, "message": "x"}, format="json"), 400)
    assert body["fields"]["category"][0]["message"] == "Choisissez une catégorie de la liste."
    body = assert_error(
        client.post(LIST, {"category": category().pk, "message": "x", "file": exe_renamed_pdf()}, format="multipart"),
        400,
    )
    assert "file" in body["fields"]
    assert not Complaint.objects.exists()


def test_filing_is_throttled_per_phone_like_the_portal(owner, settings):
    settings.COMPLAINT_PER_PHONE_DAILY = 2
    _customer, user, _dossier = owner
    client = api_client(user)
    for i in range(2):
        assert (
            client.post(LIST, {"category": category().pk, "message": f"Message {i}"}, format="json").status_code == 201
        )
    body = assert_error(client.post(LIST, {"category": category().pk, "message": "Encore"}, format="json"), 429)
    assert "plusieurs réclamations" in body["message"]


def test_filing_is_throttled_by_the_sms_limits_per_device(owner, settings):
    settings.SMS_PER_SESSION_HOURLY = 1
    _customer, user, _dossier = owner
    client = api_client(user)
    assert client.post(LIST, {"category": category().pk, "message": "Un"}, format="json").status_code == 201
    assert_error(client.post(LIST, {"category": category().pk, "message": "Deux"}, format="json"), 429, "throttled")


def test_a_double_send_gives_the_same_complaint(owner):
    _customer, user, _dossier = owner
    client = api_client(user)
    data = {"category": category().pk, "message": "Même message"}
    first = client.post(LIST, data, format="json").json()["number"]
    assert client.post(LIST, data, format="json").json()["number"] == first
    assert Complaint.objects.count() == 1


# --- add information, reopen, rate -------------------------------------------------------------------


def test_answer_a_request_for_information_with_a_photo(owner):
    customer, user, _dossier = owner
    complaint = file_one(customer, user)
    services.complaint_reply(
        complaint_id=complaint.pk, staff_user=StaffFactory(), body="Une photo ?", asks_information=True, now=clock.now()
    )
    client = api_client(user)
    url = f"{LIST}{complaint.number}/messages/"
    body = assert_error(client.post(url, {"body": ""}, format="json"), 400)
    assert body["fields"]["body"][0]["message"] == "Écrivez votre message ou joignez un fichier."
    response = client.post(url, {"body": "Voici la photo", "file": png_upload("compteur.png")}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["entries"][-1]["body"] == "Voici la photo" and body["entries"][-1]["attachment"]["name"] == "compteur.png"
    )
    assert body["status"] != "WAITING_CUSTOMER"


def test_adding_to_a_closed_complaint_is_refused(owner):
    customer, user, _dossier = owner
    complaint = closed(customer, user)
    assert_error(
        api_client(user).post(f"{LIST}{complaint.number}/messages/", {"body": "Encore"}, format="json"),
        400,
        "complaint_closed",
    )


def test_reopen_within_the_allowed_days_and_not_after(owner, settings):
    customer, user, _dossier = owner
    client = api_client(user)
    recent = closed(customer, user)
    assert_error(client.post(f"{LIST}{recent.number}/reopen/", {"reason": ""}, format="json"), 400, "invalid")
    response = client.post(f"{LIST}{recent.number}/reopen/", {"reason": "Toujours trop élevée"}, format="json")
    assert response.status_code == 200 and response.json()["status"] != "CLOSED"
    assert_error(
        client.post(f"{LIST}{recent.number}/reopen/", {"reason": "Encore"}, format="json"), 400, "complaint_not_closed"
    )
    old = closed(customer, user, closed_at=clock.now() - timedelta(days=settings.COMPLAINT_REOPEN_DAYS + 1))
    assert api_client(user).get(f"{LIST}{old.number}/").json()["can_reopen"] is False
    assert_error(
        client.post(f"{LIST}{old.number}/reopen/", {"reason": "Trop tard ?"}, format="json"),
        400,
        "complaint_reopen_expired",
    )


def test_rate_once_a_closed_complaint(owner):
    customer, user, _dossier = owner
    client = api_client(user)
    still_open = file_one(customer, user)
    assert_error(
        client.post(f"{LIST}{still_open.number}/rating/", {"rating": 4}, format="json"), 400, "complaint_not_closed"
    )
    complaint = closed(customer, user)
    body = assert_error(client.post(f"{LIST}{complaint.number}/rating/", {"rating": 9}, format="json"), 400)
    assert "rating" in body["fields"]
    response = client.post(f"{LIST}{complaint.number}/rating/", {"rating": 5, "comment": "Merci"}, format="json")
    assert response.status_code == 200 and response.json()["rating"] == 5 and response.json()["can_rate"] is False
    assert_error(
        client.post(f"{LIST}{complaint.number}/rating/", {"rating": 3}, format="json"), 400, "complaint_already_rated"
    )


# --- incidents and outage notices ------------------------------------------------------------------


def _notice(**kwargs) -> OutageNotice:
    now = clock.now()
    values = {
        "number": "AV-TEST-1",
        "kind": OutageNotice.Kind.UNPLANNED,
        "service": "EAU",
        "districts": ["Maamora"],
        "starts_at": now - timedelta(hours=1),
        "expected_end_at": now + timedelta(hours=5),
        "reason": "Rupture de conduite",
        "status": OutageNotice.Status.PUBLISHED,
        "created_at": now,
        "published_at": now,
    }
    values.update(kwargs)
    return OutageNotice.objects.create(**values)


def _cut_category() -> ComplaintCategory:
    return ComplaintCategory.objects.filter(is_incident=True, code__startswith="coupure").first()


def test_a_cut_already_covered_by_a_notice_is_shown_then_filed_on_purpose(owner):
    customer, user, dossier = owner
    notice = _notice()
    client = api_client(user)
    data = {"category": _cut_category().pk, "service": "EAU", "premises": dossier.premises_id, "message": "Plus d'eau"}
    response = client.post(INCIDENTS, data, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "outage_notice_covers" and body["outage_notice"]["number"] == notice.number
    assert not Complaint.objects.exists()
    response = client.post(INCIDENTS, {**data, "outage_notice": body["outage_notice_id"]}, format="json")
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get()
    assert complaint.outage_notice == notice and complaint.source == Complaint.Source.INCIDENT


def test_an_incident_needs_a_place_and_my_premises_only(owner):
    _customer, user, _dossier = owner
    client = api_client(user)
    leak = ComplaintCategory.objects.filter(is_incident=True).exclude(code__startswith="coupure").first()
    body = assert_error(
        client.post(INCIDENTS, {"category": leak.pk, "service": "EAU", "message": "Fuite"}, format="json"), 400
    )
    assert "address" in body["fields"]
    body = assert_error(
        client.post(
            INCIDENTS,
            {"category": leak.pk, "service": "EAU", "message": "Fuite", "premises": DossierFactory().premises_id},
            format="json",
        ),
        400,
    )
    assert body["fields"]["premises"][0]["message"] == "Ce local ne fait pas partie de vos abonnements."
    response = client.post(
        INCIDENTS,
        {
            "category": leak.pk,
            "service": "EAU",
            "message": "Fuite",
            "address": "12 rue X",
            "district": "maamora",
            "photo": png_upload("fuite.png"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["district"] == "Maamora"


def test_incidents_need_a_token():
    assert_error(api_client().post(INCIDENTS, {}, format="json"), 401)


def test_outages_of_my_districts_and_the_public_list(owner):
    _customer, user, _dossier = owner
    mine = _notice()
    elsewhere = _notice(number="AV-TEST-2", districts=["Saknia"])
    body = api_client(user).get("/api/v1/outages/").json()
    assert [row["number"] for row in body["results"]] == [mine.number]
    assert body["results"][0]["state"] == "in_progress" and body["results"][0]["state_label"] == "En cours"
    public = api_client().get("/api/v1/outages/current/").json()
    assert {row["number"] for row in public["results"]} == {mine.number, elsewhere.number}
    only = api_client().get("/api/v1/outages/current/", {"district": "Saknia"}).json()
    assert [row["number"] for row in only["results"]] == [elsewhere.number]
    assert_error(api_client().get("/api/v1/outages/"), 401)


def test_routes_are_named():
    assert reverse("api:complaint", args=["REC2026-000001"]) == "/api/v1/complaints/REC2026-000001/"
