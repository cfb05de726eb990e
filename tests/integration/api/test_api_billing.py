"""/api/v1/ dashboard, dossiers, bills (e-facture filters, detail, PDF, exports), consumption:
the portal's selectors behind device tokens. The day is fixed at 15/03/2026 (``rak_base.clock.now``
patched): a bill due before it and not paid is « exigible ». Every endpoint: success as an app uses
it, 401 without a token, 404 for another customer's object, each refusal, query counts."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from rak_base import clock
from rak_base.models import Message
from rak_billing.models import Bill
from rak_billing.selectors import customer_balance
from rak_customer.models import Service
from rak_portal.models import NewsItem
from tests.api_helpers import api_client, assert_error
from tests.billing_factories import bill_create, bill_history, bill_pay
from tests.factories import DossierFactory, MeterFactory, customer_with_account
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def account():
    """Salma: a water dossier (in a round whose window is open today) and an electricity one."""
    customer, user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    ReadingRoundFactory(code="T-H2", window_start_day=12, window_days=7)
    water = dossier_in_round("T-H2", customer=customer, number="D100000001", service=Service.EAU)
    power = DossierFactory(
        customer=customer,
        number="D100000002",
        service=Service.ELECTRICITE,
        meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A"),
    )
    return customer, user, water, power


@pytest.fixture
def app(account):
    return api_client(account[1])


@pytest.fixture
def stranger():
    customer, _user = customer_with_account(phone="+212699999999", first_name="Omar", last_name="Tazi")
    dossier = DossierFactory(customer=customer, number="D900000009")
    bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1))
    fee = bill_create(dossier=dossier, kind=Bill.Kind.CUT_FEE, total_ht="150.00")
    return customer, dossier, bill, fee


@pytest.fixture
def history(account):
    """Seven months of water bills (the last one unpaid and due: exigible), three of electricity
    (paid), a cut fee (unpaid, not due yet)."""
    _customer, _user, water, power = account
    water_bills = bill_history(water, months=7, last_period=datetime.date(2026, 1, 1))
    last = water_bills[-1]
    last.allocations.all().delete()
    Bill.objects.filter(pk=last.pk).update(settled_at=None)
    power_bills = bill_history(power, months=3, last_period=datetime.date(2026, 2, 1))
    fee = bill_create(
        dossier=water,
        kind=Bill.Kind.CUT_FEE,
        total_ht="100.00",
        issue_date=datetime.date(2026, 3, 10),
        due_date=datetime.date(2026, 3, 25),
    )
    return water_bills, power_bills, fee


# --- dashboard ------------------------------------------------------------------------------------


def test_dashboard_gives_what_the_portal_shows_as_data(app, account, history):
    customer, user, water, power = account
    water_bills, power_bills, fee = history
    NewsItem.objects.create(title="Travaux", summary="Coupure lundi", published_at=NOW - datetime.timedelta(days=1))
    Message.objects.create(channel=Message.Channel.BELL, user=user, subject="Facture disponible", body="…")
    MeterReadingFactory(dossier=water, reading_date=datetime.date(2026, 2, 12), index=Decimal(1250))

    response = app.get("/api/v1/dashboard/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer_code"] == customer.code and "Benjelloun" in body["customer_name"]
    unpaid = water_bills[-1].total_ttc + fee.total_ttc
    assert Decimal(body["summary"]["balance"]) == customer_balance(customer.pk)  # the ledger's sum
    assert body["summary"]["last_billed_month"] == "2026-02-01"
    assert Decimal(body["unpaid"]["total"]) == unpaid and body["unpaid"]["count"] == 2
    assert Decimal(body["unpaid"]["exigible_total"]) == water_bills[-1].total_ttc
    assert body["unpaid"]["exigible_count"] == 1
    assert [b["number"] for b in body["last_bills"]][0] == fee.number
    assert len(body["last_bills"]) == 5
    chart = body["consumption"]
    assert chart["dossier"]["number"] == water.number and chart["unit"] == "m³"
    assert len(chart["months"]) == 6 and chart["months"][-1]["month"] == "2026-01-01"
    assert Decimal(chart["months"][-1]["value"]) == water_bills[-1].consumption
    assert [d["number"] for d in body["dossiers"]] == [water.number, power.number]
    assert body["reading_open"] is True
    states = {s["dossier"]: s for s in body["reading_states"]}
    assert states[water.number]["available"] is True and states[water.number]["window"]["start"] == "2026-03-12"
    assert states[power.number]["available"] is False and states[power.number]["window"] is None
    assert states[water.number]["last_reading"]["index"] == "1250.000"
    assert body["unread_notifications"] == 1
    assert [n["title"] for n in body["news"]] == ["Travaux"]


def test_dashboard_chart_dossier_is_chosen_and_another_customers_is_404(app, account, history, stranger):
    power = account[3]
    body = app.get("/api/v1/dashboard/", {"dossier": power.number}).json()
    assert body["consumption"]["dossier"]["number"] == power.number and body["consumption"]["unit"] == "kWh"
    assert_error(app.get("/api/v1/dashboard/", {"dossier": stranger[1].number}), 404, "not_found")


def test_dashboard_of_a_customer_without_anything(db):
    _customer, user = customer_with_account(phone="+212611000000")
    body = api_client(user).get("/api/v1/dashboard/").json()
    assert body["dossiers"] == [] and body["last_bills"] == [] and body["consumption"]["dossier"] is None
    assert body["reading_open"] is False and Decimal(body["summary"]["balance"]) == 0


def test_dashboard_query_count_does_not_grow(app, account, history, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        assert app.get("/api/v1/dashboard/").status_code == 200


def test_dashboard_in_english_labels(account, history):
    body = api_client(account[1], language="en").get("/api/v1/dashboard/").json()
    statuses = {b["status"]: b["status_label"] for b in body["last_bills"]}
    assert statuses["PAID"] == "Paid"


# --- dossiers ---------------------------------------------------------------------------------------


def test_dossier_list_and_detail(app, account, django_assert_max_num_queries):
    _customer, _user, water, power = account
    with django_assert_max_num_queries(6):
        response = app.get("/api/v1/dossiers/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and {d["number"] for d in body["results"]} == {water.number, power.number}
    row = next(d for d in body["results"] if d["number"] == power.number)
    assert row["service"] == "ELECTRICITE" and row["unit"] == "kWh" and row["meter_number"] == power.meter.number
    assert row["status"] == "ACTIVE" and row["status_label"]

    detail = app.get(f"/api/v1/dossiers/{water.number}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["number"] == water.number and body["address"] == water.premises.address
    assert body["tariff_category"] == water.tariff_category and body["tariff_category_label"]
    assert body["operations"] and body["operations"][-1]["label"]  # « Création de l'abonnement »
    assert body["mandate"] is None


def test_dossiers_of_another_customer_are_404_and_a_token_is_needed(app, stranger):
    number = stranger[1].number
    for url in (f"/api/v1/dossiers/{number}/", f"/api/v1/dossiers/{number}/consumption/"):
        assert_error(app.get(url), 404, "not_found")
        assert_error(api_client().get(url), 401, "not_authenticated")
    assert_error(api_client().get("/api/v1/dossiers/"), 401, "not_authenticated")
    assert_error(api_client().get("/api/v1/dashboard/"), 401, "not_authenticated")


def test_dossier_consumption_per_month_with_unit(app, account, history):
    power = account[3]
    body = app.get(f"/api/v1/dossiers/{power.number}/consumption/", {"months": 3}).json()
    assert body["dossier"] == power.number and body["unit"] == "kWh" and body["service"] == "ELECTRICITE"
    assert [m["month"] for m in body["months"]] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert all(m["value"] is not None and m["estimated"] is False for m in body["months"])
    body = assert_error(app.get(f"/api/v1/dossiers/{power.number}/consumption/", {"months": 0}), 400, "invalid")
    assert "months" in body["fields"]


# --- bills ------------------------------------------------------------------------------------------


def test_bill_list_newest_first_paginated_with_status(app, account, history, django_assert_max_num_queries):
    water_bills, power_bills, fee = history
    with django_assert_max_num_queries(8):
        response = app.get("/api/v1/bills/", {"page_size": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 11 and len(body["results"]) == 5 and body["next"]
    first = body["results"][0]
    assert first["number"] == fee.number and first["kind"] == "CUT_FEE" and first["status"] == "UNPAID"
    assert first["dossier"] == account[2].number and first["billing_month"] == "2026-03-01"
    page2 = app.get("/api/v1/bills/", {"page_size": 5, "page": 3}).json()
    assert len(page2["results"]) == 1
    assert_error(app.get("/api/v1/bills/", {"page": 9}), 404, "not_found")


def test_bill_list_query_count_does_not_grow_with_history(app, account, django_assert_max_num_queries):
    bill_history(account[2], months=30, last_period=datetime.date(2026, 1, 1))
    with django_assert_max_num_queries(8):
        assert app.get("/api/v1/bills/").status_code == 200


def test_bill_list_filters_like_the_e_facture_table(app, account, history, stranger):
    _customer, _user, water, power = account
    water_bills, power_bills, fee = history

    def numbers(**params):
        response = app.get("/api/v1/bills/", params)
        assert response.status_code == 200, response.content
        return [b["number"] for b in response.json()["results"]]

    assert set(numbers(dossier=power.number)) == {b.number for b in power_bills}
    assert numbers(period="01/2026") == [power_bills[-2].number, water_bills[-1].number]
    assert numbers(period="2026-01", dossier=water.number) == [water_bills[-1].number]
    assert set(numbers(service="ELECTRICITE")) == {b.number for b in power_bills}
    assert set(numbers(status="UNPAID")) == {water_bills[-1].number, fee.number}
    assert numbers(status="EXIGIBLE") == [water_bills[-1].number]
    assert len(numbers(status="PAID")) == 9
    assert numbers(status="CREDIT") == []
    assert numbers(kind="OTHER") == [fee.number]
    assert len(numbers(kind="CONSUMPTION")) == 10
    assert stranger[2].number not in numbers()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "13/2026"}, "period"),
        ({"period": "00/0000"}, "period"),
        ({"period": "janvier"}, "period"),
        ({"dossier": "D900000009"}, "dossier"),  # another customer's
        ({"status": "IMPAYEE"}, "status"),
        ({"service": "GAZ"}, "service"),
        ({"kind": "ALL"}, "kind"),
        ({"period": "01/2026-01/2027"}, "period"),
    ],
)
def test_bill_list_refuses_bad_filters_with_field_errors(app, account, stranger, params, field):
    body = assert_error(app.get("/api/v1/bills/", params), 400, "invalid")
    assert list(body["fields"]) == [field]
    if field == "period" and params["period"] != "01/2026-01/2027":
        assert "MM/AAAA" in body["fields"]["period"][0]["message"]


def test_bill_detail_lines_amounts_settlements_in_the_request_language(account):
    power = account[3]
    bill = bill_create(
        dossier=power,
        period_start=datetime.date(2026, 2, 1),
        consumption=151,
        total_ht="137.33",
        tranche_notice="Vous avez dépassé la tranche de 150 kWh : toute la consommation est facturée au prix de "
        "la tranche 151-210 kWh.",
    )
    bill_pay(bill, "60.00")
    response = api_client(account[1]).get(f"/api/v1/bills/{bill.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == bill.number and body["kind"] == "CONSUMPTION" and body["unit"] == "kWh"
    assert body["total_ht"] == "137.33" and Decimal(body["total_ttc"]) == bill.total_ttc
    assert body["paid_amount"] == "60.00" and Decimal(body["open_amount"]) == bill.total_ttc - Decimal(60)
    assert body["status"] == "UNPAID" and body["status_label"] == "Impayée"
    assert body["due_date"] == bill.due_date.isoformat() and body["period_label"] == "février 2026"
    assert [line["label"] for line in body["lines"]] == ["Consommation", "Redevance fixe"]
    assert body["consumption"] == "151.000" and body["current_index"] == "1151.000"
    assert "dépassé la tranche de 150 kWh" in body["tranche_notice"]
    assert body["settlements"] == [
        {
            "kind": "PAYMENT",
            "date": "2026-03-01",
            "amount": "60.00",
            "method": "CASH",
            "method_label": "Espèces en agence",
            "reference": "",
            "credit_note_id": None,
            "credit_note_number": "",
        }
    ]
    assert body["open_complaint"] is None

    english = api_client(account[1], language="en").get(f"/api/v1/bills/{bill.pk}/").json()
    assert [line["label"] for line in english["lines"]][1] == "Fixed charge"
    assert english["status_label"] == "Unpaid" and english["period_label"] == "February 2026"


def test_bill_detail_query_count_is_fixed(app, account, django_assert_max_num_queries):
    bill = bill_history(account[2], months=1)[-1]
    with django_assert_max_num_queries(9):
        assert app.get(f"/api/v1/bills/{bill.pk}/").status_code == 200


def test_bills_of_another_customer_are_404(app, stranger):
    _customer, _dossier, bill, fee = stranger
    for target in (bill.pk, fee.pk, 999999999):
        assert_error(app.get(f"/api/v1/bills/{target}/"), 404, "not_found")
        assert_error(app.get(f"/api/v1/bills/{target}/pdf/"), 404, "not_found")
    assert_error(api_client().get(f"/api/v1/bills/{bill.pk}/"), 401, "not_authenticated")
    assert_error(api_client().get(f"/api/v1/bills/{bill.pk}/pdf/"), 401, "not_authenticated")
    assert_error(api_client().get("/api/v1/bills/"), 401, "not_authenticated")


def test_bill_pdf_is_the_portals_registered_document(app, account):
    from rak_base.models import Document

    bill = bill_history(account[2], months=1)[-1]
    response = app.get(f"/api/v1/bills/{bill.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="facture-{bill.number}.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    again = b"".join(app.get(f"/api/v1/bills/{bill.pk}/pdf/").streaming_content)
    assert again == content  # the same stored document, rendered once
    assert Document.objects.filter(kind=Document.Kind.BILL).count() == 1
    # an error is JSON even when the app accepts only PDF
    assert_error(app.get("/api/v1/bills/999999999/pdf/", HTTP_ACCEPT="application/pdf"), 404, "not_found")


# --- exports ----------------------------------------------------------------------------------------


def test_xlsx_export_opens_and_holds_the_filtered_rows(app, account, history, stranger):
    customer = account[0]
    water_bills, power_bills, fee = history
    response = app.get("/api/v1/bills/export/xlsx/", {"dossier": account[3].number})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert response["Content-Disposition"] == f'attachment; filename="factures-{customer.code}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {row[9] for row in rows} == {b.number for b in power_bills}
    assert stranger[2].number not in {row[9] for row in rows}


def test_csv_export_has_the_same_columns(app, account, history):
    water_bills, power_bills, fee = history
    response = app.get("/api/v1/bills/export/csv/", {"status": "UNPAID"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "N° client" and rows[0][9] == "N° facture"
    assert {row[9] for row in rows[1:]} == {water_bills[-1].number, fee.number}


def test_pdf_export_is_a_pdf(app, account, history):
    response = app.get("/api/v1/bills/export/pdf/", {"period": "01/2026"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_exports_refuse_bad_filters_and_need_a_token(app, stranger):
    for fmt in ("xlsx", "csv", "pdf"):
        assert_error(app.get(f"/api/v1/bills/export/{fmt}/", {"dossier": stranger[1].number}), 400, "invalid")
        assert_error(api_client().get(f"/api/v1/bills/export/{fmt}/"), 401, "not_authenticated")
    assert_error(api_client().get("/api/v1/bills/statistics/xlsx/"), 401, "not_authenticated")


def test_statistics_workbook_and_billed_amounts(app, account, history):
    response = app.get("/api/v1/bills/statistics/xlsx/")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Par mois", "Par dossier", "Par dossier et mois", "Paiements"]
    body = app.get("/api/v1/bills/amounts/").json()
    assert len(body["months"]) == 6 and body["months"][-1]["month"] == "2026-03-01"
    assert Decimal(body["months"][-1]["value"]) == Decimal("100.00")  # the cut fee, HT
    assert_error(api_client().get("/api/v1/bills/amounts/"), 401, "not_authenticated")


def test_unknown_query_parameters_and_bad_page_sizes_are_refused(app, account):
    body = assert_error(app.get("/api/v1/bills/", {"statut": "UNPAID"}), 400, "invalid")
    assert body["fields"]["statut"][0]["code"] == "unknown"
    assert_error(app.get("/api/v1/dashboard/", {"dosier": "x"}), 400, "invalid")
    assert_error(app.get("/api/v1/bills/export/xlsx/", {"echeance": "01/2026"}), 400, "invalid")
    for size in ("0", "101", "null", "2.5"):
        body = assert_error(app.get("/api/v1/dossiers/", {"page_size": size}), 400, "invalid")
        assert list(body["fields"]) == ["page_size"]
