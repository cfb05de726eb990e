"""The usage reports in a real browser (issue 14): a customer uses the portal (counted by the usage
middleware on the live server), then a « direction » user logs in to the back office and opens
« Relèves et estimations », « Agence en ligne » and « Messages envoyés » with filters, reads the
figures (checked against the readings, bills, accounts and outbox rows written here) and downloads
the XLSX and the PDF."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from rak_base import clock
from rak_base.models import Message
from rak_base.outbox import message_queue_sms
from rak_billing.models import MeterReading
from rak_customer.models import Service
from rak_reports.matviews import matviews_refresh_all
from rak_reports.models import ActiveDay, PageHit
from rak_reports.query import add_months
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, CustomerFactory, DossierFactory, customer_with_account, staff_in
from tests.reading_factories import MeterReadingFactory

pytestmark = pytest.mark.functional

ARABIC_100 = ("فاتورتك متوفرة " * 7)[:100]  # 2 SMS segments (UCS-2)


def _login(page, username: str) -> None:
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _kpi(page, key: str) -> str:
    text = page.get_by_test_id(f"kpi-{key}").get_by_test_id("kpi-value").inner_text()
    return "".join(ch for ch in text if ch.isdigit() or ch == ",")


def _download(page, tmp_path: Path, name: str) -> Path:
    with page.expect_download() as download:
        page.get_by_test_id(f"export-{name.rsplit('.', 1)[1]}").click()
    path = tmp_path / name
    download.value.save_as(path)
    return path


def _summary(path: Path) -> dict:
    return {r[0].value: r[1].value for r in load_workbook(path)["Résumé"].iter_rows() if len(r) > 1}


def test_direction_reads_usage_reports_and_downloads_them(page, browser, live_server, tmp_path):
    now = clock.now()
    today = timezone.localdate(now)
    this_month = today.replace(day=1)
    last_month = add_months(this_month, -1)
    staff_in("direction", username="direction2", first_name="Karim", last_name="Tazi")
    amina, amina_user = customer_with_account(phone="+212612000101", first_name="Amina")
    atlas = CustomerFactory(first_name="Omar")
    d1 = DossierFactory(customer=amina, premises__district="Saknia", service=Service.EAU)
    d2 = DossierFactory(customer=atlas, premises__district="Bir Rami", service=Service.ELECTRICITE)
    # readings of last month: Amina read her own meter, a meter reader read Omar's (held)
    MeterReadingFactory(dossier=d1, reading_date=last_month + datetime.timedelta(days=2), source="SELF")
    MeterReadingFactory(dossier=d1, reading_date=last_month + datetime.timedelta(days=4), source="AGENT")
    MeterReadingFactory(
        dossier=d2,
        reading_date=last_month + datetime.timedelta(days=3),
        source="AGENT",
        status=MeterReading.Status.HELD,
    )
    # consumption bills issued on the 1st of last month: Amina's estimated
    bill_create(dossier=d1, period_start=add_months(last_month, -1), estimated=True)
    bill_create(dossier=d2, period_start=add_months(last_month, -1))
    # the outbox: two Arabic SMS sent (2 segments each), one failed
    for status in ("SENT", "SENT", "FAILED"):
        sms = message_queue_sms(to="+212612000101", body=ARABIC_100, kind="bill_available:1")
        Message.objects.filter(pk=sms.pk).update(status=status)

    # Amina uses the portal: the live server's middleware counts her page and her day
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    portal = context.new_page()
    portal.goto("/")
    portal.get_by_label("Code client, e-mail ou téléphone").fill(amina.code)
    portal.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    portal.get_by_role("button", name="Connexion").click()
    portal.wait_for_url("**/espace/**")
    portal.goto("/espace/")
    context.close()
    assert ActiveDay.objects.filter(user=amina_user, day=today).count() == 1
    assert PageHit.objects.get(day=today, route="portal:dashboard").hits >= 1
    matviews_refresh_all(now=clock.now())

    _login(page, "direction2")
    page.goto("/backoffice/rapports/")
    for slug in ("releves", "agence-en-ligne", "messages"):
        expect(page.get_by_test_id(f"dashboard-section-{slug}")).to_be_visible()

    # « Relèves et estimations »: every district, then Saknia through the filter form
    period = f"du={last_month:%Y-%m}&au={this_month:%Y-%m}"
    page.goto(f"/backoffice/rapports/releves/?{period}")
    assert _kpi(page, "self-share") == "33,3"  # 1 of 3 readings
    assert _kpi(page, "estimated-share") == "50,0"  # 1 of 2 consumption bills
    assert _kpi(page, "held") == "1"
    page.get_by_label("Quartier").select_option("Saknia")
    page.get_by_test_id("report-apply").click()
    page.wait_for_url("**quartier=Saknia**")
    assert _kpi(page, "self-share") == "50,0"
    assert _kpi(page, "estimated-share") == "100,0"
    assert _kpi(page, "held") == "0"
    expect(page.get_by_test_id("table-by-month")).to_contain_text(f"{last_month:%m/%Y}")
    summary = _summary(_download(page, tmp_path, "releves.xlsx"))
    assert summary["Part des auto-relèves"] == 50.0 and summary["Part des factures estimées"] == 100.0
    assert summary["Quartier"] == "Saknia"
    assert _download(page, tmp_path, "releves.pdf").read_bytes().startswith(b"%PDF")

    # « Agence en ligne »: Amina has an account, Omar not; she was active today on « portal:dashboard »
    page.goto(f"/backoffice/rapports/agence-en-ligne/?{period}")
    assert _kpi(page, "account-share") == "50,0"
    assert _kpi(page, "active-last") == "1"
    expect(page.get_by_test_id("table-top-pages")).to_contain_text("portal:dashboard")
    page.get_by_label("Quartier").select_option("Bir Rami")
    page.get_by_test_id("report-apply").click()
    page.wait_for_url("**quartier=Bir+Rami**")
    assert _kpi(page, "account-share") == "0,0"
    assert _kpi(page, "active-last") == "0"
    summary = _summary(_download(page, tmp_path, "agence.xlsx"))
    assert summary["Part des clients ayant un compte"] == 0.0 and summary["Clients"] == 1
    assert _download(page, tmp_path, "agence.pdf").read_bytes().startswith(b"%PDF")

    # « Messages envoyés »: only the period applies
    page.goto(f"/backoffice/rapports/messages/?{period}")
    expect(page.get_by_label("Quartier")).to_have_count(0)
    assert _kpi(page, "sent") == "2"
    assert _kpi(page, "failed") == "1"
    assert _kpi(page, "segments") == "4"
    expect(page.get_by_test_id("table-by-kind")).to_contain_text("bill_available (Factures disponibles)")
    path = _download(page, tmp_path, "messages.xlsx")
    assert _summary(path)["Segments SMS facturés"] == 4
    rows = list(load_workbook(path)["Messages par mois"].iter_rows(values_only=True))
    assert rows[-1][1:3] == (2, 1)  # totals: sent, failed
    assert _download(page, tmp_path, "messages.pdf").read_bytes().startswith(b"%PDF")
