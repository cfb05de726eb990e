"""« Facturé et encaissé » (rak_reports.reports.finance): billed and collected per month and channel
checked against the ledger, each filter narrowing, a reversed cheque, the day's CMI total against
the settlement file, XLSX cells equal to the page, a bounded number of queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from openpyxl import load_workbook

from rak_billing.ledger import credit_note_issue, payment_record, payment_reverse
from rak_billing.models import Bill, LedgerEntry, Payment
from rak_customer.models import Customer, Service
from rak_payment_cmi.models import PaymentOrder, SettlementImport, SettlementLine
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from tests.billing_factories import bill_create, bill_pay
from tests.factories import AgencyFactory, CustomerFactory, DossierFactory, staff_in

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
JAN, FEB, MAR = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)
PERIOD = ReportFilters(month_from=JAN, month_to=MAR)


def at(day: int, month: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def scenario(now):
    """Two agencies, three customers; bills in February and March, a credit note, a bill without
    dossier, cash, card (CMI) and a cheque reversed the next day, an advance never allocated, a
    card payment today."""
    staff = staff_in("facturation")
    centre, saknia = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Saknia")
    c1 = CustomerFactory(agency=centre)
    c2 = CustomerFactory(agency=saknia, kind=Customer.Kind.ENTREPRISE, cin="", ice="001122334455667")
    c3 = CustomerFactory(agency=centre)
    d1 = DossierFactory(customer=c1, premises__district="Saknia", service=Service.EAU)
    d2 = DossierFactory(customer=c2, premises__district="Bir Rami", service=Service.ELECTRICITE)
    DossierFactory(customer=c3, premises__district="Saknia", service=Service.EAU)
    b1 = bill_create(dossier=d1, period_start=JAN, total_ht="100.00")  # 118.00, issued 01/02
    b2 = bill_create(dossier=d2, period_start=JAN, total_ht="500.00")  # 590.00, issued 01/02
    bill_create(dossier=d1, period_start=FEB, total_ht="200.00")  # 236.00, issued 01/03
    bill_create(customer=c2, kind=Bill.Kind.WORKS, total_ht="50.00", issue_date=datetime.date(2026, 2, 10))  # 59.00
    credit_note_issue(
        bill=b2,
        reason="Geste commercial",
        issue_date=datetime.date(2026, 2, 20),
        now=at(20, 2),
        amount=Decimal("90.00"),
    )
    payment_record(customer=c3, amount=Decimal("40.00"), method=Payment.Method.TRANSFER, paid_at=at(15, 1))
    bill_pay(b1, paid_at=at(5, 2), method=Payment.Method.CASH)
    payment_record(customer=c2, amount=Decimal("500.00"), method=Payment.Method.CARD_CMI, paid_at=at(25, 2))
    cheque = payment_record(customer=c1, amount=Decimal("236.00"), method=Payment.Method.CHEQUE, paid_at=at(1, 3, 11))
    payment_reverse(payment=cheque, reason="Chèque impayé", by=staff, at=at(2, 3, 8))
    card = payment_record(
        customer=c3, amount=Decimal("100.00"), method=Payment.Method.CARD_CMI, paid_at=now - datetime.timedelta(hours=1)
    )
    order = PaymentOrder.objects.create(
        oid="ORD1",
        customer=c3,
        purpose=PaymentOrder.Purpose.ADVANCE,
        amount_bills=Decimal("100.00"),
        amount_total=Decimal("100.00"),
        email="a@example.ma",
        status=PaymentOrder.Status.PAID,
        created_at=now - datetime.timedelta(hours=1, minutes=5),
        updated_at=now,
        payment=card,
        paid_at=card.paid_at,
        trans_id="T1",
    )
    matviews_refresh_all(now=now)
    return {"c1": c1, "c2": c2, "c3": c3, "centre": centre, "saknia": saknia, "order": order, "staff": staff}


def build(filters=PERIOD, *, now):
    return report_get("encaissements").build(filters, now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key) -> list[dict]:
    return next(t for t in result.tables if t.key == key).rows


def ledger_sum(kinds, start, end) -> Decimal:
    return LedgerEntry.objects.filter(kind__in=kinds, entry_date__gte=start, entry_date__lt=end).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0.00")


def test_totals_match_the_ledger(scenario, now):
    result = build(now=now)
    figures = kpis(result)
    end = datetime.date(2026, 4, 1)
    billed = ledger_sum(["BILL", "CREDIT"], JAN, end)
    collected = -ledger_sum(["PAYMENT", "REVERSAL"], JAN, end)
    assert figures["billed"] == billed == Decimal("913.00")  # 118 + 590 + 59 + 236 − 90
    assert figures["collected"] == collected == Decimal("758.00")  # 40 + 118 + 500 + (236 − 236) + 100
    assert figures["collection-rate"] == Decimal("83.0")
    assert figures["online-share"] == Decimal("79.2")  # (500 + 100) / 758
    months = {r["month"]: r for r in table(result, "months")}
    for month, nxt in ((JAN, FEB), (FEB, MAR), (MAR, end)):
        row = months[f"{month:%m/%Y}"]
        assert row["billed_net"] == ledger_sum(["BILL", "CREDIT"], month, nxt)
        assert row["collected"] == -ledger_sum(["PAYMENT", "REVERSAL"], month, nxt)
    assert months["02/2026"]["credited"] == Decimal("90.00")
    assert months["02/2026"]["billed"] == Decimal("767.00")


def test_reversed_cheque_counts_against_its_month(scenario, now):
    result = build(now=now)
    channels = {r["channel"]: r for r in table(result, "channels")}
    counter = channels["Guichet (espèces, chèques)"]
    assert (counter["gross"], counter["reversed"], counter["collected"]) == (
        Decimal("354.00"),
        Decimal("236.00"),
        Decimal("118.00"),
    )
    assert channels["Carte bancaire (CMI, en ligne)"]["collected"] == Decimal("600.00")
    assert channels["Virement"]["collected"] == Decimal("40.00")
    assert sum(r["collected"] for r in channels.values()) == kpis(result)["collected"]
    march = next(r for r in table(result, "months") if r["month"] == "03/2026")
    assert march["collected"] == Decimal("100.00")  # the cheque in, the cheque out, the card payment
    # reversed in April: March keeps the cheque, April takes it back
    Payment.objects.filter(method="CHEQUE").first().reversal.__class__.objects.update(reversed_at=at(2, 4))
    matviews_refresh_all(now=now)
    march = next(r for r in table(build(now=now), "months") if r["month"] == "03/2026")
    assert march["collected"] == Decimal("336.00")


@pytest.mark.parametrize(
    ("filters", "billed", "collected"),
    [
        ({"district": "Saknia"}, Decimal("354.00"), Decimal("118.00")),  # c3's advance and card: not allocated
        ({"customer_kind": "ENTREPRISE"}, Decimal("559.00"), Decimal("500.00")),
        ({"service": "ELECTRICITE"}, Decimal("500.00"), Decimal("500.00")),
        ({"district": "Bir Rami", "customer_kind": "PARTICULIER"}, Decimal("0.00"), Decimal("0.00")),
    ],
)
def test_each_filter_narrows(scenario, now, filters, billed, collected):
    result = build(ReportFilters(month_from=JAN, month_to=MAR, **filters), now=now)
    assert kpis(result)["billed"] == billed
    assert kpis(result)["collected"] == collected


def test_agency_and_period_filters(scenario, now):
    saknia = build(ReportFilters(month_from=JAN, month_to=MAR, agency_id=scenario["saknia"].pk), now=now)
    assert (kpis(saknia)["billed"], kpis(saknia)["collected"]) == (Decimal("559.00"), Decimal("500.00"))
    centre = build(ReportFilters(month_from=JAN, month_to=MAR, agency_id=scenario["centre"].pk), now=now)
    assert kpis(centre)["billed"] + kpis(saknia)["billed"] == kpis(build(now=now))["billed"]
    january = build(ReportFilters(month_from=JAN, month_to=JAN), now=now)
    assert (kpis(january)["billed"], kpis(january)["collected"]) == (Decimal("0.00"), Decimal("40.00"))
    assert kpis(january)["collection-rate"] is None  # nothing billed: no rate, not a division by zero


def test_unallocated_part_has_no_district(scenario, now):
    rows = {r["district"]: r for r in table(build(now=now), "districts")}
    assert rows["Saknia"]["collected"] == Decimal("118.00")
    assert rows["Bir Rami"]["collected"] == Decimal("500.00")
    blank = next(r for d, r in rows.items() if d.startswith("(sans quartier"))
    assert blank["collected"] == Decimal("140.00")  # c3's transfer and card payment
    assert blank["billed"] == Decimal("59.00")  # the works bill without dossier


def test_cmi_day_without_then_with_the_settlement_file(scenario, now):
    result = build(now=now)
    figures = kpis(result)
    assert figures["cmi-today"] == Decimal("100.00")
    assert figures["cmi-file"] == "pas encore de relevé"
    assert any("Aucun relevé CMI" in n for n in result.notes)
    settlement = SettlementImport.objects.create(
        file_name="releve.csv",
        sha256="a" * 64,
        created_at=now,
        period_start=now - datetime.timedelta(hours=2),
        period_end=now - datetime.timedelta(minutes=30),
    )
    SettlementLine.objects.create(
        settlement=settlement,
        transaction_at=now - datetime.timedelta(hours=1),
        oid="ORD1",
        trans_id="T1",
        amount=Decimal("100.00"),
        gateway_status="ACCEPTED",
        order=scenario["order"],
        check_result="MATCHED",
    )
    SettlementLine.objects.create(
        settlement=settlement,
        transaction_at=now - datetime.timedelta(minutes=40),
        oid="ZZZ",
        trans_id="T9",
        amount=Decimal("25.00"),
        gateway_status="ACCEPTED",
        check_result="UNKNOWN_ORDER",
    )
    SettlementLine.objects.create(  # declined: no money
        settlement=settlement,
        transaction_at=now - datetime.timedelta(minutes=35),
        oid="ORD2",
        trans_id="T8",
        amount=Decimal("70.00"),
        gateway_status="DECLINED",
        check_result="NO_MONEY",
    )
    result = build(now=now)
    figures = kpis(result)
    assert (figures["cmi-file"], figures["cmi-difference"]) == (Decimal("125.00"), Decimal("25.00"))
    assert any("1 ligne(s) de rapprochement" in n for n in result.notes)
    day = table(result, "cmi-day")
    assert [r["amount"] for r in day] == [Decimal("100.00"), Decimal("125.00"), Decimal("25.00")]


def test_page_and_xlsx_show_the_same_figures(client, scenario, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    params = {"du": "2026-01", "au": "2026-03", "quartier": "Saknia"}
    with django_assert_max_num_queries(25):
        page = client.get(reverse("reports:report", args=["encaissements"]), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="kpi-billed"' in html and "354,00" in html.replace("\u202f", " ").replace("\xa0", " ")
    assert 'data-testid="chart-data-billed-collected"' in html and 'data-testid="table-channels"' in html
    xlsx = client.get(reverse("reports:report_xlsx", args=["encaissements"]), params)
    wb = load_workbook(io.BytesIO(xlsx.content))
    result = build(ReportFilters(month_from=JAN, month_to=MAR, district="Saknia"), now=now)
    sheet = wb["Par mois"]
    for i, row in enumerate(table(result, "months"), start=2):
        values = [c.value for c in sheet[i]]
        assert values[0] == row["month"]
        assert values[3] == float(row["billed_net"]) and values[4] == float(row["collected"])
    summary = {r[0].value: r[1].value for r in wb["Résumé"].iter_rows() if len(r) > 1}
    assert summary["Facturé net"] == 354.0 and summary["Encaissé net"] == 118.0
    pdf = client.get(reverse("reports:report_pdf", args=["encaissements"]), params)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_empty_database_and_dashboard(client, now):
    matviews_refresh_all(now=now)
    result = build(now=now)
    assert kpis(result)["billed"] == Decimal("0.00") and kpis(result)["collection-rate"] is None
    staff_in("direction", client=client)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert 'data-testid="dashboard-section-encaissements"' in response.content.decode()


def test_headline_equals_the_page(scenario, now):
    for filters in (PERIOD, ReportFilters(month_from=JAN, month_to=MAR, district="Saknia")):
        report = report_get("encaissements")
        assert [(k.key, k.value) for k in report.headline(filters, now=now)] == [
            (k.key, k.value) for k in report.build(filters, now=now).kpis[:3]
        ]


@pytest.mark.parametrize("slug", ["encaissements", "creances"])
def test_hostile_filters_never_500(client, slug):
    staff_in("direction", client=client)
    for params in (
        {"quartier": "x' OR 1=1 --"},
        {"agence": "abc"},
        {"type_client": "<script>"},
        {"metier": "GAZ"},
        {"du": "2026-13"},
    ):
        response = client.get(reverse("reports:report", args=[slug]), params)
        assert response.status_code in (200, 400), params  # a filter the report has not: ignored
        xlsx = client.get(reverse("reports:report_xlsx", args=[slug]), params)
        assert xlsx.status_code in (200, 400), params


def test_accueil_cannot_read_finance(client):
    staff_in("accueil", client=client)
    assert client.get(reverse("reports:report", args=["encaissements"])).status_code == 403
    assert client.get(reverse("reports:report_pdf", args=["creances"])).status_code == 403
