"""The customer 360's timeline and the list exports in a real browser (issue 14): a « superviseur »
agent opens a customer, reads the balance and the timeline (every kind of event, newest first),
loads more, filters it by kind; then exports a filtered list of customers and finds in the file the
rows the list showed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from rak_billing.models import Payment
from tests.factories import TEST_PASSWORD, CompanyFactory, CustomerFactory, staff_in
from tests.integration.test_customer_timeline import CASABLANCA, customer_history

pytestmark = pytest.mark.functional


def login(page, username: str) -> None:
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_agent_reads_filters_and_pages_the_timeline_then_exports_a_filtered_list(page, live_server, tmp_path):
    staff_in("superviseur", username="superviseur1")
    customer, objects = customer_history()
    for minute in range(50):  # 13 events of every kind + 50 counter payments: two pages
        Payment.objects.create(
            customer=customer,
            amount=Decimal("2.00"),
            method="CASH",
            paid_at=datetime.datetime(2026, 2, 20, 9, minute, tzinfo=CASABLANCA),
        )
    login(page, "superviseur1")

    page.goto(f"/backoffice/rak_customer/customer/{customer.pk}/change/")
    timeline = page.get_by_test_id("customer-timeline")
    expect(timeline).to_be_visible()
    expect(page.get_by_test_id("timeline-summary-balance")).to_contain_text("DH")
    events = timeline.get_by_test_id("timeline-event")
    expect(events).to_have_count(50)
    # newest first: the SMS of 13 March, then the reconnection order of the 12th
    expect(events.nth(0)).to_have_attribute("data-kind", "message")
    expect(events.nth(1)).to_have_attribute("data-kind", "reconnection")
    expect(events.nth(1)).to_contain_text("Ordre de rétablissement")
    expect(timeline).to_contain_text("Chèque impayé")

    # « Voir plus »: the 13 older events appended, no more link
    page.evaluate("window.sameDocument = true")
    page.get_by_test_id("timeline-more").click()
    expect(events).to_have_count(63)
    expect(page.get_by_test_id("timeline-more")).to_have_count(0)
    assert page.evaluate("window.sameDocument === true"), "« Voir plus » should append without a reload"
    expect(events.nth(12)).to_have_attribute("data-kind", "bill")  # 1 March, before February's payments
    expect(events.last).to_contain_text("20/02/2026 09:00")  # the oldest counter payment

    # only complaints and reminders
    for checkbox in page.get_by_test_id("timeline-filters").locator("input[type=checkbox]").all():
        checkbox.uncheck()
    page.get_by_test_id("timeline-kind-complaint").check()
    page.get_by_test_id("timeline-kind-reminder").check()
    page.get_by_test_id("timeline-filter").click()
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_have_attribute("data-kind", "reminder")
    expect(events.nth(1)).to_have_attribute("data-kind", "complaint")
    expect(page.get_by_test_id("timeline-kind-bill")).not_to_be_checked()
    expect(page.get_by_test_id("timeline-kind-complaint")).to_be_checked()

    # a filtered list of customers, exported
    companies = CompanyFactory.create_batch(2)
    CustomerFactory.create_batch(2)
    page.goto("/backoffice/rak_customer/customer/?kind__exact=ENTREPRISE")
    listed = page.locator("#result_list tbody tr")
    expect(listed).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / "clients.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "code client"
    assert sorted(row[0] for row in rows[1:]) == sorted(company.code for company in companies)
    assert {row[2] for row in rows[1:]} == {"Entreprise"}
