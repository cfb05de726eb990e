"""« Facture électronique » (issue 13): the customer opts in / out from the portal's page or the API
(history kept: who, when, why), staff see and change the flag in the back office (with a reason),
and the print run's « Factures à imprimer » leaves out the customers who chose it.

The back-office screens are mixins (rak_customer.admin_efacture, rak_billing.admin.print_run) that
the lead wires into CustomerAdmin / BillingRunAdmin; until then this module serves a copy of the
admin site with them mixed in (``urlpatterns`` below, ``pytest.mark.urls``)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib import admin
from django.urls import path

from rak_base import clock
from rak_billing.admin.print_run import PrintRunAdminMixin
from rak_billing.models import BillingRun
from rak_billing.print_run import bills_to_print, print_run_counts, print_run_csv
from rak_customer.admin_efacture import EInvoiceAdminMixin
from rak_customer.efacture import (
    EInvoiceReasonRequired,
    efacture_history,
    efacture_opt_in,
    efacture_opt_out,
    efacture_state,
)
from rak_customer.models import Customer
from tests.api_helpers import api_client, assert_error
from tests.billing_factories import BillFactory
from tests.factories import DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


# --- the back office as the lead will wire it ------------------------------------------------------


def wired_site() -> admin.AdminSite:
    site = type(admin.site)(name="admin")  # unfold's site class (its own URLs: search…)
    site._registry = dict(admin.site._registry)  # noqa: SLF001
    for model, mixin in ((Customer, EInvoiceAdminMixin), (BillingRun, PrintRunAdminMixin)):
        current = site._registry[model]  # noqa: SLF001
        if not isinstance(current, mixin):
            mixed = type(f"EInvoice{type(current).__name__}", (mixin, type(current)), {})
            site._registry[model] = mixed(model, site)  # noqa: SLF001
    return site


def _urlpatterns():
    from config import urls as root

    rest = [p for p in root.urlpatterns if str(p.pattern) != "backoffice/"]
    return [path("backoffice/", wired_site().urls), *rest]


urlpatterns = _urlpatterns()
WIRED = pytest.mark.urls(__name__)


# --- the service ----------------------------------------------------------------------------------


def test_opt_in_and_out_keep_a_history_by_customer_and_by_staff():
    customer, user = customer_with_account()
    now = clock.now()
    assert efacture_state(customer).enabled is False
    efacture_opt_in(customer_id=customer.pk, by=user, now=now)
    customer.refresh_from_db()
    assert customer.e_invoice_since == now
    efacture_opt_in(customer_id=customer.pk, by=user, now=now + datetime.timedelta(days=1))  # again: nothing
    customer.refresh_from_db()
    assert customer.e_invoice_since == now
    agent = StaffFactory()
    with pytest.raises(EInvoiceReasonRequired):
        efacture_opt_out(customer_id=customer.pk, by=agent, now=now, reason="  ")
    efacture_opt_out(customer_id=customer.pk, by=agent, now=now, reason="Appel du client")
    customer.refresh_from_db()
    assert customer.e_invoice_since is None
    history = efacture_history(customer)
    assert [(c.enabled, c.by_staff) for c in history] == [(False, True), (True, False)]
    assert history[0].reason == "Appel du client" and history[0].by_name == agent.username
    assert "choisie par le client" in history[1].reason


# --- the portal -----------------------------------------------------------------------------------


def test_portal_page_explains_and_opts_in_then_out(client):
    customer, user = customer_with_account()
    client.force_login(user)
    page = client.get("/espace/facture-electronique/")
    html = page.content.decode()
    assert page.status_code == 200 and "Vous recevez vos factures sur papier" in html
    assert "Mes factures" in html and "SMS" in html
    response = client.post("/espace/facture-electronique/", {"choice": "electronique"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.e_invoice_since is not None
    html = client.get("/espace/facture-electronique/").content.decode()
    assert "plus de facture papier" in html and "Facture électronique activée" in html
    assert client.post("/espace/facture-electronique/", {"choice": "rien"}).status_code == 400
    client.post("/espace/facture-electronique/", {"choice": "papier"})
    customer.refresh_from_db()
    assert customer.e_invoice_since is None


def test_portal_page_needs_login(client):
    response = client.get("/espace/facture-electronique/")
    assert response.status_code == 302 and "facture-electronique" in response["Location"]  # to the login, then back


# --- the API --------------------------------------------------------------------------------------


def test_api_get_and_put():
    customer, user = customer_with_account()
    client = api_client(user)
    body = client.get("/api/v1/e-invoice/").json()
    assert body["enabled"] is False and body["since"] is None and "Mes factures" in body["explanation"]
    body = client.put("/api/v1/e-invoice/", {"enabled": True}, format="json").json()
    assert body["enabled"] is True and body["since"] and body["history"][0]["enabled"] is True
    customer.refresh_from_db()
    assert customer.e_invoice_since is not None
    assert_error(client.put("/api/v1/e-invoice/", {"enabled": "peut-être"}, format="json"), 400, "invalid")
    assert_error(client.put("/api/v1/e-invoice/", {"enabled": 0}, format="json"), 400, "invalid")  # a boolean only
    assert_error(api_client().get("/api/v1/e-invoice/"), 401)
    assert client.put("/api/v1/e-invoice/", {"enabled": False}, format="json").json()["enabled"] is False


# --- the print run ----------------------------------------------------------------------------------


@pytest.fixture
def run_with_bills():
    run = BillingRun.objects.create(
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 2, 1),
        issue_date=datetime.date(2026, 2, 1),
        due_date=datetime.date(2026, 2, 16),
    )
    paper = DossierFactory(premises__address="12 rue des Orangers", premises__district="Maamora")
    electronic = DossierFactory(premises__address="3 avenue Hassan II")
    efacture_opt_in(customer_id=electronic.customer_id, by=None, now=clock.now())
    paper_bill = BillFactory(dossier=paper, run=run)
    electronic_bill = BillFactory(dossier=electronic, run=run)
    BillFactory(dossier=paper, period_start=datetime.date(2026, 2, 1))  # another month, no run
    return run, paper_bill, electronic_bill


def test_print_list_excludes_e_invoice_customers_with_the_postal_address(run_with_bills, django_assert_num_queries):
    run, paper_bill, electronic_bill = run_with_bills
    with django_assert_num_queries(1):
        bills = list(bills_to_print(run_id=run.pk))
        csv_text = print_run_csv(bills)
    assert bills == [paper_bill]
    assert paper_bill.number in csv_text and electronic_bill.number not in csv_text
    assert "12 rue des Orangers" in csv_text and "Maamora" in csv_text
    counts = print_run_counts(run_id=run.pk)
    assert (counts.to_print, counts.electronic) == (1, 1)
    by_period = list(bills_to_print(period_start=datetime.date(2026, 2, 1), period_end=datetime.date(2026, 2, 2)))
    assert by_period == [paper_bill]


@WIRED
def test_back_office_print_page_and_csv(client, run_with_bills):
    run, paper_bill, electronic_bill = run_with_bills
    client.force_login(StaffFactory(is_superuser=True))
    url = "/backoffice/rak_billing/billingrun/print-run/"
    assert client.get(url).status_code == 200
    page = re.sub(r"<[^>]+>", "", client.get(url, {"run": run.pk}).content.decode())
    assert paper_bill.number in page and electronic_bill.number not in page
    assert "1 facture à imprimer" in page and "1 en facture électronique" in page
    csv_response = client.get(url, {"run": run.pk, "format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    assert paper_bill.number in csv_response.content.decode("utf-8-sig")
    refused = client.get(url, {"period_start": "2026-02-01"}).content.decode()
    assert "Choisissez une tournée de facturation ou une période" in refused
    action = client.post(
        "/backoffice/rak_billing/billingrun/",
        {"action": "print_list_action", "_selected_action": [run.pk]},
    )
    assert action.status_code == 200 and paper_bill.number in action.content.decode("utf-8-sig")


@WIRED
def test_back_office_shows_filters_and_changes_the_flag_with_a_reason(client):
    paper = DossierFactory().customer
    chosen = DossierFactory().customer
    efacture_opt_in(customer_id=chosen.pk, by=None, now=clock.now())
    agent = StaffFactory(is_superuser=True)
    client.force_login(agent)
    listing = client.get("/backoffice/rak_customer/customer/", {"facture_electronique": "oui"}).content.decode()
    assert chosen.code in listing and paper.code not in listing and "Électronique depuis le" in listing
    change = client.get(f"/backoffice/rak_customer/customer/{chosen.pk}/change/").content.decode()
    assert "Historique facture électronique" in change and "par le client" in change
    changelist = "/backoffice/rak_customer/customer/"
    asked = client.post(changelist, {"action": "efacture_opt_in_action", "_selected_action": [paper.pk]})
    assert asked.status_code == 200 and "Motif" in asked.content.decode()
    client.post(
        changelist, {"action": "efacture_opt_in_action", "_selected_action": [paper.pk], "apply": "1", "reason": ""}
    )
    paper.refresh_from_db()
    assert paper.e_invoice_since is None  # no reason: nothing changed
    client.post(
        changelist,
        {"action": "efacture_opt_in_action", "_selected_action": [paper.pk], "apply": "1", "reason": "Appel du 5/12"},
    )
    paper.refresh_from_db()
    assert paper.e_invoice_since is not None
    assert efacture_history(paper)[0].reason == "Appel du 5/12"
