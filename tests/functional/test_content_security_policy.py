"""Under the Content-Security-Policy, the browser blocks nothing the site needs: the portal's
pages (no 'unsafe-inline') and the back office (unfold, its own scoped policy) run without a
single CSP violation, and the back office's menus and forms still work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, StaffFactory, customer_with_account


def violations_of(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    return found


@pytest.mark.parametrize(
    "path", ["/", "/agences/", "/services/simulation/", "/payer-mes-factures/", "/creer-mon-compte/"]
)
def test_public_pages_run_without_csp_violation(page, path):
    violations = violations_of(page)
    response = page.goto(path)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_customer_pages_run_without_csp_violation(page):
    customer, _user = customer_with_account(phone_verified=True)
    violations = violations_of(page)
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for path in ("/espace/", "/espace/profil/", "/espace/releve/", "/espace/consommations/", "/espace/demandes/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_back_office_works_under_its_policy(page):
    StaffFactory(username="samira", is_superuser=True)
    violations = violations_of(page)
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "samira")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for path in ("/backoffice/", "/backoffice/rak_customer/customer/", "/backoffice/rak_customer/agency/add/"):
        response = page.goto(path)
        assert response.status == 200
        assert "'unsafe-eval'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    # Alpine.js is alive: the sidebar search box is rendered by unfold's scripts
    expect(page.locator("body")).to_be_visible()
    assert page.evaluate("typeof window.Alpine") == "object"
    assert violations == []
