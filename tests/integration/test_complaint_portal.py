"""The customer side of complaints on the portal (seed 000 « Envoyer une réclamation », « Mes
réclamations »; issue 11): the public form and its spam defences (honeypot, signed timestamp,
throttles, SMS limits, captcha after a few posts), the logged-in form (only the customer's own
dossiers and bills), « Contester cette facture », « Mes réclamations » and its detail (thread without
internal notes, add information, reopen, rate, attachments to the owner only), « Signaler une
fuite ou une coupure ». Every refusal is checked with its French message."""

from __future__ import annotations

import datetime
import html as html_lib
import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_customer.models import Service
from rak_portal.complaint_forms import EXPIRED, HONEYPOT, TOO_FAST, form_token, form_token_started
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints import services
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_payment_pages import seed_bill
from tests.reading_factories import png_upload
from tests.request_factories import exe_renamed_pdf, pdf_upload

pytestmark = pytest.mark.django_db

NEW = "/services/reclamation/"
INCIDENT = "/services/signaler-fuite-ou-coupure/"
PHONE = "+212612345678"


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def public_post(client, *, ip: str = "10.1.0.1", files=None, **overrides):
    data = {
        "name": "Amina Alaoui",
        "email": "amina@example.ma",
        "phone": "0612345678",
        "category": str(ComplaintCategory.objects.get(code="facturation").pk),
        "subject": "Facture de février",
        "message": "Ma facture de février est trop élevée.",
        "customer_code": "",
        "reference": "",
        "website": "",
        "started": form_token(time.time() - 30),
    }
    data.update(overrides)
    if files:
        data.update(files)
    return client.post(NEW, data, REMOTE_ADDR=ip)


def test_public_form_shows_the_seed_fields_without_login(client):
    response = client.get(NEW)
    page = text(response)
    assert response.status_code == 200
    assert "Envoyer une réclamation" in page and "Les champs avec * sont obligatoires" in page
    assert "Renseignez le « code client » si vous êtes client de la régie" in page
    assert "Vous pouvez également joindre un fichier ou une image" in page
    assert "L'email et le téléphone collectés permettront à la RAK de prendre contact avec vous" in page
    assert "Envoyer votre demande" in page
    for label in ("Nom et prénom *", "Téléphone *", "Catégorie *", "Message *", "N° de dossier ou de facture"):
        assert label in page, label
    for category in ("Facturation", "Relevé / compteur", "Coupure d'eau ou d'électricité", "Fuite", "Autre"):
        assert category in page
    assert "Quelle catégorie choisir ?" in page and "Index relevé, compteur bloqué, cassé ou inaccessible" in page
    assert 'accept=".heic,.jpeg,.jpg,.pdf,.png,.webp"' in page and "PDF ou image, 2 Mo au plus" in page
    assert 'class="hp" aria-hidden="true"' in page and 'name="started"' in page
    assert 'name="captcha_1"' not in page  # no captcha for a first visit


def test_home_tile_and_menu_lead_to_the_form(client):
    page = text(client.get("/"))
    assert f'href="{NEW}"' in page and f'href="{INCIDENT}"' in page
    assert reverse("portal:service", args=["reclamation"]) == NEW  # the old « bientôt disponible » URL


def test_public_filing_gives_the_number_and_sends_the_sms(client):
    response = public_post(client, files={"file": pdf_upload("facture.pdf")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:complaint_filed")
    complaint = Complaint.objects.get()
    assert complaint.customer is None and complaint.phone == PHONE and complaint.subject == "Facture de février"
    page = text(client.get(response["Location"]))
    assert complaint.number in page
    assert "Un SMS de prise en charge avec le numéro attribué à la réclamation est envoyé automatiquement" in page
    assert "(se terminant par 78)" in page
    sms = Message.objects.get(channel="SMS", recipient=PHONE)
    assert complaint.number in sms.body and "prise en charge" in sms.body
    entry = complaint.entries.get(kind=ComplaintEntry.Kind.FILED)
    assert entry.file and entry.file_name == "facture.pdf" and entry.file_type == "application/pdf"


def test_result_page_without_a_filing_goes_back_to_the_form(client):
    response = client.get(reverse("portal:complaint_filed"))
    assert response.status_code == 302 and response["Location"] == NEW


def test_missing_fields_each_have_their_french_message_and_nothing_typed_is_lost(client):
    response = public_post(
        client, name="", phone="", category="", message="", subject="Mon objet à garder", started=form_token()
    )
    page = text(response)
    assert response.status_code == 400
    assert str(TOO_FAST) not in page  # the fields' own messages only: the timing is checked once they are right
    assert "Le formulaire contient des erreurs" in page
    assert page.count("Ce champ est obligatoire.") >= 2  # name, phone
    assert "Choisissez la catégorie de votre réclamation." in page
    assert "Décrivez votre réclamation." in page
    assert 'value="Mon objet à garder"' in page and 'value="amina@example.ma"' in page
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12", "numéro"),
        ("email", "pas-un-email", "Adresse e-mail invalide."),
        ("category", "999999", "Choisissez une catégorie de la liste."),
    ],
)
def test_invalid_values_are_refused_on_their_field(client, field, value, message):
    response = public_post(client, **{field: value})
    assert response.status_code == 400
    assert message in text(response)
    assert not Complaint.objects.exists()


def test_a_file_that_is_not_a_pdf_or_an_image_is_refused_by_content(client):
    response = public_post(client, files={"file": exe_renamed_pdf()})
    page = text(response)
    assert response.status_code == 400 and "Ma facture de février est trop élevée." in page
    assert re.search(r'id="id_file_error"', page)
    assert not Complaint.objects.exists()


def test_an_accepted_file_is_not_asked_again_after_another_refusal(client):
    response = public_post(client, files={"file": pdf_upload("releve.pdf")}, name="")
    page = text(response)
    assert response.status_code == 400 and "Déjà joint : <strong>releve.pdf</strong>" in page
    response = public_post(client)  # the file is not sent again
    assert response.status_code == 302
    entry = Complaint.objects.get().entries.get()
    assert entry.file_name == "releve.pdf" and entry.file_size > 0


def test_the_kept_file_can_be_removed(client):
    public_post(client, files={"file": pdf_upload("releve.pdf")}, name="")
    assert public_post(client, file_clear="1").status_code == 302
    assert not Complaint.objects.get().entries.get().file


def test_honeypot_refuses_with_a_message_and_files_nothing(client):
    response = public_post(client, website="http://spam.example")
    assert response.status_code == 400 and str(HONEYPOT) in text(response)
    assert not Complaint.objects.exists() and not Message.objects.filter(channel="SMS").exists()


def test_a_form_sent_too_fast_is_refused_then_accepted_later_with_everything_kept(client):
    started = time.time()
    response = public_post(client, started=form_token(started))
    page = text(response)
    assert response.status_code == 400 and str(TOO_FAST) in page
    assert "Ma facture de février est trop élevée." in page and 'value="Amina Alaoui"' in page
    token = re.search(r'name="started" value="([^"]+)"', page).group(1)
    # a robot re-posting at once stays too fast: the page keeps the time the form was first shown
    # (the signature itself carries the signing second, so compare what it signs)
    assert form_token_started(token) == round(started, 1)
    assert public_post(client, started=form_token(started - 10)).status_code == 302


@pytest.mark.parametrize("token", ["", "forged", "form_token_old"])
def test_an_expired_or_forged_form_is_refused_with_a_message_to_retry(client, token):
    if token == "form_token_old":
        token = form_token(time.time() - 4 * 3600)
    response = public_post(client, started=token)
    page = text(response)
    assert response.status_code == 400 and str(EXPIRED) in page
    assert 'value="Amina Alaoui"' in page
    assert not Complaint.objects.exists()


def test_throttled_per_phone_with_the_services_message(client, settings):
    settings.COMPLAINT_PER_PHONE_DAILY = 1
    assert public_post(client, ip="10.2.0.1").status_code == 302
    response = public_post(Client(), ip="10.2.0.2")
    assert response.status_code == 400 and "Vous avez envoyé plusieurs réclamations en peu de temps" in text(response)
    assert Complaint.objects.count() == 1


def test_throttled_per_address(settings):
    settings.COMPLAINT_PER_IP_HOURLY = 1
    assert public_post(Client(), ip="10.3.0.1", phone="0611111111").status_code == 302
    response = public_post(Client(), ip="10.3.0.1", phone="0622222222")
    assert response.status_code == 400 and "plusieurs réclamations" in text(response)


def test_sms_limits_of_the_portal_apply_to_the_anonymous_form(client, settings):
    settings.SMS_PER_SESSION_HOURLY = 1
    assert public_post(client, phone="0611111111").status_code == 302
    response = public_post(client, phone="0622222222")
    assert response.status_code == 400 and "Vous avez demandé trop de SMS" in text(response)
    assert Complaint.objects.count() == 1


def test_a_captcha_is_asked_after_a_few_posts_from_one_address():
    from captcha.models import CaptchaStore

    client = Client()
    for _ in range(3):
        assert 'name="captcha_1"' not in text(public_post(client, ip="10.4.0.1", name=""))
    page = text(public_post(client, ip="10.4.0.1"))
    assert 'name="captcha_1"' in page and "Saisissez le code de vérification." in page
    assert not Complaint.objects.exists()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page).group(1)
    wrong = public_post(client, ip="10.4.0.1", captcha_0=key, captcha_1="-1")
    assert "Code de vérification incorrect" in text(wrong)
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', text(wrong)).group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert public_post(client, ip="10.4.0.1", captcha_0=key, captcha_1=answer).status_code == 302


def test_public_code_client_links_the_customer_only_with_their_phone(client):
    customer, _user = customer_with_account(phone=PHONE)
    response = public_post(client, customer_code=customer.code.lower(), reference="F2026-123")
    complaint = Complaint.objects.get()
    assert complaint.customer == customer and complaint.reference_given == "F2026-123"
    linked_page = text(client.get(response["Location"]))
    # another code, or the right code with another phone: nothing linked — and the visitor's page is
    # the same either way (it never tells whether a phone belongs to a code client)
    stranger = Client()
    response = public_post(stranger, ip="10.9.0.1", customer_code=customer.code, phone="0698765432")
    other = Complaint.objects.latest("pk")
    assert other.customer is None
    other_page = text(stranger.get(response["Location"]))
    # each page carries its own CSRF token (the header's language switch is a form)
    linked_page, other_page = (
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", p) for p in (linked_page, other_page)
    )
    assert linked_page.replace(complaint.number, "N").replace("(se terminant par 78)", "") == other_page.replace(
        other.number, "N"
    ).replace("(se terminant par 32)", "")


# --- logged in -------------------------------------------------------------------------------------


@pytest.fixture
def customer_client():
    customer, user = customer_with_account(
        phone=PHONE, email="karim@example.ma", first_name="Karim", last_name="Idrissi"
    )
    client = Client()
    client.force_login(user)
    client.customer, client.user = customer, user
    return client


def _bill(customer, total="250.00"):
    dossier = DossierFactory(customer=customer, service=Service.EAU)
    today = clock.now().date()
    return seed_bill(dossier, total, period=today.replace(day=1) - timedelta(days=40), due=today + timedelta(days=5))


def logged_post(client, **overrides):
    data = {
        "name": "Karim Idrissi",
        "email": "karim@example.ma",
        "phone": "0612345678",
        "category": str(ComplaintCategory.objects.get(code="facturation").pk),
        "subject": "",
        "message": "Montant trop élevé.",
    }
    data.update(overrides)
    return client.post(NEW, data)


def test_logged_in_form_is_prefilled_with_the_code_client_fixed(customer_client):
    customer = customer_client.customer
    bill = _bill(customer)
    other_bill = _bill(DossierFactory().customer)
    page = text(customer_client.get(NEW))
    assert 'value="Karim Idrissi"' in page and 'value="+212612345678"' in page and 'value="karim@example.ma"' in page
    assert customer.code in page and 'name="customer_code"' not in page and 'name="started"' not in page
    assert bill.number in page and bill.dossier.number in page
    assert other_bill.number not in page and other_bill.dossier.number not in page
    assert "Mes réclamations" in page  # the private menu


def test_another_customers_bill_or_dossier_is_a_form_error_never_a_leak(customer_client):
    other_bill = _bill(DossierFactory().customer)
    response = logged_post(customer_client, bill=str(other_bill.pk))
    assert response.status_code == 400
    assert "Cette facture ne fait pas partie de vos factures." in text(response)
    assert other_bill.number not in text(response)
    response = logged_post(customer_client, dossier=str(other_bill.dossier.pk))
    assert "Ce dossier ne fait pas partie de vos abonnements." in text(response)
    for hostile in ("99999999999999999999999", "-1", "1e3", "x"):
        assert customer_client.get(NEW + f"?facture={hostile}").status_code == 200
        assert logged_post(customer_client, bill=hostile).status_code == 400
    page = text(customer_client.get(NEW + f"?facture={other_bill.pk}"))
    assert other_bill.number not in page and "Vous contestez" not in page
    assert not Complaint.objects.exists()


def test_contest_a_bill_from_its_page(customer_client):
    bill = _bill(customer_client.customer)
    page = text(customer_client.get(reverse("portal:bill_detail", args=[bill.pk])))
    link = f"{NEW}?facture={bill.pk}"
    assert f'href="{link}"' in page and "Contester cette facture" in page
    form = text(customer_client.get(link))
    about_bill = ComplaintCategory.objects.get(about_bill=True)
    assert f"Vous contestez la facture n° <strong>{bill.number}</strong>" in form
    assert f'<option value="{about_bill.pk}" selected>' in form
    assert f'<option value="{bill.pk}" selected>' in form
    response = logged_post(customer_client, bill=str(bill.pk), category=str(about_bill.pk))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.bill == bill and complaint.dossier == bill.dossier
    assert complaint.source == Complaint.Source.BILL and complaint.customer == customer_client.customer
    assert complaint.user == customer_client.user
    page = text(customer_client.get(response["Location"]))
    assert complaint.number in page and "Suivre ma réclamation" in page


def test_an_older_bill_is_accepted_even_if_not_in_the_recent_list(customer_client):
    bill = _bill(customer_client.customer)
    for _ in range(25):
        _bill(customer_client.customer)
    bill.issue_date = datetime.date(2020, 1, 1)
    bill.save(update_fields=["issue_date"])
    assert bill.number in text(customer_client.get(f"{NEW}?facture={bill.pk}"))
    assert logged_post(customer_client, bill=str(bill.pk)).status_code == 302


# --- « Mes réclamations » --------------------------------------------------------------------------


def _file(customer, user, *, now, **kwargs) -> Complaint:
    values = {
        "category": ComplaintCategory.objects.get(code=kwargs.pop("code", "facturation")),
        "name": "Karim Idrissi",
        "phone": "0612345678",
        "message": kwargs.pop("message", "Ma facture est trop élevée."),
        "subject": kwargs.pop("subject", "Facture trop élevée"),
    }
    values.update(kwargs)
    return services.complaint_file(filing=services.ComplaintFiling(**values), customer=customer, user=user, now=now)


def test_my_complaints_lists_open_and_closed_with_the_result_in_a_fixed_number_of_queries(
    customer_client, django_assert_max_num_queries, settings
):
    settings.COMPLAINT_PER_PHONE_DAILY = 100
    customer, user = customer_client.customer, customer_client.user
    agent = StaffFactory()
    now = clock.now()
    for i in range(6):
        complaint = _file(customer, user, now=now - timedelta(days=i), subject=f"Sujet {i}")
        if i % 2:
            services.complaint_close(
                complaint_id=complaint.pk, staff_user=agent, result=f"Facture corrigée {i}.", now=now
            )
    _file(DossierFactory().customer, None, now=now, subject="Pas à moi")
    with django_assert_max_num_queries(9):
        response = customer_client.get(reverse("portal:complaints"))
    page = text(response)
    assert response.status_code == 200 and page.count('data-testid="complaint-row"') == 6
    assert "Pas à moi" not in page
    assert "Résultat de traitement :" in page and "Facture corrigée 1." in page
    assert "Réponse prévue au plus tard le" in page and "Clôturée le" in page
    # open ones first
    assert page.index("Sujet 0") < page.index("Sujet 1")
    assert page.index("Sujet 4") < page.index("Sujet 1")
    for i in range(10):
        _file(customer, user, now=now - timedelta(days=10 + i))
    with django_assert_max_num_queries(9):
        customer_client.get(reverse("portal:complaints"))


def test_detail_shows_the_public_thread_as_a_conversation_never_internal_notes(
    customer_client, django_assert_max_num_queries
):
    customer, user = customer_client.customer, customer_client.user
    agent = StaffFactory()
    now = clock.now()
    complaint = _file(customer, user, now=now, upload=None)
    for i in range(5):
        services.complaint_customer_add(
            complaint_id=complaint.pk,
            customer=customer,
            user=user,
            body=f"Précision {i}",
            now=now,
            upload=_validated_png(),
        )
    services.complaint_note(complaint_id=complaint.pk, staff_user=agent, body="NOTE SECRÈTE interne", now=now)
    services.complaint_reply(
        complaint_id=complaint.pk,
        staff_user=agent,
        body="Merci d'envoyer une photo du compteur.",
        asks_information=True,
        now=now + timedelta(minutes=5),
    )
    url = reverse("portal:complaint_detail", args=[complaint.number])
    with django_assert_max_num_queries(9):  # whatever the length of the thread
        page = text(customer_client.get(url))
    assert page.count('data-testid="thread-file"') == 5
    assert "NOTE SECRÈTE" not in page
    assert "Merci d'envoyer une photo du compteur." in page and "Demande d'information" in page
    assert 'class="msg msg-mine kind-filed"' in page and 'class="msg msg-rak kind-info_request"' in page
    assert "Nous attendons votre réponse" in page and "Ajouter une information" in page


def test_add_information_with_a_file_then_download_it(customer_client):
    customer, user = customer_client.customer, customer_client.user
    complaint = _file(customer, user, now=clock.now())
    url = reverse("portal:complaint_add", args=[complaint.number])
    response = customer_client.post(url, {"body": ""})
    assert response.status_code == 400 and "Écrivez votre message ou joignez un fichier." in text(response)
    response = customer_client.post(url, {"body": "", "file": exe_renamed_pdf()})
    assert response.status_code == 400 and 'id="id_file_error"' in text(response)
    response = customer_client.post(url, {"body": "Voici la photo.", "file": png_upload("compteur.png")})
    assert response.status_code == 302
    entry = complaint.entries.get(kind=ComplaintEntry.Kind.CUSTOMER_MESSAGE)
    assert entry.body == "Voici la photo." and entry.file_name == "compteur.png"
    page = text(customer_client.get(reverse("portal:complaint_detail", args=[complaint.number])))
    download = reverse("portal:complaint_attachment", args=[entry.pk])
    assert f'href="{download}"' in page and "compteur.png" in page
    response = customer_client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("sent_as", "saved_as"),
    [("facture.html", "facture.pdf"), ("x.pdf.html", "x.pdf.pdf"), ("releve", "releve.pdf"), ("scan.PDF", "scan.PDF")],
)
def test_a_file_downloads_under_the_extension_of_what_it_is(customer_client, sent_as, saved_as):
    """Probe: a PDF by content sent as « facture.html » was accepted (it is a PDF) but served with
    Content-Disposition « facture.html »: « Enregistrer sous » made an .html file of it, script
    included. The name shown keeps what the customer sent; the download's extension is the kind's."""
    customer, user = customer_client.customer, customer_client.user
    complaint = _file(customer, user, now=clock.now())
    upload = pdf_upload(sent_as)
    response = customer_client.post(
        reverse("portal:complaint_add", args=[complaint.number]), {"body": "", "file": upload}
    )
    assert response.status_code == 302
    entry = complaint.entries.get(kind=ComplaintEntry.Kind.CUSTOMER_MESSAGE)
    assert entry.file_name == sent_as
    response = customer_client.get(reverse("portal:complaint_attachment", args=[entry.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{saved_as}"' in response["Content-Disposition"]


def test_another_customers_complaint_and_file_are_404(customer_client):
    other, other_user = customer_with_account(phone="+212698765432")
    complaint = _file(other, other_user, now=clock.now(), upload=None)
    services.complaint_customer_add(
        complaint_id=complaint.pk,
        customer=other,
        user=other_user,
        body="x",
        now=clock.now(),
        upload=_validated_png(),
    )
    entry = complaint.entries.exclude(file="").get()
    for url in (
        reverse("portal:complaint_detail", args=[complaint.number]),
        reverse("portal:complaint_attachment", args=[entry.pk]),
        reverse("portal:complaint_detail", args=["REC2026-999999"]),
    ):
        assert customer_client.get(url).status_code == 404, url
    for name in ("complaint_add", "complaint_reopen", "complaint_rate"):
        response = customer_client.post(reverse(f"portal:{name}", args=[complaint.number]), {"body": "x"})
        assert response.status_code == 404, name
    assert complaint.entries.count() == 2


def test_internal_file_is_404_even_for_the_owner(customer_client):
    customer, user = customer_client.customer, customer_client.user
    complaint = _file(customer, user, now=clock.now())
    entry = ComplaintEntry.objects.create(
        complaint=complaint, at=clock.now(), kind="NOTE", actor_kind="STAFF", internal=True, body="interne"
    )
    entry.file.save("x.png", _validated_png().file, save=True)
    assert customer_client.get(reverse("portal:complaint_attachment", args=[entry.pk])).status_code == 404


def _validated_png():
    from rak_base.uploads import IMAGE_KINDS, upload_validate

    return upload_validate(png_upload("photo.png"), kinds=IMAGE_KINDS)


def test_anonymous_visitor_is_sent_to_login_for_my_complaints(client):
    response = client.get(reverse("portal:complaints"))
    assert response.status_code == 302 and "next=" in response["Location"]


def test_closed_complaint_rate_then_reopen_with_their_refusals(customer_client, settings):
    customer, user = customer_client.customer, customer_client.user
    agent = StaffFactory()
    now = clock.now()
    complaint = _file(customer, user, now=now - timedelta(days=1))
    detail = reverse("portal:complaint_detail", args=[complaint.number])
    # open: no rating, adding information possible
    response = customer_client.post(reverse("portal:complaint_rate", args=[complaint.number]), {"rating": "5"})
    assert "Vous pourrez noter la réponse une fois la réclamation clôturée." in text(customer_client.get(detail))
    response = customer_client.post(reverse("portal:complaint_reopen", args=[complaint.number]), {"reason": "x"})
    assert "Cette réclamation est encore en cours de traitement." in text(customer_client.get(detail))
    services.complaint_close(complaint_id=complaint.pk, staff_user=agent, result="Index corrigé, avoir émis.", now=now)
    page = text(customer_client.get(detail))
    assert "Résultat de traitement" in page and "Index corrigé, avoir émis." in page
    assert "Donner mon avis" in page and "Rouvrir la réclamation" in page
    assert 'type="radio" name="rating" value="5"' in page and "<legend>Votre note *</legend>" in page
    response = customer_client.post(reverse("portal:complaint_add", args=[complaint.number]), {"body": "encore"})
    assert response.status_code == 302
    assert "Cette réclamation est clôturée" in text(customer_client.get(response["Location"]))
    rate = reverse("portal:complaint_rate", args=[complaint.number])
    response = customer_client.post(rate, {"rating": "9"})
    assert response.status_code == 400 and "Choisissez une note de 1 à 5 étoiles." in text(response)
    assert customer_client.post(rate, {"rating": "4", "comment": "Rapide"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.rating == 4 and complaint.rating_comment == "Rapide"
    page = text(customer_client.get(detail))
    assert "Donner mon avis" not in page and "4 étoiles sur 5" in page
    response = customer_client.post(rate, {"rating": "2"})
    assert response.status_code == 302 and "déjà donné votre appréciation" in text(customer_client.get(detail))
    reopen = reverse("portal:complaint_reopen", args=[complaint.number])
    response = customer_client.post(reopen, {"reason": ""})
    assert response.status_code == 400 and "Expliquez pourquoi le problème n'est pas résolu." in text(response)
    assert customer_client.post(reopen, {"reason": "La facture suivante est encore fausse."}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS and complaint.reopen_count == 1


def test_reopen_after_the_configured_days_is_refused(customer_client, settings):
    settings.COMPLAINT_REOPEN_DAYS = 2
    customer, user = customer_client.customer, customer_client.user
    now = clock.now()
    complaint = _file(customer, user, now=now - timedelta(days=10))
    services.complaint_close(
        complaint_id=complaint.pk, staff_user=StaffFactory(), result="Fait.", now=now - timedelta(days=3)
    )
    page = text(customer_client.get(reverse("portal:complaint_detail", args=[complaint.number])))
    assert "Confirmer la réouverture" not in page and "Le délai de 2 jours pour rouvrir" in page
    response = customer_client.post(reverse("portal:complaint_reopen", args=[complaint.number]), {"reason": "Encore"})
    assert response.status_code == 302
    assert "Le délai de 2 jours pour rouvrir cette réclamation est dépassé : déposez" in text(
        customer_client.get(response["Location"])
    )


# --- « Signaler une fuite ou une coupure » ---------------------------------------------------------


def incident_post(client, *, ip="10.5.0.1", files=None, **overrides):
    data = {
        "category": str(ComplaintCategory.objects.get(code="fuite").pk),
        "address": "12 rue Moulay Ali Cherif",
        "district": "Maamora",
        "message": "L'eau coule sur le trottoir.",
        "name": "Youssef Tazi",
        "phone": "0612345678",
        "email": "",
        "website": "",
        "started": form_token(time.time() - 30),
    }
    data.update(overrides)
    if files:
        data.update(files)
    return client.post(INCIDENT, data, REMOTE_ADDR=ip)


def test_incident_page_offers_incident_categories_and_the_position(client):
    response = client.get(INCIDENT)
    page = text(response)
    assert response.status_code == 200
    assert "Signaler une fuite ou une coupure" in page and "Utiliser ma position" in page
    assert "Fuite" in page and "Coupure d'eau ou d'électricité" in page and "Facturation" not in page
    assert 'name="latitude"' in page and 'name="longitude"' in page and "complaints.js" in page
    assert 'accept=".heic,.jpeg,.jpg,.png,.webp"' in page
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "geolocation=()" in client.get(NEW)["Permissions-Policy"]


def test_public_incident_filed_urgent_with_photo_and_position(client):
    response = incident_post(
        client, files={"photo": png_upload("fuite.png")}, latitude="34.261100", longitude="-6.580200"
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.source == Complaint.Source.INCIDENT and complaint.category.is_urgent
    assert complaint.district == "Maamora" and str(complaint.latitude) == "34.261100"
    assert complaint.entries.get().file_name == "fuite.png"
    assert "traitée en urgence" in text(client.get(response["Location"]))


def test_incident_refusals(client):
    response = incident_post(client, address="", district="")
    assert response.status_code == 400 and "Indiquez l'adresse du problème ou utilisez votre position." in text(
        response
    )
    response = incident_post(client, files={"photo": pdf_upload("photo.pdf")})
    assert response.status_code == 400 and 'id="id_photo_error"' in text(response)
    coupure = ComplaintCategory.objects.get(code="coupure")
    response = incident_post(client, category=str(coupure.pk))
    assert response.status_code == 400 and "Indiquez s'il s'agit de l'eau ou de l'électricité." in text(response)
    response = incident_post(client, category=str(ComplaintCategory.objects.get(code="facturation").pk))
    assert "Choisissez le type de problème dans la liste." in text(response)
    assert not Complaint.objects.exists()


def test_logged_in_incident_on_own_premises_only(customer_client):
    mine = DossierFactory(customer=customer_client.customer)
    other = DossierFactory()
    page = text(customer_client.get(INCIDENT))
    assert str(mine.premises.address) in page and str(other.premises.address) not in page
    response = incident_post(customer_client, premises=str(other.premises.pk), address="")
    assert response.status_code == 400 and "Ce local ne fait pas partie de vos abonnements." in text(response)
    response = incident_post(customer_client, premises=str(mine.premises.pk), address="", district="")
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.premises == mine.premises and complaint.district == mine.premises.district


def test_a_coupure_already_announced_shows_the_notice_instead_of_a_duplicate(client, now):
    from rak_requests import outages

    if not hasattr(outages, "outage_notice_current_for"):
        pytest.skip("rak_requests.outages.outage_notice_current_for is not there yet (H5)")
    from rak_requests.complaint_models import OutageNotice

    at = clock.now()
    notice = OutageNotice.objects.create(
        number="AVC2026-000001",
        kind=OutageNotice.Kind.PLANNED,
        service=Service.EAU,
        districts=["Maamora"],
        starts_at=at - timedelta(hours=1),
        expected_end_at=at + timedelta(hours=5),
        reason="Travaux sur la conduite principale",
        status=OutageNotice.Status.PUBLISHED,
        created_at=at - timedelta(days=1),
        published_at=at - timedelta(days=1),
    )
    DossierFactory(premises__district="Maamora")  # a known district: « maamora » typed is the same
    coupure = str(ComplaintCategory.objects.get(code="coupure").pk)
    assert incident_post(client, category=coupure, service="ELECTRICITE").status_code == 302  # other service
    Complaint.objects.all().delete()
    response = incident_post(client, category=coupure, service="EAU", district="maamora ")
    page = text(response)
    assert response.status_code == 200 and "Une coupure est déjà signalée dans votre quartier" in page
    assert "Travaux sur la conduite principale" in page and "rétablissement prévu le" in page
    assert f'href="{reverse("portal:outage_detail", args=[notice.number])}"' in page
    assert not Complaint.objects.exists()
    assert "Mon problème est différent, envoyer quand même" in page
    response = incident_post(client, category=coupure, service="EAU", outage_notice=str(notice.pk))
    assert response.status_code == 302
    assert Complaint.objects.get().outage_notice == notice


def test_services_index_lists_the_complaint_pages(customer_client):
    page = text(customer_client.get(reverse("portal:customer_services")))
    for title, url in (
        ("Envoyer une réclamation", NEW),
        ("Signaler une fuite ou une coupure", INCIDENT),
        ("Mes réclamations", reverse("portal:complaints")),
    ):
        assert f'<a href="{url}">{title}</a>' in page
