"""« Répondre » to a « Contactez-nous » message (back office, helpdesk): the answer goes by e-mail,
and by SMS when the sender gave a phone; the message is marked handled with the answer as its
« suite donnée ». (Turning a message into a complaint is ``services.complaint_from_contact_message``.)

It lives here, not in rak_customer, because the answer's wording is a message template of the
helpdesk and rak_customer sends nothing of its own to « Contactez-nous » senders.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base.api import event_key, message_send, message_template_register
from rak_base.errors import RakError
from rak_customer.models import ContactMessage

TEMPLATE = "contact.reply"
SMS_TEXT_MAX = 280


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
    if message.status != ContactMessage.Status.NEW:
        raise ContactReplyError()
    text = (body or "").strip()
    if not text:
        raise ContactReplyError(_("Écrivez votre réponse."))
    event = event_key()
    context = {"name": message.name, "subject": message.subject, "text": text}
    message_send(code=TEMPLATE, context=context, channels=["EMAIL"], email=message.email, kind="contact", event=event)
    if message.phone:
        short = (
            text
            if len(text) <= SMS_TEXT_MAX
            else text[: SMS_TEXT_MAX - 1].rstrip() + "… " + str(_("(suite par e-mail)"))
        )
        message_send(
            code=TEMPLATE,
            context={**context, "text": short},
            channels=["SMS"],
            phone=message.phone,
            kind="contact",
            event=event,
        )
    message.status = ContactMessage.Status.HANDLED
    message.staff_note = str(_("Réponse envoyée :")) + "\n" + text
    message.handled_by = staff_user
    message.handled_at = now
    message.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    return message
