"""The account pages in Arabic and English (issue 12): « Créer mon compte », « Mot de passe oublié »,
« Vérifier des documents », the simulator and « Mon profil » are translated, their form errors too,
and French is unchanged. What is written to a customer later (password and OTP SMS, e-mails, bell
notices) is in the customer's language when the customer is known, in the page's language for a
visitor not yet linked to a customer."""

from __future__ import annotations

import html as htmllib

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from rak_base.models import Message
from rak_customer.models import ChangeRequest, Customer, PortalAccount
from rak_customer.services import change_request_create, change_request_decide
from tests.factories import PhoneFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME
ACCEPT = {"accept_terms": "on", "accept_data_processing": "on"}


def page(response) -> str:
    return htmllib.unescape(response.content.decode())


def in_language(client, language: str):
    client.cookies[COOKIE] = language
    return client


def last_sms(to: str) -> Message:
    message = Message.objects.filter(channel=Message.Channel.SMS, recipient=to).order_by("-id").first()
    assert message is not None, f"no SMS to {to}"
    return message


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "direction", "expected", "french"),
    [
        (
            "ar",
            "rtl",
            ["إنشاء حسابي", "متابعة", "لدي حساب بالفعل: تسجيل الدخول", "أوافق على "],
            "Continuer",
        ),
        (
            "en",
            "ltr",
            ["Create my account", "Continue", "I already have an account: log in", "I accept the"],
            "Continuer",
        ),
    ],
)
def test_register_page_is_translated(client, language, direction, expected, french):
    html = page(in_language(client, language).get(reverse("portal:register_start")))
    assert f'<html lang="{language}" dir="{direction}">' in html
    for text in expected:
        assert text in html
    assert french not in html
    # the words « terms of use » of the acceptance box still link to the terms, in the page's language
    words = "شروط الاستخدام" if language == "ar" else "terms of use"
    assert f'<a href="{reverse("portal:terms")}" target="_blank" rel="noopener">{words}</a>' in html


def test_register_page_in_french_is_unchanged(client):
    html = page(client.get(reverse("portal:register_start")))
    assert "<h1>Créer mon compte</h1>" in html
    assert "Renseignez votre CIN (ou l'ICE de votre société) et votre numéro de téléphone mobile." in html
    link = f'<a href="{reverse("portal:terms")}" target="_blank" rel="noopener">conditions d\'utilisation</a>'
    assert f"J'accepte les {link} de l'agence en ligne" in html


@pytest.mark.parametrize(
    ("language", "errors"),
    [
        (
            "ar",
            ["هذه الخانة إلزامية.", "يجب عليك قبول شروط الاستخدام.", "يجب عليك الموافقة على معالجة معطياتك الشخصية."],
        ),
        (
            "en",
            [
                "This field is required.",
                "You must accept the terms of use.",
                "You must agree to the processing of your personal data.",
            ],
        ),
    ],
)
def test_register_form_errors_are_translated(client, language, errors):
    html = page(in_language(client, language).post(reverse("portal:register_start"), {"identity": "", "phone": ""}))
    for error in errors:
        assert error in html
    assert "Ce champ est obligatoire." not in html


def test_identity_and_phone_errors_are_translated(client):
    html = page(
        in_language(client, "ar").post(
            reverse("portal:register_start"), {"identity": "12", "phone": "0537000000", **ACCEPT}
        )
    )
    assert "رقم ICE غير صالح: يجب أن يتكون من 15 رقمًا." in html
    assert "هذا الرقم ليس رقم هاتف محمول" in html
    html = page(
        in_language(client, "en").post(reverse("portal:register_start"), {"identity": "1AB", "phone": "12", **ACCEPT})
    )
    assert "Invalid CIN number: it starts with one or two letters followed by digits (e.g. AB123456)." in html
    assert "Invalid phone number." in html


def test_register_errors_in_french_are_unchanged(client):
    html = page(client.post(reverse("portal:register_start"), {"identity": "", "phone": ""}))
    assert "Ce champ est obligatoire." in html
    assert "Vous devez accepter les conditions d'utilisation." in html


@pytest.mark.parametrize(
    ("language", "title", "error"),
    [
        ("ar", "نسيت كلمة المرور", "رقم الزبون أو رقم البطاقة الوطنية/ICE غير صحيح."),
        ("en", "Forgotten password", "Incorrect customer code or CIN/ICE."),
    ],
)
def test_forgot_password_page_and_error_are_translated(client, language, title, error):
    customer, _ = customer_with_account(cin="G123456")
    in_language(client, language)
    assert f"<h1>{title}</h1>" in page(client.get(reverse("portal:forgot_password")))
    html = page(client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G654321"}))
    assert error in html


def test_forgot_password_in_french_is_unchanged(client):
    customer, _ = customer_with_account(cin="G123456")
    html = page(client.post(reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G654321"}))
    assert "Code client ou CIN/ICE incorrect. Votre code client est indiqué sur vos factures RAK." in html


@pytest.mark.parametrize(
    ("language", "expected", "error"),
    [
        ("ar", ["التحقق من الوثائق", "الرمز المرجعي للوثيقة", "تحقق"], "يتكون الرمز المرجعي من 12 حرفًا (حروف وأرقام)."),
        (
            "en",
            ["Check a document", "Document reference code", "Every document received online carries a reference code."],
            "The reference code has 12 characters (letters and digits).",
        ),
    ],
)
def test_verify_page_is_translated(client, language, expected, error):
    in_language(client, language)
    html = page(client.get(reverse("portal:verify")))
    for text in expected:
        assert text in html
    assert "Vérifier des documents" not in html
    assert error in page(client.post(reverse("portal:verify"), {"reference": "ABC"}))
    html = page(client.post(reverse("portal:verify"), {"reference": "7KQ2-M9XD-4TRA"}))
    assert (
        "لا توجد أي وثيقة صادرة عن RAK تحمل هذا المرجع."
        if language == "ar"
        else "No document issued by RAK has this reference."
    ) in html


def test_verify_page_in_french_is_unchanged(client):
    html = page(client.get(reverse("portal:verify")))
    assert "<h1>Vérifier des documents</h1>" in html and "Code de référence du document" in html


SIMULATION = {
    "service": "ELECTRICITE",
    "category": "DOMESTIQUE",
    "mode": "consommation",
    "consumption": "151",
    "period": "jours",
    "days": "30",
}


def test_simulator_in_arabic(client):
    in_language(client, "ar")
    html = page(client.get(reverse("portal:simulator")))
    assert "محاكاة استهلاكك" in html and "محاكاة فاتورتي" in html and "تقديرك" in html
    html = page(client.post(reverse("portal:simulator"), SIMULATION))
    assert "تقدير فاتورتك" in html
    assert "151 كيلوواط ساعة" not in html  # the unit stays kWh
    assert "151 kWh في الشهر (30 يومًا)" in html
    assert "للمقارنة: باستهلاك 150 kWh في الشهر، ستكون هذه الفاتورة 166,86 درهم مع احتساب الرسوم" in html
    errors = page(client.post(reverse("portal:simulator"), {**SIMULATION, "consumption": "-3"}))
    assert "لا يمكن أن يكون الاستهلاك سالبًا." in errors


def test_simulator_in_english_uses_the_english_decimal_point(client):
    in_language(client, "en")
    html = page(client.post(reverse("portal:simulator"), {**SIMULATION, "consumption": "12.5"}))
    assert "Your estimated bill" in html
    assert "12.5 kWh over 30 days" in html
    errors = page(client.post(reverse("portal:simulator"), {**SIMULATION, "days": "0"}))
    assert "The period must be at least one day." in errors


def test_simulator_in_french_is_unchanged(client):
    html = page(client.post(reverse("portal:simulator"), SIMULATION))
    assert "Estimation de votre facture" in html
    assert "151 kWh sur 30 jours" in html
    assert "avec 150 kWh par mois, cette facture serait de 166,86 DH TTC, soit 18,44 DH de moins" in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", ["ملفي الشخصي", "معلوماتي", "تغيير رقم هاتفي", "لغة التواصل", "حفظ لغتي", "كلمة المرور الحالية"]),
        (
            "en",
            [
                "My profile",
                "My details",
                "Change my phone number",
                "Communication language",
                "Save my language",
                "Current password",
            ],
        ),
    ],
)
def test_profile_is_translated(client, language, expected):
    customer, _ = customer_with_account(language=language)
    client.post(reverse("portal:login"), {"username": customer.code, "password": "Kenitra-2026!"})
    html = page(client.get(reverse("portal:profile")))
    assert f'<html lang="{language}"' in html
    for text in expected:
        assert text in html
    assert "Mes informations" not in html
    # a form error on the profile, translated
    html = page(
        client.post(
            reverse("portal:profile_password"), {"old_password": "wrong", "new_password1": "", "new_password2": ""}
        )
    )
    assert ("كلمة المرور الحالية غير صحيحة." if language == "ar" else "The current password is incorrect.") in html


def test_profile_in_french_is_unchanged(client):
    customer, _ = customer_with_account()
    client.post(reverse("portal:login"), {"username": customer.code, "password": "Kenitra-2026!"})
    html = page(client.get(reverse("portal:profile")))
    for text in (
        "<h1>Mon profil</h1>",
        "Mes informations",
        "Changer mon numéro de téléphone",
        "Langue de communication",
    ):
        assert text in html


@pytest.mark.parametrize("code", ["400", "403", "404"])
def test_error_pages_are_translated(code):
    from django.template.loader import render_to_string

    with translation.override("ar"):
        html = render_to_string(f"{code}.html")
    assert "العودة إلى الصفحة الرئيسية" in html and "Retour à l'accueil" not in html
    with translation.override("fr"):
        assert "Retour à l'accueil" in render_to_string(f"{code}.html")


def test_500_page_says_its_language_and_direction():
    from django.template.loader import render_to_string

    with translation.override("ar"):
        html = render_to_string("500.html")
    assert '<html lang="ar" dir="rtl">' in html and "خطأ في الاتصال بالخادم" in html
    with translation.override("fr"):
        html = render_to_string("500.html")
    assert '<html lang="fr" dir="ltr">' in html and "Erreur de communication avec le serveur" in html


def test_missing_page_in_english(client):
    in_language(client, "en")
    response = client.get("/pas-de-page-ici/")
    assert response.status_code == 404
    assert "Page not found" in page(response)


# --- what is sent: the customer's language ---------------------------------------------------------


def test_forgot_password_sms_is_in_the_customer_language_not_the_page(client):
    customer, _ = customer_with_account(cin="G123456", phone="+212612345678", language="ar")
    client.post(
        reverse("portal:forgot_password"), {"customer_code": customer.code, "identity": "G123456"}
    )  # a French page
    body = last_sms("+212612345678").body
    assert body.startswith("الوكالة الإلكترونية RAK: رقم الزبون الخاص بك هو ")
    assert customer.code in body


def test_known_customer_registering_on_an_english_page_gets_english(client):
    customer = Customer.objects.create(code="300000001", cin="AB123456", first_name="Salma", last_name="Idrissi")
    PhoneFactory(customer=customer, value="+212661234578")
    in_language(client, "en").post(
        reverse("portal:register_start"), {"identity": "AB123456", "phone": "0661234578", **ACCEPT}
    )
    assert PortalAccount.objects.filter(customer=customer).exists()
    customer.refresh_from_db()
    assert customer.language == "en"  # the language the account was opened in
    assert last_sms("+212661234578").body.startswith("RAK online agency: your customer code is 300000001")


def test_a_language_set_at_the_counter_is_kept_at_registration(client):
    customer = Customer.objects.create(
        code="300000002", cin="AB123457", first_name="Salma", last_name="Idrissi", language="ar"
    )
    PhoneFactory(customer=customer, value="+212661234579")
    in_language(client, "en").post(
        reverse("portal:register_start"), {"identity": "AB123457", "phone": "0661234579", **ACCEPT}
    )
    customer.refresh_from_db()
    assert customer.language == "ar"
    assert last_sms("+212661234579").body.startswith("الوكالة الإلكترونية RAK")


def test_visitor_not_yet_linked_gets_the_otp_in_the_page_language(client):
    customer = Customer.objects.create(code="300000003", cin="AB123458", first_name="Salma", last_name="Idrissi")
    PhoneFactory(customer=customer, value="+212661234570")
    # another phone: the OTP goes to a number not yet linked to the customer
    in_language(client, "ar").post(
        reverse("portal:register_start"), {"identity": "AB123458", "phone": "0662000001", **ACCEPT}
    )
    body = last_sms("+212662000001").body
    assert body.startswith("RAK: رمز التأكيد الخاص بك هو ") and "صالح لمدة 5 دقائق" in body


def test_prospect_registering_in_arabic_is_stored_arabic(client):
    in_language(client, "ar").post(
        reverse("portal:register_start"), {"identity": "AB999999", "phone": "0663000001", **ACCEPT}
    )
    client.post(
        reverse("portal:register_prospect"),
        {
            "kind": "PARTICULIER",
            "civility": "",
            "last_name": "Idrissi",
            "first_name": "Salma",
            "company_name": "",
            "email": "",
            **ACCEPT,
        },
    )
    customer = Customer.objects.get(cin="AB999999")
    assert customer.language == "ar"
    assert last_sms("+212663000001").body.startswith("الوكالة الإلكترونية RAK")


def test_phone_change_otp_follows_the_account_language(client):
    customer, _ = customer_with_account(language="en")
    client.post(reverse("portal:login"), {"username": customer.code, "password": "Kenitra-2026!"})
    client.cookies[COOKIE] = "fr"  # the page in French: the account says English
    client.post(reverse("portal:profile_phone"), {"phone": "0664000001"})
    assert last_sms("+212664000001").body.startswith("RAK: your confirmation code is ")


def test_staff_decision_is_told_in_the_customer_language(client, now):
    customer, user = customer_with_account(language="ar")
    with translation.override("ar"):
        change_request_create(
            customer=customer, user=user, field=ChangeRequest.Field.NAME, requested_value="Salma Idrissi"
        )
    request = ChangeRequest.objects.get(customer=customer)
    agent = staff_in("accueil")
    with translation.override("fr"):  # the agent's back office
        change_request_decide(request_id=request.pk, staff_user=agent, accept=False, note="", now=now)
    bell = Message.objects.filter(channel=Message.Channel.BELL, kind="change_request").order_by("-id").first()
    assert bell.subject == "تم رفض طلب التعديل"
    assert bell.body.startswith("تم رفض طلب التعديل الخاص بك (")


def test_captcha_question_is_asked_in_the_page_language(client):
    from captcha.models import CaptchaStore

    in_language(client, "ar")
    html = page(client.get(reverse("portal:quickpay"), {"verification": "question"}))
    assert "كم يساوي" in html
    challenge = CaptchaStore.objects.order_by("-pk").first()
    assert ("زائد" in challenge.challenge) or ("ناقص" in challenge.challenge)
    assert challenge.response.isdigit() or challenge.response.lstrip("-").isdigit()
    assert len(challenge.challenge) <= 32


def test_sms_budget_alert_to_supervisors_stays_french_whatever_the_visitor_language(now):
    from rak_base.sms_limits import sms_budget_alert

    supervisor = staff_in("superviseur", email="superviseur@rak.ma")
    with translation.override("ar"):  # the visitor whose SMS reached the budget reads Arabic
        assert sms_budget_alert(now=now)
    bell = Message.objects.get(channel=Message.Channel.BELL, kind="sms_budget", user=supervisor)
    assert bell.subject == "Budget horaire de SMS atteint"
    assert bell.body.startswith("Le budget de ")
