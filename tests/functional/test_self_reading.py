"""« Relève de mon index de consommation » in a real browser: a customer whose dossier's reading
window is open today logs in, opens the service from the menu, sends the index with a photo of the
meter (a real PNG), sees the green message, then finds the reading and its photo in « Historique
des relevés »; a second attempt gets the red message."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_billing.models import MeterReading
from tests.factories import TEST_PASSWORD, customer_with_account
from tests.reading_factories import MeterReadingFactory, ReadingRoundFactory, dossier_in_round, png_bytes


def test_customer_sends_the_index_with_a_photo_and_sees_it_in_the_history(page, tmp_path):
    today = timezone.localdate(clock.now())
    # A round whose window covers today whatever the date (start ≤ 28, 7 days, runs over month ends).
    ReadingRoundFactory(code="TF1", window_start_day=min(today.day, 28), window_days=7)
    customer, _ = customer_with_account(phone="+212661112233", first_name="Salma", last_name="Benjelloun")
    dossier = dossier_in_round("TF1", customer=customer)
    MeterReadingFactory(dossier=dossier, reading_date=today - datetime.timedelta(days=40), index=Decimal(1250))
    photo = tmp_path / "compteur.png"
    photo.write_bytes(png_bytes(size=(320, 200)))

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("link", name="Relève de mon index").first.click()

    form = page.get_by_test_id("self-reading-form")
    expect(form).to_contain_text(f"Dossier {dossier.number}")
    expect(form).to_contain_text("1\u00a0250")
    page.get_by_label("Index relevé").fill("1263")
    page.get_by_label("Photo de l'index").set_input_files(str(photo))
    page.get_by_role("button", name="Envoyer mon index").click()

    success = page.locator(".flash-success")
    expect(success).to_contain_text("Votre index 1\u00a0263 a bien été enregistré")
    expect(page.locator(".flash-error")).to_have_count(0)
    reading = MeterReading.objects.get(dossier=dossier, source=MeterReading.Source.SELF)
    assert reading.consumption == 13 and reading.photo

    page.get_by_role("link", name="Relève de mon index").first.click()
    expect(page.locator(".flash-error")).to_contain_text("a déjà été relevé")

    page.get_by_role("link", name="Historique des relevés").first.click()
    history = page.get_by_test_id("reading-history")
    expect(history).to_contain_text(today.strftime("%d/%m/%Y"))
    expect(history).to_contain_text("Auto-relève client")
    with page.expect_popup() as popup_info:
        history.get_by_role("link", name="Voir la photo").first.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.evaluate("document.images.length") == 1
    assert popup.evaluate("document.images[0].naturalWidth") == 320
