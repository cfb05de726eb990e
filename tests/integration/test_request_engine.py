"""The request engine's services: transitions and their refusals, the complement loop, cancel,
attachments, SLA escalation, and two agents accepting the same phase at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from rak_base.models import Message
from rak_base.uploads import UploadTooLarge, UploadWrongKind
from rak_requests.engine import WrongState
from rak_requests.models import Attachment, RequestEvent, ServiceRequest
from rak_requests.services import (
    AnswerMissing,
    CancelNotAllowed,
    NotAllowed,
    PhaseNeedsCustomer,
    attachment_add,
    request_accept_phase,
    request_answer_complement,
    request_ask_complement,
    request_assign,
    request_cancel,
    request_note,
    request_reject,
    requests_escalate_overdue,
)
from tests.factories import StaffFactory, customer_with_account
from tests.request_factories import (
    ServiceRequestFactory,
    exe_renamed_pdf,
    oversized_pdf,
    pdf_upload,
    subscription_type,
    termination_type,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return customer_with_account(phone="+212612000001", email="amina@example.ma", first_name="Amina")


@pytest.fixture
def request_(owner):
    customer, _ = owner
    return ServiceRequestFactory(customer=customer)


def messages(channel):
    return list(Message.objects.filter(channel=channel).order_by("id"))


def test_staff_accepts_phases_in_order_and_the_last_one_closes_the_request(request_, now):
    staff = StaffFactory()
    moved = request_accept_phase(request_id=request_.pk, staff=staff, now=now, expect_phase="RECEVABILITE_ADMIN")
    assert moved.phase.code == "RECEVABILITE_TECH"
    assert moved.expected_action == ServiceRequest.Action.CALL  # « Appeler le service client »
    assert moved.phase_due_at == now + timedelta(days=moved.phase.sla_days)
    event = moved.events.get(kind=RequestEvent.Kind.PHASE)
    assert event.from_phase.code == "RECEVABILITE_ADMIN" and event.to_phase.code == "RECEVABILITE_TECH"
    # the customer is told: SMS, e-mail and bell
    assert "Recevabilité technique" in messages(Message.Channel.SMS)[-1].body
    assert messages(Message.Channel.BELL)

    # signature and payment end by the customer's act, never by a staff button
    ServiceRequest.objects.filter(pk=request_.pk).update(phase=subscription_type().phases.get(code="SIGNATURE"))
    with pytest.raises(PhaseNeedsCustomer):
        request_accept_phase(request_id=request_.pk, staff=staff, now=now)

    # nor does the meter installation: recording the meter closes it (rak_requests.lifecycle)
    last = subscription_type().phases.order_by("-position").first()
    ServiceRequest.objects.filter(pk=request_.pk).update(phase=last)
    with pytest.raises(PhaseNeedsCustomer):
        request_accept_phase(request_id=request_.pk, staff=staff, now=now)

    # accepting the last phase of a type closes the request (termination: one phase)
    single = ServiceRequestFactory(request_type=termination_type(), customer=request_.customer)
    closed = request_accept_phase(request_id=single.pk, staff=staff, now=now)
    assert closed.status == ServiceRequest.Status.ACCEPTEE
    assert closed.processed_at == now and closed.phase_due_at is None


def test_wrong_phase_wrong_state_and_wrong_role_are_refused(request_, owner, now):
    _, customer_user = owner
    staff = StaffFactory()
    with pytest.raises(WrongState):  # the agent's page showed another phase
        request_accept_phase(request_id=request_.pk, staff=staff, now=now, expect_phase="SIGNATURE")
    with pytest.raises(NotAllowed):  # a customer cannot accept
        request_accept_phase(request_id=request_.pk, staff=customer_user, now=now)
    with pytest.raises(NotAllowed):
        request_reject(request_id=request_.pk, staff=customer_user, reason="non", now=now)
    request_reject(request_id=request_.pk, staff=staff, reason="Dossier incomplet", now=now)
    with pytest.raises(WrongState):  # closed: nothing moves any more
        request_accept_phase(request_id=request_.pk, staff=staff, now=now)
    request_.refresh_from_db()
    assert request_.status == ServiceRequest.Status.REJETEE and request_.processed_at == now
    assert request_.events.filter(kind=RequestEvent.Kind.REJECTED, message="Dossier incomplet").exists()


def test_complement_loop_end_to_end(request_, owner, now):
    customer, customer_user = owner
    staff = StaffFactory()
    request_assign(request_id=request_.pk, staff=staff, agent=staff, now=now)
    asked = request_ask_complement(
        request_id=request_.pk,
        staff=staff,
        message="La copie de la CIN est illisible.",
        documents=["Copie de la CIN"],
        now=now,
    )
    assert asked.status == ServiceRequest.Status.COMPLEMENT_DEMANDE
    assert asked.expected_action == ServiceRequest.Action.ANSWER_COMPLEMENT
    sms, email, bell = messages("SMS")[-1], messages("EMAIL")[-1], messages("BELL")[-1]
    assert sms.recipient == "+212612000001" and "CIN est illisible" in sms.body
    assert email.recipient == "amina@example.ma" and "complément" in email.subject.lower()
    assert bell.user == customer_user
    with pytest.raises(WrongState):  # a second request while the first is unanswered
        request_ask_complement(request_id=request_.pk, staff=staff, message="encore", now=now)

    # staff cannot answer as the customer; an empty answer is refused
    with pytest.raises(NotAllowed):
        request_answer_complement(request_id=request_.pk, user=staff, text="voici", now=now)
    with pytest.raises(AnswerMissing):
        request_answer_complement(request_id=request_.pk, user=customer_user, text="  ", now=now)

    answered = request_answer_complement(
        request_id=request_.pk, user=customer_user, text="Voici une copie lisible.", file=pdf_upload(), now=now
    )
    assert answered.status == ServiceRequest.Status.EN_COURS
    assert answered.expected_action == ServiceRequest.Action.NONE
    event = answered.events.get(kind=RequestEvent.Kind.COMPLEMENT_ANSWERED)
    assert event.actor_kind == RequestEvent.Actor.CUSTOMER and event.message == "Voici une copie lisible."
    attachment = answered.attachments.get()
    assert attachment.event == event and attachment.document_code == "complement"
    assert attachment.content_type == "application/pdf"
    # the agent in charge is told by the bell
    assert Message.objects.filter(channel="BELL", user=staff, subject__startswith="Complément reçu").exists()


def test_another_customer_cannot_answer_or_cancel(request_, now):
    _, stranger = customer_with_account(phone="+212612000099")
    staff = StaffFactory()
    request_ask_complement(request_id=request_.pk, staff=staff, message="Joignez le bail.", now=now)
    with pytest.raises(NotAllowed):
        request_answer_complement(request_id=request_.pk, user=stranger, text="moi", now=now)
    with pytest.raises(NotAllowed):
        request_cancel(request_id=request_.pk, user=stranger, now=now)


def test_cancel_allowed_before_any_decision_refused_after(owner, now):
    customer, user = owner
    first = ServiceRequestFactory(customer=customer)
    cancelled = request_cancel(request_id=first.pk, user=user, now=now)
    assert cancelled.status == ServiceRequest.Status.ANNULEE and cancelled.processed_at == now
    assert cancelled.events.filter(kind=RequestEvent.Kind.CANCELLED, actor_kind="CUSTOMER").exists()

    second = ServiceRequestFactory(customer=customer)
    request_accept_phase(request_id=second.pk, staff=StaffFactory(), now=now)
    with pytest.raises(CancelNotAllowed):
        request_cancel(request_id=second.pk, user=user, now=now)
    second.refresh_from_db()
    assert second.status == ServiceRequest.Status.EN_COURS


def test_attachment_checks(request_, now):
    document = subscription_type().documents.order_by("position").first()
    with pytest.raises(UploadWrongKind):  # an executable renamed .pdf is refused by its content
        attachment_add(request=request_, file=exe_renamed_pdf(), document=document, now=now)
    with pytest.raises(UploadTooLarge) as too_large:  # 2 MB + 1 byte
        attachment_add(request=request_, file=oversized_pdf(), document=document, now=now)
    assert "2 Mo" in too_large.value.message
    assert not Attachment.objects.exists()

    attachment = attachment_add(request=request_, file=pdf_upload("Ma CIN (scan).pdf"), document=document, now=now)
    assert attachment.original_name == "Ma CIN (scan).pdf"
    assert attachment.file.name.startswith("requests/") and "CIN" not in attachment.file.name
    assert attachment.file.name.endswith(".pdf") and attachment.size > 0 and len(attachment.sha256) == 64

    # the type's data decides: a document limited to 1 Ko refuses the same PDF
    document.max_bytes = 1024
    document.save()
    with pytest.raises(UploadTooLarge):
        attachment_add(request=request_, file=pdf_upload(), document=document, now=now)


def test_assign_and_internal_note_are_hidden_from_the_customer(request_, now):
    staff, agent = StaffFactory(), StaffFactory(first_name="Karim", last_name="Bennani")
    assigned = request_assign(request_id=request_.pk, staff=staff, agent=agent, now=now)
    assert assigned.assigned_to == agent
    note = request_note(request_id=request_.pk, staff=staff, text="Appeler le propriétaire", now=now)
    assert note.internal and note.kind == RequestEvent.Kind.NOTE
    assert not Message.objects.filter(channel="SMS").exists()  # nothing sent to the customer
    assert Message.objects.filter(channel="BELL", user=agent).exists()


def test_sla_escalation_once_per_phase_and_supervisors_told(request_, now):
    supervisor = StaffFactory(email="chef@rak.ma")
    supervisor.groups.add(Group.objects.get_or_create(name="superviseur")[0])
    late = request_.phase_due_at + timedelta(minutes=1)
    assert requests_escalate_overdue(now=request_.phase_due_at - timedelta(minutes=1)) == 0
    assert requests_escalate_overdue(now=late) == 1
    request_.refresh_from_db()
    assert request_.escalated_at == late
    assert request_.events.filter(kind=RequestEvent.Kind.ESCALATED, internal=True).count() == 1
    bell = Message.objects.get(channel="BELL", user=supervisor)
    assert request_.number in bell.body
    assert Message.objects.filter(channel="EMAIL", recipient="chef@rak.ma").count() == 1
    assert requests_escalate_overdue(now=late + timedelta(hours=1)) == 0  # not twice

    # a new phase starts a new deadline and may escalate again
    moved = request_accept_phase(request_id=request_.pk, staff=StaffFactory(), now=late)
    assert moved.escalated_at is None
    assert requests_escalate_overdue(now=moved.phase_due_at + timedelta(seconds=1)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_accepting_the_same_phase_at_once_one_wins(now):
    from django.db import connections

    request_ = ServiceRequestFactory()
    agents = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(agent):
        try:
            barrier.wait()
            request_accept_phase(request_id=request_.pk, staff=agent, now=now, expect_phase="RECEVABILITE_ADMIN")
            outcomes.append("ok")
        except WrongState:
            outcomes.append("wrong state")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "wrong state"]
    request_.refresh_from_db()
    assert request_.phase.code == "RECEVABILITE_TECH"
    assert request_.events.filter(kind=RequestEvent.Kind.PHASE).count() == 1
