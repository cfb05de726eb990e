"""The collections desk in a real browser (issue 14): the reminder job has issued a cut-off order;
a « technique » agent finds it in « Ordres de coupure » (filtered by district), prints the order
sheet, marks it « Exécuté » with the meter index; a « recouvrement » agent then sees the customer's
dunning case with its steps and the executed order."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from rak_collections.models import CutoffOrder, DunningCase
from rak_collections.reminders import reminder_plan_seed, reminders_run
from rak_customer.models import Dossier
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, DossierFactory, PremisesFactory, customer_with_account, staff_in

pytestmark = pytest.mark.functional

CASABLANCA = ZoneInfo("Africa/Casablanca")


def login(page, username: str) -> None:
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_technique_executes_a_cutoff_and_recouvrement_sees_the_case(page, browser, live_server):
    reminder_plan_seed()
    customer, _user = customer_with_account(phone="+212661000601", email="karim@example.ma", first_name="Karim")
    dossier = DossierFactory(customer=customer, premises=PremisesFactory(district="Ouled Oujih"))
    today = datetime.datetime.now(tz=CASABLANCA).date()
    due = today - datetime.timedelta(days=45)
    bill_create(dossier=dossier, issue_date=due - datetime.timedelta(days=15), due_date=due, total_ht="400.00")
    # the job, day after day: SMS, e-mail, formal notice, cut-off order
    for offset in (3, 10, 20, 30):
        day = due + datetime.timedelta(days=offset)
        reminders_run(now=datetime.datetime(day.year, day.month, day.day, 9, tzinfo=CASABLANCA))
    order = CutoffOrder.objects.get(customer=customer)
    staff_in("technique", username="tech1", first_name="Hamid", last_name="Naciri")
    staff_in("recouvrement", username="recouv1")

    login(page, "tech1")
    page.goto("/backoffice/rak_collections/cutofforder/?quartier=Ouled+Oujih&status=ISSUED")
    page.get_by_role("link", name=order.number).click()
    expect(page.locator("body")).to_contain_text("Ouled Oujih")
    sheet = page.request.get(f"/backoffice/rak_collections/cutofforder/{order.pk}/sheet/")  # the agent's session
    assert sheet.ok and sheet.body()[:4] == b"%PDF"
    page.get_by_role("link", name="Exécuté").first.click()
    form = page.get_by_test_id("form-execute")
    form.get_by_label("Index du compteur à la coupure").fill("-4")
    form.get_by_role("button", name="Enregistrer la coupure").click()
    expect(page.get_by_test_id("form-execute")).to_contain_text("supérieure ou égale à 0")
    page.get_by_test_id("form-execute").get_by_label("Index du compteur à la coupure").fill("1234.5")
    page.get_by_test_id("form-execute").get_by_label("Observation").fill("Vanne fermée et plombée")
    page.get_by_test_id("form-execute").get_by_role("button", name="Enregistrer la coupure").click()
    expect(page.get_by_text(f"Coupure enregistrée : {order.number}.")).to_be_visible()
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.EXECUTED and order.fee_bill is not None
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.SUSPENDED

    page.context.clear_cookies()
    login(page, "recouv1")
    page.goto("/backoffice/rak_collections/dunningcase/?status=OPEN")
    case = DunningCase.objects.get(customer=customer)
    row = page.locator("#result_list tbody tr").filter(has_text=customer.code)
    expect(row).to_contain_text("Ordre de coupure")
    page.goto(f"/backoffice/rak_collections/dunningcase/{case.pk}/change/")
    body = page.locator("body")
    for text in ("SMS de rappel", "E-mail de rappel", "Mise en demeure", "Ordre de coupure", order.number):
        expect(body).to_contain_text(text)
