"""The generic customer flow of the simple request types (/espace/services/<slug>/), driven with a
test kind (« Demande d'essai »: a reason, dossiers, an ID document, OTP by SMS): the page, the OTP
step (wrong, expired, resent), refused files (too big, wrong kind) without losing what was entered,
the contact details asked first, filing (channel WEB, attachments, acknowledgement e-mail), the list
of the customer's requests of the type, 404s for another customer and for unknown slugs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_requests.models import Attachment, RequestEvent, ServiceRequest
from tests.factories import DossierFactory, customer_with_account
from tests.kind_factories import (
    TEST_SLUG,
    TrialKindNoOtp,
    trial_kind_registered,
    trial_type,
    with_test_templates,
)
from tests.request_factories import ServiceRequestFactory, exe_renamed_pdf, oversized_pdf, pdf_upload

pytestmark = pytest.mark.django_db

URL = reverse("portal:kind_service", args=[TEST_SLUG])


@pytest.fixture(autouse=True)
def trial(settings):
    with_test_templates(settings)
    request_type = trial_type()
    with trial_kind_registered() as kind:
        yield kind, request_type


@pytest.fixture
def account():
    customer, user = customer_with_account(phone="+212612000077", email="amal@example.ma", first_name="Amal")
    DossierFactory(customer=customer, number="D-900001")
    return customer, user


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


@pytest.fixture
def fixed_now(monkeypatch, now):
    state = {"now": now}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return state


def _submit(client, **extra):
    data = {"reason": "Déménagement", "dossiers": ["D-900001"], "action": "submit", "doc_cin": pdf_upload()}
    data.update(extra)
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def _sms_code(sms_outbox) -> str:
    return sms_outbox.last_code("+212612000077")


def test_the_page_shows_the_title_intro_fields_and_documents_of_the_kind(logged):
    page = logged.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Demande d&#x27;essai" in html or "Demande d'essai" in html
    assert 'data-testid="trial-intro"' in html
    assert "Les champs avec * sont obligatoires" in html
    assert "Pièce d&#x27;identité *" in html
    assert 'accept=".heic,.jpeg,.jpg,.pdf,.png,.rar,.webp,.zip"' in html
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in html
    assert "Photo du compteur</label>" in html  # optional: no star
    assert "image, 2 Mo au plus" in html
    assert "Toutes vos demandes d&#x27;essai" in html


def test_otp_flow_files_the_request_with_its_document_and_queues_the_acknowledgement(
    logged, account, sms_outbox, fixed_now
):
    customer, user = account
    response = _submit(logged)
    assert response.status_code == 302
    assert not ServiceRequest.objects.exists()  # nothing filed before the code
    page = logged.get(URL).content.decode()
    assert "Saisissez le code OTP puis cliquez sur le bouton « Valider »" in page
    assert "Renvoyer le code" in page
    assert "se terminant par" in page

    wrong = logged.post(
        URL, {"action": "otp_validate", "otp-otp": "000000" if _sms_code(sms_outbox) != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert "Code de confirmation incorrect. Il vous reste 4 essais." in wrong.content.decode()
    assert not ServiceRequest.objects.exists()

    done = logged.post(URL, {"action": "otp_validate", "otp-otp": _sms_code(sms_outbox)})
    assert done.status_code == 302
    filed = ServiceRequest.objects.get()
    assert filed.customer == customer and filed.channel == ServiceRequest.Channel.WEB
    assert filed.data == {"dossiers": ["D-900001"], "reason": "Déménagement"}
    assert [d.number for d in filed.dossiers.all()] == ["D-900001"]
    attachment = Attachment.objects.get(request=filed)
    assert attachment.document_code == "cin" and attachment.label == "Pièce d'identité"
    assert filed.events.get(kind=RequestEvent.Kind.FILED).actor == user
    email = Message.objects.get(channel=Message.Channel.EMAIL, recipient="amal@example.ma", kind="request")
    assert email.subject.startswith("Accusé de réception")

    page = logged.get(URL).content.decode()
    assert f"Votre demande n° {filed.number} a bien été envoyée" in page
    assert reverse("portal:request_receipt_pdf", args=[filed.number]) in page  # « Télécharger le reçu »
    assert "flash-success" in page
    assert page.count('data-testid="kind-request-row"') == 1
    assert "D-900001" in page and "En cours : aucune action" in page
    assert reverse("portal:request_detail", args=[filed.number]) in page


def test_an_expired_code_is_refused_then_a_resent_code_files(logged, sms_outbox, fixed_now):
    _submit(logged)
    first = _sms_code(sms_outbox)
    fixed_now["now"] += timedelta(minutes=6)
    expired = logged.post(URL, {"action": "otp_validate", "otp-otp": first})
    assert expired.status_code == 400
    assert "Ce code de confirmation a expiré" in expired.content.decode()
    assert not ServiceRequest.objects.exists()

    resent = logged.post(URL, {"action": "otp_resend"})
    assert resent.status_code == 302
    assert "Un nouveau code de confirmation vous a été envoyé par SMS." in logged.get(URL).content.decode()
    second = _sms_code(sms_outbox)
    assert logged.post(URL, {"action": "otp_validate", "otp-otp": second}).status_code == 302
    assert ServiceRequest.objects.count() == 1


def test_a_file_too_big_or_of_the_wrong_kind_is_refused_next_to_its_field_and_nothing_is_lost(logged, sms_outbox):
    too_big = _submit(logged, doc_cin=oversized_pdf())
    html = too_big.content.decode()
    assert too_big.status_code == 400
    assert "Le fichier est trop volumineux" in html and "2 Mo" in html
    assert 'value="Déménagement"' in html  # the reason is still there
    assert "has-error" in html
    assert len(sms_outbox) == 0

    wrong = _submit(logged, doc_cin=exe_renamed_pdf())
    assert wrong.status_code == 400
    assert "n&#x27;est pas dans un format accepté" in wrong.content.decode()

    # a good file with a form error: the file stays staged, the next post needs no file
    staged = _submit(logged, reason="")
    assert staged.status_code == 400
    assert 'data-testid="staged-cin"' in staged.content.decode()
    again = _submit(logged, doc_cin=None)
    assert again.status_code == 302
    assert len(sms_outbox) == 1
    assert not ServiceRequest.objects.exists()


def test_the_kind_checks_refuse_before_any_code_is_sent(logged, sms_outbox):
    refused = _submit(logged, reason="refus")
    assert refused.status_code == 400
    assert "Ce motif ne peut pas être accepté." in refused.content.decode()
    assert len(sms_outbox) == 0


def test_a_missing_required_document_is_named(logged):
    page = _submit(logged, doc_cin=None)
    assert page.status_code == 400
    assert "Cette pièce est obligatoire." in page.content.decode()


def test_without_an_email_the_page_asks_for_it_first_and_refuses_to_file(client, sms_outbox):
    customer, user = customer_with_account(phone="+212612000078")
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Dans l&#x27;absence de votre N° de téléphone ou d&#x27;adresse mail" in page
    assert 'data-testid="contact-missing"' in page

    refused = _submit(client, dossiers=None)
    assert refused.status_code == 400
    assert "Veuillez les renseigner avant de soumettre votre demande" in refused.content.decode()
    assert len(sms_outbox) == 0

    added = client.post(URL, {"action": "contact_email", "contact-email": "nour@example.ma"})
    assert added.status_code == 302
    page = client.get(URL).content.decode()
    assert 'data-testid="contact-missing"' not in page
    assert 'value="Déménagement"' in page  # the form kept what was entered before the detour
    assert 'data-testid="staged-cin"' in page
    assert _submit(client, dossiers=None, doc_cin=None).status_code == 302  # now the code goes out
    assert len(sms_outbox) == 1


def test_without_a_phone_the_customer_confirms_a_new_number_by_sms_here(client, sms_outbox):
    from rak_customer.models import Contact

    customer, user = customer_with_account(phone="+212612000079", email="said@example.ma")
    Contact.objects.filter(customer=customer, kind=Contact.Kind.PHONE).delete()
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Recevoir un code de confirmation" in page
    # the customer has no phone at all: the field asks for « N° de téléphone », not for a « Nouveau » one
    assert "N° de téléphone (mobile)" in page and "Nouveau n° de téléphone" not in page
    assert client.post(URL, {"action": "contact_phone", "contact-phone": "0612000080"}).status_code == 302
    code = sms_outbox.last_code("+212612000080")
    wrong = client.post(URL, {"action": "contact_phone_otp", "contact-otp": "999999" if code != "999999" else "111111"})
    assert wrong.status_code == 400 and "Code de confirmation incorrect" in wrong.content.decode()
    assert client.post(URL, {"action": "contact_phone_otp", "contact-otp": code}).status_code == 302
    assert 'data-testid="contact-missing"' not in client.get(URL).content.decode()


def test_without_otp_a_kind_files_at_once(logged, trial, sms_outbox):
    with trial_kind_registered(TrialKindNoOtp):
        response = _submit(logged)
    assert response.status_code == 302
    assert ServiceRequest.objects.count() == 1
    assert not any("code de confirmation" in body for body in sms_outbox.bodies())


def test_another_customers_request_is_not_listed_nor_shown(logged, account, trial):
    _kind, request_type = trial
    other, _user = customer_with_account(phone="+212612000090")
    theirs = ServiceRequestFactory(customer=other, request_type=request_type, number="ES2026-000999")
    page = logged.get(URL).content.decode()
    assert theirs.number not in page
    assert logged.get(reverse("portal:request_detail", args=[theirs.number])).status_code == 404


def test_unknown_slug_is_404_and_anonymous_visitors_are_sent_to_log_in(client, logged):
    assert logged.get(reverse("portal:kind_service", args=["inconnu"])).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302


def test_the_list_of_requests_takes_a_fixed_number_of_queries(logged, account, trial, django_assert_max_num_queries):
    customer, _user = account
    _kind, request_type = trial
    for n in range(12):
        r = ServiceRequestFactory(customer=customer, request_type=request_type, number=f"ES2026-{n:06d}")
        r.dossiers.set(customer.dossiers.all())
    with django_assert_max_num_queries(16):
        page = logged.get(URL)
    assert page.content.decode().count('data-testid="kind-request-row"') == 12


def test_the_tracking_page_of_a_filed_request_shows_state_summary_documents_history_and_cancel(
    logged, sms_outbox, fixed_now
):
    _submit(logged)
    logged.post(URL, {"action": "otp_validate", "otp-otp": _sms_code(sms_outbox)})
    filed = ServiceRequest.objects.get()
    page = logged.get(reverse("portal:request_detail", args=[filed.number]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "En cours : aucune action" in html
    assert "<dt>Motif</dt><dd>Déménagement</dd>" in html  # the kind's summary labels
    assert "<dt>Dossier(s) concerné(s)</dt><dd>D-900001</dd>" in html
    assert "Pièce d&#x27;identité</a>" in html and "cin.pdf" in html
    assert "Demande déposée" in html  # history
    assert reverse("portal:request_cancel", args=[filed.number]) in html
    assert "Annuler la demande" in html
    confirm = logged.get(reverse("portal:request_cancel", args=[filed.number])).content.decode()
    assert "Oui, annuler la demande" in confirm
    logged.post(reverse("portal:request_cancel", args=[filed.number]))
    assert "Annulé" in logged.get(URL).content.decode()


def test_services_et_demandes_lists_the_seed_services_with_their_pages(logged):
    page = logged.get(reverse("portal:customer_services"))
    html = page.content.decode()
    assert page.status_code == 200
    for title, url in (
        ("Demande d&#x27;abonnement", reverse("portal:subscription")),
        ("Demande de branchement", reverse("portal:connection")),
        ("Simuler ma consommation", reverse("portal:simulator")),
        ("Envoyer une réclamation", reverse("portal:complaint_new")),
        ("Signaler une fuite ou une coupure", reverse("portal:incident_new")),
        ("Mes réclamations", reverse("portal:complaints")),
        ("Relève de mon index de consommation", reverse("portal:self_reading")),
        ("Historique des relevés de consommation", reverse("portal:reading_history")),
        ("Alimentation des avances sur consommation", reverse("portal:advance")),
    ):
        assert f'<a href="{url}">{title}</a>' in html
    from rak_portal.views.kind_services import kind_url
    from rak_requests.kinds import kind_for
    from rak_requests.models import RequestType

    for title, code in (
        ("Demande de résiliation", RequestType.Code.TERMINATION),
        ("Demande de remboursement", RequestType.Code.REFUND),
        ("Demande d&#x27;attestation", RequestType.Code.ATTESTATION),
        (
            "Demande de bénéficier du système tarification des compteurs collectifs",
            RequestType.Code.COLLECTIVE_METER,
        ),
    ):
        kind = kind_for(code)
        assert kind.code, f"{code}: no kind registered"
        assert f'<a href="{kind_url(kind)}">{title}</a>' in html
    assert 'data-testid="menu-customer-services"' in html


def test_the_state_line_follows_the_staff_decisions(logged, account, trial, now):
    from rak_requests.services import request_accept_phase, request_ask_complement, request_reject
    from tests.factories import StaffFactory

    customer, _user = account
    _kind, request_type = trial
    staff = StaffFactory()
    waiting = ServiceRequestFactory(customer=customer, request_type=request_type, number="ES2026-000501")
    request_ask_complement(request_id=waiting.pk, staff=staff, message="Joignez une pièce lisible.", now=now)
    rejected = ServiceRequestFactory(customer=customer, request_type=request_type, number="ES2026-000502")
    request_reject(request_id=rejected.pk, staff=staff, reason="Pièce illisible", now=now)
    accepted = ServiceRequestFactory(customer=customer, request_type=request_type, number="ES2026-000503")
    request_accept_phase(request_id=accepted.pk, staff=staff, now=now)

    def state(number):
        html = logged.get(reverse("portal:request_detail", args=[number])).content.decode()
        return html.split('data-testid="request-state">', 1)[1].split("<", 1)[0]

    assert state(waiting.number) == "Répondre à la demande de complément"
    assert state(rejected.number) == "Rejeté"
    assert state(accepted.number) == "Accepté"
    listing = logged.get(URL).content.decode()
    for label in ("Répondre à la demande de complément", "Rejeté", "Accepté"):
        assert label in listing
