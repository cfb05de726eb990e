"""« Demande de résiliation » (seed 000) — the services behind it: every refusal of the filing with
its French message; the phases TRAITEMENT -> RELEVE_FINALE -> CLOTURE; the final index (the
customer's with a photo, or the technician's); the money of the closing — final bill up to the final
index priced like a billing run, the deposit set against the last bills once, the balance débiteur or
créditeur exact — and the same closing run twice changing nothing; another customer's request or
dossier refused."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from rak_base.models import Message
from rak_base.uploads import UploadRefused
from rak_billing import engine
from rak_billing.billing import billable_dossiers
from rak_billing.closing import customer_terminations, deposit_release, dossier_accounts_close
from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, DossierClosing, LedgerEntry, MeterReading
from rak_billing.readings.errors import IndexBelowPrevious
from rak_billing.tariffs import schedule_for, vat_rate_for
from rak_customer.models import Dossier
from rak_requests.engine import OPEN_STATUSES
from rak_requests.filing import FiledAttachment, request_file
from rak_requests.kinds import kind_for
from rak_requests.kinds.termination import (
    DossierAlreadyTerminated,
    DossierNotYours,
    NoDossierChosen,
    TerminationData,
    TerminationForm,
    TerminationInProgress,
)
from rak_requests.models import RequestEvent, RequestType, ServiceRequest
from rak_requests.services import PhaseNeedsCustomer, request_accept_phase, request_cancel
from rak_requests.termination import (
    FinalReadingDossierUnknown,
    FinalReadingNotExpected,
    termination_close,
    termination_final_reading_record,
    termination_final_reading_submit,
)
from tests.billing_factories import bill_create
from tests.factories import CustomerFactory, DossierFactory, MeterFactory, StaffFactory, customer_with_account
from tests.reading_factories import MeterReadingFactory, png_upload
from tests.request_factories import exe_renamed_pdf, pdf_bytes

pytestmark = pytest.mark.django_db

D = Decimal
KIND = kind_for(RequestType.Code.TERMINATION)


def file_termination(customer, numbers: list[str], *, now, reason: str = "") -> ServiceRequest:
    """What the generic flow does at « Valider »: the kind's checks, filing, the dossiers."""
    data = TerminationData(dossiers=numbers, reason=reason)
    KIND.filing_check(customer=customer, data=data, now=now)
    cin = FiledAttachment("cin", "Pièce d'identité", "cin.pdf", pdf_bytes(), "application/pdf", "0" * 64, "pdf")
    request = request_file(
        request_type=RequestType.objects.get(code=RequestType.Code.TERMINATION),
        customer=customer,
        data=data.to_json(),
        attachments=[cin],
        now=now,
    )
    request.dossiers.set(KIND.dossiers_from_data(customer=customer, data=data))
    return request


@pytest.fixture
def owner():
    return customer_with_account(phone="+212612000044", email="karim@example.ma", first_name="Karim")


@pytest.fixture
def water(owner):
    """A water dossier (deposit 250 DH) billed up to February 2026: index 1012 on 28/02, 80 DH... due."""
    customer, _user = owner
    dossier = DossierFactory(customer=customer, number="EA00000777", deposit_amount=D("250.00"))
    bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1), consumption=12, previous_index=1000)
    return dossier


def expected_final(dossier, *, consumption: str, days: int, on: datetime.date) -> engine.Computation:
    _row, schedule = schedule_for(service=dossier.service, category=dossier.tariff_category, on_date=on)
    rate = vat_rate_for(service=dossier.service, category=dossier.tariff_category, on_date=on)
    return engine.compute(schedule, vat_rate=rate, consumption=D(consumption), days=days)


# --- filing refusals --------------------------------------------------------------------------------


def test_filing_refusals_each_with_its_french_message(owner, water, now):
    customer, _user = owner
    with pytest.raises(NoDossierChosen) as caught:
        file_termination(customer, [], now=now)
    assert caught.value.message == "Sélectionnez au moins un dossier à résilier."

    stranger = DossierFactory(number="EA00000999")  # another customer's dossier
    with pytest.raises(DossierNotYours) as caught:
        file_termination(customer, [stranger.number], now=now)
    assert caught.value.message == "Le dossier EA00000999 ne fait pas partie de vos dossiers."

    closed = DossierFactory(customer=customer, number="EA00000888", status=Dossier.Status.TERMINATED)
    with pytest.raises(DossierAlreadyTerminated) as caught:
        file_termination(customer, [closed.number], now=now)
    assert caught.value.message == "Le dossier EA00000888 est déjà résilié."

    first = file_termination(customer, [water.number], now=now)
    with pytest.raises(TerminationInProgress) as caught:
        file_termination(customer, [water.number], now=now)
    assert caught.value.message == (
        f"Le dossier EA00000777 fait déjà l'objet d'une demande de résiliation en cours (n° {first.number})."
    )
    assert ServiceRequest.objects.filter(request_type__code="TERMINATION").count() == 1


def test_the_form_lists_active_and_suspended_dossiers_and_refuses_next_to_the_field(owner, water, now):
    customer, _user = owner
    suspended = DossierFactory(customer=customer, number="EL00000555", status=Dossier.Status.SUSPENDED)
    DossierFactory(customer=customer, number="EA00000888", status=Dossier.Status.TERMINATED)
    form = TerminationForm(customer=customer)
    numbers = [value for value, _label in form.fields["dossiers"].choices]
    assert numbers == [water.number, suspended.number]

    form = TerminationForm(data={}, customer=customer)
    assert not form.is_valid()
    assert form.errors["dossiers"] == ["Sélectionnez au moins un dossier à résilier."]

    stranger = DossierFactory(number="EA00000999")
    form = TerminationForm(data={"dossiers": [stranger.number]}, customer=customer)
    assert not form.is_valid()
    assert form.errors["dossiers"] == ["Le dossier EA00000999 ne fait pas partie de vos dossiers actifs ou suspendus."]

    file_termination(customer, [water.number], now=now)
    form = TerminationForm(data={"dossiers": [water.number, suspended.number]}, customer=customer)
    assert not form.is_valid()
    assert "fait déjà l'objet d'une demande de résiliation en cours" in form.errors["dossiers"][0]


def test_the_identity_document_is_pdf_image_or_archive_of_2_mo_at_most():
    cin = RequestType.objects.get(code="TERMINATION").documents.get(code="cin")
    assert cin.required and cin.max_bytes == 2 * 1024 * 1024
    assert cin.allowed_kinds == "pdf,image,zip,rar"
    from rak_requests.uploads import request_upload_validate

    with pytest.raises(UploadRefused):
        request_upload_validate(exe_renamed_pdf(), document=cin)


# --- the phases ---------------------------------------------------------------------------------


def test_accepting_the_treatment_asks_the_final_index_and_staff_cannot_skip_it(owner, water, now):
    customer, _user = owner
    request = file_termination(customer, [water.number], now=now)
    assert [p.code for p in request.request_type.phases.order_by("position")] == [
        "TRAITEMENT",
        "RELEVE_FINALE",
        "CLOTURE",
    ]
    staff = StaffFactory()
    moved = request_accept_phase(request_id=request.pk, staff=staff, now=now, expect_phase="TRAITEMENT")
    assert moved.phase.code == "RELEVE_FINALE"
    assert moved.expected_action == ServiceRequest.Action.READ_METER
    sms = Message.objects.filter(channel=Message.Channel.SMS).order_by("-id").first()
    assert "Communiquez l'index final de votre compteur (dossier EA00000777)" in sms.body
    with pytest.raises(PhaseNeedsCustomer):  # only a final index ends the phase
        request_accept_phase(request_id=request.pk, staff=staff, now=now)
    # once a decision is taken, the customer can no longer cancel
    from rak_requests.services import CancelNotAllowed

    with pytest.raises(CancelNotAllowed):
        request_cancel(request_id=request.pk, user=_user, now=now)


def test_customer_final_index_closes_the_accounts_exactly(owner, water, now):
    """Final index 1020 on 02/03 (the last bill ended on 1012 on 28/02): final bill of 8 m³ over 2
    days priced by the engine, deposit 250 against the February bill and the final bill, the rest
    the customer's credit; dossier terminated on 02/03; request accepted, the customer told."""
    customer, user = owner
    request = file_termination(customer, [water.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    february = Bill.objects.get(dossier=water, period_start=datetime.date(2026, 2, 1))

    done = termination_final_reading_submit(
        request_id=request.pk,
        customer_id=customer.pk,
        user=user,
        dossier_number=water.number,
        index="1020",
        photo=png_upload(),
        now=now,
    )
    assert done.status == ServiceRequest.Status.ACCEPTEE
    reading = MeterReading.objects.get(dossier=water, reading_date=datetime.date(2026, 3, 2))
    assert reading.source == MeterReading.Source.SELF and reading.photo.name
    assert reading.status == MeterReading.Status.ACCEPTED

    final = Bill.objects.get(dossier=water, kind=Bill.Kind.CONSUMPTION, period_start=datetime.date(2026, 3, 1))
    expected = expected_final(water, consumption="8", days=2, on=datetime.date(2026, 3, 2))
    assert (final.previous_index, final.current_index, final.consumption) == (D("1012"), D("1020"), D("8"))
    assert final.period_end == datetime.date(2026, 3, 3)
    assert final.total_ttc == expected.total_ttc and final.lines.count() == len(expected.lines)

    closing = DossierClosing.objects.get(dossier=water)
    dues = february.total_ttc + final.total_ttc
    assert closing.reference == request.number
    assert closing.dues_amount == dues
    assert closing.deposit_amount == D("250.00")
    assert closing.balance == dues - D("250.00") < 0  # créditeur
    assert customer_balance(customer) == dues - D("250.00")
    note = closing.deposit_note
    assert note.kind == Bill.Kind.CREDIT_NOTE and note.total_ttc == D("250.00") and note.total_tva == 0
    assert LedgerEntry.objects.get(bill=note).label == "Restitution du dépôt de garantie — dossier EA00000777"
    february.refresh_from_db()
    final.refresh_from_db()
    assert february.settled_at is not None and final.settled_at is not None

    water.refresh_from_db()
    assert water.status == Dossier.Status.TERMINATED and water.end_date == datetime.date(2026, 3, 2)
    accepted = done.events.get(kind=RequestEvent.Kind.ACCEPTED)
    assert "Solde de la résiliation : créditeur de" in accepted.message
    email = Message.objects.filter(channel=Message.Channel.EMAIL).order_by("-id").first()
    assert "dossier EA00000777 résilié le 02/03/2026" in email.body and "créditeur" in email.body

    rows = customer_terminations(customer.pk)
    assert len(rows) == 1
    row = rows[0]
    assert (row.reference, row.dossier_number, row.end_date) == (
        request.number,
        "EA00000777",
        datetime.date(2026, 3, 2),
    )
    assert row.final_bill == final and row.deposit_amount == D("250.00") and row.is_credit
    assert row.balance_label == "Créditeur" and row.balance_abs == D("250.00") - dues


def test_the_closing_never_counts_twice(owner, water, now):
    customer, _user = owner
    request = file_termination(customer, [water.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    termination_final_reading_record(
        request_id=request.pk, staff=StaffFactory(), dossier_number=water.number, index="1030", now=now
    )
    balance = customer_balance(customer)
    entries = LedgerEntry.objects.filter(customer=customer).count()

    again = dossier_accounts_close(dossier_id=water.pk, reference=request.number, now=now)  # the closing again
    assert deposit_release(dossier_id=water.pk, now=now) == again.deposit_note  # the deposit again
    assert termination_close(request_id=request.pk, now=now).status == ServiceRequest.Status.ACCEPTEE
    assert customer_balance(customer) == balance
    assert LedgerEntry.objects.filter(customer=customer).count() == entries
    assert Bill.objects.filter(dossier=water, kind=Bill.Kind.CREDIT_NOTE).count() == 1
    assert Bill.objects.filter(dossier=water, kind=Bill.Kind.CONSUMPTION).count() == 2
    # and a billing run of March never bills the closed dossier again
    assert not billable_dossiers(datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)).filter(pk=water.pk).exists()


def test_a_debtor_after_termination_owes_the_dues_minus_the_deposit(owner, now):
    customer, _user = owner
    dossier = DossierFactory(customer=customer, number="EL00000321", service="ELECTRICITE", deposit_amount=D("100"))
    dossier.meter.service = "ELECTRICITE"
    dossier.meter.caliber = "10 A"
    dossier.meter.save()
    old = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), consumption=300, previous_index=4000)
    request = file_termination(customer, [dossier.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    termination_final_reading_record(
        request_id=request.pk,
        staff=StaffFactory(),
        dossier_number=dossier.number,
        index="4400",
        reading_date=datetime.date(2026, 3, 1),
        now=now,
    )
    closing = DossierClosing.objects.get(dossier=dossier)
    final = closing.final_bill
    # from index 4300 on 31/01 to 4400 on 01/03: 100 kWh over 29 days
    expected = expected_final(dossier, consumption="100", days=29, on=datetime.date(2026, 3, 1))
    assert final.total_ttc == expected.total_ttc
    dues = old.total_ttc + final.total_ttc
    assert closing.balance == dues - D("100.00") > 0  # débiteur
    assert customer_balance(customer) == dues - D("100.00")
    row = customer_terminations(customer.pk)[0]
    assert row.is_debit and row.balance_label == "Débiteur"
    dossier.refresh_from_db()
    assert dossier.end_date == datetime.date(2026, 3, 1)


def test_final_index_refusals(owner, water, now):
    customer, user = owner
    request = file_termination(customer, [water.number], now=now)
    # before the treatment is accepted: no final index expected
    with pytest.raises(FinalReadingNotExpected):
        termination_final_reading_submit(
            request_id=request.pk,
            customer_id=customer.pk,
            user=user,
            dossier_number=water.number,
            index="1020",
            photo=png_upload(),
            now=now,
        )
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    with pytest.raises(IndexBelowPrevious) as caught:
        termination_final_reading_record(
            request_id=request.pk, staff=StaffFactory(), dossier_number=water.number, index="900", now=now
        )
    assert caught.value.message == "L'index saisi est inférieur au dernier index facturé (1\xa0012)."
    with pytest.raises(UploadRefused) as caught:  # the customer's index needs a photo
        termination_final_reading_submit(
            request_id=request.pk,
            customer_id=customer.pk,
            user=user,
            dossier_number=water.number,
            index="1020",
            photo=None,
            now=now,
        )
    assert "Vous devez joindre une photo de l'index de votre compteur" in caught.value.message
    with pytest.raises(UploadRefused):  # a PDF is not a photo
        termination_final_reading_submit(
            request_id=request.pk,
            customer_id=customer.pk,
            user=user,
            dossier_number=water.number,
            index="1020",
            photo=exe_renamed_pdf("index.jpg"),
            now=now,
        )
    with pytest.raises(FinalReadingDossierUnknown):  # a dossier that is not in the request
        termination_final_reading_record(
            request_id=request.pk, staff=StaffFactory(), dossier_number="EA00000999", index="1", now=now
        )
    other, other_user = customer_with_account(phone="+212612000045")
    with pytest.raises(FinalReadingDossierUnknown):  # someone else's request
        termination_final_reading_submit(
            request_id=request.pk,
            customer_id=other.pk,
            user=other_user,
            dossier_number=water.number,
            index="1020",
            photo=png_upload(),
            now=now,
        )
    assert not MeterReading.objects.filter(dossier=water, reading_date=datetime.date(2026, 3, 2)).exists()
    request.refresh_from_db()
    assert request.status in OPEN_STATUSES and request.phase.code == "RELEVE_FINALE"


def test_several_dossiers_close_when_the_last_one_is_read_and_sanitation_needs_no_reading(owner, water, now):
    customer, user = owner
    sanitation = DossierFactory(
        customer=customer, number="AS00000777", service="ASSAINISSEMENT", meter=None, premises=water.premises
    )
    power = DossierFactory(
        customer=customer,
        number="EL00000777",
        service="ELECTRICITE",
        meter=MeterFactory(service="ELECTRICITE"),
        deposit_amount=D("0"),
    )
    request = file_termination(customer, [water.number, sanitation.number, power.number], now=now)
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=now)
    step = termination_final_reading_record(
        request_id=request.pk, staff=StaffFactory(), dossier_number=water.number, index="1020", now=now
    )
    assert step.phase.code == "RELEVE_FINALE" and step.status == ServiceRequest.Status.EN_COURS
    with pytest.raises(FinalReadingNotExpected):  # already read
        termination_final_reading_record(
            request_id=request.pk, staff=StaffFactory(), dossier_number=water.number, index="1021", now=now
        )
    done = termination_final_reading_submit(
        request_id=request.pk,
        customer_id=customer.pk,
        user=user,
        dossier_number=power.number,
        index="50",
        photo=png_upload(),
        now=now,
    )
    assert done.status == ServiceRequest.Status.ACCEPTEE
    assert set(Dossier.objects.filter(customer=customer).values_list("number", "status")) == {
        ("EA00000777", "TERMINATED"),
        ("AS00000777", "TERMINATED"),
        ("EL00000777", "TERMINATED"),
    }
    assert DossierClosing.objects.get(dossier=sanitation).closed_at is not None
    assert DossierClosing.objects.get(dossier=power).deposit_note is None  # no deposit, no credit note
    assert len(customer_terminations(customer.pk)) == 3


def test_rejected_request_leaves_the_dossier_active_and_another_request_may_follow(owner, water, now):
    from rak_requests.services import request_reject

    customer, _user = owner
    request = file_termination(customer, [water.number], now=now)
    request_reject(request_id=request.pk, staff=StaffFactory(), reason="Pièce d'identité illisible", now=now)
    water.refresh_from_db()
    assert water.status == Dossier.Status.ACTIVE
    assert not DossierClosing.objects.filter(dossier=water).exists()
    again = file_termination(customer, [water.number], now=now)
    assert again.status == ServiceRequest.Status.EN_COURS


def test_nobody_terminates_a_dossier_of_another_customer_through_the_data(now):
    customer = CustomerFactory()
    stranger = DossierFactory(number="EA00000999")
    data = TerminationData(dossiers=[stranger.number])
    assert KIND.dossiers_from_data(customer=customer, data=data) == []
    with pytest.raises(DossierNotYours):
        KIND.filing_check(customer=customer, data=data, now=now)


def test_a_sanitation_dossier_terminated_alone_ends_on_the_day_of_its_closing_not_at_an_old_reading(owner, water, now):
    """Sanitation has no meter of its own: its bill uses the water meter's last reading, which may be
    weeks old. Its end date (« Mes résiliations ») is the day it is closed, never that old reading's."""
    customer, _user = owner
    MeterReadingFactory(dossier=water, reading_date=datetime.date(2026, 2, 10), index=D("1012"))
    sanitation = DossierFactory(
        customer=customer, number="AS00000778", service="ASSAINISSEMENT", meter=None, premises=water.premises
    )
    closing = dossier_accounts_close(dossier_id=sanitation.pk, reference="RS2026-000099", now=now)
    assert closing.end_date == timezone.localdate(now)
    assert Dossier.objects.get(pk=water.pk).status == Dossier.Status.ACTIVE
