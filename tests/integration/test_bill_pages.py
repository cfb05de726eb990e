"""The customer's bill pages against the real database: « Tableau de bord » (balance, last
billed month, six-month histogram with dossier switch, news), « Mes consommations », bill detail
and PDF, « Mes impayés », « Autres factures », « Payer en ligne », the e-facture table (seed 002)
with its filters, Excel/PDF exports and statistics.

Bills are written straight to the database (tests/billing_factories.py). The day is fixed at
15/03/2026 (``rak_base.clock.now`` patched): a bill due before it and not paid is « exigible ».
Every page is checked for another customer's ids (404) and for a query count that does not grow
with the history (1 month vs 24 months of bills)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from rak_base import clock
from rak_billing import selectors
from rak_billing.models import Bill
from rak_customer.models import Dossier, Service
from rak_portal.models import NewsItem
from tests.billing_factories import add_months, bill_create, bill_history, bill_pay
from tests.factories import DossierFactory, MeterFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("\u202f", " ")


@pytest.fixture
def account():
    """A customer with a water and an electricity dossier, logged in."""
    customer, user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    water = DossierFactory(customer=customer, number="D100000001", service=Service.EAU)
    power = DossierFactory(
        customer=customer,
        number="D100000002",
        service=Service.ELECTRICITE,
        meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A"),
    )
    return customer, user, water, power


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


@pytest.fixture
def stranger():
    """Another customer, with a dossier, a consumption bill, an other bill."""
    customer, _user = customer_with_account(phone="+212699999999", first_name="Omar", last_name="Tazi")
    dossier = DossierFactory(customer=customer, number="D900000009")
    bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1))
    fee = bill_create(dossier=dossier, kind=Bill.Kind.CUT_FEE, total_ht="150.00")
    return customer, dossier, bill, fee


# --- dashboard ------------------------------------------------------------------------------------


def test_dashboard_shows_name_last_month_balance_and_histogram(logged, account):
    customer, _user, water, power = account
    bills = bill_history(water, months=8, last_period=datetime.date(2026, 2, 1))
    unpaid = bill_create(dossier=power, period_start=datetime.date(2026, 1, 1), consumption=150, total_ht="140.00")
    bill_pay(bills[-1], "50.00")  # bills are paid by bill_history: this is an overpayment, credit 50

    response = logged.get(reverse("portal:dashboard"))

    html = html_of(response)
    assert response.status_code == 200
    assert "Salma Benjelloun" in html
    assert "Dernier mois facturé : <strong>février 2026</strong>" in html
    expected = unpaid.total_ttc - Decimal("50.00")
    assert f'data-testid="balance">{expected:.2f}'.replace(".", ",") in html
    assert selectors.customer_balance(customer.pk) == expected
    assert reverse("portal:unpaid") in html and reverse("portal:pay_online") in html
    # the active dossier first (by number): water; six bars, September to February
    assert 'data-testid="chart-dossier-number">D100000001<' in html
    assert html.count('class="chart-bar"') == 6
    for label in ("sept.", "oct.", "nov.", "déc.", "janv.", "févr."):
        assert f">{label}</text>" in html
    assert "<title id=" in html and "<desc id=" in html
    assert 'role="img"' in html
    # the visually hidden table carries the same figures
    assert f"<td>février 2026</td><td>{bills[-1].consumption:.0f}</td>" in html


def test_dashboard_switches_dossier_by_get_and_refuses_others(logged, account, stranger):
    _customer, _user, water, power = account
    bill_history(water, months=3)
    bill_create(dossier=power, period_start=datetime.date(2025, 12, 1), consumption=230, estimated=True)

    response = logged.get(reverse("portal:dashboard"), {"dossier": power.number})
    html = html_of(response)
    assert 'data-testid="chart-dossier-number">D100000002<' in html
    assert "230 kWh (estimée)" in html or "230</td>" in html
    assert "(estimée)" in html
    assert f'<option value="{power.number}" selected>' in html
    # a dossier number that is not the customer's: 404, nothing of it shown
    assert logged.get(reverse("portal:dashboard"), {"dossier": stranger[1].number}).status_code == 404
    assert logged.get(reverse("portal:dashboard"), {"dossier": "nimporte"}).status_code == 404


def test_dashboard_without_bills_or_dossiers(client):
    _customer, user = customer_with_account()
    client.force_login(user)
    html = html_of(client.get(reverse("portal:dashboard")))
    assert "aucune facture pour le moment" in html
    assert 'data-testid="balance">0,00 DH' in html
    assert '<svg class="chart"' not in html


def test_dashboard_news_slider_shows_published_active_items_only(logged):
    day = datetime.timedelta(days=1)
    NewsItem.objects.create(title="Coupure programmée à Maamora", summary="Mardi de 9h à 12h.", published_at=NOW - day)
    NewsItem.objects.create(title="Nouvelle agence Bir Rami", summary="Ouverte.", published_at=NOW - day, position=1)
    NewsItem.objects.create(title="Brouillon", summary="x", published_at=NOW - day, is_active=False)
    NewsItem.objects.create(title="Plus tard", summary="x", published_at=NOW + day)
    NewsItem.objects.create(title="Expirée", summary="x", published_at=NOW - 3 * day, expires_at=NOW - day)

    html = html_of(logged.get(reverse("portal:dashboard")))

    assert "Les actualités de la RAK" in html
    assert html.index("Coupure programmée à Maamora") < html.index("Nouvelle agence Bir Rami")
    for hidden in ("Brouillon", "Plus tard", "Expirée"):
        assert hidden not in html
    assert "rak_portal/slider.js" in html
    # Every script and stylesheet is served by the app itself (no CDN, no other host).
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)


def test_demo_news_fill_the_dashboard_slider_once(logged, settings):
    """bin/run's « manage.py demo_news --if-empty »: the demo's dashboard shows « Les actualités
    de la RAK » (it had no news, so no slider); run again, or in production, it adds nothing."""
    from io import StringIO

    from django.core.management import call_command

    from rak_portal.demo import DEMO_NEWS

    call_command("demo_news", "--if-empty", stdout=StringIO())
    assert NewsItem.objects.count() == len(DEMO_NEWS) == 3
    html = html_of(logged.get(reverse("portal:dashboard")))
    assert "Les actualités de la RAK" in html
    for title, _summary in DEMO_NEWS:
        assert title in html
    call_command("demo_news", "--if-empty", stdout=StringIO())
    assert NewsItem.objects.count() == 3
    NewsItem.objects.all().delete()
    settings.RAK_MODE = "production"
    call_command("demo_news", "--if-empty", stdout=StringIO())
    assert not NewsItem.objects.exists()


def _count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return len(queries)


def _history_of(months: int, account) -> None:
    _customer, _user, water, power = account
    for dossier in (water, power):
        bills = bill_history(dossier, months=months, last_period=datetime.date(2026, 2, 1))
        bills[-1].allocations.all().delete()  # the last one is unpaid
        Bill.objects.filter(pk=bills[-1].pk).update(settled_at=None)
    bill_create(dossier=water, kind=Bill.Kind.CUT_FEE, total_ht="100.00")


PAGES = [
    ("portal:dashboard", {}),
    ("portal:dashboard", {"dossier": "D100000002"}),
    ("portal:consumptions", {}),
    ("portal:consumptions", {"dossier": "D100000002", "statut": "impayees"}),
    ("portal:unpaid", {}),
    ("portal:other_bills", {}),
    ("portal:pay_online", {}),
    ("portal:efacture", {}),
    ("portal:efacture", {"dossier": "D100000001", "echeance": "02/2026"}),
    ("portal:efacture_xlsx", {"dossier": "D100000001"}),
    ("portal:statistics_xlsx", {}),
]


def test_dashboard_reuses_its_plans_over_the_bill_partitions(logged, account):
    """The dashboard's queries on the customer's ledger and bills read every month partition (they
    cannot be pruned by customer): prepared once repeated on a connection, PostgreSQL plans them
    once and then runs a kept (generic) plan instead of planning every partition at each request
    (issue 15: 2–4 ms of planning for 0.1 ms of execution at 29 partitions)."""
    _history_of(2, account)
    for _ in range(12):
        assert logged.get(reverse("portal:dashboard")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s OR statement LIKE %s",
            ['SELECT SUM("rak_billing_ledgerentry"."amount")%', 'SELECT "rak_billing_bill"."period_start"%'],
        )
        prepared = cursor.fetchall()
    assert len(prepared) == 3, prepared  # the balance, the last billed month, the six-month chart
    for statement, generic, custom in prepared:
        assert generic >= 1, (statement, generic, custom)


def test_kind_predicates_of_partial_indexes_are_in_the_prepared_statements(logged, account):
    """« The customer's latest consumption bill » and « Autres factures » read the partial indexes
    ``bill_customer_consumption`` / ``bill_customer_other`` (``kind = 'CONSUMPTION'`` / its negation).
    Sent as a parameter, the kind cannot match the index predicate in a generic plan: at 6.6 M bills
    PostgreSQL then plans them at every request over every partition (``bench/profile_pages.py
    --plans``). The constant is written in the statement (``kind__const``, rak_base.lookups)."""
    _history_of(2, account)
    for _ in range(6):
        assert logged.get(reverse("portal:dashboard")).status_code == 200
        assert logged.get(reverse("portal:other_bills")).status_code == 200
        assert logged.get(reverse("portal:efacture"), {"type": "OTHER"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "rak_billing_bill" WHERE ("rak_billing_bill"."customer_id" = $1 AND %"kind"%'],
        )
        statements = [row[0] for row in cursor.fetchall()]
    assert len(statements) >= 2, statements  # last billed month, other bills (count and rows)
    for statement in statements:
        assert '"rak_billing_bill"."kind" = \'CONSUMPTION\'' in statement, statement


@pytest.mark.parametrize(("url_name", "params"), PAGES)
def test_query_count_does_not_grow_with_history(client, account, url_name, params, django_assert_max_num_queries):
    client.force_login(account[1])
    _history_of(1, account)
    short = _count_queries(client, reverse(url_name), **params)
    # 23 more months for both dossiers, before the first one: 24 months of history
    _customer, _user, water, power = account
    for dossier in (water, power):
        bill_history(dossier, months=23, last_period=datetime.date(2026, 1, 1))
    assert Bill.objects.filter(customer=account[0], kind=Bill.Kind.CONSUMPTION).count() == 48
    with django_assert_max_num_queries(14):
        response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    long = _count_queries(client, reverse(url_name), **params)
    assert long == short, f"{url_name}: {short} queries with 1 month, {long} with 24"


def test_bill_detail_query_count_is_fixed(logged, account, django_assert_max_num_queries):
    _customer, _user, water, _power = account
    bill = bill_history(water, months=24)[-1]
    with django_assert_max_num_queries(10):
        assert logged.get(reverse("portal:bill_detail", args=[bill.pk])).status_code == 200


# --- Mes consommations ------------------------------------------------------------------------------


def test_consumptions_lists_last_30_bills_newest_first_with_status(logged, account):
    _customer, _user, water, _power = account
    bills = bill_history(water, months=32, last_period=datetime.date(2026, 2, 1))
    # the last two are not paid: January is past its due date (16/02) -> exigible; February is not
    for bill in bills[-2:]:
        bill.allocations.all().delete()
        Bill.objects.filter(pk=bill.pk).update(settled_at=None)
    estimated = bills[-3]
    Bill.objects.filter(pk=estimated.pk).update(estimated=True)

    response = logged.get(reverse("portal:consumptions"))
    html = html_of(response)
    assert response.status_code == 200
    rows = response.context["bills"]
    assert len(rows) == 30
    assert [b.pk for b in rows] == [b.pk for b in reversed(bills[-30:])]
    assert [b.status for b in rows[:3]] == ["UNPAID", "EXIGIBLE", "PAID"]
    assert rows[2].estimated
    assert "Impayée" in html and "Exigible" in html and "Payée" in html and "Estimée" in html
    assert "février 2026" in html and "row-exigible" in html
    assert bills[0].number not in html  # the 31st and 32nd are beyond the 30 shown


def test_consumptions_unpaid_filter_and_dossier_switch(logged, account, stranger):
    _customer, _user, water, power = account
    bill_history(water, months=3)
    power_bills = bill_history(power, months=3)
    open_bill = power_bills[1]
    open_bill.allocations.all().delete()
    Bill.objects.filter(pk=open_bill.pk).update(settled_at=None)

    response = logged.get(reverse("portal:consumptions"), {"dossier": power.number, "statut": "impayees"})
    assert [b.pk for b in response.context["bills"]] == [open_bill.pk]
    assert response.context["dossier"] == power
    assert 'name="statut" value="impayees"' in html_of(response)  # the switch keeps the filter

    response = logged.get(reverse("portal:consumptions"), {"dossier": water.number, "statut": "impayees"})
    assert "Toutes les factures de ce dossier sont réglées." in html_of(response)

    assert logged.get(reverse("portal:consumptions"), {"dossier": stranger[1].number}).status_code == 404


def test_consumptions_without_dossier(client):
    _customer, user = customer_with_account()
    client.force_login(user)
    response = client.get(reverse("portal:consumptions"))
    assert response.status_code == 200
    assert "pas encore de dossier" in html_of(response)


# --- bill detail and PDF --------------------------------------------------------------------------


def test_bill_detail_shows_lines_totals_notice_and_amount_due(logged, account):
    _customer, _user, _water, power = account
    bill = bill_create(
        dossier=power,
        period_start=datetime.date(2026, 2, 1),
        consumption=151,
        total_ht="137.33",
        tranche_notice="Vous avez dépassé la tranche de 150 kWh : toute la consommation est facturée au prix de "
        "la tranche 151-210 kWh.",
    )
    bill_pay(bill, "60.00")

    response = logged.get(reverse("portal:bill_detail", args=[bill.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert bill.number in html and "février 2026" in html
    assert "Consommation" in html and "Redevance fixe" in html
    assert "137,33 DH" in html  # total HT
    assert f"{bill.total_tva:.2f} DH".replace(".", ",") in html
    assert f"{bill.total_ttc:.2f} DH".replace(".", ",") in html
    assert f'data-testid="amount-due">{bill.total_ttc - Decimal("60.00"):.2f}'.replace(".", ",") in html
    assert "dépassé la tranche de 150 kWh" in html
    assert "151 kWh" in html
    assert reverse("portal:bill_pdf", args=[bill.pk]) in html


def test_bill_pages_are_404_for_another_customers_bill(logged, stranger):
    _customer, _dossier, bill, fee = stranger
    for target in (bill, fee):
        assert logged.get(reverse("portal:bill_detail", args=[target.pk])).status_code == 404
        assert logged.get(reverse("portal:bill_pdf", args=[target.pk])).status_code == 404
    assert logged.get(reverse("portal:bill_detail", args=[999999999])).status_code == 404


def test_bill_pdf_downloads_for_its_owner(logged, account):
    _customer, _user, water, _power = account
    bill = bill_history(water, months=2)[-1]

    response = logged.get(reverse("portal:bill_pdf", args=[bill.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="facture-{bill.number}.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_pages_require_login(client, stranger):
    bill = stranger[2]
    for name, args in [
        ("portal:consumptions", []),
        ("portal:unpaid", []),
        ("portal:other_bills", []),
        ("portal:pay_online", []),
        ("portal:efacture", []),
        ("portal:efacture_xlsx", []),
        ("portal:efacture_pdf", []),
        ("portal:statistics_xlsx", []),
        ("portal:bill_detail", [bill.pk]),
        ("portal:bill_pdf", [bill.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and response["Location"].startswith("/?next="), name


# --- Mes impayés, Autres factures, Payer en ligne ---------------------------------------------------


def test_unpaid_lists_open_amounts_total_and_exigible(logged, account, stranger):
    _customer, _user, water, power = account
    paid = bill_create(dossier=water, period_start=datetime.date(2025, 12, 1))
    bill_pay(paid)
    overdue = bill_create(dossier=water, period_start=datetime.date(2026, 1, 1))  # due 16/02 -> exigible
    partly = bill_create(dossier=power, period_start=datetime.date(2026, 2, 1))  # due 16/03 -> not yet
    bill_pay(partly, "30.00")
    fee = bill_create(dossier=power, kind=Bill.Kind.CUT_FEE, total_ht="80.00", issue_date=datetime.date(2026, 3, 5))
    credit = bill_create(dossier=power, kind=Bill.Kind.CREDIT_NOTE, total_ht="10.00")

    response = logged.get(reverse("portal:unpaid"))
    html = html_of(response)
    unpaid = response.context["unpaid"]
    assert [b.pk for b in unpaid.bills] == [overdue.pk, partly.pk, fee.pk]  # oldest due first
    assert unpaid.total == overdue.total_ttc + fee.total_ttc + partly.total_ttc - Decimal("30.00")
    assert unpaid.exigible_count == 1 and unpaid.exigible_total == overdue.total_ttc
    assert paid.number not in html and credit.number not in html and stranger[2].number not in html
    assert f'data-testid="unpaid-total">{unpaid.total:.2f}'.replace(".", ",") in html
    assert "Dont 1 facture exigible" in html
    assert html.count("row-exigible") == 1
    assert reverse("portal:pay_online") in html


def test_unpaid_when_everything_is_paid(logged, account):
    bill_history(account[2], months=2)
    assert "aucune facture impayée" in html_of(logged.get(reverse("portal:unpaid")))


def test_other_bills_lists_non_consumption_kinds(logged, account, stranger):
    _customer, _user, water, _power = account
    bill_history(water, months=2)
    kinds = [Bill.Kind.CUT_FEE, Bill.Kind.FRAUD, Bill.Kind.SUBSCRIPTION, Bill.Kind.WORKS, Bill.Kind.ADVANCE]
    others = [bill_create(dossier=water, kind=kind, total_ht="100.00") for kind in kinds]
    credit = bill_create(dossier=water, kind=Bill.Kind.CREDIT_NOTE, total_ht="25.00")

    response = logged.get(reverse("portal:other_bills"))
    html = html_of(response)
    listed = {b.pk for b in response.context["page"].object_list}
    assert listed == {b.pk for b in [*others, credit]}
    for label in ("Frais de coupure", "Facture de fraude", "Frais d'abonnement", "Travaux / devis", "Avoir"):
        assert label in html
    assert "−29,50 DH" in html  # the credit note, VAT included
    assert stranger[3].number not in html


def test_pay_online_lists_the_bills_to_pay(logged, account):
    """« Payer en ligne » (issue 4) is the card payment's bill list; its tests are in
    tests/integration/test_payment_pages.py."""
    bill = bill_create(dossier=account[2], period_start=datetime.date(2026, 1, 1))
    html = html_of(logged.get(reverse("portal:pay_online")))
    assert bill.number in html and "Liste des factures" in html
    assert f"{bill.total_ttc:.2f}".replace(".", ",") in html


# --- e-facture (seed 002) ---------------------------------------------------------------------------


@pytest.fixture
def efacture_data(account):
    _customer, _user, water, power = account
    water_bills = bill_history(water, months=7, last_period=datetime.date(2026, 2, 1))
    power_bills = bill_history(power, months=3, last_period=datetime.date(2026, 2, 1))
    fee = bill_create(dossier=water, kind=Bill.Kind.CUT_FEE, total_ht="100.00", issue_date=datetime.date(2026, 1, 20))
    return water_bills, power_bills, fee


def test_efacture_table_columns_chart_and_pagination(logged, account, efacture_data):
    customer = account[0]
    water_bills, power_bills, fee = efacture_data

    response = logged.get(reverse("portal:efacture"))
    html = html_of(response)
    assert response.status_code == 200
    for column in ("N° client", "N° dossier", "Échéance", "Date limite de paiement", "Montant (HT)", "N° facture"):
        assert column in html
    assert response.context["page"].paginator.count == 11
    newest = water_bills[-1]
    assert customer.code in html and newest.number in html and "02/2026" in html
    assert newest.due_date.strftime("%d/%m/%Y") in html
    assert reverse("portal:bill_pdf", args=[newest.pk]) in html
    assert "Evolution des montants facturés les 6 derniers mois en DH HT" in html
    points = response.context["points"]
    assert [p.month for p in points] == [add_months(datetime.date(2026, 2, 1), -i) for i in range(5, -1, -1)]
    january = water_bills[-2].total_ht + power_bills[-2].total_ht + fee.total_ht
    assert points[-2].value == january
    assert "Télécharger les statistiques globales" in html


def test_efacture_filters_by_dossier_month_and_own_customer_number(logged, account, efacture_data, stranger):
    customer, _user, water, power = account
    water_bills, power_bills, fee = efacture_data
    url = reverse("portal:efacture")

    rows = logged.get(url, {"dossier": power.number}).context["page"].object_list
    assert {b.pk for b in rows} == {b.pk for b in power_bills}

    rows = logged.get(url, {"echeance": "01/2026"}).context["page"].object_list
    assert {b.pk for b in rows} == {water_bills[-2].pk, power_bills[-2].pk, fee.pk}
    rows = logged.get(url, {"echeance": "2026-01", "dossier": water.number}).context["page"].object_list
    assert {b.pk for b in rows} == {water_bills[-2].pk, fee.pk}

    rows = logged.get(url, {"client": customer.code}).context["page"].object_list
    assert len(rows) == 11

    # another customer's number or dossier: a French error and no rows, never their bills
    response = logged.get(url, {"client": stranger[0].code})
    assert list(response.context["page"].object_list) == []
    assert "Ce numéro client n'est pas rattaché à votre compte." in html_of(response)
    response = logged.get(url, {"dossier": stranger[1].number})
    assert list(response.context["page"].object_list) == []
    assert stranger[2].number not in html_of(response)
    response = logged.get(url, {"echeance": "13/2026"})
    assert "MM/AAAA" in html_of(response) and list(response.context["page"].object_list) == []


def test_efacture_excel_export_contains_filtered_rows(logged, account, efacture_data, stranger):
    customer, _user, _water, power = account
    _water_bills, power_bills, _fee = efacture_data

    response = logged.get(reverse("portal:efacture_xlsx"), {"dossier": power.number})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == f'attachment; filename="factures-{customer.code}.xlsx"'
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("N° client", "N° dossier", "Échéance", "Date limite de paiement")
    assert {r[9] for r in rows[1:]} == {b.number for b in power_bills}
    newest = power_bills[-1]
    row = next(r for r in rows if r[9] == newest.number)
    assert row[0] == customer.code and row[1] == power.number and row[2] == "02/2026"
    assert Decimal(str(row[5])) == newest.total_ht and Decimal(str(row[7])) == newest.total_ttc
    assert row[3].date() == newest.due_date

    # someone else's dossier: an empty table, not their bills
    response = logged.get(reverse("portal:efacture_xlsx"), {"dossier": stranger[1].number})
    assert len(list(load_workbook(BytesIO(response.content)).active.iter_rows())) == 1


def test_efacture_pdf_export(logged, account, efacture_data):
    response = logged.get(reverse("portal:efacture_pdf"), {"echeance": "01/2026"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="factures-{account[0].code}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_global_statistics_workbook(logged, account, efacture_data):
    customer, _user, water, power = account
    water_bills, power_bills, fee = efacture_data
    open_bill = power_bills[-1]
    open_bill.allocations.all().delete()
    Bill.objects.filter(pk=open_bill.pk).update(settled_at=None)

    response = logged.get(reverse("portal:statistics_xlsx"))

    assert response["Content-Disposition"] == f'attachment; filename="statistiques-{customer.code}.xlsx"'
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["Par mois", "Par dossier", "Par dossier et mois", "Paiements"]
    months = list(book["Par mois"].iter_rows(values_only=True))
    january = next(r for r in months if r[0] == "01/2026")
    assert january[1] == 3
    assert Decimal(str(january[2])) == water_bills[-2].total_ht + power_bills[-2].total_ht + fee.total_ht
    assert months[-1][0] == "Total" and months[-1][1] == 11
    dossiers = {r[0]: r for r in book["Par dossier"].iter_rows(min_row=2, values_only=True)}
    assert dossiers[power.number][2] == 3
    assert Decimal(str(dossiers[power.number][3])) == sum(b.consumption for b in power_bills)
    assert dossiers[power.number][4] == "kWh" and dossiers[water.number][4] == "m³"
    assert Decimal(str(dossiers[power.number][7])) == open_bill.total_ttc
    payments = list(book["Paiements"].iter_rows(min_row=2, values_only=True))
    assert len(payments) == 10  # one per consumption bill (the open one's allocation was removed)


# --- selectors --------------------------------------------------------------------------------------


def test_balance_is_the_ledger_sum_and_exigible_needs_due_date_passed(account):
    customer, _user, water, _power = account
    bill = bill_create(dossier=water, period_start=datetime.date(2026, 2, 1))  # due 16/03/2026
    assert selectors.customer_balance(customer.pk) == bill.total_ttc
    assert selectors.unpaid_bills(customer.pk, as_of=datetime.date(2026, 3, 16)).exigible_count == 0
    assert selectors.unpaid_bills(customer.pk, as_of=datetime.date(2026, 3, 17)).exigible_count == 1
    bill_pay(bill)
    assert selectors.customer_balance(customer.pk) == Decimal("0.00")
    assert selectors.unpaid_bills(customer.pk, as_of=datetime.date(2026, 3, 17)).bills == []


def test_monthly_consumption_leaves_months_without_bill_empty(account):
    _customer, _user, water, _power = account
    bill_create(dossier=water, period_start=datetime.date(2025, 10, 1), consumption=10)
    bill_create(dossier=water, period_start=datetime.date(2026, 1, 1), consumption=30)
    points = selectors.dossier_monthly_consumption(water.pk)
    assert [p.month.month for p in points] == [8, 9, 10, 11, 12, 1]
    assert [p.value for p in points] == [None, None, Decimal("10"), None, None, Decimal("30")]
    assert Dossier.objects.get(pk=water.pk).number == "D100000001"


# --- back office ------------------------------------------------------------------------------------


def test_news_items_are_managed_in_the_back_office(client):
    admin_user = StaffFactory(is_superuser=True)
    client.force_login(admin_user)
    NewsItem.objects.create(title="Travaux avenue Mohammed V", summary="x", published_at=NOW)
    response = client.get(reverse("admin:rak_portal_newsitem_changelist"))
    assert response.status_code == 200
    assert "Travaux avenue Mohammed V" in html_of(response)
    response = client.post(
        reverse("admin:rak_portal_newsitem_add"),
        {
            "title": "Nouvelle agence",
            "summary": "Bir Rami",
            "link": "",
            "published_at_0": "15/03/2026",
            "published_at_1": "09:00",
            "expires_at_0": "",
            "expires_at_1": "",
            "position": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, html_of(response)[:2000]
    assert NewsItem.objects.filter(title="Nouvelle agence").exists()
    assert client.get(reverse("admin:rak_portal_newsitem_changelist"), {"en_ligne": "oui"}).status_code == 200
