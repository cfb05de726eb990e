"""Meter readings against the real database: agents' imports (report, idempotence, set-based),
the checks, the abnormal reading held / contested / reviewed, the customer's self-reading and
history pages, estimates, demo history, and the back-office screens."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_billing.models import MeterReading, ReadingImport, ReadingRound
from rak_billing.readings import (
    IndexBelowPrevious,
    ReadingWindowClosed,
    ReviewReasonRequired,
    reading_contest,
    reading_estimate,
    reading_import_file,
    reading_review,
    reading_self_submit,
    readings_estimate,
    readings_generate_history,
)
from rak_billing.readings.rules import window_next, window_open
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.reading_factories import (
    MeterReadingFactory,
    ReadingRoundFactory,
    csv_file,
    dossier_in_round,
    monthly_history,
    png_bytes,
    png_upload,
    xlsx_file,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)  # the ``now`` fixture's date


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture
def open_round():
    return ReadingRoundFactory(code="T01", window_start_day=1, window_days=7)  # 01/03 -> 07/03: open


@pytest.fixture
def closed_round():
    return ReadingRoundFactory(code="T09", window_start_day=20, window_days=7)  # next: 20/03 -> 26/03


@pytest.fixture
def customer_dossier(open_round):
    customer, user = customer_with_account(phone="+212611000001")
    dossier = dossier_in_round("T01", customer=customer)
    return customer, user, dossier


def login(client, user):
    client.force_login(user)
    return client


def rendered(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


# --- windows (month ends) --------------------------------------------------------------------------


def test_reading_window_runs_over_month_ends():
    assert window_open(start_day=25, days=10, today=datetime.date(2026, 2, 28)).label() == "du 25/02/2026 au 06/03/2026"
    assert window_open(start_day=25, days=10, today=datetime.date(2026, 3, 6)).start == datetime.date(2026, 2, 25)
    assert window_open(start_day=25, days=10, today=datetime.date(2026, 3, 7)) is None
    assert window_open(start_day=28, days=7, today=datetime.date(2026, 12, 31)).end == datetime.date(2027, 1, 4)
    assert window_next(start_day=20, days=7, today=datetime.date(2026, 12, 21)).start == datetime.date(2027, 1, 20)


# --- import -------------------------------------------------------------------------------------


def test_import_creates_readings_and_reports_each_rejected_row_in_french(now):
    staff = StaffFactory()
    ok = DossierFactory()
    below = DossierFactory()
    MeterReadingFactory(dossier=below, reading_date=datetime.date(2026, 1, 5), index=Decimal(500))
    upload = csv_file(
        [
            [ok.number, "25/02/2026", "1 234,5", "", "RAS"],
            ["D999999999", "25/02/2026", "10", "", ""],
            [ok.number, "31/02/2026", "10", "", ""],
            [ok.number, "26/02/2026", "douze", "", ""],
            [below.number, "25/02/2026", "480", "", ""],
            [ok.number, "05/04/2026", "2000", "", ""],
        ]
    )
    result = reading_import_file(file=upload, file_name="releves.csv", user=staff, now=now)

    batch = ReadingImport.objects.get(pk=result.batch.pk)
    assert (batch.rows_total, batch.rows_created, batch.rows_rejected) == (6, 1, 5)
    reading = MeterReading.objects.get(dossier=ok)
    assert reading.index == Decimal("1234.5") and reading.note == "RAS"
    assert reading.source == MeterReading.Source.AGENT and reading.import_batch == batch
    report = {entry["line"]: entry for entry in batch.report}
    assert report[3]["reason"] == "N° de dossier inconnu" and report[3]["value"] == "D999999999"
    assert report[4]["reason"].startswith("Date de relève invalide") and report[4]["value"] == "31/02/2026"
    assert report[5]["reason"].startswith("Index invalide") and report[5]["value"] == "douze"
    assert report[6]["reason"] == "L'index saisi est inférieur au dernier index relevé (500)."
    assert report[7]["reason"] == "Date de relève dans le futur"


def test_reimporting_the_same_file_changes_nothing(now):
    staff = StaffFactory()
    dossiers = DossierFactory.create_batch(3)
    rows = [[d.number, "25/02/2026", str(100 + i), "", ""] for i, d in enumerate(dossiers)]
    first = reading_import_file(file=csv_file(rows), file_name="a.csv", user=staff, now=now)
    assert first.batch.rows_created == 3
    snapshot = list(MeterReading.objects.order_by("id").values_list("id", "index", "status"))

    again = reading_import_file(file=csv_file(rows), file_name="a.csv", user=staff, now=now)

    assert (again.batch.rows_created, again.batch.rows_unchanged, again.batch.rows_rejected) == (0, 3, 0)
    assert again.previously_imported == first.batch
    assert list(MeterReading.objects.order_by("id").values_list("id", "index", "status")) == snapshot
    assert again.batch.sha256 == first.batch.sha256


def test_import_reports_rows_repeated_in_the_file(now):
    first, second = DossierFactory.create_batch(2)
    upload = csv_file(
        [
            [first.number, "25/02/2026", "100", "", ""],
            [first.number, "25/02/2026", "100", "", ""],  # the same reading again
            [second.number, "25/02/2026", "200", "", ""],
            [second.number, "25/02/2026", "210", "", ""],  # another index, same dossier and day
        ]
    )
    result = reading_import_file(file=upload, file_name="r.csv", user=None, now=now)

    assert (result.batch.rows_created, result.batch.rows_rejected) == (2, 2)
    report = {entry["line"]: entry for entry in result.batch.report}
    assert report[3]["reason"] == "Ligne en double (déjà à la ligne 2)" and report[3]["dossier"] == first.number
    assert report[5]["reason"] == "Deux index différents pour ce dossier à cette date (voir la ligne 4)"
    assert report[5]["dossier"] == second.number and report[5]["value"] == "210"


def test_xlsx_import_with_meter_numbers_and_real_dates(now):
    staff = StaffFactory()
    dossier = DossierFactory()
    upload = xlsx_file(
        [
            [
                dossier.meter.number,
                datetime.datetime(2026, 2, 25),  # noqa: DTZ001 - a spreadsheet date has no zone
                321,
                "non",
                "accès difficile",
            ]
        ],
        header=("N° compteur", "Date de relève", "Index", "Compteur remplacé", "Observation"),
    )
    result = reading_import_file(file=upload, file_name="releves.xlsx", user=staff, now=now)
    assert result.batch.rows_created == 1
    reading = MeterReading.objects.get(dossier=dossier)
    assert (reading.reading_date, reading.index, reading.note) == (datetime.date(2026, 2, 25), 321, "accès difficile")


def test_import_refuses_a_file_without_the_required_columns(now):
    from rak_billing.readings import ReadingImportRefused

    with pytest.raises(ReadingImportRefused) as refused:
        reading_import_file(
            file=csv_file([["x", "y"]], header=("Client", "Valeur")), file_name="x.csv", user=None, now=now
        )
    assert "Colonne(s) manquante(s)" in refused.value.message and "date de relève" in refused.value.message


def test_meter_replaced_allows_an_index_below_the_previous_one(now):
    dossier = DossierFactory()
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 1, 5), index=Decimal(8000))
    result = reading_import_file(
        file=csv_file([[dossier.number, "25/02/2026", "12", "oui", "compteur changé"]]),
        file_name="r.csv",
        user=None,
        now=now,
    )
    assert result.batch.rows_created == 1
    reading = MeterReading.objects.get(dossier=dossier, reading_date=datetime.date(2026, 2, 25))
    assert reading.meter_replaced and reading.consumption == 12


def test_import_is_set_based_queries_do_not_grow_with_rows(now):
    def queries_for(count: int) -> int:
        dossiers = DossierFactory.create_batch(count)
        for d in dossiers:
            MeterReadingFactory(dossier=d, reading_date=datetime.date(2026, 1, 25), index=Decimal(100))
        rows = [[d.number, "25/02/2026", "110", "", ""] for d in dossiers]
        with CaptureQueriesContext(connection) as captured:
            result = reading_import_file(file=csv_file(rows), file_name="n.csv", user=None, now=now)
        assert result.batch.rows_created == count
        return len(captured)

    assert queries_for(3) == queries_for(40)  # (SQLite inserts 45 rows a statement)


# --- abnormal reading: held, told, contested, reviewed --------------------------------------------


def test_abnormal_reading_is_held_customer_told_then_contested_and_reviewed(now, customer_dossier, sms_outbox):
    customer, user, dossier = customer_dossier
    monthly_history(dossier, last=datetime.date(2026, 2, 1), months=6, per_month=10)  # index 1060 on 01/02
    result = reading_import_file(
        file=csv_file([[dossier.number, "01/03/2026", "1160", "", ""]]), file_name="r.csv", user=None, now=now
    )
    reading = MeterReading.objects.get(dossier=dossier, reading_date=datetime.date(2026, 3, 1))
    assert reading.status == MeterReading.Status.HELD and reading.consumption == 100
    assert result.held == 1
    assert result.batch.report[0]["level"] == "held"
    sms = sms_outbox.last("+212611000001")
    assert "consommation inhabituelle" in sms.body and dossier.number in sms.body
    bell = Message.objects.get(user=user, channel=Message.Channel.BELL, kind="reading_held")
    assert "vérifié avant toute facturation" in bell.body

    reading_contest(
        customer_id=customer.pk,
        reading_id=reading.pk,
        note="Mon compteur affiche 1075",
        photo=png_upload(),
        user=user,
        now=now,
    )
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.CONTESTED and reading.contest_photo.name.endswith(".png")

    staff = StaffFactory()
    with pytest.raises(ReviewReasonRequired):
        reading_review(reading_id=reading.pk, staff_user=staff, accept=False, reason="", now=now)
    reading_review(
        reading_id=reading.pk, staff_user=staff, accept=False, reason="Index vérifié sur place : 1075.", now=now
    )
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.REJECTED and reading.reviewed_by == staff
    assert "n'a pas été retenu : Index vérifié sur place : 1075." in sms_outbox.last("+212611000001").body
    assert reading.history.count() >= 2  # contest and review each wrote a history row


def test_staff_accepts_a_held_reading_and_the_customer_is_told(now, customer_dossier, sms_outbox):
    _, _, dossier = customer_dossier
    reading = MeterReadingFactory(dossier=dossier, status=MeterReading.Status.HELD, reading_date=TODAY)
    reading_review(reading_id=reading.pk, staff_user=StaffFactory(), accept=True, now=now)
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.ACCEPTED
    assert "vérifié et validé" in sms_outbox.last("+212611000001").body


def test_consumption_within_three_times_the_average_is_accepted(now):
    dossier = DossierFactory()
    monthly_history(dossier, last=datetime.date(2026, 2, 1), months=6, per_month=10)
    reading_import_file(
        file=csv_file([[dossier.number, "01/03/2026", "1085", "", ""]]), file_name="r.csv", user=None, now=now
    )
    assert MeterReading.objects.get(reading_date=datetime.date(2026, 3, 1)).status == MeterReading.Status.ACCEPTED


# --- self-reading service and pages ----------------------------------------------------------------


def test_self_reading_service_refuses_below_previous_and_closed_window(now, customer_dossier, closed_round):
    customer, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    with pytest.raises(IndexBelowPrevious) as refused:
        reading_self_submit(
            customer_id=customer.pk, dossier_id=dossier.pk, index="1200", photo=png_upload(), user=user, now=now
        )
    assert refused.value.message == "L'index saisi est inférieur au dernier index relevé (1\u00a0250)."
    closed = dossier_in_round("T09", customer=customer)
    with pytest.raises(ReadingWindowClosed) as closed_error:
        reading_self_submit(
            customer_id=customer.pk, dossier_id=closed.pk, index="10", photo=png_upload(), user=user, now=now
        )
    assert "du 20/03/2026 au 26/03/2026" in closed_error.value.message


def test_self_reading_page_success_is_green_and_then_already_read_is_red(client, customer_dossier):
    customer, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    login(client, user)
    url = reverse("portal:self_reading_dossier", args=[dossier.number])
    form_page = client.get(url)
    assert form_page.status_code == 200 and "Envoyer mon index" in rendered(form_page)
    assert "1\u00a0250" in rendered(form_page)

    response = client.post(url, {"index": "1262", "photo": png_upload()}, follow=True)
    html = rendered(response)
    assert 'class="flash flash-success"' in html and "Votre index 1\u00a0262 a bien été enregistré" in html
    reading = MeterReading.objects.get(dossier=dossier, source=MeterReading.Source.SELF)
    assert reading.consumption == 12 and reading.photo.name.startswith("readings/")
    assert not reading.photo.name.endswith("index.png")  # stored under a generated name

    again = rendered(client.get(url))
    assert 'class="flash flash-error"' in again and "a déjà été relevé" in again
    assert "Envoyer mon index" not in again


def test_agent_reading_in_the_window_blocks_the_self_reading(client, customer_dossier):
    _, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 3, 1), index=Decimal(900))
    html = rendered(login(client, user).get(reverse("portal:self_reading")))
    assert "flash-error" in html and "par nos agents ou vous l'avez déjà envoyé" in html


def test_closed_window_is_a_red_message_at_the_top(client, closed_round):
    customer, user = customer_with_account(phone="+212611000002")
    dossier = dossier_in_round("T09", customer=customer)
    response = login(client, user).get(reverse("portal:self_reading_dossier", args=[dossier.number]))
    html = rendered(response)
    assert 'class="flash flash-error"' in html
    assert "n'est pas encore disponible" in html and "du 20/03/2026 au 26/03/2026" in html
    assert "Envoyer mon index" not in html


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (None, "Vous devez joindre une photo de l'index de votre compteur"),
        (SimpleUploadedFile("index.jpg", b"pas une image du tout", "image/jpeg"), "n'est pas une photo"),
        (SimpleUploadedFile("index.png", png_bytes()[:20] + b"\x00" * 3000, "image/png"), "n'est pas une photo"),
        (SimpleUploadedFile("grande.png", png_bytes() + b"\x00" * (2 * 1024 * 1024), "image/png"), "2 Mo"),
    ],
    ids=["missing", "text-as-jpeg", "broken-png", "too-large"],
)
def test_self_reading_photo_is_required_real_and_small(client, customer_dossier, photo, message):
    _, user, dossier = customer_dossier
    data = {"index": "1262"}
    if photo is not None:
        data["photo"] = photo
    response = login(client, user).post(reverse("portal:self_reading_dossier", args=[dossier.number]), data)
    assert response.status_code == 400
    assert message in rendered(response)
    assert not MeterReading.objects.filter(dossier=dossier).exists()


def test_index_below_previous_is_shown_on_the_form(client, customer_dossier):
    _, user, dossier = customer_dossier
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), index=Decimal(1250))
    response = login(client, user).post(
        reverse("portal:self_reading_dossier", args=[dossier.number]), {"index": "1100", "photo": png_upload()}
    )
    assert response.status_code == 400
    assert "L'index saisi est inférieur au dernier index relevé (1\u00a0250)" in rendered(response)


def test_another_customers_dossier_reading_and_photo_are_404(client, customer_dossier):
    _, _, dossier = customer_dossier
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1))
    reading.photo.save("x.png", SimpleUploadedFile("x.png", png_bytes()))
    _, intruder = customer_with_account(phone="+212611000009")
    login(client, intruder)
    assert client.get(reverse("portal:self_reading_dossier", args=[dossier.number])).status_code == 404
    assert (
        client.post(
            reverse("portal:self_reading_dossier", args=[dossier.number]), {"index": "5", "photo": png_upload()}
        ).status_code
        == 404
    )
    assert client.get(reverse("portal:reading_photo", args=[reading.pk])).status_code == 404
    assert client.get(reverse("portal:reading_contest", args=[reading.pk])).status_code == 404
    assert client.get(reverse("portal:reading_history") + f"?dossier={dossier.number}").status_code == 404
    assert not MeterReading.objects.filter(source=MeterReading.Source.SELF).exists()


def test_history_lists_last_24_with_photo_for_its_owner_in_constant_queries(
    client, customer_dossier, django_assert_max_num_queries
):
    _, user, dossier = customer_dossier
    first = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2023, 1, 5), index=Decimal(100))
    first.photo.save("p.png", SimpleUploadedFile("p.png", png_bytes()))
    login(client, user)
    url = reverse("portal:reading_history")
    with django_assert_max_num_queries(10):
        short = client.get(url)
    assert "05/01/2023" in rendered(short) and "Voir la photo" in rendered(short)
    photo = client.get(reverse("portal:reading_photo", args=[first.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")
    assert photo["X-Content-Type-Options"] == "nosniff"

    for month in range(1, 31):
        MeterReadingFactory(
            dossier=dossier, reading_date=datetime.date(2023, 1, 5) + datetime.timedelta(days=30 * month)
        )
    with django_assert_max_num_queries(10):
        long = client.get(url)
    html = rendered(long)
    assert html.count("<tr") - 1 == 24  # header row + the last 24 readings
    assert "05/01/2023" not in html


def test_customer_contests_a_held_reading_from_the_history(client, customer_dossier):
    _, user, dossier = customer_dossier
    reading = MeterReadingFactory(
        dossier=dossier, reading_date=datetime.date(2026, 2, 1), status=MeterReading.Status.HELD
    )
    login(client, user)
    history = rendered(client.get(reverse("portal:reading_history")))
    assert "Contester ce relevé" in history
    missing = client.post(reverse("portal:reading_contest", args=[reading.pk]), {"note": "faux"})
    assert missing.status_code == 400 and "Joignez une photo" in rendered(missing)
    done = client.post(
        reverse("portal:reading_contest", args=[reading.pk]), {"note": "faux", "photo": png_upload()}, follow=True
    )
    assert "Votre contestation a bien été envoyée" in rendered(done)
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.CONTESTED
    assert client.get(reverse("portal:reading_contest_photo", args=[reading.pk])).status_code == 200


def test_sidebar_offers_self_reading_and_history(client, customer_dossier):
    _, user, _ = customer_dossier
    html = rendered(login(client, user).get(reverse("portal:reading_history")))
    assert "Relève de mon index" in html and "Historique des relevés" in html


def test_self_reading_redirects_anonymous_visitors_to_login(client):
    response = client.get(reverse("portal:self_reading"))
    assert response.status_code == 302 and "next=" in response["Location"]


# --- estimates -----------------------------------------------------------------------------------


def test_estimate_from_the_average_daily_consumption():
    dossier = DossierFactory()
    monthly_history(dossier, last=datetime.date(2026, 2, 1), months=6, per_month=12)  # 0.4 a day, index 1072
    estimate = reading_estimate(dossier, datetime.date(2026, 3, 3))  # dated 02/03: 29 days after 01/02
    assert estimate.source == MeterReading.Source.ESTIMATED and estimate.pk is None
    assert estimate.reading_date == datetime.date(2026, 3, 2)
    assert (estimate.previous_index, estimate.consumption, estimate.index) == (1072, 12, 1084)  # 11.6 -> 12
    assert estimate.note.startswith("Estimation : consommation moyenne de 12")
    estimate.save()  # the caller saves it; it is a valid reading


def test_estimate_without_history_uses_the_category_default():
    water = DossierFactory(start_date=datetime.date(2020, 1, 1))
    estimates = readings_estimate([water], datetime.date(2026, 4, 1))
    estimate = estimates[water.pk]
    assert estimate.consumption == 12 and estimate.previous_index is None
    assert "forfaitaire" in estimate.note
    assert reading_estimate(DossierFactory(meter=None), datetime.date(2026, 4, 1)) is None


def test_estimates_are_ignored_as_reference_for_the_next_real_reading(now):
    dossier = DossierFactory()
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 1, 5), index=Decimal(100))
    MeterReadingFactory(
        dossier=dossier, reading_date=datetime.date(2026, 1, 31), index=Decimal(200), source="ESTIMATED"
    )
    reading_import_file(
        file=csv_file([[dossier.number, "25/02/2026", "150", "", ""]]), file_name="r.csv", user=None, now=now
    )
    assert MeterReading.objects.get(reading_date=datetime.date(2026, 2, 25)).consumption == 50


# --- demo history ---------------------------------------------------------------------------------


def test_demo_history_is_plausible_deterministic_and_idempotent():
    dossiers = [dossier_in_round("T03") for _ in range(4)]
    written = readings_generate_history(months=12, as_of=TODAY)
    assert written == 4 * 13
    assert ReadingRound.objects.filter(code="T03").exists()
    readings = list(MeterReading.objects.filter(dossier=dossiers[0]).order_by("reading_date"))
    assert len(readings) == 13 and readings[-1].reading_date < TODAY
    assert all(r.index == r.previous_index + r.consumption for r in readings[1:])
    assert 2 <= sum(r.consumption for r in readings[1:]) / 12 <= 60  # m³ a month for a household
    snapshot = list(MeterReading.objects.order_by("dossier_id", "reading_date").values_list("index", flat=True))
    assert readings_generate_history(months=12, as_of=TODAY) == 0
    MeterReading.objects.all().delete()
    readings_generate_history(months=12, as_of=TODAY)
    again = list(MeterReading.objects.order_by("dossier_id", "reading_date").values_list("index", flat=True))
    assert again == snapshot


# --- back office ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    admin = StaffFactory(is_superuser=True)
    client.force_login(admin)
    return client


def test_backoffice_import_page_shows_the_report(admin_client):
    dossier = DossierFactory()
    page = admin_client.get(reverse("admin:rak_billing_readingimport_import_file"))
    assert page.status_code == 200 and "Importer un fichier" in rendered(page)
    response = admin_client.post(
        reverse("admin:rak_billing_readingimport_import_file"),
        {"file": csv_file([[dossier.number, "25/02/2026", "77", "", ""], ["INCONNU", "25/02/2026", "1", "", ""]])},
        follow=True,
    )
    html = rendered(response)
    assert response.status_code == 200
    assert "N° de dossier inconnu" in html and "INCONNU" in html
    assert "1 relevé(s) créé(s)" in html
    assert MeterReading.objects.filter(dossier=dossier, index=77).exists()


def test_backoffice_review_queue_accepts_and_rejects_with_reason(admin_client, customer_dossier, sms_outbox):
    _, _, dossier = customer_dossier
    held = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), status="HELD")
    contested = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 3, 1), status="CONTESTED")
    changelist = reverse("admin:rak_billing_meterreading_changelist")
    queue = admin_client.get(changelist + "?queue=review")
    assert queue.status_code == 200 and dossier.number in rendered(queue)

    admin_client.post(changelist, {"action": "accept_selected", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == MeterReading.Status.ACCEPTED

    confirm = admin_client.post(changelist, {"action": "reject_selected", "_selected_action": [contested.pk]})
    assert "Motif du rejet" in rendered(confirm)
    admin_client.post(
        changelist,
        {"action": "reject_selected", "_selected_action": [contested.pk], "apply": "1", "reason": "Photo illisible."},
    )
    contested.refresh_from_db()
    assert contested.status == MeterReading.Status.REJECTED and contested.review_note == "Photo illisible."
    assert "Photo illisible." in sms_outbox.last("+212611000001").body


def test_backoffice_reading_screens_load(admin_client, customer_dossier):
    _, _, dossier = customer_dossier
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1))
    reading.photo.save("p.png", SimpleUploadedFile("p.png", png_bytes()))
    for url in (
        reverse("admin:rak_billing_readinground_changelist"),
        reverse("admin:rak_billing_meterreading_changelist") + f"?q={dossier.number}",
        reverse("admin:rak_billing_meterreading_change", args=[reading.pk]),
        reverse("admin:rak_billing_meterreading_history", args=[reading.pk]),
        reverse("admin:rak_billing_readingimport_changelist"),
    ):
        assert admin_client.get(url).status_code == 200, url
    photo = admin_client.get(reverse("admin:rak_billing_meterreading_photo", args=[reading.pk, "photo"]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"


def test_customer_cannot_open_the_backoffice_photo(client, customer_dossier):
    _, user, dossier = customer_dossier
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1))
    reading.photo.save("p.png", SimpleUploadedFile("p.png", png_bytes()))
    response = login(client, user).get(reverse("admin:rak_billing_meterreading_photo", args=[reading.pk, "photo"]))
    assert response.status_code == 302  # to the back-office login


def test_backoffice_change_page_rejects_with_the_typed_reason(admin_client, customer_dossier, sms_outbox):
    _, _, dossier = customer_dossier
    held = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 1), status="HELD")
    url = reverse("admin:rak_billing_meterreading_change", args=[held.pk])
    page = rendered(admin_client.get(url))
    assert "Rejeter le relevé" in page and "Valider le relevé" in page
    response = admin_client.post(
        url, {"review_note": "Index illisible sur la photo.", "rak_billing_meterreading_reject": "1"}
    )
    assert response.status_code == 302 and "queue=review" in response["Location"]
    held.refresh_from_db()
    assert held.status == MeterReading.Status.REJECTED and held.review_note == "Index illisible sur la photo."
    assert "Index illisible sur la photo." in sms_outbox.last("+212611000001").body
    after = rendered(admin_client.get(url))
    assert "Rejeter le relevé" not in after  # decided: no more decision buttons
