"""An outage notice in real browsers (issue 11): a « technique » staff member writes a planned water
cut for one district in the back office, sees the customers concerned before publishing, and
publishes it; a customer of that district sees it on the dashboard and got one SMS; a customer of
another district sees nothing and got nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_base.models import Message
from rak_customer.models import Service
from rak_requests.complaint_models import OutageNotice
from tests.factories import (
    TEST_PASSWORD,
    DossierFactory,
    MeterFactory,
    PremisesFactory,
    StaffFactory,
    customer_with_account,
)


@pytest.fixture
def world(live_server, settings, transactional_db):
    settings.SITE_URL = live_server.url
    tech = StaffFactory(username="technicien", first_name="Hicham")
    tech.groups.set(Group.objects.filter(name="technique"))
    saknia, _ = customer_with_account(phone="+212661440001")
    other, _ = customer_with_account(phone="+212661440002")
    for customer, district in ((saknia, "Saknia"), (saknia, "Saknia"), (other, "Maamora")):
        DossierFactory(
            customer=customer, service=Service.EAU, meter=MeterFactory(), premises=PremisesFactory(district=district)
        )
    return {"saknia": saknia, "other": other}


def _login_customer(browser, live_server, customer):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", timezone_id="Africa/Casablanca")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Code client, e-mail ou téléphone").fill(customer.code)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Connexion").click()
    return context, page


def test_a_notice_published_for_one_district_reaches_only_its_customers(page, browser, live_server, world):
    start = timezone.localtime(clock.now() + timedelta(days=3)).replace(hour=9, minute=0)
    end = start + timedelta(hours=5)

    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "technicien")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto("/backoffice/rak_requests/outagenotice/add/")
    page.select_option("[name=kind]", "PLANNED")
    page.select_option("[name=service]", "EAU")
    page.get_by_label("Saknia").check()
    page.fill("[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("[name=expected_end_at]", end.strftime("%Y-%m-%dT%H:%M"))
    page.fill("[name=reason]", "Raccordement d'une nouvelle conduite")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le brouillon").click()
    notice = OutageNotice.objects.get()
    expect(page.get_by_text(re.compile(f"Brouillon {notice.number} enregistré"))).to_be_visible()
    expect(page.get_by_test_id("preview-customers")).to_have_text("1")  # two dossiers, one customer
    expect(page.get_by_test_id("preview-sms")).to_have_text("1")
    expect(page.get_by_test_id("preview-sms-text")).to_contain_text("Saknia")
    with page.expect_navigation():
        page.get_by_role("button", name="Publier", exact=True).click()
    expect(
        page.get_by_text(re.compile(f"Avis {notice.number} publié : 1 client concerné, 1 SMS envoyé"))
    ).to_be_visible()
    expect(page.get_by_test_id("notice-state")).to_have_text("À venir")

    context, customer_page = _login_customer(browser, live_server, world["saknia"])
    banner = customer_page.get_by_test_id("outage-banner")
    expect(banner).to_contain_text("Coupure d'eau programmée")
    expect(banner).to_contain_text("Saknia")
    expect(banner.get_by_test_id(f"outage-{notice.number}")).to_be_visible()
    sms = Message.objects.filter(channel=Message.Channel.SMS, recipient="+212661440001", kind__startswith="outage:")
    assert sms.count() == 1 and notice.number in sms.get().body
    context.close()

    context, other_page = _login_customer(browser, live_server, world["other"])
    expect(other_page.get_by_test_id("customer-name")).to_be_visible()
    expect(other_page.get_by_test_id("outage-banner")).to_have_count(0)
    assert not Message.objects.filter(recipient="+212661440002", kind__startswith="outage:").exists()
    # the public page lists it for everybody
    other_page.goto("/coupures-et-travaux/")
    expect(other_page.get_by_test_id(f"outage-{notice.number}")).to_be_visible()
    context.close()
