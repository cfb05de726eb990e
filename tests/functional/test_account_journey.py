"""A customer's first visit, in a real browser: create the account, read the SMS, log in, change
the generated password, change the phone with an OTP, see the bell, log out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import CustomerFactory, PhoneFactory


def test_create_account_login_change_password_and_phone_then_logout(page, live_server, sms_outbox):
    customer = CustomerFactory(cin="GA123456", first_name="Salma", last_name="Benjelloun")
    PhoneFactory(customer=customer, value="+212661234578")

    page.goto("/")
    expect(page.get_by_role("heading", name="Connexion à votre espace client")).to_be_visible()
    page.get_by_role("link", name="Créer mon compte").first.click()
    page.get_by_label("CIN / ICE").fill("ga 123456")
    page.get_by_label("N° de téléphone (mobile)").fill("06 61 23 45 78")
    page.get_by_role("button", name="Continuer").click()  # the two acceptances are required
    expect(page.get_by_text("Vous devez accepter les conditions d'utilisation.").first).to_be_visible()
    terms = page.get_by_role("link", name="conditions d'utilisation", exact=True)  # one link
    expect(terms).to_have_attribute("href", "/conditions-d-utilisation/")
    page.get_by_label(re.compile(r"J'accepte les conditions d'utilisation")).check()
    page.get_by_label(re.compile(r"loi 09-08")).check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_test_id("password-sent")).to_contain_text("se terminant par 78")

    sms = sms_outbox.last("+212661234578")
    assert customer.code in sms.body
    password = re.search(r"mot de passe (\S+)\.", sms.body).group(1)

    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Connexion").click()

    expect(page.get_by_role("heading", name="Choisissez votre mot de passe")).to_be_visible()
    page.get_by_label(re.compile(r"^Mot de passe reçu")).fill(password)  # seed 002: three fields
    page.get_by_label(re.compile(r"^Nouveau mot de passe")).fill("Gharb-Sebou-2026")
    page.get_by_label("Confirmation du nouveau mot de passe").fill("Gharb-Sebou-2026")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Salma Benjelloun")

    page.locator("a.username").click()
    page.get_by_label("Nouveau n° de téléphone (mobile)").fill("0770998877")
    page.get_by_role("button", name="Recevoir un code de confirmation").click()
    expect(page.get_by_text("se terminant par 77").first).to_be_visible()
    code = sms_outbox.last_code("+212770998877")
    page.get_by_label("Code de confirmation (OTP)").fill(code)
    page.get_by_role("button", name="Demander une modification").click()
    expect(page.get_by_text("Votre numéro de téléphone a été modifié et vérifié.")).to_be_visible()
    expect(page.get_by_test_id("sms-phone")).to_contain_text("+212770998877")

    badge = page.get_by_test_id("unread-count")
    expect(badge).to_be_visible()
    assert int(badge.inner_text()) >= 3
    page.get_by_role("link", name=re.compile("^Notifications")).first.click()
    notifications = page.get_by_test_id("notifications")
    expect(notifications).to_contain_text("Mot de passe modifié")
    expect(notifications).to_contain_text("Numéro de téléphone modifié")
    expect(notifications).not_to_contain_text(password)
    page.reload()
    expect(page.get_by_test_id("unread-count")).to_have_count(0)

    page.get_by_role("banner").get_by_role("button", name="Déconnexion").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto("/espace/")
    expect(page.get_by_role("heading", name="Connexion à votre espace client")).to_be_visible()
