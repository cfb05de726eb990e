"""« Demande de résiliation » processed by staff in /backoffice/ with their groups: the front desk
(accueil) accepts « Traitement » (the technical service may not), nobody can « Accepter la phase » of
« Relève finale »; the technical service records the final reading with « Enregistrer la relève
finale » (the front desk does not see it), a refused index shown with its French message, then the
request accepted and the dossier terminated on the reading's date. The front desk files one at the
counter for a customer who walks in, with the same checks."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from rak_base import clock
from rak_billing.models import DossierClosing
from rak_customer.models import Dossier
from rak_requests.models import ServiceRequest
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data, followed_messages
from tests.integration.test_termination_pages import PHONE, file_through_the_flow
from tests.request_factories import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    customer, user = customer_with_account(phone=PHONE, email="nadia@example.ma", first_name="Nadia")
    dossier = DossierFactory(customer=customer, number="EA00000701", deposit_amount=Decimal("300.00"))
    bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1), consumption=10, previous_index=500)
    return customer, user, dossier


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


@pytest.fixture
def fixed_now(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)
    return now


def press(client, url: str, button: str) -> object:
    """Press a button of the back-office request page as loaded (its form posted back)."""
    data = changeform_data(client.get(url))
    if data.get("documents") == [""]:
        del data["documents"]
    data[f"rak_requests_servicerequest_{button}"] = [""]
    return client.post(url, data)


def test_staff_process_the_request_to_its_end_in_the_back_office(
    client,
    account,
    logged,
    sms_outbox,
    fixed_now,
):
    customer, _user, dossier = account
    request = file_through_the_flow(logged, sms_outbox)
    change = reverse("admin:rak_requests_servicerequest_change", args=[request.pk])

    # the technical service may not decide the front desk's « Traitement »
    staff_in("technique", client=client)
    assert "Accepter la phase" not in client.get(change).content.decode()

    staff_in("accueil", client=client)
    accepted = press(client, change, "accept_phase")
    assert any("phase acceptée" in m for m in followed_messages(client, accepted))
    request.refresh_from_db()
    assert request.phase.code == "RELEVE_FINALE"
    assert request.expected_action == ServiceRequest.Action.READ_METER

    # « Accepter la phase » cannot end « Relève finale »: only a final index does
    assert "Accepter la phase" not in client.get(change).content.decode()

    action_url = reverse("admin:rak_requests_servicerequest_staff_action", args=[request.pk, "final_reading"])
    assert "Enregistrer la relève finale" not in client.get(change).content.decode()  # the front desk: not theirs

    staff_in("technique", client=client)
    page = client.get(change).content.decode()
    assert "Enregistrer la relève finale" in page and "EA00000701" in page
    seen = {"seen_phase": "RELEVE_FINALE", "seen_status": "EN_COURS"}
    fields = {"sa_final_reading-dossier": "EA00000701", "sa_final_reading-reading_date": "2026-03-02"}
    below = client.post(action_url, {**seen, **fields, "sa_final_reading-index": "100"})
    assert any("inférieur au dernier index facturé" in m for m in followed_messages(client, below))
    request.refresh_from_db()
    assert request.phase.code == "RELEVE_FINALE"

    done = client.post(action_url, {**seen, **fields, "sa_final_reading-index": "530"})
    assert any("Relève finale du dossier EA00000701 enregistrée." in m for m in followed_messages(client, done))
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.TERMINATED and dossier.end_date == datetime.date(2026, 3, 2)
    closing = DossierClosing.objects.get(dossier=dossier)
    assert closing.final_reading.index == Decimal("530") and closing.final_reading.source == "AGENT"


def test_the_front_desk_files_a_termination_at_the_counter_with_the_same_checks(client, account):
    customer, _user, dossier = account
    staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "resiliation"])
    data = {"dossiers": [dossier.number], "reason": "", "doc_cin": pdf_upload(), "identity_checked": "on"}

    nothing = client.post(url, {**data, "dossiers": []})
    assert nothing.status_code == 400
    assert "Sélectionnez au moins un dossier à résilier." in nothing.content.decode()
    assert not ServiceRequest.objects.exists()

    done = client.post(url, {**data, "doc_cin": pdf_upload()})
    assert done.status_code == 302
    filed = ServiceRequest.objects.get()
    assert filed.channel == ServiceRequest.Channel.AGENCY and filed.request_type.code == "TERMINATION"
    assert [d.number for d in filed.dossiers.all()] == [dossier.number]

    again = client.post(url, {**data, "doc_cin": pdf_upload()})
    assert again.status_code == 400
    assert f"(n° {filed.number})" in again.content.decode()
