"""« Appareils connectés » in a real browser (issue 13): the customer signs the RAK app in through
the API (POST /api/v1/session/), finds that phone in « Mon profil » (at 1280 px, and as a card on a
390 px phone without sideways scrolling), signs it out with « Déconnecter »; the app's token is
then refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.functional


def test_sign_in_a_device_see_it_in_my_profile_and_sign_it_out(page, live_server):
    customer, _user = customer_with_account(first_name="Samira", last_name="Alaoui")
    signed_in = page.request.post(
        f"{live_server.url}/api/v1/session/",
        data={
            "username": customer.code,
            "password": TEST_PASSWORD,
            "device_name": "Galaxy A54 de Samira",
            "platform": "ANDROID",
        },
    )
    assert signed_in.status == 201, signed_in.text()
    token = signed_in.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert page.request.get(f"{live_server.url}/api/v1/devices/", headers=auth).status == 200

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.goto("/espace/profil/")
    section = page.get_by_test_id("devices")
    expect(section.get_by_role("heading", name="Appareils connectés")).to_be_visible()
    row = section.get_by_test_id("device")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Galaxy A54 de Samira")
    expect(row).to_contain_text("Android")

    # on a phone: one card per device, the button reachable, no sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    button = page.get_by_role("button", name="Déconnecter l'appareil Galaxy A54 de Samira")
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    button.click()
    expect(page.locator(".flash-success")).to_contain_text("L'appareil « Galaxy A54 de Samira » a été déconnecté")
    expect(page.get_by_test_id("devices-empty")).to_be_visible()

    refused = page.request.get(f"{live_server.url}/api/v1/devices/", headers=auth)
    assert refused.status == 401
    assert refused.json()["code"] == "token_invalid"
