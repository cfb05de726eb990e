"""What each seeded staff group can open in the back office, and what it cannot.

Each group is thought through as a job of the utility (rak_customer.groups):

- accueil: the customer 360, contact messages, change requests, requests intake, calls, the
  counter (bills, recording a payment);
- technique: request queues and their technical phases, installation orders, quotes (it issues
  them), meters, readings and their review; never a customer's identity nor a payment;
- facturation: tariffs, billing runs, bills, credit notes, readings import; not the counter;
- recouvrement: payments (counter, other networks' files, CMI reconciliation), unpaid bills;
  not tariffs, not billing runs;
- superviseur: everything operational, the worker's task list, history.

A staff member of the group logs in through the back office's login form, then every URL of the
table is opened: 200 where the job needs it, 403 (or a redirect away) where it does not. The
actions that write are posted where the job needs them (technique issues a quote)."""

from __future__ import annotations

import datetime
import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from rak_base import clock
from rak_billing.models import BillingRun, MeterReading, Payment, ReadingImport, TariffSchedule
from rak_payment_cmi.models import NetworkPaymentImport, PaymentSettings, SettlementImport
from rak_requests.filing import request_file
from rak_requests.models import Quote, RequestType
from tests.billing_factories import bill_create
from tests.factories import TEST_PASSWORD, DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_backoffice import changeform_data
from tests.reading_factories import MeterReadingFactory
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db

GROUPS = ("accueil", "technique", "facturation", "recouvrement", "superviseur")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


@pytest.fixture
def world(now):
    """One of each thing the screens show."""
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    customer, _user = customer_with_account(phone="+212611112222")
    dossier = DossierFactory(customer=customer)
    connection_type = RequestType.objects.get(code=RequestType.Code.CONNECTION)
    connection_type.documents.update(required=False)
    connection = request_file(
        request_type=connection_type,
        customer=customer,
        data={"address": "12 rue Tarik", "city": "Kénitra", "building_type": "Immeuble", "units": 4},
        attachments=[],
        now=now,
    )
    subscription = ServiceRequestFactory(customer=customer)
    reading = MeterReadingFactory(
        dossier=dossier, status=MeterReading.Status.HELD, reading_date=datetime.date(2026, 2, 5)
    )
    bill = bill_create(dossier=dossier)
    reading_import = ReadingImport.objects.create(file_name="releves.csv", sha256="0" * 64)
    network_import = NetworkPaymentImport.objects.create(file_name="tasshilat.csv", sha256="1" * 64, created_at=now)
    settlement = SettlementImport.objects.create(file_name="cmi.csv", sha256="2" * 64, created_at=now)
    PaymentSettings.objects.get_or_create(pk=1)
    return {
        "customer": customer,
        "dossier": dossier,
        "connection": connection,
        "subscription": subscription,
        "reading": reading,
        "bill": bill,
        "reading_import": reading_import,
        "network_import": network_import,
        "settlement": settlement,
        "schedule": TariffSchedule.objects.first(),
    }


def login(client, group: str):
    """Log in through the back office's own login form, as a member of ``group``."""
    user = StaffFactory()
    user.groups.set(Group.objects.filter(name=group))
    form = client.get(reverse("admin:login")).content.decode()
    action = re.search(r'<form action="([^"]*)" method="post" id="login-form"', form).group(1)
    response = client.post(action.replace("&amp;", "&"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/backoffice/", group
    return user


# Each screen: (label, url builder). The label is what the table below refers to.
SCREENS = {
    # customer 360
    "accueil du back office": lambda w: "/backoffice/",
    "clients": lambda w: reverse("admin:rak_customer_customer_changelist"),
    "fiche client": lambda w: reverse("admin:rak_customer_customer_change", args=[w["customer"].pk]),
    "dossiers": lambda w: reverse("admin:rak_customer_dossier_changelist"),
    "fiche dossier": lambda w: reverse("admin:rak_customer_dossier_change", args=[w["dossier"].pk]),
    "locaux": lambda w: reverse("admin:rak_customer_premises_changelist"),
    "compteurs": lambda w: reverse("admin:rak_customer_meter_changelist"),
    "nouveau compteur": lambda w: reverse("admin:rak_customer_meter_add"),
    "historique du client": lambda w: reverse("admin:rak_customer_customer_history", args=[w["customer"].pk]),
    # front desk queues
    "demandes de modification": lambda w: reverse("admin:rak_customer_changerequest_changelist"),
    "messages contactez-nous": lambda w: reverse("admin:rak_customer_contactmessage_changelist"),
    "comptes portail": lambda w: reverse("admin:rak_customer_portalaccount_changelist"),
    "messages envoyés": lambda w: reverse("admin:rak_base_message_changelist"),
    # requests
    "file des demandes": lambda w: reverse("admin:rak_requests_servicerequest_changelist") + "?open=1",
    "demandes en retard": lambda w: reverse("admin:rak_requests_servicerequest_changelist") + "?overdue=1",
    "fiche demande": lambda w: reverse("admin:rak_requests_servicerequest_change", args=[w["subscription"].pk]),
    "types de demande": lambda w: reverse("admin:rak_requests_requesttype_changelist"),
    "demandes d'appel": lambda w: reverse("admin:rak_requests_callrequest_changelist"),
    "ordres de pose": lambda w: reverse("admin:rak_requests_installationorder_changelist"),
    "contrats": lambda w: reverse("admin:rak_requests_contract_changelist"),
    "devis": lambda w: reverse("admin:rak_requests_quote_changelist"),
    "émettre un devis": lambda w: reverse("admin:rak_requests_quote_issue"),
    # readings
    "relevés": lambda w: reverse("admin:rak_billing_meterreading_changelist"),
    "relevés à vérifier": lambda w: reverse("admin:rak_billing_meterreading_changelist") + "?queue=review",
    "fiche relevé": lambda w: reverse("admin:rak_billing_meterreading_change", args=[w["reading"].pk]),
    "tournées": lambda w: reverse("admin:rak_billing_readinground_changelist"),
    "imports de relevés": lambda w: reverse("admin:rak_billing_readingimport_changelist"),
    "importer des relevés": lambda w: reverse("admin:rak_billing_readingimport_import_file"),
    # tariffs and billing
    "barèmes": lambda w: reverse("admin:rak_billing_tariffschedule_changelist"),
    "nouveau barème": lambda w: reverse("admin:rak_billing_tariffschedule_add"),
    "simuler un barème": lambda w: reverse("admin:rak_billing_tariffschedule_simulate", args=[w["schedule"].pk]),
    "taux de TVA": lambda w: reverse("admin:rak_billing_vatrate_changelist"),
    "campagnes de facturation": lambda w: reverse("admin:rak_billing_billingrun_changelist"),
    "nouvelle campagne": lambda w: reverse("admin:rak_billing_billingrun_add"),
    "factures": lambda w: reverse("admin:rak_billing_bill_changelist"),
    "factures impayées": lambda w: reverse("admin:rak_billing_bill_changelist") + "?reglement=due",
    "fiche facture": lambda w: reverse("admin:rak_billing_bill_change", args=[w["bill"].pk]),
    "autre facture": lambda w: reverse("admin:rak_billing_bill_add"),
    "émettre un avoir": lambda w: reverse("admin:rak_billing_bill_credit_note", args=[w["bill"].pk]),
    # payments
    "paiements": lambda w: reverse("admin:rak_billing_payment_changelist"),
    "paiement au guichet": lambda w: reverse("admin:rak_billing_payment_add"),
    "compte client (grand livre)": lambda w: reverse("admin:rak_billing_ledgerentry_changelist"),
    "imports autres réseaux": lambda w: reverse("admin:rak_payment_cmi_networkpaymentimport_changelist"),
    "importer des paiements": lambda w: reverse("admin:rak_payment_cmi_networkpaymentimport_import_file"),
    "rapprochements CMI": lambda w: reverse("admin:rak_payment_cmi_settlementimport_changelist"),
    "importer un relevé CMI": lambda w: reverse("admin:rak_payment_cmi_settlementimport_import_file"),
    "écarts de rapprochement": lambda w: reverse("admin:rak_payment_cmi_settlementline_changelist"),
    "ordres de paiement CMI": lambda w: reverse("admin:rak_payment_cmi_paymentorder_changelist"),
    "frais du paiement en ligne": lambda w: reverse("admin:rak_payment_cmi_paymentsettings_change", args=[1]),
    # supervision and administration
    "tâches du worker": lambda w: reverse("admin:django_tasks_database_dbtaskresult_changelist"),
    "comptes du personnel": lambda w: reverse("admin:rak_base_user_changelist"),
    "nouveau compte du personnel": lambda w: reverse("admin:rak_base_user_add"),
}

CUSTOMER_360 = {"accueil du back office", "clients", "fiche client", "dossiers", "fiche dossier", "locaux", "compteurs"}

# What each group opens (200); every other screen of SCREENS is refused (403, or 302 away).
ALLOWED = {
    "accueil": CUSTOMER_360
    | {
        "historique du client",
        "demandes de modification",
        "messages contactez-nous",
        "comptes portail",
        "messages envoyés",
        "file des demandes",
        "demandes en retard",
        "fiche demande",
        "types de demande",
        "demandes d'appel",
        "contrats",
        "devis",
        "factures",
        "factures impayées",
        "fiche facture",
        "paiements",
        "paiement au guichet",
        "compte client (grand livre)",
    },
    "technique": CUSTOMER_360
    | {
        "historique du client",
        "nouveau compteur",
        "file des demandes",
        "demandes en retard",
        "fiche demande",
        "types de demande",
        "ordres de pose",
        "contrats",
        "devis",
        "émettre un devis",
        "relevés",
        "relevés à vérifier",
        "fiche relevé",
        "tournées",
    },
    "facturation": CUSTOMER_360
    | {
        "historique du client",
        "devis",
        "relevés",
        "relevés à vérifier",
        "fiche relevé",
        "tournées",
        "imports de relevés",
        "importer des relevés",
        "barèmes",
        "nouveau barème",
        "simuler un barème",
        "taux de TVA",
        "campagnes de facturation",
        "nouvelle campagne",
        "factures",
        "factures impayées",
        "fiche facture",
        "autre facture",
        "émettre un avoir",
        "paiements",
        "compte client (grand livre)",
    },
    "recouvrement": CUSTOMER_360
    | {
        "historique du client",
        "messages envoyés",
        "factures",
        "factures impayées",
        "fiche facture",
        "paiements",
        "paiement au guichet",
        "compte client (grand livre)",
        "imports autres réseaux",
        "importer des paiements",
        "rapprochements CMI",
        "importer un relevé CMI",
        "écarts de rapprochement",
        "ordres de paiement CMI",
        "frais du paiement en ligne",
    },
    # everything operational; staff accounts stay with the administrators (read only here)
    "superviseur": set(SCREENS) - {"nouveau compte du personnel"},
}


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    # the admin sends a staff member without any permission on an app back to the login page
    return response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_opens_what_its_job_needs_and_nothing_else(client, world, group):
    login(client, group)
    opened, refused, wrong = [], [], []
    for label, build in SCREENS.items():
        response = client.get(build(world))
        if response.status_code == 200:
            opened.append(label)
        elif _refused(response):
            refused.append(label)
        else:
            wrong.append((label, response.status_code))
    assert not wrong, wrong
    assert sorted(set(opened) - ALLOWED[group]) == [], f"{group} opens screens outside its job"
    assert sorted(ALLOWED[group] - set(opened)) == [], f"{group} cannot open screens of its job"


def test_technique_issues_a_quote_through_the_back_office(client, world):
    login(client, "technique")
    request = world["connection"]

    response = client.post(
        reverse("admin:rak_requests_quote_issue"),
        {"request": request.pk, "lines": "Branchement BT ; 1 ; 4500", "vat_percent": "20"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    quote = Quote.objects.get(request=request)
    assert quote.status == Quote.Status.VALIDE


@pytest.mark.parametrize("group", ["accueil", "facturation", "recouvrement"])
def test_only_technique_and_superviseur_issue_quotes(client, world, group):
    login(client, group)

    response = client.post(
        reverse("admin:rak_requests_quote_issue"),
        {"request": world["connection"].pk, "lines": "Branchement BT ; 1 ; 4500", "vat_percent": "20"},
    )

    assert response.status_code == 403
    assert not Quote.objects.exists()


def test_technique_reviews_a_held_reading_through_the_back_office(client, world):
    login(client, "technique")
    reading = world["reading"]
    url = reverse("admin:rak_billing_meterreading_change", args=[reading.pk])

    response = client.post(
        url, {"review_note": "Fuite réparée, index vérifié sur place.", "rak_billing_meterreading_accept": "1"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.ACCEPTED


@pytest.mark.parametrize("group", ["technique", "facturation"])
def test_groups_away_from_the_counter_cannot_record_a_payment(client, world, group):
    login(client, group)

    response = client.post(
        reverse("admin:rak_billing_payment_add"),
        {
            "customer_code": world["customer"].code,
            "amount": "118.00",
            "method": "CASH",
            "paid_at_0": "02/03/2026",
            "paid_at_1": "10:00",
            "reference": "",
        },
    )

    assert response.status_code == 403
    assert not Payment.objects.filter(customer=world["customer"]).exists()


@pytest.mark.parametrize("group", ["technique", "accueil", "recouvrement"])
def test_groups_away_from_billing_cannot_start_a_billing_run(client, world, group):
    login(client, group)

    response = client.post(
        reverse("admin:rak_billing_billingrun_add"),
        {"period": "2026-02", "round_code": "", "issue_date": "2026-03-02", "due_date": "2026-03-17"},
    )

    assert response.status_code == 403
    assert not BillingRun.objects.exists()


# --- who decides which phase of a request ----------------------------------------------------------


def _in_phase(code: str):
    request = ServiceRequestFactory()
    request.phase = request.request_type.phases.get(code=code)
    request.save(update_fields=["phase"])
    return request


def _press(client, request, button: str, message: str = ""):
    url = reverse("admin:rak_requests_servicerequest_change", args=[request.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = changeform_data(page)  # what the browser posts back, inlines' management forms included
    if data.get("documents") == [""]:
        del data["documents"]  # unchecked boxes are not posted by a browser
    data["action_message"] = [message]
    data[f"rak_requests_servicerequest_{button}"] = [""]
    return page, client.post(url, data)


@pytest.mark.parametrize(
    ("group", "phase", "decides"),
    [
        ("technique", "RECEVABILITE_TECH", True),
        ("technique", "RECEVABILITE_ADMIN", False),
        ("accueil", "RECEVABILITE_ADMIN", True),
        ("accueil", "RECEVABILITE_TECH", False),
        ("superviseur", "RECEVABILITE_TECH", True),
    ],
)
def test_each_team_decides_its_own_phases(client, world, group, phase, decides):
    """Accepting a phase or asking a complement belongs to the team of the phase: technique the
    technical ones (recevabilité technique, étude, devis, travaux, pose), accueil the others."""
    login(client, group)
    request = _in_phase(phase)

    page, response = _press(client, request, "ask_complement", "Plan de situation illisible : merci de le renvoyer.")

    html = page.content.decode()
    assert ('name="rak_requests_servicerequest_accept_phase"' in html) is decides
    assert ('name="rak_requests_servicerequest_ask_complement"' in html) is decides
    assert 'name="rak_requests_servicerequest_add_note"' in html  # notes and assignment stay open to both teams
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status == "COMPLEMENT_DEMANDE") is decides
