"""Issue 12 — requests in Arabic and English: the services list, the subscription steps, a request's
tracking page (its seeded type name and phase labels translated), the refund and certificate pages,
a form error in Arabic, Latin-script fields kept left-to-right, the notices composed in the
customer's language whoever acts, and French unchanged. Runs against the compiled catalogues
(``manage.py i18n update``)."""

from __future__ import annotations

import html as htmllib

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_requests import seed_labels
from rak_requests.models import Phase, RequestType, RequiredDocument
from rak_requests.services import request_accept_phase, request_reject
from tests.factories import StaffFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    body = htmllib.unescape(response.content.decode())
    return " ".join(body.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def account():
    return customer_with_account(phone="+212612000912", email="salma@example.ma", first_name="Salma")


def in_language(client, language: str):
    client.cookies["rak_language"] = language
    return client


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


# --- the seeded wording ---------------------------------------------------------------------------------


def test_every_seeded_type_phase_and_document_name_is_listed_for_the_catalogues():
    """A seeded row whose wording is not in ``seed_labels`` would show in French on an Arabic page."""
    listed = set(seed_labels.REQUEST_TYPE_NAMES) | set(seed_labels.PHASE_NAMES) | set(seed_labels.DOCUMENT_LABELS)
    seeded = (
        set(RequestType.objects.values_list("name", flat=True))
        | set(Phase.objects.values_list("name", flat=True))
        | set(RequiredDocument.objects.values_list("label", flat=True))
    )
    assert seeded - listed == set()


# --- pages -------------------------------------------------------------------------------------------------


def test_services_list_in_arabic_and_english(logged):
    ar = text(in_language(logged, "ar").get(reverse("portal:customer_services")))
    assert 'dir="rtl"' in ar and 'lang="ar"' in ar
    assert "مجموع الخدمات المقدمة للزبناء عبر الإنترنت:" in ar
    assert "L'ensemble des services" not in ar
    en = text(in_language(logged, "en").get(reverse("portal:customer_services")))
    assert 'dir="ltr"' in en
    assert "All the services offered to customers online:" in en


def test_subscription_steps_in_arabic_keep_latin_fields_left_to_right(client):
    page = in_language(client, "ar").get(reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1}))
    html = text(page)
    assert page.status_code == 200
    assert 'dir="rtl"' in html
    assert "<h1>طلب اشتراك</h1>" in html  # the title
    assert "الخطوة 1: إدخال المعلومات الشخصية" in html
    assert "المعلومات الشخصية" in html and "المرفقات" in html  # the steps bar
    assert 'aria-label="مراحل الطلب"' in html
    for name in ("identity", "email", "phone", "otp"):
        field = html.split(f'name="{name}"')[0].rsplit("<input", 1)[1] + html.split(f'name="{name}"')[1].split(">")[0]
        assert 'dir="ltr"' in field, name
    en = text(in_language(client, "en").get(reverse("portal:request_step", kwargs={"kind": "branchement", "step": 1})))
    assert "<h1>Connection request</h1>" in en
    assert "Step 1: your personal details" in en


def test_a_form_error_in_arabic(client):
    page = in_language(client, "ar").post(
        reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1}),
        {"action": "next", "kind": "PARTICULIER", "identity": "", "email": "pas-un-mail", "phone": ""},
    )
    html = text(page)
    assert page.status_code == 400
    assert "يرجى إدخال اسمك العائلي." in html
    assert "عنوان البريد الإلكتروني غير صالح." in html
    assert "Veuillez indiquer votre nom." not in html


def test_request_tracking_shows_the_seeded_type_and_phase_names_translated(logged, account, now):
    customer, _ = account
    r = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=r.pk, staff=StaffFactory(), now=now)

    ar = text(in_language(logged, "ar").get(reverse("portal:request_detail", args=[r.number])))
    assert "طلب اشتراك" in ar  # « Demande d'abonnement »
    bar = ar.split('data-testid="phase-bar"')[1].split("</ol>")[0]
    assert "القبول الإداري" in bar and "القبول التقني" in bar and "تركيب العداد" in bar
    assert "Recevabilité" not in bar
    assert "حالة طلبك:" in ar

    listing = text(in_language(logged, "ar").get(reverse("portal:requests")))
    assert "طلب اشتراك" in listing and "القبول التقني" in listing

    en = text(in_language(logged, "en").get(reverse("portal:request_detail", args=[r.number])))
    assert "Subscription request" in en
    assert "Technical eligibility" in en.split('data-testid="phase-bar"')[1].split("</ol>")[0]
    assert "Status of your request:" in en


def test_a_wording_staff_changed_shows_as_typed(logged, account):
    customer, _ = account
    r = ServiceRequestFactory(customer=customer)
    Phase.objects.filter(pk=r.phase_id).update(name="Vérification du dossier")
    ar = text(in_language(logged, "ar").get(reverse("portal:request_detail", args=[r.number])))
    assert "Vérification du dossier" in ar


def test_refund_and_certificate_pages_in_arabic_and_english(logged):
    ar = text(in_language(logged, "ar").get(reverse("portal:refund_request")))
    assert 'dir="rtl"' in ar
    assert "لا يوجد أي مبلغ مستحق لك: حسابك ليس دائنا لدى RAK." in ar
    en = text(in_language(logged, "en").get(reverse("portal:refund_request")))
    assert "No refund is owed to you: your account is not in credit with RAK." in en

    ar = text(in_language(logged, "ar").get(reverse("portal:attestations")))
    assert "لطلب شهادة، اختر نوع الشهادة وملف الاشتراك ثم انقر على « إصدار »." in ar
    en = text(in_language(logged, "en").get(reverse("portal:attestations")))
    assert "To request a certificate, choose the certificate type and the contract, then click Generate." in en


def test_french_is_unchanged(client, logged, account, now):
    customer, _ = account
    r = ServiceRequestFactory(customer=customer)
    fr = text(in_language(logged, "fr").get(reverse("portal:request_detail", args=[r.number])))
    assert 'lang="fr"' in fr and 'dir="ltr"' in fr
    assert "Demande d'abonnement" in fr and "Recevabilité administrative" in fr
    assert "État de votre demande :" in fr
    refund = text(logged.get(reverse("portal:refund_request")))
    assert "Aucun remboursement ne vous est dû : votre compte n'est pas créditeur auprès de la RAK." in refund
    logged.logout()
    step = text(in_language(client, "fr").get(reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 1})))
    assert "Étape 1 : Saisie des informations personnelles" in step
    assert "<h1>Demande d'abonnement</h1>" in step


# --- notices in the customer's language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "تم رفض طلبك. السبب: Pièce illisible"),
        ("en", "your request has been rejected. Reason: Pièce illisible"),
        ("fr", "votre demande a été rejetée. Motif : Pièce illisible"),
    ],
)
def test_a_staff_decision_is_told_in_the_customers_language(account, now, language, expected):
    customer, _ = account
    customer.language = language
    customer.save(update_fields=["language"])
    r = ServiceRequestFactory(customer=customer)
    request_reject(request_id=r.pk, staff=StaffFactory(), reason="Pièce illisible", now=now)
    sms = Message.objects.filter(channel=Message.Channel.SMS).latest("id")
    assert expected in sms.body
    assert r.number in sms.body


def test_a_phase_notice_names_the_seeded_phase_in_the_customers_language(account, now):
    customer, _ = account
    customer.language = "ar"
    customer.save(update_fields=["language"])
    r = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=r.pk, staff=StaffFactory(), now=now)
    sms = Message.objects.filter(channel=Message.Channel.SMS).latest("id")
    assert "انتقل طلبك إلى مرحلة « القبول التقني »." in sms.body


def test_the_contract_an_agent_generates_is_written_in_the_customers_language_with_the_stored_choices(account, now):
    """The contract text is generated by the agent's decision (French back office) but read and signed
    by the customer: it follows ``Customer.language``, and the choices stored in French by the form
    (usage, tariff category) show translated."""
    from rak_requests.contracts import contract_body

    customer, _ = account
    data = {
        "services": ["EAU"],
        "services_labels": ["Eau potable"],
        "address": "N° 12 rue Sebou",
        "city": "Kénitra",
        "usage": "DOMESTIQUE",
        "usage_label": "Domestique (habitation)",
        "tariff_category_eau": "EAU_DOMESTIQUE",
        "tariff_category_eau_label": "Eau — usage domestique",
        "caliber_mm": "20",
    }
    r = ServiceRequestFactory(customer=customer, data=data)
    customer.language = "ar"
    customer.save(update_fields=["language"])
    arabic = contract_body(r, "EAU", now=now)
    assert "المادة 1 — الموضوع" in arabic
    assert "منزلي (سكن)" in arabic and "الماء — استعمال منزلي" in arabic
    customer.language = "fr"
    customer.save(update_fields=["language"])
    french = contract_body(r, "EAU", now=now)
    assert "Article 1 — Objet" in french
    assert "Domestique (habitation)" in french and "Eau — usage domestique" in french
