"""Issue 11 on a 390 × 844 phone, with what customers really type (helper « probe »): a message
pasted without spaces (a long reference, a link, a row of « !!!! ») made the back office's complaint
page 28 000 px wide — the agent scrolled sideways to read every line. Both sides must wrap it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base import clock
from rak_requests.complaint_models import ComplaintCategory
from rak_requests.complaints import services
from tests.factories import TEST_PASSWORD, customer_with_account, staff_in

pytestmark = pytest.mark.functional

PHONE = {"width": 390, "height": 844}
LONG_WORD = "https://www.rak.ma/espace/factures/" + "0123456789" * 30
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_an_unbroken_message_wraps_on_the_agents_and_the_customers_phone(page):
    staff_in("accueil", username="accueil9", first_name="Salwa", last_name="Berrada")
    customer, user = customer_with_account(phone="+212661230099", email="probe9@example.ma")
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="facturation"),
            name="Leila " + "Amrani" * 12,
            phone="0661230099",
            subject="Facture" + "X" * 120,
            message=f"Voir {LONG_WORD} merci.",
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    page.set_viewport_size(PHONE)

    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "accueil9")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"/backoffice/rak_requests/complaint/{complaint.pk}/change/")
    expect(page.get_by_test_id("complaint-number")).to_have_text(complaint.number)
    expect(page.get_by_test_id("complaint-thread")).to_contain_text("0123456789")
    assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
    page.goto("/backoffice/rak_requests/complaint/?etat=ouvertes")
    expect(page.get_by_role("link", name=complaint.number)).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")

    page.context.clear_cookies()
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()
    for url in ("/espace/reclamations/", f"/espace/reclamations/{complaint.number}/"):
        page.goto(url)
        expect(page.get_by_text(complaint.number).first).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS), (url, page.evaluate("document.documentElement.scrollWidth"))
