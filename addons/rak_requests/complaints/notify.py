"""What the customer and the staff hear about a complaint (outbox: SMS, e-mail, bell), queued in
the transaction of the change. One function per occasion; the wording is the templates' (staff can
edit them in the back office, « Modèles de messages »)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from rak_base.api import event_key, message_queue_bell, message_queue_email, message_queue_sms

KIND = "complaint"
SMS = "SMS"
EMAIL = "EMAIL"
BELL = "BELL"


def tracking_url() -> str:
    try:
        return settings.SITE_URL + reverse("portal:complaints")
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _send(complaint, *, subject: str, sms: str, email_body: str, channels=(SMS, EMAIL, BELL)) -> list[str]:
    """Queue the copies on ``channels`` that the complaint can receive; return the channels used."""
    event = event_key()
    used = []
    if SMS in channels and complaint.phone:
        message_queue_sms(to=complaint.phone, body=sms[:459], user=complaint.user, kind=KIND, event=event)
        used.append(SMS)
    if EMAIL in channels and complaint.email:
        message_queue_email(
            to=complaint.email, subject=subject, body=email_body, user=complaint.user, kind=KIND, event=event
        )
        used.append(EMAIL)
    if BELL in channels and complaint.user_id:
        message_queue_bell(user=complaint.user, subject=subject, body=sms, kind=KIND, event=event)
        used.append(BELL)
    return used


def complaint_filed_notify(complaint) -> list[str]:
    """The seed's « SMS de prise en charge avec le numéro attribué à la réclamation »."""
    values = {"number": complaint.number, "url": tracking_url()}
    return _send(
        complaint,
        subject=_("Réclamation %(number)s prise en charge") % values,
        sms=_(
            "RAK : votre réclamation n° %(number)s a bien été prise en charge. Nous vous contacterons "
            "pour y donner suite. Suivi : rubrique « Mes réclamations »."
        )
        % values,
        email_body=_(
            "Bonjour,\n\nVotre réclamation a bien été enregistrée sous le n° %(number)s. Un conseiller "
            "l'étudie et vous contactera pour y donner suite.\n\nSuivez son traitement dans la rubrique "
            "« Mes réclamations » de l'agence en ligne : %(url)s\n"
        )
        % values,
    )


def complaint_reply_notify(complaint, *, text: str, channels, asks_information: bool = False) -> list[str]:
    values = {"number": complaint.number, "text": text, "url": tracking_url()}
    if asks_information:
        sms = _("RAK : réclamation %(number)s — %(text)s Répondez dans « Mes réclamations ».") % values
        subject = _("Réclamation %(number)s : informations demandées") % values
    else:
        sms = _("RAK : réclamation %(number)s — %(text)s") % values
        subject = _("Réponse à votre réclamation %(number)s") % values
    body = _("Bonjour,\n\n%(text)s\n\nRéclamation n° %(number)s — suivi : %(url)s\n") % values
    return _send(complaint, subject=subject, sms=sms, email_body=body, channels=channels)


def complaint_closed_notify(complaint) -> list[str]:
    """Closure: the result is sent by SMS (and by e-mail and bell when the complaint has them)."""
    values = {"number": complaint.number, "result": complaint.result, "url": tracking_url()}
    return _send(
        complaint,
        subject=_("Réclamation %(number)s clôturée") % values,
        sms=_("RAK : réclamation %(number)s clôturée. %(result)s") % values,
        email_body=_(
            "Bonjour,\n\nVotre réclamation n° %(number)s est clôturée.\n\nRésultat du traitement :\n%(result)s\n\n"
            "Donnez votre appréciation ou rouvrez-la si le problème persiste, dans « Mes réclamations » : %(url)s\n"
        )
        % values,
    )


def complaint_staff_notify(complaint, *, subject: str, body: str, users=None) -> int:
    """A bell notification to the agent in charge (or to ``users``)."""
    recipients = list(users) if users is not None else ([complaint.assigned_to] if complaint.assigned_to_id else [])
    event = event_key()
    for user in recipients:
        message_queue_bell(user=user, subject=subject, body=body, kind=KIND, event=event)
    return len(recipients)


def complaint_handlers():
    """Active staff who may handle complaints (« Traiter les réclamations »), for alerts."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, role="STAFF")
        .filter(groups__permissions__codename="handle_complaint")
        .distinct()
    )


def templates_register() -> None:
    """Register the complaint message templates (rak_base.message_templates), called from
    RakRequestsConfig.ready."""
