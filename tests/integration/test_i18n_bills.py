"""Issue 12 on the bill and meter-reading pages: « Tableau de bord », « Mes consommations », bill
detail, « Mes impayés », « Consulter mes factures » and « Relève de mon index » in Arabic and English
(``rak_language`` cookie), French unchanged; month names through Django's localisation; the
histogram's time axis right to left in Arabic; no extra query in another language; and the texts
a worker or a staff action sends later (« votre facture est disponible », reading held / accepted /
rejected) composed in the customer's language, whoever triggered them.

The Arabic and English assertions read the compiled catalogues: run ``manage.py i18n update`` first
(the lead's CI does)."""

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
from django.utils import translation
from openpyxl import load_workbook

from rak_base import clock
from rak_base.models import Message
from rak_base.sms_length import sms_length
from rak_billing.models import Bill, MeterReading
from rak_billing.notifications import billing_run_notify, notification_kind
from rak_billing.readings import reading_review
from rak_billing.readings.rules import fmt_quantity
from rak_billing.readings.services import readings_notify_held
from rak_customer.models import Service
from rak_portal.charts import Bar, bar_chart, month_label, month_short
from rak_portal.templatetags.rak_bills import dh, dh_unit
from tests.billing_factories import bill_create, bill_history
from tests.factories import DossierFactory, MeterFactory, StaffFactory, customer_with_account
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("\u202f", " ").replace("&quot;", '"')


@pytest.fixture
def account():
    customer, user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    water = DossierFactory(customer=customer, number="D100000001", service=Service.EAU)
    power = DossierFactory(
        customer=customer,
        number="D100000002",
        service=Service.ELECTRICITE,
        meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A"),
    )
    bills = bill_history(water, months=8, last_period=datetime.date(2026, 2, 1))
    unpaid = bill_create(dossier=power, period_start=datetime.date(2026, 1, 1), consumption=150, total_ht="140.00")
    return customer, user, water, bills, unpaid


def chart_of(html: str) -> str:
    start = html.index('<svg class="chart"')
    return html[start : html.index("</svg>", start)]


def page(client, user, name, language, *args, query=""):
    client.force_login(user)
    if language:
        client.cookies["rak_language"] = language
    response = client.get(reverse(name, args=args) + query)
    assert response.status_code == 200
    return html_of(response)


# --- months and the histogram ------------------------------------------------------------------


def test_month_helpers_follow_the_active_language():
    february = datetime.date(2026, 2, 1)
    with translation.override("fr"):
        assert month_label(february) == "février 2026"
        assert month_short(datetime.date(2026, 3, 1)) == "mars"
    with translation.override("ar"):
        assert month_label(february) == "فبراير 2026"
        assert month_short(february) == "فبراير"
    with translation.override("en"):
        assert month_label(february) == "February 2026"
        assert month_short(february) == "Feb."


def test_quantities_follow_the_active_language_french_unchanged():
    with translation.override("fr"):
        assert fmt_quantity(Decimal("1234.5")) == "1\u00a0234,5" and dh(Decimal("1234.5")) == "1\u202f234,50"
        assert dh_unit(Decimal("1234.5")) == "1\u202f234,50 DH"
    with translation.override("en"):
        assert fmt_quantity(Decimal("1234.5")) == "1,234.5" and dh_unit(Decimal("1234.5")) == "1,234.50 MAD"
    with translation.override("ar"):
        assert dh_unit(Decimal("1234.5")).endswith(" درهم")


def _x_of(svg: str, label: str) -> float:
    match = re.search(r'<text x="([\d.]+)"[^>]*>' + re.escape(label) + "</text>", svg)
    assert match, label
    return float(match.group(1))


def test_histogram_time_axis_runs_right_to_left_in_arabic():
    bars = [Bar(label="A", value=1), Bar(label="B", value=2), Bar(label="C", value=3)]  # oldest first
    ltr = str(bar_chart(bars, chart_id="t", title="t", desc="d", rtl=False))
    rtl = str(bar_chart(bars, chart_id="t", title="t", desc="d", rtl=True))
    assert _x_of(ltr, "A") < _x_of(ltr, "B") < _x_of(ltr, "C")  # the latest at the right end
    assert _x_of(rtl, "A") > _x_of(rtl, "B") > _x_of(rtl, "C")  # the latest at the left end
    assert 'direction="rtl"' in rtl and 'direction="rtl"' not in ltr
    with translation.override("ar"):
        assert 'direction="rtl"' in str(bar_chart(bars, chart_id="t", title="t", desc="d"))
    with translation.override("fr"):
        assert 'direction="rtl"' not in str(bar_chart(bars, chart_id="t", title="t", desc="d"))


# --- pages -------------------------------------------------------------------------------------


def test_dashboard_in_arabic(client, account):
    _customer, user, *_ = account
    html = page(client, user, "portal:dashboard", "ar")
    assert "Dernier mois facturé" not in html and "Solde à payer" not in html
    assert "آخر شهر مفوتر: <strong>فبراير 2026</strong>" in html
    assert "الرصيد الواجب أداؤه" in html and "درهم" in html
    assert "استهلاكي خلال الأشهر الستة الأخيرة" in html
    # the histogram: Arabic months, the latest (February) left of the oldest (September)
    svg = chart_of(html)
    assert 'direction="rtl"' in svg
    assert _x_of(svg, "فبراير") < _x_of(svg, "سبتمبر")
    assert "الاستهلاك خلال الأشهر الستة الأخيرة، الملف رقم D100000001" in svg  # its <title>
    assert "فبراير 2026:" in svg  # its <desc>
    # the table for screen readers
    assert "الاستهلاك الشهري، الملف رقم D100000001" in html and "<td>فبراير 2026</td>" in html
    assert "ملفات اشتراكي" in html


def test_dashboard_in_english(client, account):
    _customer, user, *_ = account
    html = page(client, user, "portal:dashboard", "en")
    assert "Last month billed: <strong>February 2026</strong>" in html
    assert "Balance to pay" in html and " MAD" in html
    assert ">Feb.</text>" in html and ">Sept.</text>" in html
    svg = chart_of(html)
    assert 'direction="rtl"' not in svg and _x_of(svg, "Feb.") > _x_of(svg, "Sept.")
    assert "Consumption over the last six months, contract no. D100000001" in svg
    assert "Dernier mois facturé" not in html


def test_dashboard_in_french_is_unchanged(client, account):
    _customer, user, *_ = account
    html = page(client, user, "portal:dashboard", "fr")
    assert "Dernier mois facturé : <strong>février 2026</strong>" in html
    assert "Solde à payer" in html and "Ma consommation des six derniers mois" in html
    assert "Consommation des six derniers mois, dossier n° D100000001" in html
    assert "<td>février 2026</td>" in html and "فبراير" not in html


def test_consumptions_bill_detail_unpaid_in_arabic(client, account):
    _customer, user, water, bills, unpaid = account
    html = page(client, user, "portal:consumptions", "ar", query=f"?dossier={water.number}")
    assert "Mes consommations" not in html.split("<main", 1)[-1]
    assert "جميع الفواتير" in html and "الفواتير غير المؤداة" in html and "المؤشر السابق" in html
    assert "فبراير 2026" in html  # the period of a calendar month

    html = page(client, user, "portal:bill_detail", "ar", bills[-1].pk)
    assert "تفاصيل الفاتورة" in html and "المجموع مع احتساب الرسوم" in html and "تاريخ الإصدار" in html
    assert "Détail de la facture" not in html

    html = page(client, user, "portal:unpaid", "ar")
    assert "لديك فاتورة واحدة غير مؤداة بمجموع" in html
    assert "الباقي للأداء" in html and "Reste à payer" not in html


def test_consumptions_bill_detail_unpaid_in_english(client, account):
    _customer, user, water, bills, _unpaid = account
    html = page(client, user, "portal:consumptions", "en", query=f"?dossier={water.number}")
    assert "All bills" in html and "Previous reading" in html and "February 2026" in html
    html = page(client, user, "portal:bill_detail", "en", bills[-1].pk)
    assert "Bill details" in html and "Total incl. VAT" in html and "Left to pay" in html
    html = page(client, user, "portal:unpaid", "en")
    assert "You have <strong>1</strong> unpaid bill for a total of" in html


def test_unpaid_and_consumptions_in_french_are_unchanged(client, account):
    _customer, user, water, _bills, _unpaid = account
    html = page(client, user, "portal:unpaid", "fr")
    assert "Vous avez <strong>1</strong> facture non réglée pour un total de" in html
    assert "Total à payer" in html
    html = page(client, user, "portal:consumptions", "fr", query=f"?dossier={water.number}")
    assert "Les 30 dernières factures de consommation de votre dossier d'abonnement." in html
    assert "Ancien index" in html and "février 2026" in html and " DH</td>" in html


def test_efacture_filters_and_chart_in_english_and_arabic(client, account):
    _customer, user, *_ = account
    html = page(client, user, "portal:efacture", "en", query="?echeance=13/2026")
    assert "Billing month" in html and "Enter a month as MM/YYYY (for example 01/2026)." in html
    assert "Amounts billed over the last 6 months, in MAD excl. VAT" in html
    html = page(client, user, "portal:efacture", "ar")
    assert "شهر الفوترة" in html and "تحميل الإحصائيات العامة" in html


def test_exports_in_arabic(client, account):
    _customer, user, *_ = account
    client.force_login(user)
    client.cookies["rak_language"] = "ar"
    response = client.get(reverse("portal:efacture_pdf"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    workbook = load_workbook(BytesIO(client.get(reverse("portal:statistics_xlsx")).content))
    assert workbook.sheetnames == ["حسب الشهر", "حسب الملف", "حسب الملف والشهر", "الأداءات"]
    assert workbook["حسب الشهر"]["A1"].value == "الشهر"
    workbook = load_workbook(BytesIO(client.get(reverse("portal:efacture_xlsx")).content))
    assert workbook.active.title == "الفواتير" and workbook.active["A1"].value == "رقم الزبون"
    client.cookies["rak_language"] = "fr"
    workbook = load_workbook(BytesIO(client.get(reverse("portal:statistics_xlsx")).content))
    assert workbook.sheetnames == ["Par mois", "Par dossier", "Par dossier et mois", "Paiements"]


def test_hot_pages_make_no_extra_query_in_arabic(client, account):
    _customer, user, water, bills, _unpaid = account
    client.force_login(user)
    for url in (
        reverse("portal:dashboard"),
        reverse("portal:consumptions") + f"?dossier={water.number}",
        reverse("portal:unpaid"),
        reverse("portal:efacture"),
        reverse("portal:bill_detail", args=[bills[-1].pk]),
    ):
        counts = {}
        for language in ("fr", "ar", "en"):
            client.cookies["rak_language"] = language
            client.get(url)  # warm the per-process caches (reverse patterns, catalogues)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[language] = len(queries)
        assert counts["ar"] == counts["fr"] == counts["en"], (url, counts)


# --- meter readings ----------------------------------------------------------------------------


@pytest.fixture
def reader():
    ReadingRoundFactory(code="T01", window_start_day=10, window_days=10)  # 10/03 -> 19/03: open on the 15th
    customer, user = customer_with_account(phone="+212611000001")
    dossier = dossier_in_round("T01", customer=customer)
    return customer, user, dossier


def test_self_reading_and_history_in_arabic_and_english(client, reader):
    _customer, user, dossier = reader
    html = page(client, user, "portal:self_reading_dossier", "ar", dossier.number)
    assert "إدخال قراءة عدادي" in html and "فترة القراءة" in html and "من 10/03/2026 إلى 19/03/2026" in html
    assert "المؤشر المقروء" in html  # the form's label
    assert "Relève de mon index de consommation" not in html
    html = page(client, user, "portal:reading_history", "ar")
    assert "سجل قراءات الاستهلاك" in html
    html = page(client, user, "portal:self_reading_dossier", "en", dossier.number)
    assert "Submit my meter reading" in html and "from 10/03/2026 to 19/03/2026" in html
    html = page(client, user, "portal:self_reading_dossier", "fr", dossier.number)
    assert "Relève de mon index de consommation" in html and "du 10/03/2026 au 19/03/2026" in html


# --- what is sent later, in the customer's language ----------------------------------------------


def _customer_in(language: str, phone: str):
    ReadingRoundFactory(code="T05", window_start_day=1, window_days=7)
    customer, user = customer_with_account(phone=phone, language=language)
    return customer, user, dossier_in_round("T05", customer=customer)


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("ar", "تم قبول القراءة", "RAK: تم التحقق من قراءتك"),
        ("en", "Reading accepted", "RAK: your reading of"),
        ("fr", "Relevé validé", "RAK : votre relevé du"),
    ],
)
def test_reading_review_is_told_in_the_customers_language(sms_outbox, now, language, subject, words):
    _customer, user, dossier = _customer_in(language, "+212611000007")
    reading = MeterReadingFactory(dossier=dossier, status=MeterReading.Status.HELD, reading_date=now.date())
    with translation.override("fr"):  # the agent's back office is French
        reading_review(reading_id=reading.pk, staff_user=StaffFactory(), accept=True, now=now)
    assert sms_outbox.last("+212611000007").body.startswith(words)
    bell = Message.objects.get(user=user, channel=Message.Channel.BELL, kind="reading_review")
    assert bell.subject == subject


def test_reading_rejected_in_arabic_keeps_the_agents_reason(sms_outbox, now):
    _customer, user, dossier = _customer_in("ar", "+212611000008")
    reading = MeterReadingFactory(dossier=dossier, status=MeterReading.Status.HELD, reading_date=now.date())
    reading_review(reading_id=reading.pk, staff_user=StaffFactory(), accept=False, reason="Index 1075.", now=now)
    body = sms_outbox.last("+212611000008").body
    assert "لم يتم قبول قراءتك" in body and body.endswith(": Index 1075.")


def test_held_reading_notice_in_the_customers_language(now):
    _ar_customer, ar_user, ar_dossier = _customer_in("ar", "+212611000009")
    fr_customer, fr_user = customer_with_account(phone="+212611000010")
    fr_dossier = dossier_in_round("T05", customer=fr_customer)
    readings = [
        MeterReadingFactory(
            dossier=d, status=MeterReading.Status.HELD, reading_date=now.date(), consumption=Decimal(100)
        )
        for d in (ar_dossier, fr_dossier)
    ]
    readings_notify_held(readings)
    ar_bell = Message.objects.get(user=ar_user, channel=Message.Channel.BELL, kind="reading_held")
    fr_bell = Message.objects.get(user=fr_user, channel=Message.Channel.BELL, kind="reading_held")
    assert ar_bell.subject == "القراءة قيد التحقق" and "استهلاكه غير معتاد" in ar_bell.body
    ar_sms = Message.objects.get(recipient="+212611000009", channel=Message.Channel.SMS, kind="reading_held")
    assert ar_sms.body.startswith("RAK: مؤشر") and sms_length(ar_sms.body).segments <= 2
    assert fr_bell.subject == "Relevé en cours de vérification" and "consommation inhabituelle" in fr_bell.body


def test_bill_available_in_the_customers_language():
    from tests.integration.test_billing_run import electricity, read, run_month

    ar_customer, ar_user = customer_with_account(phone="+212661000021", language="ar")
    en_customer, en_user = customer_with_account(phone="+212661000022", language="en")
    fr_customer, fr_user = customer_with_account(phone="+212661000023")
    for customer in (ar_customer, en_customer, fr_customer):
        dossier = electricity(customer=customer)
        read(dossier, datetime.date(2026, 1, 20), 10)
        read(dossier, datetime.date(2026, 2, 20), 30)
    run = run_month()
    if not Message.objects.filter(kind=notification_kind(run.pk)).exists():
        with translation.override("fr"):
            billing_run_notify(run=run)
    assert Bill.objects.filter(run=run).count() == 3

    def sms(phone):
        return Message.objects.get(channel=Message.Channel.SMS, recipient=phone, kind=notification_kind(run.pk)).body

    assert sms("+212661000021").startswith("RAK: فاتورتك لشهر فبراير 2026 متوفرة")
    assert sms_length(sms("+212661000021")).segments <= 2  # UCS-2: 67 characters a part
    assert sms("+212661000022").startswith("RAK: Your bill for February 2026 is available")
    assert sms("+212661000023").startswith("RAK : Votre facture de février 2026 est disponible")
    bell = Message.objects.get(channel=Message.Channel.BELL, user=ar_user, kind=notification_kind(run.pk))
    assert bell.subject == "فاتورتك من RAK لشهر فبراير 2026 متوفرة"
