"""/api/v1/ readings: history per dossier, the self-reading window of each dossier, sending an
index with a photo (multipart, checked by content and size like the portal) and every refusal of
the portal with its stable code, correction, cancellation, contest, photos. The day is 02/03/2026
(``now`` fixture); round T01's window runs 01/03 → 07/03."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rak_base import clock
from rak_base.models import Message
from rak_billing.models import MeterReading
from tests.api_helpers import api_client, assert_error
from tests.factories import StaffFactory, customer_with_account
from tests.reading_factories import (
    MeterReadingFactory,
    ReadingRoundFactory,
    dossier_in_round,
    monthly_history,
    png_bytes,
    png_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture
def customer_dossier():
    ReadingRoundFactory(code="T01", window_start_day=1, window_days=7)  # open on 02/03
    customer, user = customer_with_account(phone="+212611000001")
    dossier = dossier_in_round("T01", customer=customer)
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    return customer, user, dossier


@pytest.fixture
def app(customer_dossier):
    return api_client(customer_dossier[1])


@pytest.fixture
def stranger():
    customer, _user = customer_with_account(phone="+212699999999")
    dossier = dossier_in_round("T01", customer=customer, number="D900000009")
    reading = MeterReadingFactory(
        dossier=dossier, reading_date=datetime.date(2026, 2, 1), status=MeterReading.Status.HELD, photo="x/y.png"
    )
    return customer, dossier, reading


def submit(app, dossier, index="1262", photo="default", **extra):
    data = {"index": index, **extra}
    if photo == "default":
        photo = png_upload()
    if photo is not None:
        data["photo"] = photo
    return app.post(f"/api/v1/dossiers/{dossier.number}/self_reading/", data, format="multipart")


# --- status, history --------------------------------------------------------------------------------


def test_self_reading_status_per_dossier(app, customer_dossier, django_assert_max_num_queries):
    customer, _user, dossier = customer_dossier
    ReadingRoundFactory(code="T09", window_start_day=20, window_days=7)
    closed = dossier_in_round("T09", customer=customer)
    with django_assert_max_num_queries(9):
        response = app.get("/api/v1/self_reading/")
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2026-03-02"
    states = {s["dossier"]: s for s in body["dossiers"]}
    open_state = states[dossier.number]
    assert open_state["available"] is True and open_state["already_read"] is False
    assert open_state["window"] == {"start": "2026-03-01", "end": "2026-03-07"}
    assert open_state["last_reading"]["index"] == "1250.000" and open_state["unit"] == "m³"
    assert states[closed.number]["available"] is False and states[closed.number]["window"] is None
    assert states[closed.number]["next_window"] == {"start": "2026-03-20", "end": "2026-03-26"}
    assert_error(api_client().get("/api/v1/self_reading/"), 401, "not_authenticated")


def test_history_of_a_dossier_paginated_newest_first(app, customer_dossier, django_assert_max_num_queries):
    _customer, _user, dossier = customer_dossier
    monthly_history(dossier, last=datetime.date(2026, 1, 20), months=30)
    with django_assert_max_num_queries(7):
        response = app.get(f"/api/v1/dossiers/{dossier.number}/readings/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 32 and len(body["results"]) == 20
    first = body["results"][0]
    assert first["date"] == "2026-02-01" and first["index"] == "1250.000"
    assert first["source"] == "AGENT" and first["status"] == "ACCEPTED" and first["status_label"]
    assert first["has_photo"] is False and first["contestable"] is False


def test_another_customers_dossier_and_readings_are_404(app, stranger):
    _customer, dossier, reading = stranger
    assert_error(app.get(f"/api/v1/dossiers/{dossier.number}/readings/"), 404, "not_found")
    assert_error(submit(app, dossier), 404, "not_found")
    for url in (
        f"/api/v1/readings/{reading.pk}/photo/",
        f"/api/v1/readings/{reading.pk}/contest_photo/",
    ):
        assert_error(app.get(url), 404, "not_found")
    assert_error(app.post(f"/api/v1/readings/{reading.pk}/cancel/"), 404, "not_found")
    assert_error(
        app.post(f"/api/v1/readings/{reading.pk}/contest/", {"photo": png_upload()}, format="multipart"),
        404,
        "not_found",
    )
    assert_error(
        app.post(f"/api/v1/readings/{reading.pk}/correction/", {"index": "1300"}, format="multipart"),
        404,
        "not_found",
    )
    assert not MeterReading.objects.filter(dossier=dossier).exclude(pk=reading.pk).exists()


def test_endpoints_need_a_token(stranger):
    _customer, dossier, reading = stranger
    anonymous = api_client()
    assert_error(anonymous.get(f"/api/v1/dossiers/{dossier.number}/readings/"), 401, "not_authenticated")
    assert_error(submit(anonymous, dossier), 401, "not_authenticated")
    for action in ("cancel", "contest", "correction"):
        assert_error(anonymous.post(f"/api/v1/readings/{reading.pk}/{action}/"), 401, "not_authenticated")
    assert_error(anonymous.get(f"/api/v1/readings/{reading.pk}/photo/"), 401, "not_authenticated")


# --- submitting an index ----------------------------------------------------------------------------


def test_self_reading_with_photo_is_saved_then_the_window_is_used(app, customer_dossier):
    _customer, _user, dossier = customer_dossier
    response = submit(app, dossier, "1262")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reading"]["index"] == "1262.000" and body["reading"]["consumption"] == "12.000"
    assert body["reading"]["source"] == "SELF" and body["reading"]["status"] == "ACCEPTED"
    assert body["reading"]["has_photo"] is True
    assert "Votre index 1\u00a0262 a bien été enregistré pour le dossier" in body["message"]
    reading = MeterReading.objects.get(dossier=dossier, source=MeterReading.Source.SELF)
    assert reading.photo.name.startswith("readings/") and not reading.photo.name.endswith("index.png")

    photo = app.get(f"/api/v1/readings/{reading.pk}/photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert b"".join(photo.streaming_content) == png_bytes()

    again = assert_error(submit(app, dossier, "1263"), 400, "reading_already_done")
    assert "a déjà été relevé" in again["message"]
    state = app.get("/api/v1/self_reading/").json()["dossiers"][0]
    assert state["already_read"] is True and state["correctable"] is True
    assert state["reading"]["id"] == reading.pk


def test_arabic_digits_are_read(app, customer_dossier):
    _customer, _user, dossier = customer_dossier
    assert submit(app, dossier, "١٢٦٢").status_code == 201
    assert MeterReading.objects.get(dossier=dossier, source="SELF").index == 1262


def test_outside_the_window_says_when_it_opens(app, customer_dossier):
    customer = customer_dossier[0]
    ReadingRoundFactory(code="T09", window_start_day=20, window_days=7)
    closed = dossier_in_round("T09", customer=customer)
    body = assert_error(submit(app, closed, "10"), 400, "reading_window_closed")
    assert "du 20/03/2026 au 26/03/2026" in body["message"]


def test_a_dossier_without_meter_is_unavailable(app, customer_dossier):
    customer = customer_dossier[0]
    from tests.factories import DossierFactory, PremisesFactory

    sewer = DossierFactory(customer=customer, meter=None, premises=PremisesFactory(round_code="T01"))
    assert_error(submit(app, sewer, "10"), 400, "reading_unavailable")


def test_an_agent_reading_in_the_window_blocks_it(app, customer_dossier):
    dossier = customer_dossier[2]
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 3, 1), index=Decimal(1255))
    body = assert_error(submit(app, dossier), 400, "reading_already_done")
    assert "par nos agents ou vous l'avez déjà envoyé" in body["message"]


def test_index_below_the_last_one_is_refused_with_it(app, customer_dossier):
    body = assert_error(submit(app, customer_dossier[2], "1100"), 400, "index_below_previous")
    assert body["message"] == "L'index saisi est inférieur au dernier index relevé (1\u00a0250)."


@pytest.mark.parametrize(("index", "code"), [("douze", "invalid_value"), ("-5", "invalid_value")])
def test_unreadable_index_is_refused(app, customer_dossier, index, code):
    assert_error(submit(app, customer_dossier[2], index), 400, code)


def test_missing_index_and_photo_are_field_errors_with_the_portals_messages(app, customer_dossier):
    body = assert_error(submit(app, customer_dossier[2], index="", photo=None), 400, "invalid")
    assert set(body["fields"]) == {"index", "photo"}
    assert body["fields"]["index"][0]["message"] == "Saisissez l'index affiché par votre compteur."
    assert body["fields"]["photo"][0]["message"].startswith("Vous devez joindre une photo de l'index")


@pytest.mark.parametrize(
    ("photo", "code", "message"),
    [
        (SimpleUploadedFile("index.jpg", b"pas une image du tout", "image/jpeg"), "upload_wrong_kind", "pas une photo"),
        (
            SimpleUploadedFile("index.png", png_bytes()[:20] + b"\x00" * 3000, "image/png"),
            "upload_wrong_kind",
            "pas une photo",
        ),
        (
            SimpleUploadedFile("grande.png", png_bytes() + b"\x00" * (2 * 1024 * 1024), "image/png"),
            "upload_too_large",
            "2 Mo",
        ),
    ],
    ids=["text-as-jpeg", "broken-png", "too-large"],
)
def test_photo_is_checked_by_content_and_size(app, customer_dossier, photo, code, message):
    dossier = customer_dossier[2]
    body = assert_error(submit(app, dossier, photo=photo), 400, code)
    assert message in body["message"]
    assert not MeterReading.objects.filter(dossier=dossier, source="SELF").exists()


def test_json_body_is_refused_the_photo_needs_multipart(app, customer_dossier):
    dossier = customer_dossier[2]
    response = app.post(f"/api/v1/dossiers/{dossier.number}/self_reading/", {"index": "1262"}, format="json")
    assert_error(response, 415, "unsupported_media_type")


def test_implausible_index_asks_for_confirmation_then_is_held_for_review(app, customer_dossier, sms_outbox):
    _customer, user, dossier = customer_dossier
    MeterReading.objects.filter(dossier=dossier).delete()
    monthly_history(dossier, last=datetime.date(2026, 2, 1), per_month=10)  # ends at 1060
    body = assert_error(submit(app, dossier, "1400"), 400, "reading_needs_confirmation")
    assert "Vérifiez l'index saisi" in body["message"] and "340" in body["message"]
    assert not MeterReading.objects.filter(dossier=dossier, source="SELF").exists()

    response = submit(app, dossier, "1400", confirm="true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reading"]["status"] == "HELD" and body["reading"]["contestable"] is True
    assert "vérifié par nos services avant facturation" in body["message"]
    assert Message.objects.filter(user=user, kind="reading_held").exists()


def test_a_typo_asks_for_confirmation(app, customer_dossier):
    body = assert_error(submit(app, customer_dossier[2], "99999999"), 400, "reading_needs_confirmation")
    assert "Je confirme cet index" in body["message"]


# --- correction, cancellation, contest -------------------------------------------------------------


def test_own_reading_corrected_then_cancelled(app, customer_dossier):
    dossier = customer_dossier[2]
    first = submit(app, dossier, "1262").json()["reading"]
    response = app.post(f"/api/v1/readings/{first['id']}/correction/", {"index": "1265"}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reading"]["index"] == "1265.000" and "a bien été corrigé" in body["message"]
    assert body["reading"]["has_photo"] is True  # the first photo kept
    assert MeterReading.objects.get(pk=first["id"]).status == MeterReading.Status.REJECTED

    # the withdrawn one can no longer be corrected
    assert_error(
        app.post(f"/api/v1/readings/{first['id']}/correction/", {"index": "1266"}, format="multipart"),
        400,
        "reading_not_correctable",
    )
    cancelled = app.post(f"/api/v1/readings/{body['reading']['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "REJECTED"
    assert submit(app, dossier, "1263").status_code == 201  # read again in the window


def test_no_correction_of_an_agent_reading_or_a_reviewed_one(app, customer_dossier, now):
    dossier = customer_dossier[2]
    agent = MeterReading.objects.get(dossier=dossier)
    assert_error(app.post(f"/api/v1/readings/{agent.pk}/cancel/"), 400, "reading_not_correctable")
    own = submit(app, dossier, "1262").json()["reading"]
    MeterReading.objects.filter(pk=own["id"]).update(reviewed_at=now, reviewed_by=StaffFactory())  # verified
    body = assert_error(
        app.post(f"/api/v1/readings/{own['id']}/correction/", {"index": "1270"}, format="multipart"),
        400,
        "reading_not_correctable",
    )
    assert "ne peut plus être corrigé" in body["message"]


def test_contest_a_held_reading_with_a_photo(app, customer_dossier):
    dossier = customer_dossier[2]
    held = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 20), status="HELD")
    body = assert_error(
        app.post(f"/api/v1/readings/{held.pk}/contest/", {"note": "Erreur"}, format="multipart"), 400, "invalid"
    )
    assert "Joignez une photo" in body["fields"]["photo"][0]["message"]
    wrong = SimpleUploadedFile("x.png", b"texte", "image/png")
    assert_error(
        app.post(f"/api/v1/readings/{held.pk}/contest/", {"photo": wrong}, format="multipart"),
        400,
        "upload_wrong_kind",
    )
    response = app.post(
        f"/api/v1/readings/{held.pk}/contest/",
        {"note": "Mon compteur affiche 1255", "photo": png_upload()},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CONTESTED" and response.json()["has_contest_photo"] is True
    assert app.get(f"/api/v1/readings/{held.pk}/contest_photo/").status_code == 200
    again = app.post(f"/api/v1/readings/{held.pk}/contest/", {"photo": png_upload()}, format="multipart")
    assert_error(again, 400, "reading_not_contestable")


def test_a_reading_without_photo_answers_404(app, customer_dossier):
    agent = MeterReading.objects.get(dossier=customer_dossier[2])
    assert_error(app.get(f"/api/v1/readings/{agent.pk}/photo/"), 404, "not_found")
