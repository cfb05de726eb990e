"""A field intervention in real browsers (issue 11): an order issued from a leak report; a
« technique » agent opens it in « Ordres d'intervention », marks it done with a report; the
customer, logged in, reads the report in the complaint's thread in « Mes réclamations »."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base import clock
from rak_requests.complaint_models import ComplaintCategory, FieldIntervention
from rak_requests.complaints import services
from rak_requests.complaints.interventions import InterventionOrder, intervention_order
from tests.factories import TEST_PASSWORD, DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.functional

REPORT = "Raccord avant compteur remplacé, fuite arrêtée à 10 h 40. Aucun dégât chez vous."


def test_technician_marks_done_and_the_customer_reads_the_report(page, browser, live_server):
    staff_in("technique", username="tech1", first_name="Youssef", last_name="Tazi")
    agent = staff_in("accueil", username="accueil2")
    customer, user = customer_with_account(phone="+212661230078")
    dossier = DossierFactory(customer=customer)
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="fuite"),
            name="Leila Amrani",
            phone="0661230078",
            message="Une fuite d'eau devant mon compteur depuis ce matin.",
            dossier_id=dossier.pk,
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    order = intervention_order(
        complaint_id=complaint.pk,
        staff_user=agent,
        order=InterventionOrder(kind="LEAK_REPAIR", instructions="Fuite avant compteur : réparer le raccord."),
        now=clock.now(),
    )

    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/backoffice/rak_requests/fieldintervention/")
    page.get_by_role("link", name=order.number).first.click()
    expect(page.get_by_text("Fuite avant compteur : réparer le raccord.")).to_be_visible()
    page.get_by_role("button", name="Marquer réalisée").click()  # no report: refused in French
    expect(page.get_by_text("Rédigez le compte rendu de l'intervention")).to_be_visible()
    page.get_by_label("Compte rendu", exact=True).fill(REPORT)
    page.get_by_role("button", name="Marquer réalisée").click()
    expect(page.get_by_text("Intervention réalisée : le compte rendu est versé à la réclamation")).to_be_visible()
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.DONE and order.done_by.username == "tech1"

    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    portal = context.new_page()
    portal.goto("/")
    portal.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    portal.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    portal.get_by_role("button", name="Connexion").click()
    portal.goto(f"/espace/reclamations/{complaint.number}/")
    thread = portal.get_by_test_id("thread")
    expect(thread).to_contain_text("Une intervention de nos équipes techniques a été ordonnée")
    expect(thread).to_contain_text(REPORT)
    context.close()


def test_billing_agent_issues_a_credit_note_from_the_complaint_page(page, browser, live_server):
    from rak_billing.models import Bill
    from tests.billing_factories import bill_create

    staff_in("facturation", username="factu1")
    customer, user = customer_with_account(phone="+212661230079")
    dossier = DossierFactory(customer=customer)
    bill = bill_create(dossier=dossier, consumption=120)
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="facturation"),
            name="Leila Amrani",
            phone="0661230079",
            message="Ma facture est trop élevée.",
            bill_id=bill.pk,
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "factu1")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"/backoffice/rak_requests/complaint/{complaint.pk}/change/")
    form = page.get_by_test_id("action-credit_note")
    form.get_by_label("Montant de l'avoir (DH TTC)").fill("99999")
    form.get_by_label("Motif (figure sur l'avoir et dans la réclamation)").fill("Fuite après compteur")
    form.get_by_role("button", name="Émettre un avoir").click()
    expect(page.get_by_text("ne peut pas dépasser")).to_be_visible()  # refused in French, nothing typed lost
    form = page.get_by_test_id("action-credit_note")
    expect(form.get_by_label("Motif (figure sur l'avoir et dans la réclamation)")).to_have_value("Fuite après compteur")
    form.get_by_label("Montant de l'avoir (DH TTC)").fill("40")
    form.get_by_role("button", name="Émettre un avoir").click()
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=bill)
    expect(page.get_by_text(f"{complaint.number} : Avoir n° {note.number} de 40,00")).to_be_visible()
    expect(page.get_by_test_id("complaint-thread")).to_contain_text(note.number)
