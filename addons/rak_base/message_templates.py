"""Message templates: the wording of every SMS, e-mail and bell notification, editable by staff.

An addon registers each of its messages in ``AppConfig.ready()``::

    message_template_register(
        "complaint.filed",
        label=_("Réclamation enregistrée (prise en charge)"),
        placeholders={"number": (_("numéro de la réclamation"), "REC-2026-000123")},
        defaults={Message.Channel.SMS: ("", _("RAK : votre réclamation {number} est prise en charge."))},
        required=("number",),
    )

and sends it with ``message_send(code=…, context={"number": …}, channels=[…], …)``, which renders
each channel (``message_render``) and queues it through the outbox in the caller's transaction.

Rules:
- placeholders are ``{name}`` and nothing else: no attribute or index access (``{a.b}``,
  ``{a[0]}``), no conversion (``{a!r}``), no format spec (``{a:>300}``), no positional ``{}``;
  ``{{`` and ``}}`` write a literal brace. A staff edit naming an unknown placeholder, or leaving
  out a ``required`` one, is refused with a French message (``MessageTemplateInvalid``);
- a placeholder is ``{name: description}`` or ``{name: (description, example)}``. The example is a
  typical value (when none is given, 12 characters stand for it): an SMS template is rendered with
  the examples and refused over ``MAX_SMS_SEGMENTS`` SMS; the back office shows the length and the
  number of SMS with the same examples;
- rendering never raises: a context key that is missing renders as an empty string (logged); a
  stored row that no longer validates (edited in the database by hand, a placeholder dropped from
  the code) is ignored for the code's default (logged);
- the row is used when staff changed it (``MessageTemplate.customized``), else the code's default,
  translated into the message's language (defaults are gettext strings, French source: issue 12
  adds the Arabic and English rows and catalogues, nothing else).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import Message, MessageTemplate
from rak_base.outbox import event_key, message_queue_bell, message_queue_email, message_queue_sms
from rak_base.sms_length import SmsLength, sms_length

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

MAX_SMS_SEGMENTS = 2
EXAMPLE_FALLBACK = "X" * 12
DEFAULT_LANGUAGE = "fr"


class MessageTemplateInvalid(RakError):
    default_message = _("Ce modèle de message n'est pas valable.")


class MessageTemplateUnknown(RakError):
    default_message = _("Ce modèle de message n'existe pas (ou plus) dans le logiciel.")


@dataclass(frozen=True)
class Placeholder:
    name: str
    description: str
    example: str


@dataclass(frozen=True)
class TemplateSpec:
    code: str
    label: str
    placeholders: dict[str, Placeholder]
    defaults: dict[str, tuple[StrOrPromise, StrOrPromise]]  # channel -> (subject, body), gettext_lazy strings
    sensitive: bool = False
    required: tuple[str, ...] = ()
    channels: tuple[str, ...] = field(default=())

    def default(self, channel: str, language: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
        """The code's wording for ``channel`` in ``language`` (its gettext catalogue, French source)."""
        subject, body = self.defaults[channel]
        with translation.override(language):
            return str(subject or ""), str(body)

    def examples(self) -> dict[str, str]:
        return {name: placeholder.example for name, placeholder in self.placeholders.items()}


_REGISTRY: dict[str, TemplateSpec] = {}


def message_template_register(
    code: str,
    *,
    label,
    placeholders: Mapping[str, object],
    defaults: Mapping[str, tuple[StrOrPromise, StrOrPromise]],
    sensitive: bool = False,
    required: Iterable[str] = (),
) -> TemplateSpec:
    """Declare a message and its default wording per channel (call it from ``AppConfig.ready()``).
    Registering the same code again replaces it (tests, autoreload)."""
    parsed: dict[str, Placeholder] = {}
    for name, value in placeholders.items():
        if not name.isidentifier():
            raise ImproperlyConfigured(f"message template {code}: placeholder name {name!r} is not an identifier")
        description, example = value if isinstance(value, tuple) else (value, EXAMPLE_FALLBACK)
        parsed[name] = Placeholder(name=name, description=str(description), example=str(example))
    unknown_channels = set(defaults) - set(Message.Channel.values)
    if unknown_channels or not defaults:
        raise ImproperlyConfigured(f"message template {code}: channels {sorted(unknown_channels) or 'none'}")
    spec = TemplateSpec(
        code=code,
        label=str(label),
        placeholders=parsed,
        defaults={str(channel): pair for channel, pair in defaults.items()},
        sensitive=sensitive,
        required=tuple(required),
        channels=tuple(channel for channel in Message.Channel.values if channel in defaults),
    )
    missing = set(spec.required) - set(parsed)
    if missing:
        raise ImproperlyConfigured(f"message template {code}: required placeholders {sorted(missing)} not declared")
    for channel in spec.channels:
        subject, body = spec.default(channel)
        problems = template_problems(spec, channel=channel, subject=subject, body=body, check_length=False)
        if problems:  # a developer's mistake: the software must not start with it
            raise ImproperlyConfigured(f"message template {code} ({channel}) default: {problems}")
        if channel == Message.Channel.SMS:
            # over the limit with the examples: staff could not save the default as it is; said in the
            # logs (and by tests/integration/test_message_templates.py), not worth refusing to start
            segments = sms_length(_format(body, spec.examples())).segments
            if segments > MAX_SMS_SEGMENTS:
                logger.warning("message template %s: the default SMS takes %d SMS with the examples", code, segments)
    _REGISTRY[code] = spec
    return spec


def message_templates_registered() -> dict[str, TemplateSpec]:
    return dict(_REGISTRY)


def message_template_spec(code: str) -> TemplateSpec:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise MessageTemplateUnknown() from None


# --- checking a wording ---------------------------------------------------------------------------


def _placeholders_of(text: str) -> list[str]:
    """The placeholder names of ``text``; raises ValueError (malformed) or MessageTemplateInvalid."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if name == "" or not name.isidentifier():
            raise MessageTemplateInvalid(
                _("« {%(name)s} » n'est pas une variable : écrivez seulement un nom entre accolades, comme {numero}.")
                % {"name": name}
            )
        if spec or conversion:
            raise MessageTemplateInvalid(
                _("« {%(name)s…} » : écrivez la variable seule, sans « : » ni « ! », comme {%(name)s}.")
                % {"name": name}
            )
        names.append(name)
    return names


def template_problems(
    spec: TemplateSpec, *, channel: str, subject: str, body: str, check_length: bool = True
) -> list[tuple[str, str]]:
    """Every reason why this wording cannot be used, as (field, French message) with field
    ``subject`` or ``body``; empty when it can."""
    problems: list[tuple[str, str]] = []
    known = ", ".join(f"{{{name}}}" for name in spec.placeholders) or gettext("aucune")
    used: set[str] = set()
    fields = [("body", body)]
    if channel != Message.Channel.SMS:
        fields.insert(0, ("subject", subject))
    for name_of_field, text in fields:
        try:
            names = _placeholders_of(text or "")
        except MessageTemplateInvalid as exc:
            problems.append((name_of_field, exc.message))
            continue
        except ValueError:
            problems.append(
                (
                    name_of_field,
                    gettext(
                        "Une accolade est seule ou mal fermée. Une variable s'écrit {nom} ; "
                        "pour écrire une accolade, doublez-la ({{ ou }})."
                    ),
                )
            )
            continue
        unknown = [name for name in dict.fromkeys(names) if name not in spec.placeholders]
        if unknown:
            problems.append(
                (
                    name_of_field,
                    gettext("Variable inconnue : %(names)s. Variables possibles : %(known)s.")
                    % {"names": ", ".join(f"{{{n}}}" for n in unknown), "known": known},
                )
            )
        used.update(names)
    if not (body or "").strip():
        problems.append(("body", gettext("Le texte du message est obligatoire.")))
    if channel == Message.Channel.EMAIL and not (subject or "").strip():
        problems.append(("subject", gettext("L'objet de l'e-mail est obligatoire.")))
    missing = [name for name in spec.required if name not in used]
    if missing and not problems:
        problems.append(
            (
                "body",
                gettext("Le message doit contenir %(names)s.") % {"names": ", ".join(f"{{{n}}}" for n in missing)},
            )
        )
    if channel == Message.Channel.SMS and check_length and not problems:
        length = sms_length(_format(body, spec.examples()))
        if length.segments > MAX_SMS_SEGMENTS:
            problems.append(
                (
                    "body",
                    gettext(
                        "Ce SMS est trop long : avec des valeurs types il fait %(units)d caractères, "
                        "soit %(segments)d SMS (%(encoding)s) ; %(max)d SMS au plus."
                    )
                    % {
                        "units": length.units,
                        "segments": length.segments,
                        "encoding": length.encoding,
                        "max": MAX_SMS_SEGMENTS,
                    },
                )
            )
    return problems


def message_template_validate(*, code: str, channel: str, subject: str, body: str) -> None:
    """Raise MessageTemplateInvalid (every reason, in French; ``problems`` by field) unless the
    wording can be used."""
    problems = template_problems(message_template_spec(code), channel=channel, subject=subject, body=body)
    if problems:
        raise MessageTemplateInvalid(" ".join(message for _field, message in problems), problems=problems)


def sms_length_with_examples(*, code: str, body: str) -> SmsLength:
    """Length and number of SMS of ``body`` once its placeholders hold their typical values."""
    spec = message_template_spec(code)
    try:
        return sms_length(_format(body, spec.examples()))
    except ValueError:
        return sms_length(body)


# --- rendering ------------------------------------------------------------------------------------


def _format(text: str, context: Mapping[str, object], *, code: str = "") -> str:
    """``{name}`` replaced by ``str(context[name])``; a missing name renders empty (logged). Never
    evaluates attributes, indexes, conversions or format specs: only the bare name is looked up."""
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if name in context and context[name] is not None:
            out.append(str(context[name]))
        else:
            logger.warning("message template %s: no value for {%s}", code or "?", name)
    return "".join(out)


def _wordings(spec: TemplateSpec, channels: Iterable[str], language: str) -> dict[str, tuple[str, str]]:
    """(subject, body) per channel: staff's wording where they changed it, else the default; one query."""
    channels = list(channels)
    rows = {
        row.channel: row
        for row in MessageTemplate.objects.filter(
            code=spec.code, channel__in=channels, language=language, customized=True
        ).only("channel", "subject", "body")
    }
    wordings = {}
    for channel in channels:
        row = rows.get(channel)
        if row is not None:
            if not template_problems(spec, channel=channel, subject=row.subject, body=row.body, check_length=False):
                wordings[channel] = (row.subject, row.body)
                continue
            logger.error(
                "message template %s %s %s: the stored wording is invalid, default used", spec.code, channel, language
            )
        wordings[channel] = spec.default(channel, language)
    return wordings


@dataclass(frozen=True)
class Renderer:
    """One message's wording on one channel, read once: render it for many recipients without a
    query each (outage notices)."""

    code: str
    subject: str
    body: str

    def __call__(self, context: Mapping[str, object]) -> tuple[str, str]:
        try:
            return _format(self.subject, context, code=self.code), _format(self.body, context, code=self.code)
        except ValueError:  # cannot happen with a validated wording; never let a notice fail on it
            logger.exception("message template %s: malformed wording", self.code)
            return self.subject, self.body


def message_renderer(*, code: str, channel: str, language: str = DEFAULT_LANGUAGE) -> Renderer:
    spec = message_template_spec(code)
    if channel not in spec.defaults:
        raise MessageTemplateUnknown(_("Le message « %(label)s » n'existe pas sur ce canal.") % {"label": spec.label})
    subject, body = _wordings(spec, [channel], language)[channel]
    return Renderer(code=code, subject=subject, body=body)


def message_render(
    *, code: str, channel: str, context: Mapping[str, object], language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
    """(subject, body) of message ``code`` on ``channel``: staff's wording when they changed it,
    else the code's default. Missing context keys render empty; never raises on the context."""
    return message_renderer(code=code, channel=channel, language=language)(context)


@transaction.atomic
def message_send(
    *,
    code: str,
    context: Mapping[str, object],
    channels: Iterable[str],
    user=None,
    phone: str = "",
    email: str = "",
    kind: str = "",
    event: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> list[Message]:
    """Render message ``code`` and queue it on each of ``channels`` that has a recipient (SMS →
    ``phone``, EMAIL → ``email``, BELL → ``user``), in the caller's transaction; the copies share one
    event key (the bell shows the notice once). Returns the queued messages."""
    spec = message_template_spec(code)
    wanted = [str(channel) for channel in channels]
    # PUSH copies are made by the outbox from the bell / e-mail / SMS copy, never from a template
    recipients: dict[str, object] = {
        Message.Channel.SMS: phone,
        Message.Channel.EMAIL: email,
        Message.Channel.BELL: user,
        Message.Channel.PUSH: None,
    }
    targets = [c for c in Message.Channel.values if c in wanted and c in spec.defaults and recipients[c]]
    for channel in wanted:
        if channel not in spec.defaults:
            logger.warning("message_send %s: no wording for channel %s", code, channel)
    if event is None:
        event = event_key() if len(targets) > 1 else ""
    kind = (kind or code)[:40]
    queued: list[Message] = []
    wordings = _wordings(spec, targets, language) if targets else {}
    for channel in targets:
        subject, body = Renderer(code=code, subject=wordings[channel][0], body=wordings[channel][1])(context)
        if channel == Message.Channel.SMS:
            queued.append(
                message_queue_sms(to=phone, body=body, user=user, kind=kind, sensitive=spec.sensitive, event=event)
            )
        elif channel == Message.Channel.EMAIL:
            queued.append(
                message_queue_email(
                    to=email, subject=subject, body=body, user=user, kind=kind, sensitive=spec.sensitive, event=event
                )
            )
        else:
            queued.append(message_queue_bell(user=user, subject=subject, body=body, kind=kind, event=event))
    return queued


# --- staff edits (back office) ----------------------------------------------------------------------


@transaction.atomic
def message_template_update(*, template_id: int, subject: str, body: str, user, now: datetime) -> MessageTemplate:
    """Staff's wording for one template; refused (MessageTemplateInvalid) unless it validates."""
    template = MessageTemplate.objects.select_for_update().get(pk=template_id)
    subject = (subject or "").strip() if template.channel != Message.Channel.SMS else ""
    body = (body or "").strip()
    message_template_validate(code=template.code, channel=template.channel, subject=subject, body=body)
    template.subject, template.body = subject, body
    template.customized = True
    template.updated_at, template.updated_by = now, user
    template._change_reason = gettext("Texte modifié")
    template.save(update_fields=["subject", "body", "customized", "updated_at", "updated_by"])
    return template


@transaction.atomic
def message_template_reset(*, template_id: int, user, now: datetime) -> MessageTemplate:
    """« Rétablir le texte par défaut »: the code's wording is sent again (and shown)."""
    template = MessageTemplate.objects.select_for_update().get(pk=template_id)
    spec = message_template_spec(template.code)
    template.subject, template.body = spec.default(template.channel, template.language)
    template.customized = False
    template.updated_at, template.updated_by = now, user
    template._change_reason = gettext("Texte par défaut rétabli")
    template.save(update_fields=["subject", "body", "customized", "updated_at", "updated_by"])
    return template


def site_languages() -> list[str]:
    """The languages of the site (settings.LANGUAGES) that templates exist in: French, Arabic and
    English since issue 12; a row per registered code and channel in each (``message_templates_sync``)."""
    languages = [code.split("-")[0] for code, _name in settings.LANGUAGES]
    return [code for code in dict.fromkeys(languages) if code in MessageTemplate.Language.values] or [DEFAULT_LANGUAGE]


def message_templates_sync(*, languages: Iterable[str] | None = None) -> int:
    """Infrastructure, not business flow: a row for every registered (code, channel) in each of the
    site's languages, so staff can edit a message nobody changed yet; rows staff never changed follow
    the code's default (translated). Idempotent; run after each migrate and when the back-office list
    opens. Returns the number of rows created."""
    languages = list(languages or site_languages())
    wanted = {
        (spec.code, channel, language): spec
        for spec in _REGISTRY.values()
        for channel in spec.channels
        for language in languages
    }
    rows = {
        (row.code, row.channel, row.language): row
        for row in MessageTemplate.objects.filter(language__in=languages).only(
            "code", "channel", "language", "subject", "body", "customized"
        )
    }
    missing, stale = [], []
    for key, spec in wanted.items():
        code, channel, language = key
        subject, body = spec.default(channel, language)
        row = rows.get(key)
        if row is None:
            missing.append(MessageTemplate(code=code, channel=channel, language=language, subject=subject, body=body))
        elif not row.customized and (row.subject, row.body) != (subject, body):
            row.subject, row.body = subject, body
            stale.append(row)
    if missing:
        MessageTemplate.objects.bulk_create(missing, ignore_conflicts=True)  # two processes opening the list at once
    if stale:
        # no history row: the code changed, not staff. Only rows still not customized when the UPDATE
        # gets them: a superviseur saving one meanwhile keeps their text (PostgreSQL re-checks the WHERE)
        MessageTemplate.objects.filter(customized=False).bulk_update(stale, ["subject", "body"])
    return len(missing)


def message_templates_post_migrate(sender, using=None, **kwargs) -> None:
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connections[using or DEFAULT_DB_ALIAS]
    if MessageTemplate._meta.db_table in connection.introspection.table_names():  # not when migrating back
        message_templates_sync()
