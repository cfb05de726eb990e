"""What the customer and the staff receive about a complaint (rak_requests.complaints.notify), from
the message templates staff can edit (« Modèles de messages »): the SMS de prise en charge with the
complaint's number (one GSM-7 SMS), the reply and the closing result (cut in the SMS, whole in the
e-mail and the bell), the staff's bells; an edited wording is what the next complaint gets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rak_base.message_templates import message_template_reset, message_template_update, message_templates_sync
from rak_base.models import Message, MessageTemplate
from rak_base.sms_length import sms_length
from rak_requests.complaint_models import ComplaintCategory
from rak_requests.complaints import notify, services
from tests.factories import StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db


def _filing(**kwargs) -> services.ComplaintFiling:
    values = {
        "category": ComplaintCategory.objects.get(code="facturation"),
        "name": "Amina Alaoui",
        "phone": "0612345678",
        "message": "Ma facture de février est trop élevée.",
        "email": "amina@example.ma",
    }
    values.update(kwargs)
    return services.ComplaintFiling(**values)


def test_the_sms_de_prise_en_charge_is_one_gsm_sms_with_the_number(now):
    complaint = services.complaint_file(filing=_filing(), now=now, ip="10.0.0.1")
    sms = Message.objects.get(channel="SMS", recipient="+212612345678")
    assert sms.body == (
        f"RAK : votre réclamation {complaint.number} a bien été prise en charge. Nous vous contacterons pour "
        'y donner suite. Suivi : rubrique "Mes réclamations".'
    )
    assert (sms_length(sms.body).encoding, sms_length(sms.body).segments) == ("GSM-7", 1)
    assert sms.kind == "complaint"
    email = Message.objects.get(channel="EMAIL")
    assert email.subject == f"Réclamation {complaint.number} prise en charge" and email.event == sms.event
    assert "/espace/" in email.body or "http" in email.body


def test_an_edited_wording_is_what_the_next_complaint_gets(now):
    message_templates_sync()
    template = MessageTemplate.objects.get(code=notify.FILED, channel="SMS", language="fr")
    message_template_update(
        template_id=template.pk,
        subject="",
        body="RAK : réclamation {number} bien reçue. Un conseiller vous rappelle sous 48 h.",
        user=StaffFactory(),
        now=now,
    )
    complaint = services.complaint_file(filing=_filing(), now=now, ip="10.0.0.2")
    assert Message.objects.get(channel="SMS").body == (
        f"RAK : réclamation {complaint.number} bien reçue. Un conseiller vous rappelle sous 48 h."
    )
    message_template_reset(template_id=template.pk, user=StaffFactory(), now=now)
    services.complaint_file(filing=_filing(phone="0612345679"), now=now, ip="10.0.0.3")
    assert "a bien été prise en charge" in Message.objects.get(channel="SMS", recipient="+212612345679").body


def test_a_long_reply_is_cut_in_the_sms_and_whole_in_the_email_and_bell(now):
    customer, user = customer_with_account(email="amina@example.ma")
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    Message.objects.all().delete()
    long_reply = "Nous avons contrôlé votre compteur. " * 20
    services.complaint_reply(complaint_id=complaint.pk, staff_user=StaffFactory(), body=long_reply, now=now)
    sms = Message.objects.get(channel="SMS")
    assert sms.body.startswith(f"RAK : réclamation {complaint.number} : Nous avons contrôlé")
    assert sms.body.endswith("...") and len(sms.body) <= 340
    assert sms_length(sms.body).segments <= 3
    email = Message.objects.get(channel="EMAIL")
    assert email.subject == f"Réponse à votre réclamation {complaint.number}"
    assert long_reply.strip() in email.body
    bell = Message.objects.get(channel="BELL")
    assert bell.user == user and bell.body == long_reply.strip()
    assert len({sms.event, email.event, bell.event}) == 1


def test_information_requested_and_closure_wordings(now):
    customer, user = customer_with_account()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    Message.objects.all().delete()
    agent = StaffFactory()
    services.complaint_reply(
        complaint_id=complaint.pk,
        staff_user=agent,
        body="Pouvez-vous envoyer une photo du compteur ?",
        asks_information=True,
        now=now + timedelta(hours=1),
    )
    assert Message.objects.get(channel="SMS").body == (
        f"RAK : réclamation {complaint.number} : Pouvez-vous envoyer une photo du compteur ? "
        'Répondez dans "Mes réclamations".'
    )
    Message.objects.all().delete()
    services.complaint_close(
        complaint_id=complaint.pk, staff_user=agent, result="Facture rectifiée par avoir.", now=now + timedelta(days=1)
    )
    assert Message.objects.get(channel="SMS").body == (
        f"RAK : réclamation {complaint.number} traitée et close. Résultat : Facture rectifiée par avoir."
    )
    assert Message.objects.get(channel="BELL").subject == f"Réclamation {complaint.number} clôturée"


def test_staff_notices_come_from_their_templates(now):
    customer, user = customer_with_account()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    Message.objects.all().delete()
    agent = StaffFactory(email="agent@rak.ma")
    supervisor = StaffFactory(email="sup@rak.ma")
    assert notify.complaint_assigned_notify(complaint, assignee=agent) == 1
    assert notify.complaint_reopened_notify(complaint, reason="Toujours pas réglé.", users=[agent]) == 1
    assert notify.complaint_customer_message_notify(complaint, text="", users=[agent]) == 1
    bells = list(Message.objects.filter(channel="BELL", user=agent).order_by("id").values_list("subject", "body"))
    assert bells == [
        (f"Réclamation {complaint.number} vous est confiée", complaint.subject),
        (f"Réclamation {complaint.number} rouverte par le client", "Toujours pas réglé."),
        (f"Réclamation {complaint.number} : nouveau message du client", "Le client a joint un fichier."),
    ]
    Message.objects.all().delete()
    sent = notify.complaint_escalated_notify(
        complaint,
        supervisors=[supervisor],
        agent=agent,
        breach="délai de traitement dépassé",
        detail="Délai de traitement dépassé : la réclamation devait être traitée avant le 04/12/2026 17:00.",
        url="https://rak.example/backoffice/x/",
    )
    assert sent == 2
    email = Message.objects.get(channel="EMAIL")
    assert email.recipient == "sup@rak.ma"
    assert email.subject == f"Réclamation {complaint.number} en retard (délai de traitement dépassé)"
    assert "Agent en charge : " in email.body and "https://rak.example/backoffice/x/" in email.body
    assert Message.objects.filter(channel="BELL").count() == 2
    assert len(set(Message.objects.values_list("event", flat=True))) == 1


def test_every_complaint_code_is_registered_with_valid_defaults():
    from rak_base.message_templates import message_templates_registered, template_problems

    registered = message_templates_registered()
    for code in (
        notify.FILED,
        notify.REPLY,
        notify.INFO_REQUESTED,
        notify.CLOSED,
        notify.REOPENED,
        notify.CUSTOMER_MESSAGE,
        notify.ASSIGNED,
        notify.ESCALATED,
    ):
        spec = registered[code]
        for channel in spec.channels:
            subject, body = spec.default(channel)
            assert template_problems(spec, channel=channel, subject=subject, body=body) == []
