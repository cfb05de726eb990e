"""Issue 9 §1: a « decompression bomb » (a PNG of a few hundred KB declaring 60,000 × 60,000
pixels) posted at every real upload page, the way a user meets it: never a 500, a French refusal
on the page (or the form again with its error), and nothing stored — no reading, no contest photo,
no attachment, no staged file, no signature, no import.

Pages: « Relever mon compteur » (self-reading), « Corriger » (its correction with a new photo),
« Contester ce relevé », « Répondre » to a complement, the subscription filing's step 3,
« Signer le contrat » (the drawn signature is a PNG data URL), « Vérifier un document » and, in
the back office, the readings import and the network-payment / CMI settlement imports (a PNG
renamed .csv / .xlsx)."""

from __future__ import annotations

import base64
import datetime
import html as htmllib
import importlib
from decimal import Decimal
from functools import cache

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rak_base import clock
from rak_billing.models import MeterReading, ReadingImport
from rak_payment_cmi.models import NetworkPaymentImport, SettlementImport
from rak_requests import lifecycle
from rak_requests.models import Attachment, CallRequest, Contract
from rak_requests.services import request_ask_complement
from tests.factories import StaffFactory, customer_with_account, staff_in
from tests.integration.test_lifecycle import make_request
from tests.integration.test_subscription_filing import INFO, step, verified_step1
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round, png_upload
from tests.request_factories import ServiceRequestFactory
from tests.unit.test_uploads import bomb_png

pytestmark = pytest.mark.django_db

SIDE = 60_000  # 3.6 billion pixels: ~440 KB on disk, passes every size limit


@cache
def bomb() -> bytes:
    return bomb_png(SIDE, SIDE)


@cache
def small_bomb() -> bytes:
    """12,000 × 12,000 (144 million pixels, ~18 KB): under the signature's 300 KB limit."""
    return bomb_png(12_000, 12_000)


def bomb_upload(name: str = "index.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, bomb(), content_type=content_type)


def text(response) -> str:
    return htmllib.unescape(response.content.decode())


REFUSED = "L'image est trop grande"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


def test_the_bomb_is_small_on_disk_but_huge_in_pixels():
    assert len(bomb()) < 1024 * 1024 and len(small_bomb()) < 300 * 1024


# --- meter readings (portal) ---------------------------------------------------------------------------


@pytest.fixture
def reader(client):
    ReadingRoundFactory(code="T01", window_start_day=1, window_days=7)  # open on the ``now`` fixture's 02/03
    customer, user = customer_with_account(phone="+212611000001")
    dossier = dossier_in_round("T01", customer=customer)
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    client.force_login(user)
    return dossier


@pytest.mark.parametrize("side", [8_000, SIDE])  # 64 million pixels: over the limit, under Pillow's own error
def test_self_reading_photo_bomb_is_refused_and_nothing_is_saved(client, reader, side):
    url = reverse("portal:self_reading_dossier", args=[reader.number])
    photo = bomb_upload() if side == SIDE else SimpleUploadedFile("index.png", bomb_png(side, side), "image/png")
    response = client.post(url, {"index": "1262", "photo": photo})
    assert response.status_code == 400
    assert REFUSED in text(response)
    assert not MeterReading.objects.filter(dossier=reader, source=MeterReading.Source.SELF).exists()


def test_self_reading_correction_photo_bomb_is_refused_and_the_reading_stays(client, reader):
    url = reverse("portal:self_reading_dossier", args=[reader.number])
    assert client.post(url, {"index": "1262", "photo": png_upload()}).status_code == 302
    first = MeterReading.objects.get(dossier=reader, source="SELF")
    response = client.post(
        reverse("portal:reading_correct", args=[first.pk]),
        {"action": "corriger", "index": "1265", "photo": bomb_upload()},
    )
    assert response.status_code == 400
    assert REFUSED in text(response)
    first.refresh_from_db()
    assert first.status != MeterReading.Status.REJECTED and first.index == 1262
    assert MeterReading.objects.filter(dossier=reader, source="SELF").count() == 1


def test_contest_photo_bomb_is_refused_and_the_reading_stays_held(client, reader):
    held = MeterReadingFactory(dossier=reader, reading_date=datetime.date(2026, 2, 20), status="HELD")
    response = client.post(reverse("portal:reading_contest", args=[held.pk]), {"note": "faux", "photo": bomb_upload()})
    assert response.status_code == 400
    assert REFUSED in text(response)
    held.refresh_from_db()
    assert held.status == MeterReading.Status.HELD and not held.contest_photo


# --- requests (portal) -----------------------------------------------------------------------------------


def test_complement_answer_bomb_is_refused_and_no_attachment_is_stored(client, now):
    customer, user = customer_with_account(phone="+212612000010", email="nadia@example.ma")
    request = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=request.pk, staff=StaffFactory(), message="La CIN est illisible.", now=now)
    client.force_login(user)
    response = client.post(
        reverse("portal:request_answer", args=[request.number]), {"text": "Voici", "file": bomb_upload("cin.png")}
    )
    assert response.status_code == 400
    assert REFUSED in text(response)
    assert not Attachment.objects.filter(request=request).exists()


@pytest.fixture
def request_types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


def test_subscription_step_3_bomb_is_refused_and_not_staged(client, sms_outbox, request_types):
    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    response = client.post(step(3), {"doc_cin": bomb_upload("cin.png"), "action": "next"})
    assert response.status_code == 400
    assert REFUSED in text(response)
    assert "Déjà joint : cin.png" not in text(client.get(step(3)))
    assert client.get(step(4))["Location"] == step(3)


def test_signature_bomb_is_refused_and_nothing_is_signed(client):
    customer, user = customer_with_account(phone="+212661234567", email="salma@example.ma")
    request = make_request(customer)
    agent = StaffFactory(username="agent.call")
    now = clock.now()
    call = lifecycle.call_request_create(request_id=request.pk, customer=customer, now=now)
    lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=now)
    lifecycle.technical_accept(request_id=request.pk, agent=agent, now=now)
    client.force_login(user)
    sign_url = reverse("portal:lifecycle_sign", args=[request.number])
    client.get(sign_url)
    contract = request.contracts.order_by("service").first()
    for payload in (small_bomb(), bomb()):
        data_url = "data:image/png;base64," + base64.b64encode(payload).decode()
        response = client.post(sign_url, {"contract": contract.pk, "signature": data_url})
        assert response.status_code == 400
        assert "signature" in text(response).lower() and (
            "pas pu être lue" in text(response) or "trop" in text(response)
        )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT and not contract.signature and contract.document_id is None


def test_document_verification_with_a_bomb_is_refused_as_not_a_pdf(client):
    response = client.post(reverse("portal:verify"), {"reference": "7KQ2-M9XD-4TRA", "file": bomb_upload("f.pdf")})
    assert response.status_code == 400
    assert "pas un PDF" in text(response)


# --- back-office imports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"), [("releves.xlsx", "application/octet-stream"), ("r.csv", "text/csv")]
)
def test_reading_import_of_a_bomb_renamed_is_refused(client, name, content_type):
    staff_in("facturation", client=client)
    response = client.post(
        reverse("admin:rak_billing_readingimport_import_file"), {"file": bomb_upload(name, content_type)}
    )
    assert response.status_code in (200, 400)
    assert "format accepté" in text(response)
    assert not ReadingImport.objects.exists()


def test_network_payment_import_of_a_bomb_renamed_is_refused(client):
    staff_in("recouvrement", client=client)
    response = client.post(
        reverse("admin:rak_payment_cmi_networkpaymentimport_import_file"),
        {"file": bomb_upload("tasshilat.csv", "text/csv"), "network": "Tasshilat"},
    )
    assert response.status_code in (200, 400)
    assert "n'est pas un fichier CSV texte" in text(response)  # read as CSV, never opened as an image
    assert not NetworkPaymentImport.objects.exists()


def test_settlement_import_of_a_bomb_renamed_is_refused(client):
    staff_in("recouvrement", client=client)
    response = client.post(
        reverse("admin:rak_payment_cmi_settlementimport_import_file"), {"file": bomb_upload("cmi.csv", "text/csv")}
    )
    assert response.status_code in (200, 400)
    assert "n'est pas un fichier CSV texte" in text(response)  # read as CSV, never opened as an image
    assert not SettlementImport.objects.exists()
