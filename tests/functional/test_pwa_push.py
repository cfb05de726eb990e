"""Web Push, browser side (issue 13): on « Mes notifications », the buttons [data-push-subscribe]
and [data-push-unsubscribe] wired by pwa.js subscribe this browser with the server's VAPID key,
post the subscription to /notifications/push/abonnement/ (CSRF header) and unsubscribe it. A
headless Chromium has no push service to reach: PushManager is replaced by a stand-in that returns
a subscription as a browser would (an FCM endpoint, real P-256 keys), everything else is real."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect

from rak_base.push import vapid_keys_generate
from tests.factories import TEST_PASSWORD, customer_with_account

ENDPOINT = "https://fcm.googleapis.com/fcm/send/rak-test-subscription-1"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> dict:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64url(point), "auth": b64url(b"0123456789abcdef")}


STAND_IN = """
(() => {
  const keys = %s;
  let current = null;
  const made = () => ({
    endpoint: %s,
    toJSON() { return {endpoint: this.endpoint, expirationTime: null, keys: keys}; },
    unsubscribe() { current = null; return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__rakPushKey = btoa(String.fromCharCode.apply(null, key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    window.__rakPushVisible = options.userVisibleOnly;
    current = made();
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


@pytest.fixture
def vapid(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = vapid_keys_generate()
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


def test_subscribe_then_unsubscribe_this_browser(page, vapid):
    from rak_base.models import PushSubscription

    customer, user = customer_with_account(phone_verified=True)
    keys = browser_keys()
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(STAND_IN % (json.dumps(keys), json.dumps(ENDPOINT)))

    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/espace/")
    page.goto("/profil/notifications/")
    assert page.locator('meta[name="rak-vapid-key"]').get_attribute("content") == vapid
    subscribe = page.locator("[data-push-subscribe]")
    unsubscribe = page.locator("[data-push-unsubscribe]")
    expect(subscribe).to_be_visible()
    expect(unsubscribe).to_be_hidden()

    with page.expect_request("**/notifications/push/abonnement/") as posted:
        subscribe.click()
    request = posted.value
    assert request.method == "POST"
    assert json.loads(request.post_data) == {"endpoint": ENDPOINT, "keys": keys}
    assert request.headers["x-csrftoken"]
    assert request.headers["content-type"] == "application/json"
    expect(page.locator("[data-push-status]")).to_have_text("Les notifications sont activées sur cet appareil.")
    expect(subscribe).to_be_hidden()
    expect(unsubscribe).to_be_visible()
    assert page.evaluate("window.__rakPushKey") == vapid  # the server's key, as applicationServerKey
    assert page.evaluate("window.__rakPushVisible") is True
    saved = PushSubscription.objects.get(endpoint=ENDPOINT)
    assert saved.user_id == user.pk and saved.p256dh == keys["p256dh"] and saved.auth == keys["auth"]

    with page.expect_request("**/notifications/push/desabonnement/") as posted:
        unsubscribe.click()
    assert json.loads(posted.value.post_data) == {"endpoint": ENDPOINT}
    expect(page.locator("[data-push-status]")).to_have_text("Les notifications sont désactivées sur cet appareil.")
    expect(subscribe).to_be_visible()
    expect(unsubscribe).to_be_hidden()
    assert not PushSubscription.objects.filter(endpoint=ENDPOINT).exists()


def test_refused_permission_says_so(page, vapid):
    customer, _user = customer_with_account(phone_verified=True)
    page.context.add_init_script(STAND_IN % (json.dumps(browser_keys()), json.dumps(ENDPOINT)))
    # the customer answers « Bloquer » to the browser's question
    page.context.add_init_script("Notification.requestPermission = () => Promise.resolve('denied');")
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/espace/")
    page.goto("/profil/notifications/")
    page.locator("[data-push-subscribe]").click()
    expect(page.locator("[data-push-status]")).to_contain_text("Votre navigateur bloque les notifications")
    expect(page.locator("[data-push-subscribe]")).to_be_visible()
