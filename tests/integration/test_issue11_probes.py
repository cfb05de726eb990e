"""Issue 11 tried from outside (helper « probe »): what a customer, an agent or an attacker does that
the features' own tests did not — a double click on « Envoyer votre demande », on « Envoyer la
réponse », « Clôturer » or a resolving action (one effect, and the agent is told it was done, not
that someone else changed the complaint), line breaks typed into one-line fields that end up in
e-mail subjects and SMS, and another customer's complaint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry, FieldIntervention
from rak_requests.complaints import services
from tests.factories import StaffFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import followed_messages, page_messages
from tests.integration.test_complaint_portal import NEW, PHONE, public_post, text

pytestmark = pytest.mark.django_db


def category(code: str) -> ComplaintCategory:
    return ComplaintCategory.objects.get(code=code)


# --- « Envoyer votre demande » twice ---------------------------------------------------------------


def test_a_double_click_on_envoyer_votre_demande_files_one_complaint_and_sends_one_sms(client):
    first = public_post(client)
    second = public_post(client)  # the same form, sent again (double click, or « Renvoyer » after a slow answer)
    assert first.status_code == 302 and second.status_code == 302
    complaint = Complaint.objects.get()
    assert Message.objects.filter(channel="SMS", recipient=PHONE).count() == 1
    assert complaint.number in text(client.get(second["Location"]))  # the same number shown again


def test_a_logged_in_double_submit_files_one_complaint(client):
    customer, user = customer_with_account(phone="+212612340011", email="probe@example.ma")
    client.force_login(user)
    data = {
        "name": "Najib Sqalli",
        "phone": "0612340011",
        "email": "probe@example.ma",
        "category": str(category("facturation").pk),
        "subject": "Facture de mars",
        "message": "Ma facture de mars compte deux fois le même mois.",
    }
    assert client.post(NEW, data).status_code == 302
    assert client.post(NEW, data).status_code == 302
    assert Complaint.objects.filter(customer=customer).count() == 1
    assert Message.objects.filter(channel="SMS", recipient="+212612340011").count() == 1


def test_another_message_from_the_same_phone_is_another_complaint(client):
    assert public_post(client).status_code == 302
    assert public_post(Client(), message="Et mon compteur fuit aussi.").status_code == 302
    assert Complaint.objects.count() == 2


# --- one-line fields stay on one line ------------------------------------------------------------


def test_line_breaks_typed_into_the_subject_and_name_are_kept_on_one_line():
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"),
            name="Amina\r\nAlaoui",
            phone="0612345678",
            subject="Facture\r\nBcc: pirate@example.com",
            message="Ligne 1\nLigne 2",
        ),
        now=clock.now(),
        staff_user=StaffFactory(),
    )
    assert complaint.subject == "Facture Bcc: pirate@example.com"
    assert complaint.name == "Amina Alaoui"
    assert complaint.message == "Ligne 1\nLigne 2"  # the message keeps its paragraphs


def test_a_public_subject_with_a_line_break_is_one_line(client):
    assert public_post(client, subject="Facture\r\nde février").status_code == 302
    assert Complaint.objects.get().subject == "Facture de février"


# --- the agent's double click ----------------------------------------------------------------------


@pytest.fixture
def agent(client):
    user = staff_in("accueil", first_name="Salma", last_name="Idrissi")
    client.force_login(user)
    return user


def file_one(**kwargs) -> Complaint:
    values = {
        "category": category("facturation"),
        "name": "Amina Alaoui",
        "phone": "0612345678",
        "email": "amina@example.ma",
        "message": "Ma facture de février est trop élevée.",
    }
    values.update(kwargs)
    filing = services.ComplaintFiling(**values)
    return services.complaint_file(filing=filing, now=clock.now(), staff_user=StaffFactory())


def handle_url(c: Complaint, what: str) -> str:
    return reverse("admin:rak_requests_complaint_handle", args=[c.pk, what])


def stamp(c: Complaint) -> str:
    return Complaint.objects.get(pk=c.pk).updated_at.isoformat()


@pytest.mark.parametrize(
    ("what", "fields", "kind", "done"),
    [
        (
            "reply",
            {"reply-body": "Votre facture est en cours de vérification.", "reply-channels": ["SMS"]},
            ComplaintEntry.Kind.REPLY,
            "réponse envoyée au client",
        ),
        ("note", {"note-body": "Client rappelé, absent."}, ComplaintEntry.Kind.NOTE, "note interne ajoutée"),
        ("close", {"close-result": "Index corrigé, facture rectifiée."}, ComplaintEntry.Kind.CLOSED, "clôturée"),
    ],
)
def test_a_double_click_of_the_agent_has_one_effect_and_says_it_was_done(client, agent, what, fields, kind, done):
    c = file_one()
    posted = {"expected_updated_at": stamp(c), **fields}
    first = client.post(handle_url(c, what), posted)
    assert first.status_code == 302
    second = client.post(handle_url(c, what), posted)  # the same page's form, sent again
    messages = followed_messages(client, second)
    assert any(done in m for m in messages), messages  # the first post's own message, shown with it
    assert any("votre premier envoi a été enregistré" in m for m in messages), messages
    assert not any("modifiée entre-temps" in m for m in messages), messages
    assert c.entries.filter(kind=kind).count() == 1
    assert Message.objects.filter(channel="SMS", recipient="+212612345678").count() == (
        1 if what == "note" else 2  # the « prise en charge », then one reply or one result
    )


def test_a_stale_page_with_other_text_is_still_refused(client, agent):
    c = file_one()
    posted = {"expected_updated_at": stamp(c), "reply-channels": ["SMS"]}
    assert client.post(handle_url(c, "reply"), {**posted, "reply-body": "Première réponse."}).status_code == 302
    stale = client.post(handle_url(c, "reply"), {**posted, "reply-body": "Une autre réponse."})
    assert stale.status_code == 400 and "modifiée entre-temps" in " ".join(page_messages(stale))
    assert c.entries.filter(kind=ComplaintEntry.Kind.REPLY).count() == 1


def test_someone_elses_change_in_between_is_still_refused(client, agent):
    c = file_one()
    posted = {"expected_updated_at": stamp(c), "reply-channels": ["SMS"], "reply-body": "Même texte."}
    services.complaint_reply(complaint_id=c.pk, staff_user=StaffFactory(), body="Même texte.", now=clock.now())
    stale = client.post(handle_url(c, "reply"), posted)
    assert stale.status_code == 400 and "modifiée entre-temps" in " ".join(page_messages(stale))


def test_a_double_click_on_an_intervention_order_makes_one_order(client, agent):
    c = file_one(category=category("fuite"), source="INCIDENT", address="Rue 5, Saknia", district="Saknia", email="")
    url = reverse("admin:rak_requests_complaint_action", args=[c.pk, "intervention"])
    posted = {
        "expected_updated_at": stamp(c),
        "intervention-kind": "LEAK_REPAIR",
        "intervention-instructions": "Fuite avant compteur, trottoir",
    }
    first = client.post(url, posted)
    assert first.status_code == 302
    second = client.post(url, posted)
    messages = followed_messages(client, second)
    assert any("votre premier envoi a été enregistré" in m for m in messages), messages
    assert not any("modifiée entre-temps" in m for m in messages), messages
    assert FieldIntervention.objects.filter(complaint=c).count() == 1


# --- another customer's complaint ----------------------------------------------------------------------


def test_another_customers_complaint_its_file_and_its_forms_are_404(client):
    owner, owner_user = customer_with_account(phone="+212612340021")
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"), name="Owner", phone="0612340021", message="Ma facture."
        ),
        customer=owner,
        user=owner_user,
        now=clock.now(),
    )
    entry = complaint.entries.get()
    _other, other_user = customer_with_account(phone="+212612340022")
    client.force_login(other_user)
    base = reverse("portal:complaint_detail", args=[complaint.number])
    assert client.get(base).status_code == 404
    assert client.get(reverse("portal:complaint_attachment", args=[entry.pk])).status_code == 404
    for what, data in (("ajouter/", {"body": "x"}), ("rouvrir/", {"reason": "x"}), ("avis/", {"rating": "5"})):
        assert client.post(base + what, data).status_code == 404
    assert complaint.entries.count() == 1


def test_a_counter_filing_saved_twice_is_one_complaint(client, agent):
    data = {
        "channel": "AGENCY",
        "category": str(category("accueil").pk),
        "name": "Youssef Amrani",
        "phone": "0612340031",
        "message": "Attente de deux heures au guichet.",
    }
    add = reverse("admin:rak_requests_complaint_add")
    first, second = client.post(add, data), client.post(add, data)
    assert first.status_code == 302 and second["Location"] == first["Location"]
    assert Complaint.objects.filter(phone="+212612340031").count() == 1
    assert Message.objects.filter(channel="SMS", recipient="+212612340031").count() == 1


# --- outage notices: a year typed wrong -----------------------------------------------------------------


@pytest.mark.parametrize("days", [400, 365 * 7000])
def test_a_planned_cut_a_year_or_more_ahead_is_not_published(days):
    """« 07/12/2027 » typed for « 07/12/2026 »: the SMS says « du 07/12 09h00 » (no year) and the home
    page announced it for a year; a cut is announced days ahead, not months."""
    from rak_requests import outages
    from rak_requests.complaint_models import OutageNotice
    from tests.integration.test_outage_notices import _customer, _data, _sms

    now = clock.now()
    _customer("Saknia")
    staff = staff_in("technique")
    notice = outages.outage_notice_create(
        data=_data(starts_at=now + timedelta(days=days), expected_end_at=now + timedelta(days=days, hours=5)),
        user=staff,
        now=now,
    )
    assert any("vérifiez l'année" in w for w in outages.outage_notice_warnings(notice, now=now))
    with pytest.raises(outages.OutageNoticeInvalid, match="vérifiez l'année"):
        outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    notice.refresh_from_db()
    assert notice.status == OutageNotice.Status.DRAFT and not _sms(notice)
    assert not outages.outage_notices_current(now=now).filter(pk=notice.pk).exists()


# --- the customer's double click in « Mes réclamations » ------------------------------------------------


@pytest.fixture
def own_complaint(client):
    customer, user = customer_with_account(phone="+212612340041")
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"), name="Owner", phone="0612340041", message="Ma facture."
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    client.force_login(user)
    return complaint


def portal_messages(client, response) -> list[str]:
    assert response.status_code == 302, response.content[:300]
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def test_ajouter_une_information_sent_twice_is_one_message(client, own_complaint):
    url = reverse("portal:complaint_add", args=[own_complaint.number])
    assert client.post(url, {"body": "Voici ma photo du compteur."}).status_code == 302
    second = client.post(url, {"body": "Voici ma photo du compteur."})
    assert "bien été ajoutée" in " ".join(portal_messages(client, second))
    assert own_complaint.entries.filter(kind=ComplaintEntry.Kind.CUSTOMER_MESSAGE).count() == 1


def test_the_rating_sent_twice_thanks_twice_and_records_once(client, own_complaint):
    services.complaint_close(complaint_id=own_complaint.pk, staff_user=StaffFactory(), result="Fait.", now=clock.now())
    url = reverse("portal:complaint_rate", args=[own_complaint.number])
    assert client.post(url, {"rating": "4", "comment": "Merci"}).status_code == 302
    second = client.post(url, {"rating": "4", "comment": "Merci"})
    messages = " ".join(portal_messages(client, second))
    assert "Merci pour votre avis" in messages and "déjà donné" not in messages
    assert own_complaint.entries.filter(kind=ComplaintEntry.Kind.RATED).count() == 1


def test_rouvrir_sent_twice_reopens_once_without_an_error(client, own_complaint):
    services.complaint_close(complaint_id=own_complaint.pk, staff_user=StaffFactory(), result="Fait.", now=clock.now())
    url = reverse("portal:complaint_reopen", args=[own_complaint.number])
    assert client.post(url, {"reason": "La fuite continue."}).status_code == 302
    second = client.post(url, {"reason": "La fuite continue."})
    messages = " ".join(portal_messages(client, second))
    assert "est rouverte" in messages and "encore en cours" not in messages
    assert own_complaint.entries.filter(kind=ComplaintEntry.Kind.REOPENED).count() == 1
    assert Complaint.objects.get(pk=own_complaint.pk).reopen_count == 1


# --- « Contactez-nous » answered ------------------------------------------------------------------------


def test_a_contact_answer_keeps_the_senders_subject_on_one_line_and_its_sms_short(client, agent):
    from rak_base.sms_length import sms_length
    from rak_customer.models import ContactMessage

    message = ContactMessage.objects.create(
        name="Omar",
        email="omar@example.ma",
        phone="+212612000081",
        subject="Facture\r\nBcc: pirate@example.com",  # a hand-made post of « Contactez-nous »
        body="Je conteste ma facture.",
    )
    reply = reverse("admin:rak_customer_contactmessage_reply", args=[message.pk])
    answer = "Votre facture a été vérifiée par notre équipe. " * 12  # longer than an SMS
    first = client.post(reply, {"answer-body": answer})
    assert first.status_code == 302
    email = Message.objects.get(channel="EMAIL", recipient="omar@example.ma")
    assert "\n" not in email.subject and "\r" not in email.subject
    sms = Message.objects.get(channel="SMS", recipient="+212612000081")
    assert "…" not in sms.body and sms_length(sms.body).segments <= 3, sms.body
    # « Répondre » clicked twice: answered once, and the agent is not told it failed
    second = client.post(reply, {"answer-body": answer})
    assert second.status_code == 302, page_messages(second)
    assert Message.objects.filter(channel="EMAIL", recipient="omar@example.ma").count() == 1


# --- a deadline typed with too many zeros ------------------------------------------------------------------


@pytest.mark.parametrize("hours", [100_000_000, 2_147_483_647])
def test_a_category_deadline_of_centuries_is_refused_and_filing_still_works(client, hours):
    fuite = category("fuite")
    url = reverse("admin:rak_requests_complaintcategory_change", args=[fuite.pk])
    staff_in("superviseur", client=client)
    data = {
        "name": fuite.name,
        "description": fuite.description,
        "sla_hours": hours,  # « 12 » typed « 120000000 »: every filing in the category crashed (date out of range)
        "first_answer_hours": 2,
        "is_urgent": "on",
        "is_incident": "on",
        "service": fuite.service,
        "position": fuite.position,
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200 and "heures au plus" in response.content.decode()
    fuite.refresh_from_db()
    assert fuite.sla_hours < 10_000
    filing = services.ComplaintFiling(
        category=fuite, name="A", phone="0612340051", message="Fuite", source="INCIDENT", address="Rue 1"
    )
    assert services.complaint_file(filing=filing, now=clock.now(), staff_user=StaffFactory()).due_at


# --- the back office's words ---------------------------------------------------------------------------


ENGLISH = ("Apply Filters", "No results found", "Reset filters", "This page yielded", "Select value", ">Filters<")


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:rak_requests_fieldintervention_changelist") + "?status__exact=DONE",
        reverse("admin:rak_requests_complaint_changelist") + "?q=REC1900-000000",
        reverse("admin:rak_requests_outagenotice_changelist"),
    ],
)
def test_the_helpdesk_lists_and_their_filters_speak_french(client, url):
    staff_in("superviseur", client=client)
    page = client.get(url).content.decode()
    assert [word for word in ENGLISH if word in page] == []


def test_the_category_form_speaks_french(client):
    staff_in("superviseur", client=client)
    page = client.get(reverse("admin:rak_requests_complaintcategory_change", args=[category("fuite").pk]))
    assert "Select value" not in page.content.decode()


def test_a_double_click_on_the_credit_note_issues_one_credit_note(client):
    from rak_billing.models import Bill
    from tests.billing_factories import bill_create
    from tests.factories import DossierFactory

    dossier = DossierFactory()
    bill = bill_create(dossier=dossier, consumption=120)
    c = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"), name="Amina", phone="", message="Trop élevée.", bill_id=bill.pk
        ),
        customer=dossier.customer,
        now=clock.now(),
    )
    staff_in("facturation", client=client)
    url = reverse("admin:rak_requests_complaint_action", args=[c.pk, "credit_note"])
    posted = {"expected_updated_at": stamp(c), "credit_note-amount": "50", "credit_note-reason": "Fuite après compteur"}
    assert client.post(url, posted).status_code == 302
    messages = followed_messages(client, client.post(url, posted))
    assert any("votre premier envoi a été enregistré" in m for m in messages), messages
    assert Bill.objects.filter(kind=Bill.Kind.CREDIT_NOTE, credited_bill=bill).count() == 1


# --- a bill already contested -----------------------------------------------------------------------------


def test_a_bill_already_contested_shows_its_complaint_instead_of_a_second_contest(client):
    from tests.billing_factories import bill_create
    from tests.factories import DossierFactory

    customer, user = customer_with_account(phone="+212612340061")
    bill = bill_create(dossier=DossierFactory(customer=customer), consumption=120)
    client.force_login(user)
    url = reverse("portal:bill_detail", args=[bill.pk])
    assert 'data-testid="contest-bill"' in client.get(url).content.decode()
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"), name="A", phone="0612340061", message="Trop élevée.", bill_id=bill.pk
        ),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    page = text(client.get(url))
    assert 'data-testid="contest-bill"' not in page
    assert complaint.number in page and reverse("portal:complaint_detail", args=[complaint.number]) in page
    services.complaint_close(complaint_id=complaint.pk, staff_user=StaffFactory(), result="Conforme.", now=clock.now())
    assert 'data-testid="contest-bill"' in client.get(url).content.decode()  # closed: contest again (or reopen)
