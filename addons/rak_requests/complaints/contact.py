"""« Répondre » to a « Contactez-nous » message (back office, helpdesk): the answer goes by e-mail,
and by SMS when the sender gave a phone; the message is marked handled with the answer as its
« suite donnée ». (Turning a message into a complaint is ``services.complaint_from_contact_message``.)

It lives here, not in rak_customer, because the answer's wording is a message template of the
helpdesk and rak_customer sends nothing of its own to « Contactez-nous » senders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base.api import event_key, message_send, message_template_register
from rak_base.errors import RakError
from rak_customer.models import ContactMessage
from rak_requests.complaints.notify import _sms_fit  # the same cut as the complaints' SMS: at most 3 parts

TEMPLATE = "contact.reply"
SMS_TEXT_MAX = 280
REPEAT_WINDOW = timedelta(minutes=2)


class ContactReplyError(RakError):
    default_message = _("Ce message « Contactez-nous » a déjà été traité.")


def contact_templates_register() -> None:
    message_template_register(
        TEMPLATE,
        label=_("Réponse à un message « Contactez-nous »"),
        placeholders={
            "name": (_("nom de l'expéditeur"), "Amina Alaoui"),
            "subject": (_("objet du message reçu"), "Horaires de l'agence"),
            "text": (_("réponse écrite par l'agent"), "L'agence est ouverte de 8 h à 16 h."),
        },
        defaults={
            "EMAIL": (
                _("Réponse à votre message : {subject}"),
                _("Bonjour {name},\n\n{text}\n\nCordialement,\nRAK — Relation clientèle\n"),
            ),
            "SMS": ("", _("RAK : {text}")),
        },
        required=("text",),
    )


@transaction.atomic
def contact_message_reply(*, message_id: int, staff_user, body: str, now: datetime) -> ContactMessage:
    """Answer a new « Contactez-nous » message (e-mail; SMS too when a phone is given) and mark it
    handled, the answer kept as its « suite donnée »."""
    message = ContactMessage.objects.select_for_update().get(pk=message_id)
    text = (body or "").strip()
    note = str(_("Réponse envoyée :")) + "\n" + text
    if message.status != ContactMessage.Status.NEW:
        if (
            message.handled_by_id == getattr(staff_user, "pk", None)
            and message.staff_note == note
            and message.handled_at is not None
            and now - message.handled_at <= REPEAT_WINDOW
        ):
            return message  # « Répondre » clicked twice: answered once
        raise ContactReplyError()
    if not text:
        raise ContactReplyError(_("Écrivez votre réponse."))
    event = event_key()
    # the sender's name and subject are one line each: a line break (a hand-made post of
    # « Contactez-nous ») in the e-mail's subject would make it undeliverable
    context = {"name": " ".join(message.name.split()), "subject": " ".join(message.subject.split()), "text": text}
    message_send(code=TEMPLATE, context=context, channels=["EMAIL"], email=message.email, kind="contact", event=event)
    if message.phone:
        sms_context = {**context, "text": text}
        if len(text) > SMS_TEXT_MAX:  # GSM-7 « ... » (a « … » makes the whole SMS UCS-2, 70 characters a part)
            sms_context["text"] = text[: SMS_TEXT_MAX - 3].rstrip() + "... " + str(_("(suite par e-mail)"))
        message_send(
            code=TEMPLATE,
            context=_sms_fit(TEMPLATE, sms_context, "text"),
            channels=["SMS"],
            phone=message.phone,
            kind="contact",
            event=event,
        )
    message.status = ContactMessage.Status.HANDLED
    message.staff_note = note
    message.handled_by = staff_user
    message.handled_at = now
    message.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    return message
