"""« Demande de résiliation » and « Suivre ma demande de résiliation » as the customer uses them
(/espace/services/resiliation/, the request's page) and as staff process them in /backoffice/:
every refusal with its French message next to the field (no dossier, another customer's dossier, a
dossier already being terminated, a file too big or of the wrong kind, a wrong OTP), filing with the
acknowledgement e-mail and the list below, the final index with its photo on the tracking page, the
balance once accepted, 404 for another customer's request, the contact details asked first. The
back office: test_termination_backoffice.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_billing.models import DossierClosing
from rak_customer.models import Dossier
from rak_requests.models import ServiceRequest
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.reading_factories import png_upload
from tests.request_factories import exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db

URL = reverse("portal:kind_service", args=["resiliation"])
PHONE = "+212612000088"


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


def submit(client, **extra):
    data = {"dossiers": ["EA00000701"], "reason": "Départ de Kénitra", "action": "submit", "doc_cin": pdf_upload()}
    data.update(extra)
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def file_through_the_flow(client, sms_outbox) -> ServiceRequest:
    assert submit(client).status_code == 302
    assert client.post(URL, {"action": "otp_validate", "otp-otp": sms_outbox.last_code(PHONE)}).status_code == 302
    return ServiceRequest.objects.get(request_type__code="TERMINATION")


def test_the_page_follows_the_seed(logged):
    html = logged.get(URL).content.decode()
    assert "Demande de résiliation" in html
    assert "EA00000701" in html  # the dossiers to select (checkboxes)
    assert 'type="checkbox"' in html
    assert "Pièce d&#x27;identité (CIN recto et verso) *" in html
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in html
    assert "Les champs avec * sont obligatoires" in html
    assert "Toutes vos demandes de résiliation" in html


def test_each_refusal_has_its_french_message_and_nothing_is_filed(logged, account):
    none = submit(logged, dossiers=None)
    assert none.status_code == 400
    assert "Sélectionnez au moins un dossier à résilier." in none.content.decode()

    DossierFactory(number="EA00000999")  # another customer's
    theirs = submit(logged, dossiers=["EA00000999"])
    assert theirs.status_code == 400
    assert "Le dossier EA00000999 ne fait pas partie de vos dossiers actifs ou suspendus." in theirs.content.decode()

    big = submit(logged, doc_cin=oversized_pdf())
    assert big.status_code == 400
    assert "2 Mo" in big.content.decode()

    wrong = submit(logged, doc_cin=exe_renamed_pdf("cin.pdf"))
    assert wrong.status_code == 400
    assert "PDF, image" in wrong.content.decode() or "format" in wrong.content.decode()
    assert not ServiceRequest.objects.exists()


def test_wrong_otp_then_filing_acknowledgement_and_the_list_below(logged, account, sms_outbox, fixed_now):
    customer, _user, _dossier = account
    assert submit(logged).status_code == 302
    code = sms_outbox.last_code(PHONE)
    wrong = logged.post(URL, {"action": "otp_validate", "otp-otp": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "Code de confirmation incorrect." in wrong.content.decode()
    assert not ServiceRequest.objects.exists()

    assert logged.post(URL, {"action": "otp_validate", "otp-otp": code}).status_code == 302
    filed = ServiceRequest.objects.get()
    assert filed.number.startswith("RS") and [d.number for d in filed.dossiers.all()] == ["EA00000701"]
    assert filed.data == {"dossiers": ["EA00000701"], "reason": "Départ de Kénitra"}
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="nadia@example.ma", kind="request")
    assert email.subject.startswith("Accusé de réception")
    page = logged.get(URL).content.decode()
    assert filed.number in page and "En cours : aucune action" in page

    # a second request for the same dossier is refused next to the field
    again = submit(logged)
    assert again.status_code == 400
    assert f"fait déjà l&#x27;objet d&#x27;une demande de résiliation en cours (n° {filed.number})" in (
        again.content.decode()
    )


def test_final_index_on_the_tracking_page_then_accepted_with_the_balance(
    logged, client, account, sms_outbox, fixed_now
):
    customer, user, dossier = account
    request = file_through_the_flow(logged, sms_outbox)
    detail = reverse("portal:request_detail", args=[request.number])
    final_url = reverse("portal:request_final_index", args=[request.number])
    assert 'data-testid="final-index"' not in logged.get(detail).content.decode()  # not before acceptance

    from rak_requests.services import request_accept_phase

    request_accept_phase(request_id=request.pk, staff=staff_in("accueil"), now=fixed_now)
    page = logged.get(detail).content.decode()
    assert "Communiquer l&#x27;index final de votre compteur" in page
    assert 'data-testid="final-index"' in page

    no_photo = logged.post(final_url, {"dossier": "EA00000701", "index": "520"})
    assert no_photo.status_code == 400
    assert "Vous devez joindre une photo de l&#x27;index de votre compteur" in no_photo.content.decode()
    not_a_photo = logged.post(final_url, {"dossier": "EA00000701", "index": "520", "photo": exe_renamed_pdf("i.jpg")})
    assert not_a_photo.status_code == 400
    below = logged.post(final_url, {"dossier": "EA00000701", "index": "400", "photo": png_upload()})
    assert below.status_code == 400
    assert "L&#x27;index saisi est inférieur au dernier index facturé" in below.content.decode()
    assert 'value="400"' in below.content.decode()  # what was typed is kept

    done = logged.post(final_url, {"dossier": "EA00000701", "index": "520", "photo": png_upload()})
    assert done.status_code == 302
    page = logged.get(detail).content.decode()
    assert "Votre index final est enregistré : votre demande de résiliation est acceptée." in page
    assert 'data-testid="request-state">Accepté<' in page
    closing = DossierClosing.objects.get(dossier=dossier)
    assert closing.balance < 0
    assert "vous êtes créditeur de" in page
    assert closing.final_bill.number in page
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.TERMINATED


def test_another_customers_request_is_404(logged, account, client, sms_outbox, fixed_now):
    request = file_through_the_flow(logged, sms_outbox)
    _other, other_user = customer_with_account(phone="+212612000089")
    client.force_login(other_user)
    assert client.get(reverse("portal:request_detail", args=[request.number])).status_code == 404
    posted = client.post(
        reverse("portal:request_final_index", args=[request.number]),
        {"dossier": "EA00000701", "index": "520", "photo": png_upload()},
    )
    assert posted.status_code == 404


def test_without_an_email_the_customer_fills_it_in_first(client, sms_outbox):
    customer, user = customer_with_account(phone="+212612000087")  # no e-mail on the profile
    DossierFactory(customer=customer, number="EA00000701")
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "Dans l&#x27;absence de votre N° de téléphone ou d&#x27;adresse mail" in html
    submit(client)  # a valid form: still no OTP and nothing filed until the e-mail is there
    assert not ServiceRequest.objects.exists()
    assert not sms_outbox.all("+212612000087")


def test_an_unusual_final_index_is_confirmed_first(logged, account, sms_outbox, fixed_now):
    from rak_requests.services import request_accept_phase
    from tests.reading_factories import monthly_history

    _customer, _user, dossier = account
    monthly_history(dossier, last=datetime.date(2026, 2, 20), months=6, start_index=450, per_month=10)
    request = file_through_the_flow(logged, sms_outbox)
    request_accept_phase(request_id=request.pk, staff=staff_in("accueil"), now=fixed_now)
    final_url = reverse("portal:request_final_index", args=[request.number])

    unusual = logged.post(final_url, {"dossier": "EA00000701", "index": "9000", "photo": png_upload()})
    assert unusual.status_code == 400
    html = unusual.content.decode()
    assert "Vérifiez l&#x27;index saisi" in html and "Je confirme cet index" in html
    assert not DossierClosing.objects.filter(dossier=dossier, final_reading__isnull=False).exists()

    confirmed = logged.post(
        final_url, {"dossier": "EA00000701", "index": "9000", "photo": png_upload(), "confirm": "on"}
    )
    assert confirmed.status_code == 302
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.ACCEPTEE


def test_the_tracking_page_costs_the_same_queries_whatever_the_number_of_dossiers(
    logged, account, sms_outbox, fixed_now
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer, _user, _dossier = account
    request = file_through_the_flow(logged, sms_outbox)
    detail = reverse("portal:request_detail", args=[request.number])
    logged.get(detail)
    with CaptureQueriesContext(connection) as one:
        logged.get(detail)
    for n in range(5):
        request.dossiers.add(DossierFactory(customer=customer, number=f"EA0000080{n}"))
    with CaptureQueriesContext(connection) as six:
        page = logged.get(detail)
    assert page.content.decode().count("EA0000080") >= 5
    assert len(six) == len(one)
