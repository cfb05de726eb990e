"""« Demande de remboursement » and « Mes remboursements » (seed 000) through the portal, and the
refund requests in the back office: every refusal with its message and nothing filed, the request
filed once, the payout recorded once, the cancellation, another customer's objects -> 404, query
counts of the list pages."""

from __future__ import annotations

import datetime
import html as htmllib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from rak_base import clock
from rak_billing.api import refund_record
from rak_billing.ledger import OtherLine, bill_issue_other, customer_balance, payment_record
from rak_billing.models import Bill, LedgerEntry, Payment, Refund, RefundCancellation
from rak_customer.models import Contact
from rak_requests.engine import WrongState
from rak_requests.kinds.refund import KIND, refund_payout_record
from rak_requests.models import Phase, RequestType, ServiceRequest
from rak_requests.services import request_accept_phase
from tests.factories import StaffFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

D = Decimal
CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)
PAGE = reverse("portal:refund_request")
MINE = reverse("portal:my_refunds")


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def text(response) -> str:
    """The page's text with entities decoded and the amounts' no-break spaces as plain spaces."""
    return htmllib.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


def double_paid(phone="+212612000501"):
    """A customer (logged in by the caller) who paid the same 120 DH bill twice."""
    customer, user = customer_with_account(phone=phone, email=f"c{phone[-3:]}@example.ma")
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D("120.00"), vat_rate=D("0"))],
        issue_date=datetime.date(2026, 2, 1),
        now=NOW,
    )
    for days, ext in ((6, None), (5, "CMI:T-" + phone[-3:])):
        payment = payment_record(
            customer=customer,
            amount=D("120.00"),
            method=Payment.Method.CASH,
            paid_at=NOW - datetime.timedelta(days=days),
            external_id=ext,
        )
    return customer, user, payment


def refund_requests(customer):
    return ServiceRequest.objects.filter(customer=customer, request_type__code=RequestType.Code.REFUND)


def file_through_the_page(client, payment) -> ServiceRequest:
    client.post(PAGE, {"item": f"P{payment.pk}", "step": "demander"})
    response = client.post(PAGE, {"item": f"P{payment.pk}", "step": "valider"})
    assert response.status_code == 302
    return ServiceRequest.objects.get(request_type__code=RequestType.Code.REFUND, data__item=f"P{payment.pk}")


# --- « Demande de remboursement » ------------------------------------------------------------------


def test_ask_confirm_valider_then_demande_en_attente(client):
    customer, user, payment = double_paid()
    client.force_login(user)

    page = text(client.get(PAGE))
    assert "Double paiement" in page and "120,00" in page and "demander le remboursement" in page
    assert "Si vous avez des impayés votre demande de remboursement sera rejetée" in page

    confirm = text(client.post(PAGE, {"item": f"P{payment.pk}", "step": "demander"}))
    assert 'data-testid="refund-confirm"' in confirm
    assert "Cliquez sur « valider » pour envoyer votre demande" in confirm and ">valider<" in confirm
    assert not refund_requests(customer).exists()  # nothing filed before « valider »

    done = client.post(PAGE, {"item": f"P{payment.pk}", "step": "valider"}, follow=True)
    html = text(done)
    request = refund_requests(customer).get()
    assert f"Votre demande de remboursement n° {request.number} a bien été envoyée" in html
    assert "Demande en attente" in html.split('data-testid="refund-items"')[1]
    assert request.phase.code == Phase.Code.TRAITEMENT and request.phase.name == "Demande en attente"
    assert request.data["amount"] == "120.00" and request.data["origin"] == "Double paiement"


def test_unpaid_bills_refuse_at_once_with_the_seed_message_and_nothing_is_filed(client):
    customer, user, payment = double_paid()
    client.force_login(user)
    # a new bill larger than the credit: the credit pays part of it, the rest is unpaid
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais", D("200.00"), vat_rate=D("0"))],
        issue_date=datetime.date(2026, 3, 1),
        now=NOW,
    )
    assert customer_balance(customer) == D("80.00")  # the 120 DH credit paid part of it

    for step in ("demander", "valider"):
        html = text(client.post(PAGE, {"item": f"P{payment.pk}", "step": step}))
        error = html.split('data-testid="refund-error"')[1]
        assert "Votre demande de remboursement est rejetée : vous avez des impayés (80,00 DH)" in error
        assert "merci de vérifier votre solde des impayés sur le « tableau de bord »" in error
    assert not refund_requests(customer).exists()


def test_unpaid_bills_beside_a_credit_are_refused(client):
    """A credit and an unpaid bill at once (a credit note held while a bill is open): refused with
    the seed's message, nothing filed."""
    customer, user, payment = double_paid()
    client.force_login(user)
    bill = Bill.objects.create(
        number="TRB00000001",
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        issue_date=datetime.date(2026, 3, 1),
        due_date=datetime.date(2026, 3, 15),
        total_ht=D("30.00"),
        total_tva=D("0.00"),
        total_ttc=D("30.00"),
    )
    LedgerEntry.objects.create(
        customer=customer, kind=LedgerEntry.Kind.BILL, entry_date=bill.issue_date, amount=bill.total_ttc, bill=bill
    )

    html = text(client.post(PAGE, {"item": f"P{payment.pk}", "step": "demander"}))

    assert "Votre demande de remboursement est rejetée : vous avez des impayés (30,00 DH)" in html
    assert "Si vous avez des impayés votre demande de remboursement sera rejetée" in html
    assert 'data-testid="refund-confirm"' not in html
    response = client.post(PAGE, {"item": f"P{payment.pk}", "step": "valider"})
    assert response.status_code == 422
    assert not refund_requests(customer).exists()


def test_no_phone_on_the_profile_is_the_seed_error_and_nothing_is_filed(client):
    customer, user, payment = double_paid()
    Contact.objects.filter(customer=customer, kind=Contact.Kind.PHONE).delete()
    client.force_login(user)

    html = text(client.post(PAGE, {"item": f"P{payment.pk}", "step": "demander"}))

    assert (
        "Une erreur s'est produite : vérifiez sur votre profil que votre numéro de téléphone est bien présent." in html
    )
    assert reverse("portal:profile") in html.split('data-testid="refund-error"')[1]
    assert client.post(PAGE, {"item": f"P{payment.pk}", "step": "valider"}).status_code == 422
    assert not refund_requests(customer).exists()


def test_nothing_owed_is_said_plainly(client):
    customer, user = customer_with_account(phone="+212612000502")
    client.force_login(user)

    html = text(client.get(PAGE))
    assert "Aucun remboursement ne vous est dû : votre compte n'est pas créditeur auprès de la RAK." in html
    assert "demander le remboursement" not in html
    refused = text(client.post(PAGE, {"item": "P1", "step": "valider"}))
    assert "Aucun remboursement ne vous est dû" in refused
    assert not refund_requests(customer).exists()


def test_no_second_request_for_the_same_credit_while_one_is_open(client):
    customer, user, payment = double_paid()
    client.force_login(user)
    first = file_through_the_page(client, payment)

    html = text(client.post(PAGE, {"item": f"P{payment.pk}", "step": "valider"}))

    assert f"Une demande de remboursement est déjà en attente pour ce montant (demande n° {first.number})" in html
    assert refund_requests(customer).count() == 1
    page = text(client.get(PAGE))
    assert "demander le remboursement" not in page.split('data-testid="refund-items"')[1]


def test_another_customers_credit_cannot_be_asked_for(client):
    _other, _other_user, others_payment = double_paid(phone="+212612000503")
    customer, user = customer_with_account(phone="+212612000504")
    client.force_login(user)

    html = text(client.post(PAGE, {"item": f"P{others_payment.pk}", "step": "valider"}))

    assert "Aucun remboursement ne vous est dû" in html
    assert not ServiceRequest.objects.filter(request_type__code=RequestType.Code.REFUND).exists()


def test_pages_need_a_customer_login(client):
    assert client.get(PAGE).status_code == 302
    assert client.get(MINE).status_code == 302


# --- the back office and « Mes remboursements » ---------------------------------------------------------


def test_staff_call_then_record_the_payout_and_the_customer_sees_it(client, django_assert_max_num_queries):
    customer, user, payment = double_paid()
    client.force_login(user)
    request = file_through_the_page(client, payment)
    agent = staff_in("accueil", first_name="Salma", last_name="Alaoui")

    request_accept_phase(request_id=request.pk, staff=agent, now=NOW, expect_phase=Phase.Code.TRAITEMENT)
    request.refresh_from_db()
    assert request.phase.code == Phase.Code.VERSEMENT
    action = KIND.staff_actions(request)[0]
    assert str(action.label) == "Enregistrer le remboursement" and action.permission == "rak_billing.add_refund"
    assert agent.has_perm(action.permission)
    form = action.form_class(data={"method": "CHEQUE", "amount": "", "rib": "", "reference": "CHQ 7781"})
    assert form.fields["amount"].initial == D("120.00")
    assert form.is_valid(), form.errors
    message = action.run(request_id=request.pk, staff=agent, now=NOW, data=form.cleaned_data)

    assert "Remboursement de 120,00 DH enregistré (Chèque, CHQ 7781)" in message
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE
    refund = Refund.objects.get(customer=customer)
    assert (refund.amount, refund.external_id, refund.request_ref) == (
        D("120.00"),
        f"REQ:{request.number}",
        request.number,
    )
    assert customer_balance(customer) == D("0.00")
    # recording again (two clicks, a retry) pays nothing more
    with pytest.raises(WrongState):  # the request is closed
        refund_payout_record(request_id=request.pk, staff=agent, now=NOW, data=form.cleaned_data)
    assert Refund.objects.count() == 1

    with django_assert_max_num_queries(14):
        html = text(client.get(MINE))
    row = html.split('data-testid="my-refunds"')[1]
    assert request.number in row and "Remboursé le 20/03/2026" in row and "Chèque" in row
    assert "Mes résiliations" in html
    receipt = client.get(reverse("portal:refund_receipt", args=[refund.pk]))
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert "Remboursé" in text(client.get(PAGE))


def test_a_transfer_needs_a_valid_rib_in_the_payout_form():
    form_class = KIND.staff_actions(ServiceRequest(status=ServiceRequest.Status.ACCEPTEE))[0].form_class
    form = form_class(data={"method": "VIREMENT", "rib": "0077800001234567890123", "reference": ""})
    assert not form.is_valid()
    assert "24 chiffres" in str(form.errors["rib"])


def test_mes_remboursements_lists_many_rows_in_few_queries(client, django_assert_max_num_queries):
    customer, user, payment = double_paid()
    client.force_login(user)
    agent = StaffFactory()
    for index in range(6):
        refund_record(
            customer=customer,
            method=Refund.Method.ESPECES,
            amount=D("10.00"),
            paid_at=NOW,
            now=NOW,
            recorded_by=agent,
            external_id=f"X{index}",
        )

    with django_assert_max_num_queries(14):
        response = client.get(MINE)
    assert text(response).count('data-testid="my-refund-row"') == 6
    with django_assert_max_num_queries(16):
        assert client.get(PAGE).status_code == 200


def test_another_customers_receipt_is_404(client):
    customer, _user, _payment = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.ESPECES, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )
    _other, other_user = customer_with_account(phone="+212612000505")
    client.force_login(other_user)

    assert client.get(reverse("portal:refund_receipt", args=[refund.pk])).status_code == 404
    assert client.get(reverse("portal:refund_receipt", args=[999999])).status_code == 404


def test_refund_admin_cancel_through_the_back_office(client):
    customer, _user, _payment = double_paid()
    refund = refund_record(
        customer=customer, method=Refund.Method.CHEQUE, paid_at=NOW, now=NOW, recorded_by=StaffFactory()
    )
    url = reverse("admin:rak_billing_refund_cancel", args=[refund.pk])

    staff_in("accueil", client=client)
    assert client.get(reverse("admin:rak_billing_refund_change", args=[refund.pk])).status_code == 200
    assert client.post(url, {"reason": "pirate"}).status_code == 403

    staff_in("recouvrement", client=client, first_name="Samira")
    listing = text(client.get(reverse("admin:rak_billing_refund_changelist")))
    assert customer.code in listing and "120,00 DH" in listing
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 200 and not RefundCancellation.objects.exists()
    done = client.post(url, {"reason": "Chèque non encaissé"}, follow=True)
    assert "Remboursement de 120,00 DH annulé" in text(done)
    assert customer_balance(customer) == D("-120.00")
    assert LedgerEntry.objects.filter(customer=customer, kind=LedgerEntry.Kind.REFUND_CANCEL).count() == 1
    assert Refund.objects.filter(pk=refund.pk).exists()
    assert "déjà été annulé" in text(client.get(url))


def test_after_a_termination_the_deposit_above_the_last_bills_is_owed_and_shown(client):
    """A dossier closed with a 250 DH deposit and a 70 DH bill still open: « Mes résiliations »
    shows the deposit deducted and a 180 DH « créditeur » balance; « Demande de remboursement »
    lists those 180 DH as « Résiliation »."""
    from rak_billing.api import dossier_accounts_close
    from tests.factories import DossierFactory

    customer, user = customer_with_account(phone="+212612000506")
    dossier = DossierFactory(customer=customer, deposit_amount=D("250.00"), meter=None)
    bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine("Frais", D("70.00"), vat_rate=D("0"))],
        issue_date=datetime.date(2026, 2, 1),
        now=NOW,
    )
    dossier_accounts_close(dossier_id=dossier.pk, reference="RS2026-000042", now=NOW)
    client.force_login(user)

    mine = text(client.get(MINE))
    row = mine.split('data-testid="my-terminations"')[1]
    assert dossier.number in row and "RS2026-000042" in row
    assert "250,00 DH" in row and "180,00 DH</strong> créditeur" in row
    assert "Vous êtes créditeur de 180,00 DH auprès de la RAK." in mine

    page = text(client.get(PAGE))
    items = page.split('data-testid="refund-items"')[1]
    assert "Résiliation : dépôt de garantie au-delà des dernières factures" in items and "180,00 DH" in items


def test_back_office_queue_accept_then_record_the_payout_through_the_request_page(client):
    """The front desk (accueil) through /backoffice/: « Accepter la phase » once the customer is
    called, then the type's action « Enregistrer le remboursement » on the request's page — a bad
    RIB is refused next to the field, a cheque is recorded once; without the permission: 403."""
    customer, user, payment = double_paid()
    client.force_login(user)
    request = file_through_the_page(client, payment)
    change = reverse("admin:rak_requests_servicerequest_change", args=[request.pk])
    action_url = reverse("admin:rak_requests_servicerequest_staff_action", args=[request.pk, "refund_payout"])

    staff_in("technique", client=client)
    assert client.post(action_url, {"seen_phase": "TRAITEMENT", "seen_status": "EN_COURS"}).status_code in (302, 403)
    assert not Refund.objects.exists()

    staff_in("accueil", client=client, first_name="Salma")
    page = text(client.get(change))
    assert "Enregistrer le remboursement" not in page  # only in « Versement du remboursement »
    request_accept_phase(request_id=request.pk, staff=StaffFactory(), now=NOW, expect_phase=Phase.Code.TRAITEMENT)
    page = text(client.get(change))
    assert "Enregistrer le remboursement" in page and "Crédit du client : 120,00 DH" in page

    seen = {"seen_phase": "VERSEMENT", "seen_status": "EN_COURS"}
    bad = client.post(action_url, {**seen, "sa_refund_payout-method": "VIREMENT", "sa_refund_payout-rib": "0071234"})
    assert bad.status_code == 400 and "Le RIB doit contenir 24 chiffres." in text(bad)
    assert not Refund.objects.exists()

    done = client.post(
        action_url,
        {**seen, "sa_refund_payout-method": "CHEQUE", "sa_refund_payout-reference": "CHQ 991"},
        follow=True,
    )
    assert f"{request.number} : Remboursement de 120,00 DH enregistré (Chèque, CHQ 991)" in text(done)
    again = client.post(
        action_url, {**seen, "sa_refund_payout-method": "CHEQUE", "sa_refund_payout-reference": "CHQ 991"}, follow=True
    )
    assert "a changé depuis l'affichage de votre page" in text(again)
    assert Refund.objects.count() == 1 and customer_balance(customer) == D("0.00")
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE


def test_the_front_desk_files_it_at_the_counter_with_the_same_checks(client):
    """« Déposer une demande » from the customer's page: the amounts owed to choose from, the same
    refusals (unpaid bills), then filed with channel AGENCY."""
    customer, _user, payment = double_paid()
    agent = staff_in("accueil", client=client)
    url = reverse("admin:rak_requests_counter_file", args=[customer.pk, "remboursement"])

    page = text(client.get(url))
    assert "Montant à rembourser" in page and "Double paiement" in page and "120,00 DH" in page
    Contact.objects.filter(customer=customer, kind=Contact.Kind.PHONE).delete()
    refused = client.post(url, {"item": f"P{payment.pk}", "identity_checked": "on"})
    assert refused.status_code == 400 and "vérifiez sur votre profil que votre numéro de téléphone" in text(refused)
    assert not refund_requests(customer).exists()

    Contact.objects.create(customer=customer, kind=Contact.Kind.PHONE, value="+212612000599", is_sms=True)
    client.post(url, {"item": f"P{payment.pk}", "identity_checked": "on"})
    filed = refund_requests(customer).get()
    assert filed.channel == ServiceRequest.Channel.AGENCY and filed.data["amount"] == "120.00"
    assert filed.events.filter(actor=agent).exists()


def test_mes_resiliations_lists_a_dossier_terminated_without_a_closing_here(client):
    """A dossier terminated before the online agency (no account closing recorded here) is
    « Résilié » in « Mes abonnements »: « Mes résiliations » lists it with its end date instead of
    « Aucun de vos dossiers n'est résilié »."""
    from rak_customer.models import Dossier
    from tests.factories import DossierFactory

    customer, user = customer_with_account(phone="+212612000507")
    old = DossierFactory(
        customer=customer,
        status=Dossier.Status.TERMINATED,
        start_date=datetime.date(2019, 8, 1),
        end_date=datetime.date(2024, 11, 30),
        meter=None,
    )
    DossierFactory(customer=customer, meter=None)  # still active: not a termination
    client.force_login(user)

    mine = text(client.get(MINE))
    assert "Aucun de vos dossiers n'est résilié." not in mine
    rows = mine.split('data-testid="my-terminations"')[1].split("</table>")[0]
    assert rows.count('data-testid="my-termination-row"') == 1
    assert old.number in rows and "30/11/2024" in rows
    assert 'data-testid="terminations-before"' in mine
