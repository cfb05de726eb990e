"""Refund × provisions × termination, end to end through the services: a « carte congé »
customer terminates the dossier billed by advance (file → accept → final index → closing); the last
bills are deducted from the provision, what is left of it and of the deposit become refundable
credit, each with its origin (« Provision » / « Résiliation »), and the customer's refund of the
provision is recorded from exactly that credit."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from rak_base import clock
from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, DossierClosing, LedgerEntry, Refund, RefundAllocation
from rak_billing.refunds import refund_record, refundable_items
from rak_customer.models import Dossier
from rak_requests.models import ServiceRequest
from rak_requests.services import request_accept_phase
from rak_requests.termination import termination_final_reading_record
from tests.billing_factories import bill_create
from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_provisions import advance_dossier, pay_advance
from tests.integration.test_termination import file_termination

pytestmark = pytest.mark.django_db

D = Decimal
PROVISION = "Provision (carte congé) restituée"
DEPOSIT = "Résiliation : dépôt de garantie au-delà des dernières factures"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


def test_a_carte_conge_customer_terminates_and_is_refunded_the_rest_of_the_provision(now):
    customer, _user = customer_with_account(phone="+212611000071", email="conge@example.ma")
    dossier = advance_dossier(customer)
    Dossier.objects.filter(pk=dossier.pk).update(deposit_amount=D("60.00"))
    advance = pay_advance(customer, dossier, "500", now=now - datetime.timedelta(days=40))
    january = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), consumption=120, previous_index=4000)
    assert january.settled_at is None  # issued outside a run: the closing deducts it

    request = file_termination(customer, [dossier.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    done = termination_final_reading_record(
        request_id=request.pk,
        staff=StaffFactory(),
        dossier_number=dossier.number,
        index="4180",
        reading_date=datetime.date(2026, 3, 1),
        now=now,
    )

    assert done.status == ServiceRequest.Status.ACCEPTEE
    closing = DossierClosing.objects.get(dossier=dossier)
    final = closing.final_bill
    january.refresh_from_db()
    final.refresh_from_db()
    assert january.settled_at is not None and final.settled_at is not None  # both from the provision
    provision_left = D("500.00") - january.total_ttc - final.total_ttc
    assert provision_left > 0
    release = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=advance, lines__label__contains="Restitution")
    assert release.total_ttc == provision_left
    assert closing.deposit_amount == D("60.00")
    assert customer_balance(customer) == -(provision_left + D("60.00"))

    items = refundable_items(customer)
    assert sorted((i.origin_label, i.amount) for i in items) == sorted(
        [(PROVISION, provision_left), (DEPOSIT, D("60.00"))]
    )
    provision_item = next(i for i in items if i.origin_label == PROVISION)
    assert provision_item.key == f"C{release.pk}"

    agent = StaffFactory()
    refund = refund_record(
        customer=customer,
        method=Refund.Method.ESPECES,
        paid_at=now,
        now=now,
        recorded_by=agent,
        amount=provision_left,
        sources=(provision_item.key,),
        external_id=f"REQ:{request.number}-provision",
    )

    assert refund.amount == provision_left
    assert list(RefundAllocation.objects.filter(refund=refund).values_list("credit_note_id", "amount")) == [
        (release.pk, provision_left)
    ]
    assert LedgerEntry.objects.filter(customer=customer, kind=LedgerEntry.Kind.REFUND).count() == 1
    assert customer_balance(customer) == D("-60.00")
    assert [(i.origin_label, i.amount) for i in refundable_items(customer)] == [(DEPOSIT, D("60.00"))]
    # recorded again (a retry, a second click): nothing more is paid
    again = refund_record(
        customer=customer,
        method=Refund.Method.ESPECES,
        paid_at=now,
        now=now,
        recorded_by=agent,
        amount=provision_left,
        external_id=f"REQ:{request.number}-provision",
    )
    assert again == refund and customer_balance(customer) == D("-60.00")
