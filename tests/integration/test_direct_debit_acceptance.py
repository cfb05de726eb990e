"""« Demande de domiciliation bancaire » decided by the front desk: acceptance creates one mandate
per dossier of the address (RIB, date, reference), switches the dossiers to « Prélèvement
bancaire » and tells the customer; a rejection changes nothing; through the back office with the
accueil group; the dossier page shows « Prélèvement bancaire »."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_billing.direct_debit_models import Mandate
from rak_customer.models import Dossier, Service
from rak_requests.models import ServiceRequest
from rak_requests.services import request_accept_phase, request_reject
from tests.factories import DossierFactory, PremisesFactory, StaffFactory, customer_with_account, staff_in
from tests.integration.test_direct_debit_request import rib, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seeded_type():
    """The seed rows of the type (idempotent): a transactional test that ran before flushed them."""
    import importlib

    from django.apps import apps

    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    importlib.import_module("rak_requests.migrations.0009_direct_debit").seed(apps, None)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def account():
    customer, user = customer_with_account(phone="+212612000055", email="salma@example.ma", first_name="Salma")
    home = PremisesFactory(reference="LK00000501", address="12 rue Ibn Sina")
    water = DossierFactory(customer=customer, premises=home, number="EA00000501")
    power = DossierFactory(customer=customer, premises=home, number="EL00000502", service=Service.ELECTRICITE)
    return customer, user, home, (water, power)


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def test_acceptance_creates_the_mandates_and_switches_the_dossiers(logged, account, now):
    customer, user, _home, (water, power) = account
    submit(logged)
    filed = ServiceRequest.objects.get()
    agent = StaffFactory()

    request_accept_phase(request_id=filed.pk, staff=agent, now=now)

    filed.refresh_from_db()
    assert filed.status == ServiceRequest.Status.ACCEPTEE
    mandates = Mandate.objects.filter(request_reference=filed.number).order_by("dossier__number")
    assert [m.dossier.number for m in mandates] == ["EA00000501", "EL00000502"]
    assert all(m.rib == rib() and m.bank_name == "Attijariwafa bank" for m in mandates)
    assert all(m.created_by == agent and m.status == Mandate.Status.ACTIVE for m in mandates)
    for dossier in (water, power):
        dossier.refresh_from_db()
        assert dossier.billing_mode == Dossier.BillingMode.DIRECT_DEBIT
    told = Message.objects.filter(user=user, subject__startswith="Domiciliation bancaire acceptée")
    assert told.exists()
    assert any(m.reference in told.first().body for m in mandates)
    page = text(logged.get(reverse("portal:my_dossiers")))
    assert "Prélèvement bancaire" in page
    detail = text(logged.get(reverse("portal:my_dossier", args=["EA00000501"])))
    assert f"Attijariwafa bank, mandat {mandates[0].reference}" in detail


def test_rejection_changes_nothing_on_the_dossiers(logged, account, now):
    _customer, _user, _home, (water, _power) = account
    submit(logged)
    filed = ServiceRequest.objects.get()
    request_reject(request_id=filed.pk, staff=StaffFactory(), reason="Formulaire non signé par la banque", now=now)
    water.refresh_from_db()
    assert water.billing_mode == Dossier.BillingMode.NORMAL
    assert not Mandate.objects.exists()


def test_the_front_desk_accepts_in_the_back_office(client, logged, account):
    from tests.integration.test_backoffice import changeform_data

    _customer, _user, _home, (water, _power) = account
    submit(logged)
    filed = ServiceRequest.objects.get()
    staff_client = client.__class__()
    staff_in("accueil", client=staff_client)
    url = reverse("admin:rak_requests_servicerequest_change", args=[filed.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    body = text(page)
    assert "Attijariwafa bank" in body
    data = changeform_data(page)
    data.pop("documents", None)
    data["rak_requests_servicerequest_accept_phase"] = [""]
    staff_client.post(url, data)
    filed.refresh_from_db()
    assert filed.status == ServiceRequest.Status.ACCEPTEE
    water.refresh_from_db()
    assert water.billing_mode == Dossier.BillingMode.DIRECT_DEBIT
    assert Mandate.objects.filter(dossier=water, status=Mandate.Status.ACTIVE).exists()


def test_the_front_desk_files_it_at_the_counter_with_the_same_rib_checks(client, account):
    from tests.request_factories import pdf_upload

    customer = account[0]
    agent = staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "domiciliation-bancaire"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Sélectionnez l'adresse concernée par la demande" in text(page)

    def post(value):
        return client.post(
            url,
            {
                "premises": "LK00000501",
                "rib": value,
                "doc_formulaire_signe": pdf_upload("formulaire.pdf"),
                "doc_rib": pdf_upload("rib.pdf"),
                "doc_cin": pdf_upload("cin.pdf"),
                "identity_checked": "on",
            },
        )

    refused = post(rib()[:22] + ("00" if rib()[22:] != "00" else "01"))
    assert "la clé RIB ne correspond pas" in text(refused)
    assert not ServiceRequest.objects.exists()
    post(rib())
    filed = ServiceRequest.objects.get()
    assert filed.channel == ServiceRequest.Channel.AGENCY
    assert filed.data["bank_name"] == "Attijariwafa bank"
    assert filed.events.filter(actor=agent).exists()
