"""Resolving actions on a complaint (rak_requests.complaints.actions): « Émettre un avoir »,
« Envoyer le relevé en vérification », « Ordre d'intervention » — each recorded in the thread,
each refusal with its French message, each guarded by its permission."""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest

from rak_base.models import Message
from rak_billing.models import Bill, MeterReading
from rak_billing.readings import reading_review
from rak_billing.readings.errors import ReadingNotReviewable
from rak_requests.complaint_models import ComplaintCategory, ComplaintEntry, FieldIntervention
from rak_requests.complaints import actions, services
from rak_requests.complaints.actions import ComplaintActionForbidden, ComplaintActionRefused, complaint_action
from rak_requests.complaints.errors import ComplaintClosed, ComplaintError
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, PhoneFactory, staff_in
from tests.reading_factories import MeterReadingFactory

pytestmark = pytest.mark.django_db


def _complaint(now, *, customer, category="facturation", **filing):
    values = {
        "category": ComplaintCategory.objects.get(code=category),
        "name": "Amina Alaoui",
        "message": "Ma facture de janvier est trop élevée.",
        "phone": "",
    }
    values.update(filing)
    return services.complaint_file(filing=services.ComplaintFiling(**values), customer=customer, now=now)


@pytest.fixture
def dossier():
    return DossierFactory()


@pytest.fixture
def billed(dossier, now):
    bill = bill_create(dossier=dossier, consumption=120)
    complaint = _complaint(now, customer=dossier.customer, bill_id=bill.pk)
    return complaint, bill


def _entries(complaint, **filters):
    return list(complaint.entries.filter(kind=ComplaintEntry.Kind.ACTION, **filters).order_by("at", "id"))


# --- the interface H3 renders -----------------------------------------------------------------------


def test_the_actions_and_where_they_apply(billed, dossier, now):
    complaint, _bill = billed
    codes = [a.code for a in actions.complaint_actions()]
    assert codes == ["credit_note", "reading_review", "intervention"]
    for action in actions.complaint_actions():
        assert action.label and action.permission and action.form_class(prefix=action.code)
        assert action.available(complaint)
    accueil = _complaint(now, category="accueil", customer=DossierFactory().customer)
    available = {a.code for a in actions.complaint_actions() if a.available(accueil)}
    assert available == {"intervention"}  # no bill, no dossier


# --- « Émettre un avoir » -----------------------------------------------------------------------------


def test_credit_note_is_issued_and_its_number_written_in_the_thread(billed, now):
    complaint, bill = billed
    agent = staff_in("facturation")
    action = complaint_action("credit_note")
    form = action.form_class(
        {"credit_note-amount": "50", "credit_note-reason": "Fuite après compteur"}, prefix="credit_note"
    )
    assert form.is_valid(), form.errors
    message = action.run(complaint=complaint, staff_user=agent, data=form.cleaned_data, now=now)
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE, credited_bill=bill)
    assert note.total_ttc == Decimal("50.00")
    assert note.number in message and bill.number in message
    (entry,) = _entries(complaint)
    assert not entry.internal and entry.actor == agent
    assert note.number in entry.body and "50,00" in entry.body and "Fuite après compteur" in entry.body
    assert entry.data["credit_note_number"] == note.number and entry.data["bill_id"] == bill.pk
    assert complaint.number in note.lines.get().label  # the credit note says which complaint
    complaint.refresh_from_db()
    assert complaint.status == "IN_PROGRESS"


def test_credit_note_refusals_in_french(billed, dossier, now):
    complaint, bill = billed
    agent = staff_in("facturation")
    action = complaint_action("credit_note")
    with pytest.raises(ComplaintError, match="ne peut pas dépasser"):
        action.run(complaint=complaint, staff_user=agent, data={"amount": Decimal("9999"), "reason": "x"}, now=now)
    with pytest.raises(ComplaintActionRefused, match="motif de l'avoir"):
        action.run(complaint=complaint, staff_user=agent, data={"amount": Decimal("10"), "reason": " "}, now=now)
    assert not Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).exists() and not _entries(complaint)

    no_bill = _complaint(now, customer=dossier.customer)
    with pytest.raises(ComplaintActionRefused, match="ne porte sur aucune facture"):
        action.run(complaint=no_bill, staff_user=agent, data={"amount": Decimal("10"), "reason": "x"}, now=now)

    action.run(complaint=complaint, staff_user=agent, data={"amount": bill.total_ttc, "reason": "Erreur"}, now=now)
    with pytest.raises(ComplaintError, match="déjà été entièrement créditée"):
        action.run(complaint=complaint, staff_user=agent, data={"amount": Decimal("1"), "reason": "x"}, now=now)

    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE)
    on_note = _complaint(now, customer=dossier.customer, bill_id=note.pk)
    with pytest.raises(ComplaintActionRefused, match="un avoir ne porte pas sur un avoir"):
        action.run(complaint=on_note, staff_user=agent, data={"amount": Decimal("1"), "reason": "x"}, now=now)


def test_credit_note_needs_its_permission_and_an_open_complaint(billed, now):
    complaint, _bill = billed
    action = complaint_action("credit_note")
    accueil = staff_in("accueil")
    with pytest.raises(ComplaintActionForbidden, match="autorisation"):
        action.run(complaint=complaint, staff_user=accueil, data={"amount": Decimal("1"), "reason": "x"}, now=now)
    agent = staff_in("facturation")
    services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="Traitée.", now=now)
    complaint.refresh_from_db()
    assert not action.available(complaint)
    with pytest.raises(ComplaintClosed):
        action.run(complaint=complaint, staff_user=agent, data={"amount": Decimal("1"), "reason": "x"}, now=now)
    assert not Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).exists()


# --- « Envoyer le relevé en vérification » ------------------------------------------------------------


def test_unbilled_reading_sent_to_review_is_held_from_billing_and_the_decision_comes_back(dossier, now):
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 20), index=Decimal("1500"))
    complaint = _complaint(now, category="releve-compteur", customer=dossier.customer, dossier_id=dossier.pk)
    agent = staff_in("facturation")
    message = complaint_action("reading_review").run(
        complaint=complaint, staff_user=agent, data={"reason": "Index 1500 contesté, le client lit 1150."}, now=now
    )
    assert "ne sera pas facturé avant la décision" in message
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.CONTESTED  # the billing run skips the dossier's period
    assert reading.review_requested_by == agent and complaint.number in reading.review_request_note
    (entry,) = _entries(complaint)
    assert not entry.internal and "20/02/2026" in entry.body and entry.data["reading_id"] == reading.pk

    # asked twice: refused, in French
    with pytest.raises(ComplaintError, match="déjà demandée"):
        complaint_action("reading_review").run(
            complaint=complaint, staff_user=agent, data={"reason": "encore"}, now=now
        )

    # the reviewer (technique) rejects it: the complaint's thread learns it (hook), visible to the customer
    reviewer = staff_in("technique")
    reading_review(reading_id=reading.pk, staff_user=reviewer, accept=False, reason="Index mal lu", now=now)
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.REJECTED and reading.review_requested_at is None
    decision = _entries(complaint, data__action="reading_reviewed")
    assert len(decision) == 1 and not decision[0].internal
    assert "n'est pas retenu (Index mal lu)" in decision[0].body
    with pytest.raises(ReadingNotReviewable):  # decided once
        reading_review(reading_id=reading.pk, staff_user=reviewer, accept=True, now=now)


def test_billed_reading_keeps_its_bill_and_status_until_the_decision(dossier, now):
    PhoneFactory(customer=dossier.customer, value="+212611223344")
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 1, 28), index=Decimal("1120"))
    bill = bill_create(dossier=dossier, consumption=120)
    Bill.objects.filter(pk=bill.pk).update(reading=reading)
    complaint = _complaint(now, customer=dossier.customer, bill_id=bill.pk, reading_id=reading.pk)
    agent = staff_in("accueil")
    message = complaint_action("reading_review").run(
        complaint=complaint, staff_user=agent, data={"reason": "Consommation triple de l'habitude"}, now=now
    )
    assert "déjà été facturé" in message and "avoir" in message
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.ACCEPTED and reading.review_requested_at == now
    total = bill.total_ttc
    bill.refresh_from_db()
    assert bill.total_ttc == total and bill.reading_id == reading.pk  # the bill is untouched
    from rak_billing.readings.selectors import review_queue_filter

    assert MeterReading.objects.filter(review_queue_filter(), pk=reading.pk).exists()  # in the review queue

    reviewer = staff_in("technique")
    reading_review(reading_id=reading.pk, staff_user=reviewer, accept=False, reason="Compteur bloqué", now=now)
    (decision,) = _entries(complaint, data__action="reading_reviewed")
    assert f"La facture n° {bill.number} établie sur ce relevé sera régularisée" in decision.body
    assert not Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE).exists()  # never silently: an avoir is the agent's
    sms = Message.objects.filter(channel="SMS", kind="reading_review").get()
    assert "sera régularisée" in sms.body


def test_reading_review_refusals_in_french(dossier, now):
    agent = staff_in("facturation")
    action = complaint_action("reading_review")
    no_reading = _complaint(now, customer=dossier.customer, dossier_id=dossier.pk)
    with pytest.raises(ComplaintActionRefused, match="Aucun relevé"):
        action.run(complaint=no_reading, staff_user=agent, data={"reason": "x"}, now=now)
    estimate = MeterReadingFactory(
        dossier=dossier, reading_date=datetime.date(2026, 1, 31), source=MeterReading.Source.ESTIMATED
    )
    on_estimate = _complaint(now, customer=dossier.customer, reading_id=estimate.pk)
    with pytest.raises(ComplaintError, match="estimation"):
        action.run(complaint=on_estimate, staff_user=agent, data={"reason": "x"}, now=now)
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 5))
    with pytest.raises(ComplaintError, match="Indiquez ce que le vérificateur doit contrôler"):
        action.run(complaint=no_reading, staff_user=agent, data={"reason": ""}, now=now)
    MeterReading.objects.filter(pk=reading.pk).update(status=MeterReading.Status.REJECTED)
    with pytest.raises(ComplaintActionRefused, match="Aucun relevé"):  # the latest read index is rejected
        action.run(complaint=no_reading, staff_user=agent, data={"reason": "x"}, now=now)
    assert not _entries(no_reading) and not _entries(on_estimate)


# --- « Ordre d'intervention » -------------------------------------------------------------------------


def test_intervention_order_from_a_leak_report(dossier, now):
    technician = staff_in("technique", username="tech.reseau")
    complaint = _complaint(
        now, category="fuite", customer=dossier.customer, dossier_id=dossier.pk, message="Fuite devant le compteur"
    )
    agent = staff_in("accueil")
    action = complaint_action("intervention")
    form = action.form_class(
        {
            "intervention-kind": "LEAK_REPAIR",
            "intervention-instructions": "Fuite sur la conduite avant compteur, couper la vanne.",
            "intervention-planned_for": (now.date() + timedelta(days=1)).isoformat(),
        },
        prefix="intervention",
    )
    assert form.is_valid(), form.errors
    message = action.run(complaint=complaint, staff_user=agent, data=form.cleaned_data, now=now)
    order = FieldIntervention.objects.get(complaint=complaint)
    assert order.number in message and order.number.startswith(f"OI{now.year}-")
    assert order.address == dossier.premises.address and order.district == dossier.premises.district
    assert order.service == "EAU" and order.created_by == agent and order.status == FieldIntervention.Status.PENDING
    (entry,) = _entries(complaint)
    assert not entry.internal and "Réparation de fuite" in entry.body and "prévue le" in entry.body
    assert entry.data["intervention_number"] == order.number
    assert Message.objects.filter(channel="BELL", user=technician, subject__contains=order.number).exists()


def test_intervention_refusals_and_permission(now):
    complaint = _complaint(now, category="qualite-eau", customer=DossierFactory().customer)  # no address
    action = complaint_action("intervention")
    agent = staff_in("accueil")
    data = {"kind": "WATER_SAMPLE", "instructions": "Prélever au robinet", "planned_for": None}
    with pytest.raises(ComplaintError, match="indiquez l'adresse de l'intervention"):
        action.run(complaint=complaint, staff_user=agent, data=data, now=now)
    with pytest.raises(ComplaintError, match="consignes"):
        action.run(
            complaint=complaint, staff_user=agent, data={**data, "instructions": "", "address": "1 rue"}, now=now
        )
    with pytest.raises(ComplaintError, match="dans le passé"):
        action.run(
            complaint=complaint,
            staff_user=agent,
            data={**data, "address": "1 rue", "planned_for": now.date() - timedelta(days=1)},
            now=now,
        )
    recouvrement = staff_in("recouvrement")
    with pytest.raises(ComplaintActionForbidden):
        action.run(complaint=complaint, staff_user=recouvrement, data={**data, "address": "1 rue"}, now=now)
    assert not FieldIntervention.objects.exists()
    action.run(complaint=complaint, staff_user=agent, data={**data, "address": "12 rue Al Amal"}, now=now)
    assert FieldIntervention.objects.get().address == "12 rue Al Amal"


def test_billed_reading_sent_from_a_complaint_is_in_the_review_queue_and_confirmed_there(client, dossier, now):
    from django.urls import reverse

    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 1, 28), index=Decimal("1120"))
    bill = bill_create(dossier=dossier, consumption=120)
    Bill.objects.filter(pk=bill.pk).update(reading=reading)
    complaint = _complaint(now, customer=dossier.customer, bill_id=bill.pk, reading_id=reading.pk)
    complaint_action("reading_review").run(
        complaint=complaint, staff_user=staff_in("facturation"), data={"reason": "Vérifier l'index"}, now=now
    )
    staff_in("technique", client=client)
    changelist = reverse("admin:rak_billing_meterreading_changelist")
    queue = client.get(changelist + "?queue=review").content.decode()
    assert dossier.number in queue
    page = client.get(reverse("admin:rak_billing_meterreading_change", args=[reading.pk])).content.decode()
    assert "Vérification demandée (réclamation)" in page and complaint.number in page
    client.post(changelist, {"action": "accept_selected", "_selected_action": [reading.pk]})
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.ACCEPTED and reading.review_requested_at is None
    assert reading.reviewed_at is not None
    (decision,) = _entries(complaint, data__action="reading_reviewed")
    assert "l'index est confirmé" in decision.body
    assert dossier.number not in client.get(changelist + "?queue=review").content.decode()


def test_a_reading_sent_to_verification_holds_its_period_from_billing_until_decided(now):
    from rak_billing.billing import billing_run_create, billing_run_process
    from rak_billing.unbillable import READING_HELD, billing_run_unbillable
    from rak_customer.models import Service
    from tests.integration.test_billing_run import read

    feb = datetime.date(2026, 2, 1)
    dossier = DossierFactory(service=Service.EAU)
    read(dossier, datetime.date(2026, 1, 20), 100)
    reading = read(dossier, datetime.date(2026, 2, 20), 160)
    complaint = _complaint(now, category="releve-compteur", customer=dossier.customer, reading_id=reading.pk)
    complaint_action("reading_review").run(
        complaint=complaint, staff_user=staff_in("accueil"), data={"reason": "Le client lit 118."}, now=now
    )
    report = billing_run_unbillable(period_start=feb)
    assert {row["dossier"]: row["reason"] for row in report.rows} == {dossier.number: READING_HELD}

    def run_february():
        run = billing_run_create(
            period_start=feb, issue_date=datetime.date(2026, 3, 2), due_date=datetime.date(2026, 3, 17), enqueue=False
        )
        return billing_run_process(run_id=run.pk)

    run_february()
    assert not Bill.objects.filter(dossier=dossier, period_start=feb).exists()  # not billed on a disputed index

    reading_review(reading_id=reading.pk, staff_user=staff_in("technique"), accept=True, reason="", now=now)
    run_february()
    bill = Bill.objects.get(dossier=dossier, period_start=feb)
    assert bill.reading_id == reading.pk and bill.consumption == Decimal("60")
