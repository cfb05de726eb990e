"""A supervisor rewrites the « SMS de prise en charge » in « Modèles de messages », in a real browser:
the variables and their meaning are listed, the live counter follows the typing (GSM-7 / UCS-2, number
of SMS), an unknown variable is refused with its French reason and the typed text kept; once saved,
the next complaint's SMS, as the outbox shows it, uses the new wording. Then « Rétablir le texte par
défaut » brings the software's wording back."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from rak_base.models import Message, MessageTemplate
from rak_requests.complaint_models import ComplaintCategory
from rak_requests.complaints import services
from tests.factories import TEST_PASSWORD, StaffFactory


@pytest.fixture
def supervisor(live_server, transactional_db):
    user = StaffFactory(username="nadia", first_name="Nadia", last_name="Bennani")
    user.groups.set(Group.objects.filter(name="superviseur"))
    return user


def _file_complaint(now, phone: str):
    filing = services.ComplaintFiling(
        category=ComplaintCategory.objects.get(code="facturation"),
        name="Amina Alaoui",
        phone=phone,
        message="Ma facture de février est trop élevée.",
        email="",
    )
    return services.complaint_file(filing=filing, now=now, ip="10.0.0.9")


def test_supervisor_rewrites_the_sms_de_prise_en_charge(page, supervisor, now):
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "nadia")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # the list (from the sidebar's « Modèles de messages ») holds the complaint messages
    # one row per language (fr, ar, en): the French one
    page.goto("/backoffice/rak_base/messagetemplate/?q=prise+en+charge&language__exact=fr")
    row = page.locator("tr", has_text="Réclamation : prise en charge (au client)").filter(has_text="SMS")
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.locator("a").first.click()

    expect(page.locator('[data-testid="placeholders"]')).to_contain_text("numéro de la réclamation")
    body = page.locator("textarea[name=body]")
    counter = page.locator('[data-testid="sms-length"]')
    expect(counter).to_contain_text("1 SMS (GSM-7, 160 par SMS)")

    # the live counter: « ê » makes it UCS-2, a long text several SMS
    body.fill("RAK : réclamation {number} enregistrée, un agent est prêt à vous rappeler.")
    expect(counter).to_contain_text("UCS-2")
    expect(counter).to_contain_text("ê")
    body.fill("{number} " + "a" * 320)
    expect(counter).to_contain_text("3 SMS")
    expect(counter).to_contain_text("trop long : 2 SMS au plus")

    # an unknown variable is refused, the text kept
    typed = "RAK : réclamation {numero} bien reçue. Un conseiller vous rappelle sous 48 h."
    body.fill(typed)
    with page.expect_navigation():
        page.locator("button[name=_save]").evaluate("b => b.click()")
    expect(page.get_by_text("Variable inconnue : {numero}.", exact=False)).to_be_visible()
    expect(page.locator("textarea[name=body]")).to_have_value(typed)

    wording = "RAK : réclamation {number} bien reçue. Un conseiller vous rappelle sous 48 h."
    page.locator("textarea[name=body]").fill(wording)
    with page.expect_navigation():
        page.locator("button[name=_save]").evaluate("b => b.click()")
    template = MessageTemplate.objects.get(code="complaint.filed", channel="SMS", language="fr")
    assert template.customized and template.updated_by == supervisor

    complaint = _file_complaint(now, "0612345678")
    sms = Message.objects.get(channel="SMS", recipient="+212612345678")
    page.goto(f"/backoffice/rak_base/message/{sms.pk}/change/")
    expect(page.locator("body")).to_contain_text(f"RAK : réclamation {complaint.number} bien reçue.")

    # « Rétablir le texte par défaut »
    page.goto(f"/backoffice/rak_base/messagetemplate/{template.pk}/change/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Rétablir le texte par défaut")).click()
    with page.expect_navigation():
        page.locator('[data-testid="template-reset-form"] button[type=submit]').click()
    expect(page.get_by_text("est rétabli", exact=False)).to_be_visible()
    other = _file_complaint(now, "0612345679")
    assert "a bien été prise en charge" in Message.objects.get(channel="SMS", recipient="+212612345679").body
    assert other.number
