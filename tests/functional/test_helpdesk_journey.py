"""The helpdesk in a real browser (issue 11): an « accueil » agent opens the « Réclamations » queue,
takes a customer's complaint, inserts a canned reply and sends it, adds an internal note and closes
the complaint with a result; the customer, logged in, reads the result in « Mes réclamations » (and
never the internal note), and got it by SMS."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base import clock
from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import services
from tests.factories import TEST_PASSWORD, customer_with_account, staff_in

pytestmark = pytest.mark.functional

RESULT = "Index vérifié sur place : la facture de février est rectifiée par un avoir de 120,00 DH."
NOTE = "Technicien passé le 3 : index réel 1 234 m³."


def test_agent_takes_replies_notes_and_closes_then_the_customer_reads_the_result(page, browser, live_server):
    staff_in("accueil", username="accueil1", first_name="Salwa", last_name="Berrada")
    customer, user = customer_with_account(phone="+212661230077", email="leila@example.ma", first_name="Leila")
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="facturation"),
            name="Leila Amrani",
            phone="0661230077",
            email="leila@example.ma",
            message="Ma facture de février est trois fois plus élevée que d'habitude.",
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )

    # the agent: the queue, then the complaint's page
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "accueil1")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/backoffice/rak_requests/complaint/?etat=ouvertes")
    counters = page.get_by_test_id("complaint-counters")
    expect(counters.get_by_test_id("counter-new")).to_contain_text("1")
    expect(counters.get_by_test_id("counter-unassigned")).to_contain_text("1")
    page.get_by_role("link", name=complaint.number).click()
    expect(page.get_by_test_id("complaint-number")).to_have_text(complaint.number)
    expect(page.get_by_test_id("complaint-sla")).to_contain_text("Dans les délais")
    expect(page.get_by_test_id("complainant")).to_contain_text(customer.code)

    page.get_by_test_id("form-take").get_by_role("button", name="Prendre en charge").click()
    expect(page.get_by_test_id("complaint-assignee")).to_have_text("Salwa Berrada")

    reply = page.get_by_test_id("form-reply")
    reply.get_by_label("Réponse type").select_option("accuse")
    page.evaluate("window.sameDocument = true")
    reply.get_by_test_id("canned-insert").click()
    reply = page.get_by_test_id("form-reply")
    expect(reply.get_by_label("Message au client")).to_have_value(
        f"Bonjour Leila Amrani, nous avons bien reçu votre réclamation {complaint.number}. Un conseiller "
        "l'étudie et reviendra vers vous dans les meilleurs délais."
    )
    assert page.evaluate("window.sameDocument === true"), "« Insérer » should fill the box without a reload"
    expect(reply.get_by_label("SMS au")).to_be_checked()
    reply.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_text("réponse envoyée au client")).to_be_visible()

    note = page.get_by_test_id("form-note")
    note.get_by_role("button", name="Ajouter la note").click()  # empty: refused, in French
    expect(page.get_by_test_id("form-note")).to_contain_text("Écrivez la note.")
    page.get_by_test_id("form-note").get_by_label("Note interne").fill(NOTE)
    page.get_by_test_id("form-note").get_by_role("button", name="Ajouter la note").click()
    internal = page.get_by_test_id("complaint-thread").locator('[data-kind="NOTE"]').last
    expect(internal).to_contain_text(NOTE)
    expect(internal.get_by_test_id("entry-internal")).to_have_text("interne")

    close = page.get_by_test_id("form-close")
    expect(close).to_contain_text("Envoyé au client par SMS")
    close.get_by_label("Résultat du traitement").fill(RESULT)
    close.get_by_role("button", name="Clôturer la réclamation").click()
    expect(page.get_by_test_id("complaint-status")).to_have_text("Clôturée")
    expect(page.get_by_test_id("complaint-result")).to_contain_text(RESULT)
    assert Complaint.objects.get(pk=complaint.pk).closed_by.username == "accueil1"
    assert Message.objects.filter(channel="SMS", recipient="+212661230077", body__contains="avoir de 120,00").exists()

    # the complaint's page on a phone: one column, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("complaint-result")).to_contain_text(RESULT)
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - 390
    assert overflow <= 0, f"la page défile horizontalement de {overflow} px"

    # the customer, in another browser context: « Mes réclamations »
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    portal = context.new_page()
    portal.goto("/")
    portal.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    portal.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    portal.get_by_role("button", name="Connexion").click()
    portal.goto("/espace/reclamations/")
    row = portal.get_by_test_id("complaint-row").filter(has_text=complaint.number)
    expect(row).to_contain_text("Clôturée")
    expect(row).to_contain_text("rectifiée par un avoir")
    portal.goto(f"/espace/reclamations/{complaint.number}/")
    expect(portal.get_by_test_id("complaint-result")).to_contain_text(RESULT)
    expect(portal.get_by_test_id("thread")).to_contain_text("nous avons bien reçu votre réclamation")
    expect(portal.get_by_test_id("thread")).not_to_contain_text(NOTE)
    context.close()
