"""The subscription lifecycle after the administrative admissibility (seed « Signature du contrat
et appel vidéo », « Paiement des frais », « Suivre ma demande d'abonnement »): the call and the
identity check, the contracts and their signature, the fees invoice paid through CMI or at the
counter, the meter installation that activates and closes — each step and each refusal."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from rak_base.models import Document, Message
from rak_billing.ledger import payment_record, payment_reverse
from rak_billing.models import Bill, MeterReading, Payment
from rak_customer.models import Customer, Dossier
from rak_payment_cmi.api import PaymentOrder
from rak_requests import lifecycle
from rak_requests.contracts import SignatureInvalid, contract_text_sha256, signature_png_decode
from rak_requests.models import CallRequest, Contract, InstallationOrder, Phase, RequestEvent, RequestType
from rak_requests.models import ServiceRequest as SR
from tests.factories import StaffFactory, customer_with_account, staff_in
from tests.integration.test_cmi_callback import callback_for, post_callback

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=CASABLANCA)
Code = Phase.Code
PHASES = [
    (Code.RECEVABILITE_ADMIN, "Recevabilité administrative"),
    (Code.RECEVABILITE_TECH, "Recevabilité technique"),
    (Code.SIGNATURE, "Signature du contrat"),
    (Code.PAIEMENT, "Paiement des frais"),
    (Code.POSE_COMPTEUR, "Pose du compteur"),
]
DATA = {
    "services": ["EAU", "ELECTRICITE"],
    "services_labels": ["Eau potable", "Électricité"],
    "address": "N° 12 rue Sebou",
    "district": "Ouled Oujih",
    "city": "Kénitra",
    "usage": "DOMESTIQUE",
    "usage_label": "Domestique (habitation)",
    "tariff_category_eau": "EAU_DOMESTIQUE",
    "tariff_category_eau_label": "Eau — usage domestique",
    "tariff_category_electricite": "BT_DOMESTIQUE",
    "tariff_category_electricite_label": "Basse tension — usage domestique",
    "power_kva": "6",
    "caliber_mm": "20",
}
_numbers = iter(range(1, 10**6))


def subscription_type() -> RequestType:
    request_type, _ = RequestType.objects.get_or_create(
        code=RequestType.Code.SUBSCRIPTION, defaults={"name": "Demande d'abonnement", "number_prefix": "AB"}
    )
    for position, (code, name) in enumerate(PHASES, start=1):
        if not Phase.objects.filter(request_type=request_type, code=code).exists():
            Phase.objects.create(request_type=request_type, code=code, name=name, position=position + 10)
    return request_type


def make_request(customer, *, phase: str = Code.RECEVABILITE_TECH, data: dict | None = None) -> SR:
    request_type = subscription_type()
    return SR.objects.create(
        number=f"AB26L{next(_numbers):05d}",
        request_type=request_type,
        customer=customer,
        phase=Phase.objects.get(request_type=request_type, code=phase),
        expected_action=SR.Action.CALL,
        data=dict(DATA if data is None else data),
        filed_at=NOW - datetime.timedelta(days=5),
    )


def signature_url(*, blank: bool = False, fmt: str = "PNG") -> str:
    image = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line([(10, 100), (80, 20), (150, 90), (290, 15)], fill=(20, 30, 60, 255), width=4)
    buffer = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "RGBA").save(buffer, fmt)
    mime = "png" if fmt == "PNG" else "jpeg"
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def prospect(db):
    customer, user = customer_with_account(
        phone="+212661234567", email="salma@example.ma", first_name="Salma", last_name="Bennani"
    )
    customer.status = Customer.Status.PROSPECT
    customer.save(update_fields=["status"])
    return customer, user


@pytest.fixture
def agent(db):
    return StaffFactory(username="agent.call")


@pytest.fixture
def request_tech(prospect):
    return make_request(prospect[0])


def reload(request: SR) -> SR:
    return SR.objects.select_related("phase", "fee_bill").get(pk=request.pk)


def to_signature(request: SR, agent) -> SR:
    customer = request.customer
    call = lifecycle.call_request_create(request_id=request.pk, customer=customer, now=NOW)
    lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=NOW)
    return lifecycle.technical_accept(request_id=request.pk, agent=agent, now=NOW)


def sign_all(request: SR) -> SR:
    for contract in request.contracts.order_by("service"):
        lifecycle.contract_sign(
            contract_id=contract.pk,
            customer=request.customer,
            signature_data_url=signature_url(),
            ip="196.12.3.4",
            now=NOW,
        )
    return reload(request)


def events(request: SR) -> list[str]:
    return list(request.events.order_by("at", "id").values_list("kind", flat=True))


# --- the whole lifecycle ----------------------------------------------------------------------------------


def test_call_then_identity_then_technical_acceptance_opens_the_signature(request_tech, agent):
    customer = request_tech.customer
    call = lifecycle.call_request_create(request_id=request_tech.pk, customer=customer, now=NOW)
    assert call.result == CallRequest.Result.PENDING
    request = reload(request_tech)
    assert request.expected_action == SR.Action.CALL
    assert lifecycle.can_call(request) is False  # once
    with pytest.raises(lifecycle.CallRefused, match="déjà enregistrée"):
        lifecycle.call_request_create(request_id=request.pk, customer=customer, now=NOW)

    lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=NOW)
    call.refresh_from_db()
    assert (call.checked_by, call.checked_at) == (agent, NOW)
    request = reload(request)
    assert request.phase.code == Code.RECEVABILITE_TECH and request.expected_action == SR.Action.NONE
    with pytest.raises(lifecycle.CallRefused, match="déjà vérifiée"):
        lifecycle.call_request_create(request_id=request.pk, customer=customer, now=NOW)

    request = lifecycle.technical_accept(request_id=request.pk, agent=agent, now=NOW)
    request = reload(request)
    assert request.phase.code == Code.SIGNATURE and request.expected_action == SR.Action.SIGN
    contracts = list(request.contracts.order_by("service"))
    assert [c.service for c in contracts] == ["EAU", "ELECTRICITE"]  # one contract per service
    water, power = contracts
    assert "N° 12 rue Sebou" in water.body_html and "20 mm" in water.body_html
    assert "6 kVA" in power.body_html and "Basse tension" in power.body_html
    assert water.fees_amount == Decimal("680.00")  # 150 HT + 20 % VAT + 500 deposit (20 mm)
    assert power.fees_amount == Decimal("640.00")  # 200 HT + 20 % VAT + 400 deposit (≤ 6 kVA)
    assert events(request)[-3:] == [RequestEvent.Kind.CALL_REQUESTED, RequestEvent.Kind.IDENTITY_CHECKED, "PHASE"]
    bells = Message.objects.filter(channel=Message.Channel.BELL).values_list("body", flat=True)
    assert any("signez votre contrat" in body for body in bells)


def test_failed_identity_check_allows_a_new_call_and_signature_waits_for_it(request_tech, agent):
    customer = request_tech.customer
    call = lifecycle.call_request_create(request_id=request_tech.pk, customer=customer, now=NOW)
    lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.FAILED, now=NOW)
    with pytest.raises(lifecycle.IdentityCheckRefused):
        lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=NOW)
    request = lifecycle.technical_accept(request_id=request_tech.pk, agent=agent, now=NOW)
    request = reload(request)
    assert request.phase.code == Code.SIGNATURE and request.expected_action == SR.Action.CALL
    contract = request.contracts.first()
    with pytest.raises(lifecycle.IdentityNotChecked, match="Appelez d'abord le service client"):
        lifecycle.contract_sign(
            contract_id=contract.pk, customer=customer, signature_data_url=signature_url(), ip="1.2.3.4", now=NOW
        )
    again = lifecycle.call_request_create(request_id=request.pk, customer=customer, now=NOW)
    lifecycle.identity_check_record(call_id=again.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=NOW)
    assert reload(request).expected_action == SR.Action.SIGN


def test_signing_all_contracts_issues_the_fees_invoice_and_asks_to_pay(request_tech, agent):
    request = to_signature(request_tech, agent)
    first = request.contracts.order_by("service").first()
    lifecycle.contract_sign(
        contract_id=first.pk, customer=request.customer, signature_data_url=signature_url(), ip="196.12.3.4", now=NOW
    )
    assert reload(request).phase.code == Code.SIGNATURE  # the electricity contract is still to sign
    second = request.contracts.order_by("service").last()
    lifecycle.contract_sign(
        contract_id=second.pk, customer=request.customer, signature_data_url=signature_url(), ip="196.12.3.4", now=NOW
    )
    request = reload(request)
    assert request.phase.code == Code.PAIEMENT and request.expected_action == SR.Action.PAY
    bill = request.fee_bill
    assert bill.kind == Bill.Kind.SUBSCRIPTION and bill.total_ttc == Decimal("1320.00")
    assert sorted(bill.lines.values_list("label", flat=True)) == [
        "Dépôt de garantie eau potable (20 mm)",
        "Dépôt de garantie électricité (6 kVA)",
        "Frais d'abonnement eau potable",
        "Frais d'abonnement électricité",
    ]
    assert lifecycle.can_pay(request) and not lifecycle.contracts_downloadable(request)
    with pytest.raises(lifecycle.SignatureRefused):
        lifecycle.contract_sign(
            contract_id=first.pk, customer=request.customer, signature_data_url=signature_url(), ip="1", now=NOW
        )


def test_signed_pdf_is_registered_with_its_sha256_and_the_text_hash(request_tech, agent):
    request = to_signature(request_tech, agent)
    contract = request.contracts.order_by("service").first()
    lifecycle.contract_sign(
        contract_id=contract.pk, customer=request.customer, signature_data_url=signature_url(), ip="196.12.3.4", now=NOW
    )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.SIGNED and contract.signer_ip == "196.12.3.4"
    assert contract.signed_at == NOW and contract.signature.name.endswith(".png")
    document = contract.document
    assert document.kind == Document.Kind.CONTRACT
    with document.file.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == document.sha256
    event = request.events.get(kind=RequestEvent.Kind.CONTRACT_SIGNED)
    assert (
        event.data["text_sha256"]
        == contract_text_sha256(contract)
        == hashlib.sha256(contract.body_html.encode()).hexdigest()
    )
    assert event.data["pdf_sha256"] == document.sha256 and event.data["ip"] == "196.12.3.4"


def test_card_payment_moves_the_request_to_installation_without_a_human(request_tech, agent, now):
    request = sign_all(to_signature(request_tech, agent))
    order = lifecycle.fees_pay_start(request_id=request.pk, customer=request.customer, email="s@example.ma", now=NOW)
    assert order.purpose == PaymentOrder.Purpose.REQUEST_FEE and order.amount_bills == Decimal("1320.00")
    assert post_callback(Client(), callback_for(order)) == "ACTION=POSTAUTH"
    request = reload(request)
    assert request.phase.code == Code.POSE_COMPTEUR and request.expected_action == SR.Action.NONE
    assert sorted(request.installations.values_list("service", "status")) == [
        ("EAU", "PENDING"),
        ("ELECTRICITE", "PENDING"),
    ]
    assert lifecycle.contracts_downloadable(request)
    mails = Message.objects.filter(channel=Message.Channel.EMAIL, recipient="salma@example.ma")
    contract_mail = mails.get(subject__startswith="Votre contrat d'abonnement")
    assert "référence" in contract_mail.body and "/pdf/" in contract_mail.body
    assert RequestEvent.Kind.FEES_PAID in events(request)


def test_agency_counter_payment_moves_the_request_on_with_no_sweep(request_tech, agent):
    """« Facture réglée » from the ledger: paying the fees invoice at the counter moves the request
    on in the same transaction (before: only a periodic sweep noticed it)."""
    request = sign_all(to_signature(request_tech, agent))
    payment_record(
        customer=request.customer,
        amount=Decimal("1320.00"),
        method=Payment.Method.CASH,
        paid_at=NOW,
        bills=[request.fee_bill],
    )
    request = reload(request)
    assert request.phase.code == Code.POSE_COMPTEUR and request.expected_action == SR.Action.NONE
    assert request.installations.count() == 2
    assert RequestEvent.Kind.FEES_PAID in events(request)
    contract_mail = Message.objects.filter(channel=Message.Channel.EMAIL, recipient="salma@example.ma")
    assert contract_mail.filter(subject__startswith="Votre contrat d'abonnement").count() == 1


def test_a_network_payment_file_moves_the_request_on(request_tech, agent):
    from rak_payment_cmi.network_imports import network_payments_import

    request = sign_all(to_signature(request_tech, agent))
    data = (
        "code_client;numero_facture;montant;date;reference;reseau\n"
        f";{request.fee_bill.number};1320,00;10/03/2026 09:30;TS-778;Tasshilat\n"
    ).encode()
    imported = network_payments_import(data=data, file_name="tasshilat-0310.csv", now=NOW)
    assert imported.rows_created == 1
    request = reload(request)
    assert request.phase.code == Code.POSE_COMPTEUR and request.fee_bill.settled_at is not None
    assert request.installations.count() == 2


def test_installation_creates_meters_and_dossiers_activates_and_closes(request_tech, agent):
    request = sign_all(to_signature(request_tech, agent))
    payment_record(customer=request.customer, amount=Decimal("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    water, power = request.installations.order_by("service")
    lifecycle.installation_record(
        order_id=water.pk, agent=agent, meter_number="sn2612345678", caliber="", brand="Sensus", index=0, now=NOW
    )
    request = reload(request)
    assert request.status == SR.Status.EN_COURS  # the electricity meter is still to install
    with pytest.raises(lifecycle.InstallationRefused, match="déjà posé"):
        lifecycle.installation_record(
            order_id=water.pk, agent=agent, meter_number="X1", caliber="", brand="", index=0, now=NOW
        )
    with pytest.raises(lifecycle.InstallationRefused, match="déjà enregistré"):
        lifecycle.installation_record(
            order_id=power.pk, agent=agent, meter_number="SN2612345678", caliber="", brand="", index=0, now=NOW
        )
    lifecycle.installation_record(
        order_id=power.pk, agent=agent, meter_number="IS26000777", caliber="30 A", brand="Iskra", index=12, now=NOW
    )
    request = reload(request)
    assert request.status == SR.Status.ACCEPTEE and request.processed_at == NOW
    assert request.expected_action == SR.Action.NONE
    dossiers = {d.service: d for d in Dossier.objects.filter(customer=request.customer)}
    assert set(dossiers) == {"EAU", "ELECTRICITE"}
    assert dossiers["EAU"].status == Dossier.Status.ACTIVE and dossiers["EAU"].deposit_amount == Decimal("500.00")
    assert dossiers["ELECTRICITE"].deposit_amount == Decimal("400.00")
    assert dossiers["EAU"].number.startswith("EA") and dossiers["ELECTRICITE"].number.startswith("EL")
    assert dossiers["EAU"].start_date == NOW.date() and dossiers["EAU"].meter.caliber == "20 mm"
    assert dossiers["ELECTRICITE"].meter.number == "IS26000777" and dossiers["ELECTRICITE"].meter.caliber == "30 A"
    assert dossiers["EAU"].premises == dossiers["ELECTRICITE"].premises == request.premises
    assert request.premises.address == "N° 12 rue Sebou" and request.premises.reference.startswith("LK")
    assert set(request.dossiers.all()) == set(dossiers.values())
    reading = MeterReading.objects.get(dossier=dossiers["ELECTRICITE"])
    assert reading.index == 12 and reading.reading_date == NOW.date()
    assert Customer.objects.get(pk=request.customer_id).status == "CLIENT"
    assert InstallationOrder.objects.filter(request=request, status="DONE").count() == 2
    active = Message.objects.get(channel=Message.Channel.EMAIL, subject__startswith="Votre abonnement est actif")
    assert "Contrat eau potable" in active.body


# --- refusals --------------------------------------------------------------------------------------------


def test_sign_before_technical_acceptance_is_refused(request_tech, agent):
    from rak_requests.contracts import contracts_generate

    contract = contracts_generate(request=request_tech, now=NOW)[0]
    with pytest.raises(lifecycle.SignatureRefused, match="après la validation de la recevabilité technique"):
        lifecycle.contract_sign(
            contract_id=contract.pk,
            customer=request_tech.customer,
            signature_data_url=signature_url(),
            ip="1.2.3.4",
            now=NOW,
        )


def test_pay_before_signing_is_refused(request_tech, agent):
    request = to_signature(request_tech, agent)
    with pytest.raises(lifecycle.PaymentRefused, match="après la signature"):
        lifecycle.fees_pay_start(request_id=request.pk, customer=request.customer, email="s@example.ma", now=NOW)


def test_install_before_payment_is_refused(request_tech, agent):
    request = sign_all(to_signature(request_tech, agent))
    InstallationOrder.objects.create(request=request, service="EAU", created_at=NOW)  # forged early order
    order = request.installations.get()
    with pytest.raises(lifecycle.InstallationRefused, match="après le paiement des frais"):
        lifecycle.installation_record(
            order_id=order.pk, agent=agent, meter_number="SN1", caliber="", brand="", index=0, now=NOW
        )
    assert not Dossier.objects.filter(customer=request.customer).exists()


def test_call_outside_the_technical_and_signature_phases_is_refused(prospect):
    request = make_request(prospect[0], phase=Code.RECEVABILITE_ADMIN)
    with pytest.raises(lifecycle.CallRefused):
        lifecycle.call_request_create(request_id=request.pk, customer=request.customer, now=NOW)


@pytest.mark.parametrize(
    "data_url",
    [
        "",
        "data:image/png;base64,not-base64!!",
        "data:image/png;base64," + base64.b64encode(b"MZ\x90\x00 renamed exe").decode(),
        "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode(),
    ],
)
def test_signature_must_be_a_real_png(data_url):
    with pytest.raises(SignatureInvalid):
        signature_png_decode(data_url)


def test_blank_or_jpeg_signature_is_refused():
    with pytest.raises(SignatureInvalid, match="vide"):
        signature_png_decode(signature_url(blank=True))
    with pytest.raises(SignatureInvalid):
        signature_png_decode(signature_url(fmt="JPEG"))
    assert signature_png_decode(signature_url()).startswith(b"\x89PNG")


# --- access control -------------------------------------------------------------------------------------


def test_another_customers_request_and_contract_are_not_found(request_tech, agent):
    request = to_signature(request_tech, agent)
    stranger, _user = customer_with_account(phone="+212699999999", first_name="Omar", last_name="Tazi")
    contract = request.contracts.first()
    with pytest.raises(lifecycle.RequestNotFound):
        lifecycle.contract_sign(
            contract_id=contract.pk, customer=stranger, signature_data_url=signature_url(), ip="1", now=NOW
        )
    with pytest.raises(lifecycle.RequestNotFound):
        lifecycle.call_request_create(request_id=request.pk, customer=stranger, now=NOW)
    with pytest.raises(lifecycle.RequestNotFound):
        lifecycle.fees_pay_start(request_id=request.pk, customer=stranger, email="o@example.ma", now=NOW)


def test_portal_pages_of_another_customer_are_404(client, request_tech, agent):
    request = sign_all(to_signature(request_tech, agent))
    payment_record(customer=request.customer, amount=Decimal("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    contract = request.contracts.first()
    urls = [
        reverse("portal:lifecycle_sign", args=[request.number]),
        reverse("portal:lifecycle_pay", args=[request.number]),
        reverse("portal:lifecycle_contract_pdf", args=[contract.pk]),
        reverse("portal:lifecycle_signature", args=[contract.pk]),
    ]
    _stranger, stranger_user = customer_with_account(phone="+212699999998", first_name="Omar", last_name="Tazi")
    client.force_login(stranger_user)
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("portal:lifecycle_call", args=[request.number])).status_code == 404
    client.force_login(request.customer.portal_account.user)
    response = client.get(reverse("portal:lifecycle_contract_pdf", args=[contract.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


# --- portal pages -----------------------------------------------------------------------------------------


def test_portal_call_sign_and_pay_pages(client, request_tech, agent, settings):
    customer = request_tech.customer
    client.force_login(customer.portal_account.user)
    response = client.post(reverse("portal:lifecycle_call", args=[request_tech.number]), follow=True)
    assert "un conseiller de la RAK va vous appeler" in response.content.decode()
    call = CallRequest.objects.get(request=request_tech)
    lifecycle.identity_check_record(call_id=call.pk, agent=agent, result=CallRequest.Result.CONFIRMED, now=NOW)
    lifecycle.technical_accept(request_id=request_tech.pk, agent=agent, now=NOW)

    sign_url = reverse("portal:lifecycle_sign", args=[request_tech.number])
    page = client.get(sign_url).content.decode()
    assert 'id="signature-pad"' in page and "Contrat d'abonnement — eau potable" in page
    water, power = request_tech.contracts.order_by("service")
    response = client.post(sign_url, {"contract": water.pk, "signature": signature_url(blank=True)})
    assert response.status_code == 400 and "vide" in response.content.decode()
    client.post(sign_url, {"contract": water.pk, "signature": signature_url()})
    assert "électricité" in client.get(sign_url).content.decode()
    response = client.post(sign_url, {"contract": power.pk, "signature": signature_url()})
    assert response.status_code == 302 and response["Location"].endswith("/payer-les-frais/")
    # the signed PDF is kept by the RAK until the fees are paid
    assert client.get(reverse("portal:lifecycle_contract_pdf", args=[water.pk])).status_code == 404
    assert client.get(reverse("portal:lifecycle_signature", args=[water.pk]))["Content-Type"] == "image/png"

    pay_url = reverse("portal:lifecycle_pay", args=[request_tech.number])
    page = client.get(pay_url).content.decode()
    assert "1\u202f320,00\xa0DH" in page  # the French format (issue 9 §2)
    response = client.post(pay_url, {"conditions": "on"})
    assert response.status_code == 200 and 'data-testid="cmi-checkout"' in response.content.decode()
    order = PaymentOrder.objects.get(customer=customer)
    assert order.purpose == PaymentOrder.Purpose.REQUEST_FEE
    post_callback(Client(), callback_for(order))
    assert reload(request_tech).phase.code == Code.POSE_COMPTEUR
    response = client.get(reverse("portal:lifecycle_contract_pdf", args=[water.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_staff_phase_acceptance_of_the_technical_check_goes_through_the_lifecycle(request_tech, agent):
    from rak_requests.services import PhaseNeedsCustomer, request_accept_phase

    moved = request_accept_phase(request_id=request_tech.pk, staff=agent, now=NOW, expect_phase=Code.RECEVABILITE_TECH)
    assert moved.phase.code == Code.SIGNATURE and moved.expected_action == SR.Action.CALL  # identity not checked yet
    assert moved.contracts.count() == 2
    last = Phase.objects.get(request_type=moved.request_type, code=Code.POSE_COMPTEUR)
    SR.objects.filter(pk=moved.pk).update(phase=last)
    with pytest.raises(PhaseNeedsCustomer):  # recording the meter closes it, not a button
        request_accept_phase(request_id=moved.pk, staff=agent, now=NOW)


# --- back office ------------------------------------------------------------------------------------------


def test_back_office_call_queue_and_identity_check(client, request_tech):
    from tests.integration.test_backoffice import changeform_data, followed_messages

    call = lifecycle.call_request_create(request_id=request_tech.pk, customer=request_tech.customer, now=NOW)
    agent = staff_in("accueil", username="agent.accueil")
    client.force_login(agent)
    queue = client.get(reverse("admin:rak_requests_callrequest_changelist")).content.decode()
    assert request_tech.number in queue and "+212661234567" in queue and "Salma Bennani" in queue
    url = reverse("admin:rak_requests_callrequest_change", args=[call.pk])
    data = changeform_data(client.get(url))
    data.update(
        {"check_notes": ["CIN présentée en visio, questions OK"], "rak_requests_callrequest_identity_confirmed": [""]}
    )
    response = client.post(url, data)
    assert any("Identité confirmée" in m for m in followed_messages(client, response))
    call.refresh_from_db()
    assert call.result == "CONFIRMED" and call.checked_by == agent and call.notes.startswith("CIN")
    # the queue shows the calls still to make
    assert request_tech.number not in client.get(reverse("admin:rak_requests_callrequest_changelist")).content.decode()


def test_back_office_installation_order_and_payment_check(client, request_tech, agent):
    from tests.integration.test_backoffice import changeform_data, followed_messages

    request = sign_all(to_signature(request_tech, agent))
    payment_record(customer=request.customer, amount=Decimal("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    technician = staff_in("technique", username="tech.pose")
    client.force_login(technician)
    listing = reverse("admin:rak_requests_installationorder_changelist")
    assert request.number in client.get(listing).content.decode()  # paid at the counter: moved on at once
    response = client.get(reverse("admin:rak_requests_installationorder_check_payments"))
    assert any("pose du compteur : 0" in m for m in followed_messages(client, response))  # nothing left behind
    for order, number in zip(request.installations.order_by("service"), ("SN2699000001", "IS2699000002"), strict=True):
        url = reverse("admin:rak_requests_installationorder_change", args=[order.pk])
        data = changeform_data(client.get(url))
        data.update(
            {
                "meter_number": [number],
                "brand": ["Sensus"],
                "caliber": [""],
                "index": ["0"],
                "rak_requests_installationorder_record_meter": [""],
            }
        )
        assert any("Pose enregistrée" in m for m in followed_messages(client, client.post(url, data)))
    request = reload(request)
    assert request.status == SR.Status.ACCEPTEE
    assert sorted(request.dossiers.values_list("meter__number", flat=True)) == ["IS2699000002", "SN2699000001"]


def test_request_page_shows_the_lifecycle_buttons(client, request_tech, agent):
    client.force_login(request_tech.customer.portal_account.user)
    url = reverse("portal:request_detail", args=[request_tech.number])
    assert 'data-testid="call-button"' in client.get(url).content.decode()
    to_signature(request_tech, agent)
    page = client.get(url).content.decode()
    assert 'data-testid="call-button"' not in page and 'data-testid="sign-link"' in page
    request = sign_all(request_tech)
    page = client.get(url).content.decode()
    assert 'data-testid="pay-link"' in page and "conservé par la RAK jusqu'au paiement des frais" in page
    payment_record(customer=request.customer, amount=Decimal("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    page = client.get(url).content.decode()
    assert 'data-testid="contract-pdf"' in page and "ordre de pose en cours" in page


def test_back_office_contract_page_shows_the_signature_proof(client, request_tech, agent):
    request = to_signature(request_tech, agent)
    contract = request.contracts.order_by("service").first()
    lifecycle.contract_sign(
        contract_id=contract.pk, customer=request.customer, signature_data_url=signature_url(), ip="196.12.3.4", now=NOW
    )
    contract.refresh_from_db()
    client.force_login(staff_in("accueil", username="agent.contrats"))
    page = client.get(reverse("admin:rak_requests_contract_change", args=[contract.pk])).content.decode()
    assert contract_text_sha256(contract) in page and "196.12.3.4" in page
    assert contract.document.reference[:4] in page


def test_a_failure_after_payment_never_loses_the_card_payment(client, request_tech, agent):
    """Moving the request on fails (the database refuses the installation order: a trigger, as a
    full disk or a lock timeout would): the card payment is recorded all the same, and the back
    office's « Vérifier les paiements des frais » moves the request on once the cause is gone."""
    from django.db import connection

    from tests.integration.test_backoffice import followed_messages

    request = sign_all(to_signature(request_tech, agent))
    order = lifecycle.fees_pay_start(request_id=request.pk, customer=request.customer, email="s@example.ma", now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_order() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disque plein'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_order BEFORE INSERT ON rak_requests_installationorder "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_order()"
        )
    assert post_callback(Client(), callback_for(order)) == "ACTION=POSTAUTH"
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.PAID and reload(request).fee_bill.settled_at is not None
    assert reload(request).phase.code == Code.PAIEMENT  # not moved, but nothing lost
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_order ON rak_requests_installationorder")

    client.force_login(staff_in("technique", username="tech.verif"))
    response = client.get(reverse("admin:rak_requests_installationorder_check_payments"))
    assert any("pose du compteur : 1" in m for m in followed_messages(client, response))
    assert reload(request).phase.code == Code.POSE_COMPTEUR


@pytest.fixture
def supervisor_reversal(db):
    user = StaffFactory(username="sup.reversal", email="sup@rak.ma")
    user.groups.set(Group.objects.filter(name="superviseur"))
    return user


def test_reversed_fee_payment_stops_the_installation_until_paid_again(request_tech, agent, supervisor_reversal):
    """A payment that had paid the fees is reversed (a cheque returned unpaid, a card chargeback):
    the fees invoice re-opens; the request that had moved on does not go on as if it were paid —
    no meter installed until the fees are paid again, the reversal written in the request's history
    (internal note) and the supervisors told; paying again lets the pose go on."""
    request = sign_all(to_signature(request_tech, agent))
    payment = payment_record(
        customer=request.customer,
        amount=Decimal("1320.00"),
        method=Payment.Method.CHEQUE,
        paid_at=NOW,
        bills=[request.fee_bill],
    )
    request = reload(request)
    assert request.phase.code == Code.POSE_COMPTEUR

    payment_reverse(payment=payment, reason="Chèque revenu impayé", by=agent, at=NOW)

    request = reload(request)
    assert request.fee_bill.settled_at is None
    note = request.events.filter(kind=RequestEvent.Kind.NOTE, internal=True).order_by("-pk").first()
    assert note is not None and "Chèque revenu impayé" in note.message and request.fee_bill.number in note.message
    bell = Message.objects.filter(
        user=supervisor_reversal, channel=Message.Channel.BELL, subject__contains=request.number
    )
    assert bell.count() == 1

    water, _power = request.installations.order_by("service")
    with pytest.raises(lifecycle.InstallationRefused, match="frais"):
        lifecycle.installation_record(
            order_id=water.pk, agent=agent, meter_number="SN26R0001", caliber="", brand="Sensus", index=0, now=NOW
        )

    payment_record(
        customer=request.customer,
        amount=Decimal("1320.00"),
        method=Payment.Method.CASH,
        paid_at=NOW,
        bills=[request.fee_bill],
    )
    lifecycle.installation_record(
        order_id=water.pk, agent=agent, meter_number="SN26R0001", caliber="", brand="Sensus", index=0, now=NOW
    )
    assert reload(request).installations.filter(status="DONE").count() == 1
