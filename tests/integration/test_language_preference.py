"""The visitor's and the customer's language (issue 12): a first visit follows Accept-Language, the
``rak_language`` cookie wins over it, the switch (POST /langue/) sets the cookie and goes back to a
page of this site only, a logged-in customer's choice is stored on the account, the account's
language applies at login unless the visitor chose one on the login page, the back office stays
French, and « Mon profil » shows and changes the « Langue de communication »."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rak_customer.models import Customer
from tests.factories import TEST_PASSWORD, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME
SET_LANGUAGE = "/langue/"


def html_of(response) -> str:
    return response.content.decode()


def login(client: Client, customer: Customer):
    return client.post(reverse("portal:login"), {"username": customer.code, "password": TEST_PASSWORD})


# --- the visitor's language ------------------------------------------------------------------------


def test_the_switch_is_at_langue():
    assert reverse("portal:set_language") == SET_LANGUAGE


def test_first_visit_with_accept_language_arabic_gets_the_arabic_page(client):
    html = html_of(client.get(reverse("portal:register_start"), HTTP_ACCEPT_LANGUAGE="ar-MA,ar;q=0.9,fr;q=0.5"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "إنشاء حسابي" in html and "Créer mon compte" not in html


def test_first_visit_without_accept_language_is_french(client):
    html = html_of(client.get(reverse("portal:register_start")))
    assert '<html lang="fr" dir="ltr">' in html
    assert "<h1>Créer mon compte</h1>" in html


def test_the_cookie_wins_over_accept_language(client):
    client.cookies[COOKIE] = "en"
    html = html_of(client.get(reverse("portal:forgot_password"), HTTP_ACCEPT_LANGUAGE="ar"))
    assert '<html lang="en" dir="ltr">' in html
    assert "<h1>Forgotten password</h1>" in html
    client.cookies[COOKIE] = "fr"
    html = html_of(client.get(reverse("portal:forgot_password"), HTTP_ACCEPT_LANGUAGE="ar"))
    assert '<html lang="fr" dir="ltr">' in html and "<h1>Mot de passe oublié</h1>" in html


def test_switch_sets_the_cookie_and_goes_back_to_the_page(client):
    response = client.post(SET_LANGUAGE, {"language": "ar", "next": "/agences/?ville=kenitra"})
    assert response.status_code == 302
    assert response["Location"] == "/agences/?ville=kenitra"
    cookie = response.cookies[COOKIE]
    assert cookie.value == "ar"
    assert int(cookie["max-age"]) == settings.LANGUAGE_COOKIE_AGE >= 300 * 24 * 3600
    assert cookie["path"] == "/"
    html = html_of(client.get("/agences/"))
    assert '<html lang="ar" dir="rtl">' in html and "وكالاتنا" in html


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http://evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_switch_refuses_to_redirect_off_site(client, target):
    response = client.post(SET_LANGUAGE, {"language": "en", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[COOKIE].value == "en"  # the language still changes


def test_switch_with_a_foreign_referer_and_no_next_goes_home(client):
    response = client.post(SET_LANGUAGE, {"language": "en"}, HTTP_REFERER="https://evil.example/")
    assert response["Location"] == "/"


def test_unknown_language_is_ignored(client):
    response = client.post(SET_LANGUAGE, {"language": "de", "next": "/agences/"})
    assert response.status_code == 302 and response["Location"] == "/agences/"
    assert COOKIE not in response.cookies
    assert '<html lang="fr" dir="ltr">' in html_of(client.get("/agences/"))


def test_switch_needs_post_and_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(SET_LANGUAGE).status_code == 405
    assert browser.post(SET_LANGUAGE, {"language": "ar", "next": "/agences/"}).status_code == 403
    html = html_of(browser.get("/agences/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = browser.post(SET_LANGUAGE, {"language": "ar", "next": "/agences/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.cookies[COOKIE].value == "ar"


# --- the customer's language -----------------------------------------------------------------------


def test_logged_in_switch_stores_the_language_on_the_account(client):
    customer, _user = customer_with_account()
    login(client, customer)
    response = client.post(SET_LANGUAGE, {"language": "en", "next": reverse("portal:dashboard")})
    assert response.cookies[COOKIE].value == "en"
    customer.refresh_from_db()
    assert customer.language == "en"


def test_at_login_the_account_language_applies(client):
    customer, _user = customer_with_account(language="ar")
    client.cookies[COOKIE] = "fr"  # this browser was French
    response = login(client, customer)
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "ar"
    html = html_of(client.get(reverse("portal:profile")))
    assert '<html lang="ar" dir="rtl">' in html and "ملفي الشخصي" in html
    customer.refresh_from_db()
    assert customer.language == "ar"


def test_a_language_chosen_on_the_login_page_is_stored_at_login(client):
    customer, _user = customer_with_account(language="ar")
    client.get(reverse("portal:home"))
    client.post(SET_LANGUAGE, {"language": "en", "next": "/"})  # chosen on the login page, not logged in yet
    customer.refresh_from_db()
    assert customer.language == "ar"  # nothing stored before login
    response = login(client, customer)
    assert response.cookies[COOKIE].value == "en"
    customer.refresh_from_db()
    assert customer.language == "en"


def test_a_choice_from_an_earlier_visit_does_not_override_the_account(client):
    """Only a choice made during this visit (this session) is stored: the cookie of a past visit
    is the browser's, the account says what the customer wants."""
    customer, _user = customer_with_account(language="ar")
    client.cookies[COOKIE] = "en"
    assert login(client, customer).cookies[COOKIE].value == "ar"
    customer.refresh_from_db()
    assert customer.language == "ar"


# --- the back office stays French ------------------------------------------------------------------


def test_back_office_stays_french_with_accept_language_arabic(client):
    staff_in("accueil", client=client)
    html = html_of(client.get("/backoffice/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert re.search(r'<html lang="fr"', html)
    assert 'dir="rtl"' not in html
    assert "Clients" in html


def test_back_office_stays_french_with_the_arabic_cookie(client):
    staff_in("accueil", client=client)
    client.cookies[COOKIE] = "ar"
    html = html_of(client.get("/backoffice/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert re.search(r'<html lang="fr"', html) and 'dir="rtl"' not in html
    login_page = Client()
    login_page.cookies[COOKIE] = "en"
    html = html_of(login_page.get(reverse("admin:login")))
    assert re.search(r'<html lang="fr"', html)


def test_staff_sees_and_sets_the_language_on_the_customer_record(client):
    customer, _user = customer_with_account()
    staff_in("accueil", client=client)
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    html = html_of(client.get(url))
    assert 'name="language"' in html


# --- « Mon profil » : « Langue de communication » -------------------------------------------------


def test_profile_shows_the_communication_language(client):
    customer, _user = customer_with_account(language="en")
    client.cookies[COOKIE] = "fr"
    login(client, customer)
    client.cookies[COOKIE] = "fr"  # the page in French, the account in English
    html = html_of(client.get(reverse("portal:profile")))
    assert "Langue de communication" in html
    assert re.search(r'data-testid="customer-language"><span lang="en">English</span>', html)
    form = re.search(r'<form method="post" action="/langue/"[^>]*data-testid="language-form">(.*?)</form>', html, re.S)
    assert form, "the profile's language form posts to the switch"
    body = form.group(1)
    assert 'name="next" value="/espace/profil/#langue"' in body and "csrfmiddlewaretoken" in body
    assert re.search(r'<input type="radio" name="language" value="en"[^>]*checked', body)
    assert "La langue de votre agence en ligne et des SMS, e-mails et documents que la RAK vous envoie." in body


def test_profile_changes_the_communication_language(client):
    customer, _user = customer_with_account()
    login(client, customer)
    response = client.post(SET_LANGUAGE, {"language": "ar", "next": "/espace/profil/#langue", "confirm": "1"})
    assert response["Location"] == "/espace/profil/#langue"
    customer.refresh_from_db()
    assert customer.language == "ar"
    html = html_of(client.get(reverse("portal:profile")))
    assert "تم حفظ لغة التواصل الخاصة بك." in html
    assert re.search(r'data-testid="customer-language"><span lang="ar">العربية</span>', html)
    assert "لغة التواصل" in html
