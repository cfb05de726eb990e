"""Quick-pay without reading the image (issue 9 §2), in Chromium: « Je ne peux pas lire l'image »
puts a question in words in its place; the answer box is described by the question (what a screen
reader announces on reaching it); answered in digits, the customer reaches the bill list."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.functional.test_phone_layout import customer  # noqa: F401 - fixture
from tests.integration.test_captcha_question import answer


def test_customer_passes_the_written_question_and_reaches_the_bills(page, customer):  # noqa: F811
    page.goto("/payer-mes-factures/")
    page.get_by_role("link", name="Je ne peux pas lire l'image : répondre à une question écrite").click()
    box = page.get_by_label("Réponse à la question (en chiffres)")
    question = page.locator("#id_captcha_question")
    expect(question).to_contain_text("Combien font")
    expect(box).to_have_accessible_description(
        f"{question.inner_text()} Écrivez le résultat en chiffres (je ne suis pas un robot)."
    )
    expect(page.locator("form img")).to_have_count(0)

    page.get_by_label("Code Client").fill(customer.code)
    page.locator("#id_email").fill("salma@example.ma")
    page.get_by_label("Confirmer votre email").fill("salma@example.ma")
    box.fill(answer(page.content()))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_test_id("pay-bills")).to_contain_text("GERANCE:ELECTRICITE")
