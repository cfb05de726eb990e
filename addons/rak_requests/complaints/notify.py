"""What the customer and the staff hear about a complaint (outbox: SMS, e-mail, bell), queued in
the transaction of the change. One function per occasion; the wording is the message templates'
(``templates_register``, below): staff edit it in the back office (« Modèles de messages »), the
defaults here are used until they do.

The customer's SMS are written in the GSM-7 alphabet (straight quotes, no « n° », no dash): one
character outside it (« » ° — ê ç) makes the whole SMS UCS-2, 70 characters per SMS instead of 160,
and the « prise en charge » SMS would cost 3 SMS instead of 1. A staff reply or a closing result
goes into the SMS cut to ``SMS_TEXT_MAX`` characters (the e-mail and the bell carry all of it).

Language (issue 12): what the complainant receives is written in their language
(``complaint_language``): the customer's (``Customer.language``) when the complaint is theirs, else
the language of the page the complaint was filed on (kept in the « déposée » entry's data, no
column needed), else Arabic for a message written in Arabic, else French. Each message template has
an Arabic and an English default (gettext): Arabic SMS are UCS-2 (70 characters, 67 a part), so
their wording is short — at most two SMS with the examples. What staff receive stays French (the
back office's language), whoever's page triggered it."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rak_base.api import (
    event_key,
    message_queue_bell,
    message_renderer,
    message_send,
    message_template_register,
    phone_is_mobile,
    sms_length,
)
from rak_customer.language import customer_language_code

KIND = "complaint"
SMS = "SMS"
EMAIL = "EMAIL"
BELL = "BELL"
CHANNELS = (SMS, EMAIL, BELL)

SMS_TEXT_MAX = 300  # a reply or result in an SMS: at most this many characters...
SMS_MAX_SEGMENTS = 3  # ...and the whole SMS at most 3 SMS (a « ô » in the text makes it UCS-2: 67 a part)

# Template codes (rak_base.message_templates)
FILED = "complaint.filed"
REPLY = "complaint.reply"
INFO_REQUESTED = "complaint.info_requested"
CLOSED = "complaint.closed"
REOPENED = "complaint.reopened"
CUSTOMER_MESSAGE = "complaint.customer_message"
ASSIGNED = "complaint.assigned"
ESCALATED = "complaint.escalated"

EXAMPLE_NUMBER = "REC2026-000123"
EXAMPLE_URL = "https://www.rak.ma/espace/reclamations/"
EXAMPLE_REPLY = (  # i18n: not for customers (a typical value, to count the SMS in the back office)
    "Votre compteur a été vérifié : l'index relevé est correct, la facture de novembre est maintenue."
)
EXAMPLE_DETAIL = (  # i18n: not for customers (staff's escalation notice, a typical value)
    "Délai de traitement dépassé : la réclamation devait être traitée avant le 04/12/2026 17:00."
)
LANGUAGE_KEY = "language"  # in the « déposée » entry's data: the language of the page it was filed on
ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")


def _site_language(code: str | None) -> str:
    code = (code or "").split("-")[0]
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def written_language(text: str) -> str:
    """« ar » for a text written mostly in Arabic letters, else "" (unknown)."""
    arabic, latin = len(ARABIC_LETTER.findall(text or "")), len(LATIN_LETTER.findall(text or ""))
    return "ar" if arabic and arabic >= latin else ""


def complaint_language(complaint) -> str:
    """The language the complainant reads: their customer account's (``Customer.language``), else
    the language of the page the complaint was filed on, else Arabic when they wrote in Arabic, else
    French (the site's default)."""
    if complaint.customer_id:
        return customer_language_code(complaint.customer)
    data = complaint.entries.filter(kind="FILED").values_list("data", flat=True).first() or {}
    filed_in = data.get(LANGUAGE_KEY) if isinstance(data, dict) else None
    return _site_language(filed_in or written_language(complaint.message))


def in_complaint_language(complaint):
    """``with in_complaint_language(complaint):`` what the complainant reads (a thread entry written
    by a staff action, a text sent to them) is composed in their language, not the agent's."""
    return translation.override(complaint_language(complaint))


def tracking_url() -> str:
    try:
        return settings.SITE_URL + reverse("portal:complaints")
    except NoReverseMatch:
        return settings.SITE_URL + "/"


def _cut(text: str, limit: int = SMS_TEXT_MAX) -> str:
    text = " ".join((text or "").split())  # an SMS has no paragraphs
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."  # GSM-7 has no « … »


def _sms_fit(code: str, context: dict, key: str, *, language: str = "fr") -> dict:
    """``context`` with ``context[key]`` (a staff text) cut so that the SMS of ``code`` in
    ``language`` is at most ``SMS_TEXT_MAX`` characters of it and ``SMS_MAX_SEGMENTS`` SMS in all,
    whatever the encoding."""
    render = message_renderer(code=code, channel=SMS, language=language)
    text = _cut(str(context.get(key) or ""))

    def fits(value: str) -> bool:
        return sms_length(render({**context, key: value})[1]).segments <= SMS_MAX_SEGMENTS

    if fits(text):
        return {**context, key: text}
    low, high = 0, len(text)  # the longest prefix that fits, with its « ... »
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle].rstrip() + "..."):
            low = middle
        else:
            high = middle - 1
    return {**context, key: text[:low].rstrip() + "..."}


def _send(
    complaint,
    *,
    code: str,
    context: dict,
    language: str,
    channels=CHANNELS,
    sms_key: str = "",
) -> list[str]:
    """Queue message ``code`` in ``language`` on the ``channels`` the complaint can receive (its
    phone, e-mail, portal account), one event for all copies; return the channels used. ``sms_key``:
    the staff text of ``context`` cut to fit the SMS."""
    event = event_key()
    recipients = {"user": complaint.user, "phone": complaint.phone, "email": complaint.email, "kind": KIND}
    queued = []
    with translation.override(language):  # anything written on the way is in the complainant's language
        if SMS in channels and phone_is_mobile(complaint.phone):  # a landline given at the counter: no SMS
            sms_context = _sms_fit(code, context, sms_key, language=language) if sms_key else context
            queued += message_send(
                code=code, context=sms_context, channels=[SMS], event=event, language=language, **recipients
            )
        others = [channel for channel in (EMAIL, BELL) if channel in channels]
        if others:
            queued += message_send(
                code=code, context=context, channels=others, event=event, language=language, **recipients
            )
    return [channel for channel in CHANNELS if any(message.channel == channel for message in queued)]


def complaint_filed_notify(complaint, *, language: str | None = None) -> list[str]:
    """The seed's « SMS de prise en charge avec le numéro attribué à la réclamation », in
    ``language`` (default: ``complaint_language``)."""
    return _send(
        complaint,
        code=FILED,
        context={"number": complaint.number, "url": tracking_url()},
        language=_site_language(language) if language else complaint_language(complaint),
    )


def complaint_reply_notify(complaint, *, text: str, channels, asks_information: bool = False) -> list[str]:
    context = {"number": complaint.number, "text": text, "url": tracking_url()}
    return _send(
        complaint,
        code=INFO_REQUESTED if asks_information else REPLY,
        context=context,
        language=complaint_language(complaint),
        sms_key="text",
        channels=channels,
    )


def complaint_closed_notify(complaint) -> list[str]:
    """Closure: the result is sent by SMS (and by e-mail and bell when the complaint has them)."""
    context = {"number": complaint.number, "result": complaint.result, "url": tracking_url()}
    return _send(complaint, code=CLOSED, context=context, language=complaint_language(complaint), sms_key="result")


def complaint_staff_notify(complaint, *, subject: str, body: str, users=None) -> int:
    """A bell notification to the agent in charge (or to ``users``), with the caller's own words.
    The occasions below use the editable templates instead."""
    recipients = list(users) if users is not None else ([complaint.assigned_to] if complaint.assigned_to_id else [])
    event = event_key()
    for user in recipients:
        message_queue_bell(user=user, subject=subject, body=body, kind=KIND, event=event)
    return len(recipients)


def _staff(complaint, users) -> list:
    if users is not None:
        return list(users)
    if complaint.assigned_to_id:
        return [complaint.assigned_to]
    return list(complaint_handlers())


def _staff_send(complaint, *, code: str, context: dict, users, channels=(BELL,)) -> int:
    """Message ``code`` to each staff member of ``users`` (default: the agent in charge, else
    everyone who handles complaints), on the bell and, when asked, by e-mail."""
    recipients = _staff(complaint, users)
    context = {"number": complaint.number, "subject": complaint.subject, **context}
    event = event_key()
    for user in recipients:
        message_send(
            code=code,
            context=context,
            channels=channels,
            user=user,
            email=user.email,
            kind=KIND,
            event=event,
            language=settings.LANGUAGE_CODE,  # the back office's language, whoever's page triggered it
        )
    return len(recipients)


def complaint_reopened_notify(complaint, *, reason: str, users=None) -> int:
    """The customer reopened a closed complaint: its agent (or the handlers) is told."""
    return _staff_send(complaint, code=REOPENED, context={"text": _cut(reason)}, users=users)


def complaint_customer_message_notify(complaint, *, text: str, users=None) -> int:
    """The customer added information or a file: its agent (or the handlers) is told."""
    with translation.override(settings.LANGUAGE_CODE):  # staff read French, the customer's page may not be
        attached = str(_("Le client a joint un fichier."))
    return _staff_send(complaint, code=CUSTOMER_MESSAGE, context={"text": _cut(text) or attached}, users=users)


def complaint_assigned_notify(complaint, *, assignee) -> int:
    return _staff_send(complaint, code=ASSIGNED, context={}, users=[assignee])


def complaint_escalated_notify(complaint, *, supervisors, agent=None, breach: str, detail: str, url: str = "") -> int:
    """The complaint passed a deadline (SLA): the supervisors by bell and e-mail, the agent in charge
    by bell, one event. ``breach``: « délai de traitement dépassé » / « sans première réponse dans le
    délai »; ``detail``: the sentence with the deadline."""
    with translation.override(settings.LANGUAGE_CODE):  # staff read French
        nobody = str(_("personne (file d'attente)"))
    who = (agent.get_full_name() or agent.username) if agent is not None else nobody
    context = {
        "number": complaint.number,
        "subject": complaint.subject,
        "category": complaint.category.name,
        "breach": breach,
        "detail": detail,
        "who": who,
        "url": url,
    }
    event = event_key()
    supervisors = list(supervisors)
    for user in supervisors:
        message_send(
            code=ESCALATED,
            context=context,
            channels=(BELL, EMAIL),
            user=user,
            email=user.email,
            kind=KIND,
            event=event,
            language=settings.LANGUAGE_CODE,
        )
    if agent is not None and agent not in supervisors:
        message_send(
            code=ESCALATED,
            context=context,
            channels=(BELL,),
            user=agent,
            kind=KIND,
            event=event,
            language=settings.LANGUAGE_CODE,
        )
    return len(supervisors) + (agent is not None and agent not in supervisors)


def complaint_handlers():
    """Active staff who may handle complaints (« Traiter les réclamations »), for alerts."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, role="STAFF")
        .filter(groups__permissions__codename="handle_complaint")
        .distinct()
    )


_NUMBER = {"number": (_("numéro de la réclamation"), EXAMPLE_NUMBER)}
_URL = {"url": (_("adresse de la rubrique « Mes réclamations »"), EXAMPLE_URL)}
_STAFF = {
    "number": (_("numéro de la réclamation"), EXAMPLE_NUMBER),
    "subject": (_("objet de la réclamation"), "Facture de novembre trop élevée"),  # i18n: not for customers
}


def templates_register() -> None:
    """Register the complaint message templates (rak_base.message_templates), called from
    RakRequestsConfig.ready."""
    message_template_register(
        FILED,
        label=_("Réclamation : prise en charge (au client)"),
        placeholders={**_NUMBER, **_URL},
        required=("number",),
        defaults={
            SMS: (
                "",
                _(
                    "RAK : votre réclamation {number} a bien été prise en charge. Nous vous contacterons pour "
                    'y donner suite. Suivi : rubrique "Mes réclamations".'
                ),
            ),
            EMAIL: (
                _("Réclamation {number} prise en charge"),
                _(
                    "Bonjour,\n\nVotre réclamation a bien été enregistrée sous le n° {number}. Un conseiller "
                    "l'étudie et vous contactera pour y donner suite.\n\nSuivez son traitement dans la rubrique "
                    "« Mes réclamations » de l'agence en ligne : {url}\n"
                ),
            ),
            BELL: (
                _("Réclamation {number} prise en charge"),
                _(
                    "Votre réclamation n° {number} a bien été prise en charge. Nous vous contacterons pour y donner "
                    "suite."
                ),
            ),
        },
    )
    reply_text = {"text": (_("texte de la réponse de l'agent (coupé à 300 caractères dans le SMS)"), EXAMPLE_REPLY)}
    message_template_register(
        REPLY,
        label=_("Réclamation : réponse de l'agent (au client)"),
        placeholders={**_NUMBER, **reply_text, **_URL},
        required=("text",),
        defaults={
            SMS: ("", _("RAK : réclamation {number} : {text}")),
            EMAIL: (
                _("Réponse à votre réclamation {number}"),
                _("Bonjour,\n\n{text}\n\nRéclamation n° {number} — suivi : {url}\n"),
            ),
            BELL: (_("Réponse à votre réclamation {number}"), "{text}"),
        },
    )
    message_template_register(
        INFO_REQUESTED,
        label=_("Réclamation : informations demandées au client"),
        placeholders={**_NUMBER, **reply_text, **_URL},
        required=("text",),
        defaults={
            SMS: ("", _('RAK : réclamation {number} : {text} Répondez dans "Mes réclamations".')),
            EMAIL: (
                _("Réclamation {number} : informations demandées"),
                _(
                    "Bonjour,\n\n{text}\n\nRépondez-nous dans la rubrique « Mes réclamations » de l'agence en ligne "
                    ": {url}\n\nRéclamation n° {number}\n"
                ),
            ),
            BELL: (_("Réclamation {number} : informations demandées"), "{text}"),
        },
    )
    message_template_register(
        CLOSED,
        label=_("Réclamation : clôture et résultat du traitement (au client)"),
        placeholders={
            **_NUMBER,
            "result": (
                _("résultat du traitement saisi à la clôture (coupé à 300 caractères dans le SMS)"),
                "Facture rectifiée : un avoir de 120,50 DH a été imputé sur votre compte.",  # i18n: not for customers
            ),
            **_URL,
        },
        required=("result",),
        defaults={
            SMS: ("", _("RAK : réclamation {number} traitée et close. Résultat : {result}")),
            EMAIL: (
                _("Réclamation {number} clôturée"),
                _(
                    "Bonjour,\n\nVotre réclamation n° {number} est clôturée.\n\nRésultat du traitement :\n{result}\n\n"
                    "Donnez votre appréciation ou rouvrez-la si le problème persiste, dans « Mes réclamations » : "
                    "{url}\n"
                ),
            ),
            BELL: (_("Réclamation {number} clôturée"), _("Résultat du traitement : {result}")),
        },
    )
    staff_text = {  # i18n: not for customers (the example: a typical value)
        "text": (_("texte du client (coupé à 300 caractères)"), "Le problème persiste depuis hier."),
    }
    message_template_register(
        REOPENED,
        label=_("Réclamation rouverte par le client (au personnel)"),
        placeholders={**_STAFF, **staff_text},
        defaults={
            BELL: (_("Réclamation {number} rouverte par le client"), "{text}"),
        },
    )
    message_template_register(
        CUSTOMER_MESSAGE,
        label=_("Réclamation : nouveau message du client (au personnel)"),
        placeholders={**_STAFF, **staff_text},
        defaults={
            BELL: (_("Réclamation {number} : nouveau message du client"), "{text}"),
        },
    )
    message_template_register(
        ASSIGNED,
        label=_("Réclamation confiée à un agent (à l'agent)"),
        placeholders=_STAFF,
        defaults={BELL: (_("Réclamation {number} vous est confiée"), "{subject}")},
    )
    message_template_register(
        ESCALATED,
        label=_("Réclamation en retard sur son délai (escalade, au personnel)"),
        placeholders={
            **_STAFF,
            "category": (_("catégorie"), "Facturation"),
            "breach": (_("retard constaté"), "délai de traitement dépassé"),  # i18n: not for customers
            "detail": (_("phrase avec l'échéance dépassée"), EXAMPLE_DETAIL),
            "who": (_("agent en charge"), "Salma Idrissi"),
            "url": (_("adresse de la réclamation dans le back office"), "https://www.rak.ma/backoffice/..."),
        },
        defaults={
            BELL: (
                _("Réclamation {number} en retard ({breach})"),
                _("{detail}\nRéclamation {number} — {category} — {subject}\nAgent en charge : {who}\n{url}\n"),
            ),
            EMAIL: (
                _("Réclamation {number} en retard ({breach})"),
                _("{detail}\nRéclamation {number} — {category} — {subject}\nAgent en charge : {who}\n{url}\n"),
            ),
        },
    )
    # outage.notice and the other outage messages are registered by rak_requests.outages (their owner)
