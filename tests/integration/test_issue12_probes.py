"""Issue 12 probes (helper « probe »): the portal tried from outside in Arabic and English, as a
customer and as an attacker.

- The simulator (public) and a bill's detail showed the tariff wording in French inside an Arabic
  page (« Électricité — tranche من 151 إلى 210 kWh (sélective) », « Location du compteur », « Eau
  potable »): the engine mixed French words with translated bounds. A bill's lines and notice are now
  always stored in French (whatever language the issuing page or worker speaks: the engine's price
  cache is shared between bills) and shown in the reader's language (``rak_billing.line_labels``).
- The complaint and outage forms' upload help (« PDF ou image, 2 Mo au plus ») was computed in French
  when the module was imported.
- The language switch and the language negotiation hold against hostile input (no 500, no open
  redirect, nothing reflected), and the back office stays French.

The Arabic and English assertions read the compiled catalogues: run ``manage.py i18n update`` first.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from rak_billing import engine
from rak_billing.line_labels import bill_line_label, tranche_notice
from rak_billing.models import BillLine
from rak_billing.tariffs import simulate
from rak_customer.models import Customer, Service
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

SIMULATION = {
    "service": "ELECTRICITE",
    "category": "DOMESTIQUE",
    "mode": "consommation",
    "consumption": "151",
    "period": "jours",
    "days": "30",
}


@pytest.fixture(autouse=True)
def _site_language():
    translation.deactivate()
    yield
    translation.deactivate()


def html_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def main_of(response) -> str:
    """The page's own content (the footer names the Régie in French, a proper name)."""
    html = html_of(response)
    return html[html.index("<main") : html.index("</main>")]


def in_language(client: Client, language: str) -> Client:
    client.cookies["rak_language"] = language
    return client


# --- tariff wording -------------------------------------------------------------------------------


def test_simulator_lines_in_arabic(client):
    html = html_of(in_language(client, "ar").post(reverse("portal:simulator"), SIMULATION))
    assert "الكهرباء — الشطر من 151 إلى 210 kWh (انتقائي)" in html
    assert "كراء العداد" in html and "صيانة العداد والربط" in html
    assert "TPPAN (الرسم على الخدمات السمعية البصرية) (من 0 إلى 100 kWh)" in html
    for french in ("tranche ", "Location du compteur", "Entretien du compteur", "Électricité —"):
        assert french not in html


def test_simulator_water_and_sanitation_in_english(client):
    html = main_of(
        in_language(client, "en").post(
            reverse("portal:simulator"), {**SIMULATION, "service": "EAU", "consumption": "25"}
        )
    )
    assert "Drinking water — band 0 to 6 m³" in html and "Sanitation" in html
    assert "Fixed charge (meter rental and maintenance)" in html and "Fixed sanitation charge" in html
    assert "Eau potable" not in html and "Assainissement" not in html and "tranche " not in html
    # the sanitation notice is prefixed with the service's name in English, not « Assainissement : »
    assert "Sanitation: you have gone beyond the" in html


def test_simulator_in_french_is_unchanged(client):
    html = html_of(in_language(client, "fr").post(reverse("portal:simulator"), SIMULATION))
    assert "Électricité — tranche 151 à 210 kWh (sélective)" in html
    assert "Location du compteur" in html and "TPPAN (taxe audiovisuelle) (0 à 100 kWh)" in html


def test_the_engine_writes_a_bills_lines_in_french_whatever_the_active_language():
    with translation.override("ar"):
        result = simulate(
            service=Service.EAU,
            category="DOMESTIQUE",
            consumption=Decimal("25"),
            days=30,
            on_date=datetime.date(2026, 3, 1),
        )
    labels = [line.label for part in result.parts for line in part.computation.lines]
    assert "Eau potable — tranche 0 à 6 m³" in labels
    assert all("من" not in label and "إلى" not in label for label in labels)
    assert result.main.computation.notice.startswith("Vous avez dépassé la tranche 13 à 20 m³")
    # and each of them reads back in Arabic
    with translation.override("ar"):
        assert bill_line_label("Eau potable — tranche 0 à 6 m³") == "الماء الصالح للشرب — الشطر من 0 إلى 6 m³"
        assert all(not _has_french(bill_line_label(label)) for label in labels), labels
        assert tranche_notice(result.main.computation.notice).startswith("لقد تجاوزت الشطر من 13 إلى 20 m³")


def _has_french(text: str) -> bool:
    return any(word in text for word in ("tranche", "Eau", "Redevance", "Assainissement", " à ", "plus de"))


def test_unknown_wording_shows_as_stored():
    with translation.override("ar"):
        assert bill_line_label("Frais de déplacement du technicien") == "Frais de déplacement du technicien"
        assert bill_line_label("Eau potable — tranche spéciale") == "Eau potable — tranche spéciale"
        assert tranche_notice("Avis saisi par un agent.") == "Avis saisi par un agent."
        assert bill_line_label("") == ""
    assert engine.fmt_qty(Decimal("12.5")) == "12,5"


@pytest.fixture
def bill_with_tariff_lines():
    customer, user = customer_with_account(first_name="Salma", last_name="Benjelloun")
    water = DossierFactory(customer=customer, number="D100000001", service=Service.EAU)
    bill = bill_create(
        dossier=water,
        consumption=25,
        total_ht="100.00",
        with_lines=False,
        tranche_notice=(
            "Vous avez dépassé la tranche 13 à 20 m³ : la consommation au-delà de 20 m³ par mois "
            "est facturée plus cher."
        ),
    )
    labels = [
        ("TRANCHE", "Eau potable — tranche 0 à 6 m³"),
        ("TRANCHE", "Eau potable — tranche 21 à 35 m³"),
        ("FIXED", "Redevance fixe (location et entretien du compteur)"),
        ("TRANCHE", "Assainissement — tranche plus de 20 m³"),
        ("LEVY", "TPPAN (taxe audiovisuelle) (101 à 200 kWh)"),
    ]
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            position=position,
            kind=kind,
            label=label,
            quantity=Decimal("1"),
            unit_price=Decimal("20"),
            amount_ht=Decimal("20"),
            vat_rate=Decimal("0.07"),
            amount_tva=Decimal("1.40"),
            amount_ttc=Decimal("21.40"),
        )
        for position, (kind, label) in enumerate(labels, start=1)
    )
    return user, bill


def test_bill_detail_lines_and_notice_in_arabic(client, bill_with_tariff_lines):
    user, bill = bill_with_tariff_lines
    client.force_login(user)
    html = html_of(in_language(client, "ar").get(reverse("portal:bill_detail", args=[bill.pk])))
    assert "الماء الصالح للشرب — الشطر من 0 إلى 6 m³" in html
    assert "التطهير السائل — الشطر أكثر من 20 m³" in html
    assert "إتاوة ثابتة (كراء العداد وصيانته)" in html
    assert "لقد تجاوزت الشطر من 13 إلى 20 m³" in html
    assert "tranche " not in html and "Eau potable" not in html and "Redevance fixe" not in html
    # display only: the bill as issued is untouched
    assert set(bill.lines.values_list("label", flat=True)) >= {"Eau potable — tranche 0 à 6 m³"}


def test_bill_detail_lines_in_english_and_french(client, bill_with_tariff_lines):
    user, bill = bill_with_tariff_lines
    client.force_login(user)
    html = html_of(in_language(client, "en").get(reverse("portal:bill_detail", args=[bill.pk])))
    assert "Drinking water — band 21 to 35 m³" in html and "TPPAN (broadcasting tax) (101 to 200 kWh)" in html
    assert "You have gone beyond the 13 to 20 m³ band" in html
    html = html_of(in_language(client, "fr").get(reverse("portal:bill_detail", args=[bill.pk])))
    assert "Eau potable — tranche 0 à 6 m³" in html and "Vous avez dépassé la tranche 13 à 20 m³" in html


# --- forms ---------------------------------------------------------------------------------------


def test_complaint_form_upload_help_in_arabic_and_english(client):
    html = html_of(in_language(client, "ar").get(reverse("portal:complaint_new")))
    assert "Mo au plus" not in html and "PDF ou image" not in html
    html = html_of(in_language(client, "en").get(reverse("portal:complaint_new")))
    assert "Mo au plus" not in html and "PDF ou image" not in html
    html = html_of(in_language(client, "fr").get(reverse("portal:complaint_new")))
    assert "PDF ou image, 2 Mo au plus" in html


# --- the language switch under attack ------------------------------------------------------------


def _switch(client: Client, **data):
    return client.post(reverse("portal:set_language"), data)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com/",
        "javascript:alert(1)",
        "\\\\evil.com",
        "/\\evil.com",
        "http://testserver@evil.com/",
        " //evil.com",
    ],
)
def test_switch_never_redirects_elsewhere(client, target):
    response = _switch(client, language="ar", next=target)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_switch_with_a_hostile_referer_goes_home(client):
    response = client.post(reverse("portal:set_language"), {"language": "en"}, HTTP_REFERER="https://evil.com/x")
    assert response["Location"] == "/"


def test_switch_header_injection_is_not_a_header(client):
    response = _switch(client, language="ar", next="/espace/\r\nSet-Cookie: pwned=1")
    assert response.status_code == 302
    assert "\n" not in response["Location"] and "\r" not in response["Location"]
    assert "pwned" not in response.cookies


@pytest.mark.parametrize("value", ["xx", "ar\x00", "a" * 100_000, "AR", "ar-ma", "<script>", ""])
def test_switch_hostile_language_changes_nothing_and_never_fails(client, value):
    response = _switch(client, language=value, next="/agences/")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response["Location"] in ("/agences/", "/")
    assert "rak_language" not in response.cookies or response.cookies["rak_language"].value in ("fr", "ar", "en")


def test_switch_is_post_only_and_csrf_protected():
    client = Client(enforce_csrf_checks=True)
    assert client.get(reverse("portal:set_language")).status_code == 405
    assert client.post(reverse("portal:set_language"), {"language": "ar"}).status_code == 403


@pytest.mark.parametrize(
    "header",
    ["*", "ar;q=abc", "ar;q=2", "ar;q=-1", "en;q=1e309", ";;;,", "zz-ZZ", "ar," * 5000, "\x7f\x01", "ar-MA;q=0.9"],
)
def test_accept_language_garbage(client, header):
    response = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="fr"' in html[:400] or 'lang="ar"' in html[:400] or 'lang="en"' in html[:400]


@pytest.mark.parametrize("cookie", ["xx", "a" * 4000, "../../etc/passwd", "<script>alert(1)</script>", "ar\x00"])
def test_language_cookie_garbage(client, cookie):
    client.cookies["rak_language"] = cookie
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


def test_a_staff_user_switching_changes_no_customer_and_the_back_office_stays_french(client):
    staff = StaffFactory(is_staff=True)
    client.force_login(staff)
    response = _switch(client, language="ar", next="/backoffice/")
    assert response.status_code == 302 and response["Location"] == "/backoffice/"
    assert not Customer.objects.exclude(language="fr").exists()
    client.cookies["rak_language"] = "ar"
    for url in ("/backoffice/", "/backoffice/?language=ar", "/backoffice/?lang=en"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
        assert page.status_code in (200, 302)
        if page.status_code == 200:
            assert 'lang="fr"' in page.content.decode()[:600]


def test_a_customer_switch_is_stored_on_the_account(client):
    customer, user = customer_with_account()
    client.force_login(user)
    _switch(client, language="ar", next="/espace/")
    customer.refresh_from_db()
    assert customer.language == "ar"
    _switch(client, language="xx", next="/espace/")
    customer.refresh_from_db()
    assert customer.language == "ar"


# --- « GERANCE:… » descriptions of the pay pages and the receipt --------------------------------


def test_payment_description_in_the_pages_language():
    from rak_billing.receipts import bill_payment_description

    dossier = DossierFactory(service=Service.ELECTRICITE)
    bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), due_date=datetime.date(2026, 3, 14))
    with translation.override("fr"):
        assert (
            bill_payment_description(bill, exigible=True)
            == "GERANCE:ELECTRICITE, PERIODE:01/01/2026, DATE ECHEANCE:14/03/2026, EXIGIBLE"
        )
    with translation.override("ar"):
        assert (
            bill_payment_description(bill, exigible=True)
            == "الخدمة: الكهرباء، الفترة: 01/01/2026، تاريخ الاستحقاق: 14/03/2026، مستحقة"
        )
    with translation.override("en"):
        assert bill_payment_description(bill) == "Service: Electricity, Period: 01/01/2026, Due date: 14/03/2026"


def test_pay_online_page_in_arabic_has_no_french_description(client):
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1))
    client.force_login(user)
    html = main_of(in_language(client, "ar").get(reverse("portal:pay_online")))
    assert "الخدمة: الماء، الفترة: 01/01/2026" in html
    assert "GERANCE" not in html and "PERIODE" not in html and "ECHEANCE" not in html


# --- flash messages ------------------------------------------------------------------------------


def test_pay_online_without_a_bill_says_so_in_arabic(client):
    """« Cochez au moins une facture à payer. » was a French literal (not marked): in French inside
    the Arabic and English pages."""
    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), due_date=datetime.date(2099, 1, 1))
    client.force_login(user)
    data = {"email": "client@example.ma", "card_type": "MOROCCAN", "valider": "1"}
    html = main_of(in_language(client, "ar").post(reverse("portal:pay_online"), data))
    assert "حدد فاتورة واحدة على الأقل لأدائها." in html and "Cochez au moins" not in html
    html = main_of(in_language(client, "en").post(reverse("portal:pay_online"), data))
    assert "Tick at least one bill to pay." in html
    html = main_of(in_language(client, "fr").post(reverse("portal:pay_online"), data))
    assert "Cochez au moins une facture à payer." in html


# --- other invoices' lines -------------------------------------------------------------------------


def test_an_advance_topped_up_from_an_arabic_page_is_issued_in_french_and_read_in_arabic(client):
    """The advance invoice's line was composed in the customer's page language (Arabic in the back
    office and in the French bill PDF); now French as issued, Arabic on the portal."""
    from rak_customer.models import Dossier
    from rak_payment_cmi import paying

    customer, user = customer_with_account()
    dossier = DossierFactory(customer=customer, billing_mode=Dossier.BillingMode.ADVANCE, number="D100000042")
    with translation.override("ar"):
        order = paying.advance_order_create(
            customer=customer,
            dossier=dossier,
            amount="300",
            email="k@example.ma",
            now=datetime.datetime(2026, 3, 15, 10, 0, tzinfo=datetime.UTC),
        )
    assert order.pk
    line = BillLine.objects.filter(bill__customer=customer).get()
    assert line.label == "Avance sur consommation — dossier D100000042"
    client.force_login(user)
    html = html_of(in_language(client, "ar").get(reverse("portal:bill_detail", args=[line.bill_id])))
    assert "تسبيق على الاستهلاك — الملف D100000042" in html and "Avance sur consommation" not in html


def test_subscription_fee_lines_read_in_the_pages_language():
    """The subscription fees invoice is issued when the customer signs the last contract (from an
    Arabic page): its lines are now composed in French (rak_requests.lifecycle._fees_invoice) and
    read in the page's language."""
    with translation.override("ar"):
        assert bill_line_label("Frais d'abonnement eau potable") == "مصاريف الاشتراك الماء الصالح للشرب"
        assert bill_line_label("Dépôt de garantie électricité (10 A)") == "ضمانة الكهرباء (10 A)"
    with translation.override("en"):
        assert bill_line_label("Frais d'abonnement eau potable") == "Subscription fees — drinking water"


def test_the_fees_invoice_signed_from_an_arabic_page_is_issued_in_french(agent_and_request):
    from tests.integration.test_lifecycle import reload, sign_all

    with translation.override("ar"):  # the customer signs on their Arabic page
        request = reload(sign_all(agent_and_request))
    labels = sorted(request.fee_bill.lines.values_list("label", flat=True))
    assert labels == [
        "Dépôt de garantie eau potable (20 mm)",
        "Dépôt de garantie électricité (6 kVA)",
        "Frais d'abonnement eau potable",
        "Frais d'abonnement électricité",
    ]


@pytest.fixture
def agent_and_request(db):
    from tests.integration.test_lifecycle import make_request, to_signature

    customer, _user = customer_with_account()
    return to_signature(make_request(customer), StaffFactory(username="agent.probe"))
