"""Issue 10's list pages on a 390 × 844 phone: the tables become one card per row, each value with
its label (data-label) beside it. A long address squeezed the label « Adresse » into « Adr / ess /
e » (the cells wrap anywhere); each label now keeps its words whole and the value wraps instead."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, DossierFactory, PremisesFactory, customer_with_account

PHONE = {"width": 390, "height": 844}

# The card labels narrower than their longest word (a word cut across lines).
CUT_LABELS_JS = """() => [...document.querySelectorAll('table.table-cards td[data-label]')]
  .filter((td) => td.getBoundingClientRect().width > 0)
  .map((td) => {
    const before = getComputedStyle(td, '::before');
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = `${before.fontWeight} ${before.fontSize} ${before.fontFamily}`;
    const words = td.dataset.label.split(/\\s+/).map((w) => ctx.measureText(w).width);
    return {label: td.dataset.label, width: parseFloat(before.width), needed: Math.max(...words)};
  })
  .filter((cell) => cell.width + 0.5 < cell.needed)
  .map((cell) => cell.label)"""


def test_card_labels_keep_their_words_whole_beside_a_long_address(page):
    customer, _user = customer_with_account(phone="+212612000932", email="probe2@example.ma")
    premises = PremisesFactory(address="Résidence Les Jardins de Maamora, imm. 24, appt 18", district="Ville Haute")
    DossierFactory(customer=customer, premises=premises, deposit_amount=Decimal("180.00"))
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_test_id("customer-name")).to_be_visible()

    for url, heading in (("/espace/abonnements/", "Mes abonnements"), ("/espace/provisions/", "Mes provisions")):
        page.goto(url)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_text("Résidence Les Jardins de Maamora").first).to_be_visible()
        assert page.evaluate(CUT_LABELS_JS) == [], url
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), url
