"""« Répondre » to a « Contactez-nous » message (back office, helpdesk): the answer goes by e-mail,
and by SMS when the sender gave a phone; the message is marked handled with the answer as its
« suite donnée ». (Turning a message into a complaint is ``services.complaint_from_contact_message``.)

It lives here, not in rak_customer, because the answer's wording is a message template of the
helpdesk and rak_customer sends nothing of its own to « Contactez-nous » senders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rak_base.api import event_key, message_send, message_template_register
from rak_base.errors import RakError
from rak_customer.language import customer_language_code
from rak_customer.models import ContactMessage
from rak_requests.complaints.notify import (  # the same cut as the complaints' SMS: at most 3 parts
    _sms_fit,
    written_language,
)

TEMPLATE = "contact.reply"
SMS_TEXT_MAX = 280
REPEAT_WINDOW = timedelta(minutes=2)
# typical values, to count the SMS in the back office
EXAMPLE_SUBJECT = "Horaires de l'agence"  # i18n: not for customers
EXAMPLE_TEXT = "L'agence est ouverte de 8 h à 16 h."  # i18n: not for customers


class ContactReplyError(RakError):
    default_message = _("Ce message « Contactez-nous » a déjà été traité.")


def contact_templates_register() -> None:
    message_template_register(
        TEMPLATE,
        label=_("Réponse à un message « Contactez-nous »"),
        placeholders={
            "name": (_("nom de l'expéditeur"), "Amina Alaoui"),
            "subject": (_("objet du message reçu"), EXAMPLE_SUBJECT),
            "text": (_("réponse écrite par l'agent"), EXAMPLE_TEXT),
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


def contact_message_language(message: ContactMessage) -> str:
    """The language the sender reads: their customer account's when the message is linked to one,
    else Arabic when they wrote in Arabic, else French."""
    if message.customer_id:
        return customer_language_code(message.customer)
    return written_language(f"{message.subject} {message.body}") or settings.LANGUAGE_CODE


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
    language = contact_message_language(message)
    # the sender's name and subject are one line each: a line break (a hand-made post of
    # « Contactez-nous ») in the e-mail's subject would make it undeliverable
    context = {"name": " ".join(message.name.split()), "subject": " ".join(message.subject.split()), "text": text}
    message_send(
        code=TEMPLATE,
        context=context,
        channels=["EMAIL"],
        email=message.email,
        kind="contact",
        event=event,
        language=language,
    )
    if message.phone:
        sms_context = {**context, "text": text}
        if len(text) > SMS_TEXT_MAX:  # GSM-7 « ... » (a « … » makes the whole SMS UCS-2, 70 characters a part)
            with translation.override(language):
                more = str(_("(suite par e-mail)"))
            sms_context["text"] = text[: SMS_TEXT_MAX - 3].rstrip() + "... " + more
        message_send(
            code=TEMPLATE,
            context=_sms_fit(TEMPLATE, sms_context, "text", language=language),
            channels=["SMS"],
            phone=message.phone,
            kind="contact",
            event=event,
            language=language,
        )
    message.status = ContactMessage.Status.HANDLED
    message.staff_note = note
    message.handled_by = staff_user
    message.handled_at = now
    message.save(update_fields=["status", "staff_note", "handled_by", "handled_at"])
    return message
