"""« Créances et impayés » (rak_reports.reports.receivables): open amounts aged by days past the due
date, checked against the ledger's open amounts; credit notes and a reversed payment handled as the
ledger does; each filter narrowing; top debtors with their back-office link; buckets computed at
read time; XLSX cells equal to the page; a bounded number of queries."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_billing.ledger import bill_outstanding, credit_note_issue, customer_balance, payment_record, payment_reverse
from rak_billing.models import Bill, Payment
from rak_customer.models import Customer, Service
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from tests.billing_factories import bill_create, bill_pay
from tests.factories import AgencyFactory, CustomerFactory, DossierFactory, staff_in

pytestmark = pytest.mark.django_db

D = datetime.date
ALL = ReportFilters(month_from=D(2026, 1, 1), month_to=D(2026, 3, 1))


def at(day: D) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC)


@pytest.fixture
def scenario(now):
    """Today is 02/03/2026. c1 (particulier, Saknia): 118 due 25/02 (5 days), 200 left of a bill due
    20/11/2025 (102 days). c2 (entreprise, Bir Rami, electricity): 590 due 15/01 less a 90 credit
    note (46 days), 59 of works without dossier due 20/12/2025 (72 days), 118 not yet due. c3
    (particulier, Saknia): 354 due 01/02 (29 days) paid by a cheque since reversed, one bill paid."""
    staff = staff_in("facturation")
    centre, saknia = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Saknia")
    c1 = CustomerFactory(agency=centre, first_name="Amina", last_name="Bennani")
    c2 = CustomerFactory(
        agency=saknia, kind=Customer.Kind.ENTREPRISE, cin="", ice="001122334455667", company_name="Atlas SARL"
    )
    c3 = CustomerFactory(agency=centre, first_name="Karim", last_name="Tazi")
    d1 = DossierFactory(customer=c1, premises__district="Saknia", service=Service.EAU)
    d2 = DossierFactory(customer=c2, premises__district="Bir Rami", service=Service.ELECTRICITE)
    d3 = DossierFactory(customer=c3, premises__district="Saknia", service=Service.EAU)
    bill_create(dossier=d1, period_start=D(2026, 1, 1), total_ht="100.00", due_date=D(2026, 2, 25))  # 118
    old = bill_create(dossier=d1, period_start=D(2025, 10, 1), total_ht="200.00", due_date=D(2025, 11, 20))  # 236
    bill_pay(old, "36.00", paid_at=at(D(2025, 11, 25)))
    b2 = bill_create(dossier=d2, period_start=D(2025, 12, 1), total_ht="500.00", due_date=D(2026, 1, 15))  # 590
    credit_note_issue(
        bill=b2, reason="Geste commercial", issue_date=D(2026, 1, 20), now=at(D(2026, 1, 20)), amount=Decimal("90.00")
    )
    bill_create(
        customer=c2, kind=Bill.Kind.WORKS, total_ht="50.00", issue_date=D(2025, 12, 5), due_date=D(2025, 12, 20)
    )
    bill_create(dossier=d2, period_start=D(2026, 2, 1), total_ht="100.00", due_date=D(2026, 3, 16))  # 118.00 not due
    b5 = bill_create(dossier=d3, period_start=D(2025, 12, 1), total_ht="300.00", due_date=D(2026, 2, 1))  # 354
    paid = bill_create(dossier=d3, period_start=D(2025, 11, 1), total_ht="100.00", due_date=D(2025, 12, 15))
    bill_pay(paid, paid_at=at(D(2025, 12, 10)))
    cheque = payment_record(
        customer=c3, amount=Decimal("354.00"), method=Payment.Method.CHEQUE, paid_at=at(D(2026, 2, 10))
    )
    payment_reverse(payment=cheque, reason="Chèque impayé", by=staff, at=at(D(2026, 2, 20)))
    matviews_refresh_all(now=now)
    return {"c1": c1, "c2": c2, "c3": c3, "centre": centre, "saknia": saknia, "b5": b5}


def build(filters=ALL, *, now):
    return report_get("creances").build(filters, now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key) -> list[dict]:
    return next(t for t in result.tables if t.key == key).rows


def test_totals_match_the_ledger(scenario, now):
    result = build(now=now)
    figures = kpis(result)
    today = D(2026, 3, 2)
    open_bills = [b for b in Bill.objects.exclude(kind=Bill.Kind.CREDIT_NOTE) if bill_outstanding(b) > 0]
    assert figures["open-total"] == sum(bill_outstanding(b) for b in open_bills) == Decimal("1349.00")
    overdue = sum(bill_outstanding(b) for b in open_bills if b.due_date < today)
    assert figures["overdue"] == overdue == Decimal("1231.00")  # 118 + 200 + 500 + 59 + 354
    assert figures["not-due"] == Decimal("118.00")
    # nobody holds unallocated credit here: the customers' ledger balances add up to the same
    assert sum(customer_balance(c) for c in (scenario["c1"], scenario["c2"], scenario["c3"])) == figures["open-total"]
    assert figures["over-90"] == Decimal("200.00")
    assert figures["debtors"] == 3
    assert bill_outstanding(scenario["b5"]) == Decimal("354.00")  # re-opened by the reversal


def test_buckets_by_customer_type_and_district(scenario, now):
    result = build(now=now)
    kinds = {r["label"]: r for r in table(result, "kinds")}
    particulier = kinds["Particulier"]
    assert (particulier["d0_30"], particulier["d31_60"], particulier["d61_90"], particulier["d90"]) == (
        Decimal("472.00"),  # 118 (5 days) + 354 (29 days)
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("200.00"),
    )
    entreprise = kinds["Entreprise"]
    assert (entreprise["d31_60"], entreprise["d61_90"], entreprise["not_due"]) == (
        Decimal("500.00"),
        Decimal("59.00"),
        Decimal("118.00"),
    )
    districts = {r["label"]: r for r in table(result, "districts")}
    assert districts["Saknia"]["overdue"] == Decimal("672.00")
    assert districts["Bir Rami"]["overdue"] == Decimal("500.00")
    assert districts["(factures sans dossier)"]["overdue"] == Decimal("59.00")
    assert sum(r["overdue"] for r in districts.values()) == kpis(result)["overdue"]
    ageing = next(c for c in result.charts if c.key == "ageing")
    assert [s.name for s in ageing.series] == ["Entreprise", "Particulier"]


def test_buckets_move_with_today_without_refresh(scenario, now):
    def c1_bucket(day):
        rows = table(
            build(ReportFilters(month_from=ALL.month_from, month_to=ALL.month_to, district="Saknia"), now=at(day)),
            "kinds",
        )
        return rows[0]

    # the 118 due 25/02: 30 days late on 27/03 (0–30), 31 on 28/03 (31–60); not overdue on its due date
    assert c1_bucket(D(2026, 2, 25))["not_due"] == Decimal("118.00")
    assert c1_bucket(D(2026, 3, 27))["d0_30"] == Decimal("118.00")
    assert c1_bucket(D(2026, 3, 28))["d31_60"] == Decimal("472.00")  # with the 354 due 01/02 (55 days)


@pytest.mark.parametrize(
    ("filters", "overdue", "debtors"),
    [
        ({"district": "Saknia"}, Decimal("672.00"), 2),
        ({"customer_kind": "ENTREPRISE"}, Decimal("559.00"), 1),
        ({"service": "ELECTRICITE"}, Decimal("500.00"), 1),
        ({"district": "Bir Rami", "customer_kind": "PARTICULIER"}, Decimal("0.00"), 0),
    ],
)
def test_each_filter_narrows(scenario, now, filters, overdue, debtors):
    result = build(ReportFilters(month_from=ALL.month_from, month_to=ALL.month_to, **filters), now=now)
    assert kpis(result)["overdue"] == overdue
    assert kpis(result)["debtors"] == debtors == len(table(result, "debtors"))


def test_agency_filter(scenario, now):
    result = build(
        ReportFilters(month_from=ALL.month_from, month_to=ALL.month_to, agency_id=scenario["saknia"].pk), now=now
    )
    assert (kpis(result)["overdue"], kpis(result)["not-due"]) == (Decimal("559.00"), Decimal("118.00"))


def test_top_debtors_order_and_link(scenario, now):
    rows = table(build(now=now), "debtors")
    assert [r["customer"]["text"] for r in rows] == [str(scenario["c2"]), str(scenario["c3"]), str(scenario["c1"])]
    top = rows[0]
    assert top["customer"]["url"] == reverse("admin:rak_customer_customer_change", args=[scenario["c2"].pk])
    assert (top["overdue"], top["open_total"], top["oldest_due"], top["bills"]) == (
        Decimal("559.00"),
        Decimal("677.00"),
        D(2025, 12, 20),
        2,
    )
    c1 = rows[2]
    assert (c1["overdue"], c1["over_90"], c1["days"]) == (Decimal("318.00"), Decimal("200.00"), 102)


def test_top_debtors_keeps_twenty(now):
    for i in range(23):
        bill_create(total_ht=str(100 + i), due_date=D(2026, 1, 10))
    matviews_refresh_all(now=now)
    result = build(now=now)
    rows = table(result, "debtors")
    assert len(rows) == 20 and kpis(result)["debtors"] == 23
    assert rows[0]["overdue"] > rows[-1]["overdue"]
    assert rows[-1]["overdue"] == Decimal("103.00") * Decimal("1.18")


def test_page_and_xlsx_show_the_same_figures(client, scenario, now, django_assert_max_num_queries):
    staff_in("direction", client=client)
    params = {"quartier": "Saknia", "du": "2026-01"}  # the period is not a filter of this report: ignored
    with django_assert_max_num_queries(25):
        page = client.get(reverse("reports:report", args=["creances"]), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="table-debtors"' in html and 'data-testid="chart-data-ageing"' in html
    assert reverse("admin:rak_customer_customer_change", args=[scenario["c3"].pk]) in html
    assert 'name="du"' not in html
    xlsx = client.get(reverse("reports:report_xlsx", args=["creances"]), params)
    wb = load_workbook(io.BytesIO(xlsx.content))
    result = build(ReportFilters(month_from=ALL.month_from, month_to=ALL.month_to, district="Saknia"), now=now)
    sheet = wb["Principaux débiteurs"]
    for i, row in enumerate(table(result, "debtors"), start=2):
        values = [c.value for c in sheet[i]]
        assert values[1] == row["customer"]["text"] and values[4] == float(row["overdue"])
    sheet = wb["Par type de client"]
    assert [c.value for c in sheet[2]][:2] == ["Particulier", 0.0]
    assert [c.value for c in sheet[2]][-1] == 672.0
    summary = {r[0].value: r[1].value for r in wb["Résumé"].iter_rows() if len(r) > 1}
    assert summary["Créances échues"] == 672.0
    pdf = client.get(reverse("reports:report_pdf", args=["creances"]), params)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_empty(now):
    matviews_refresh_all(now=now)
    result = build(now=now)
    assert kpis(result)["overdue"] == Decimal("0.00") and kpis(result)["debtors"] == 0
    assert kpis(result)["over-90-share"] is None


@pytest.mark.parametrize("max_batches", [40, 2])  # 2: not converged, the exact grouping fallback
def test_top_debtors_read_in_batches_are_exact(now, monkeypatch, max_batches):
    from rak_reports.reports import receivables

    monkeypatch.setattr(receivables, "BATCH", 4)
    monkeypatch.setattr(receivables, "MAX_BATCHES", max_batches)
    expected = {}
    for i in range(12):
        bill = bill_create(total_ht=str(100 + 7 * i), due_date=D(2026, 1, 10))
        expected[bill.customer_id] = bill.total_ttc
        if i % 3 == 0:  # a large bill not yet due: a high open total, no more overdue
            bill_create(dossier=bill.dossier, period_start=D(2026, 2, 1), total_ht="5000.00", due_date=D(2026, 3, 20))
    matviews_refresh_all(now=now)
    rows = table(build(now=now), "debtors")
    ranking = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(r["customer"]["url"], r["overdue"]) for r in rows] == [
        (reverse("admin:rak_customer_customer_change", args=[cid]), amount) for cid, amount in ranking
    ]


def test_headline_equals_the_page(scenario, now):
    for filters in (ALL, ReportFilters(month_from=ALL.month_from, month_to=ALL.month_to, district="Saknia")):
        report = report_get("creances")
        assert [(k.key, k.value) for k in report.headline(filters, now=now)] == [
            (k.key, k.value) for k in report.build(filters, now=now).kpis[:3]
        ]
