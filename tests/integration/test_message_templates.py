"""Message templates (rak_base.message_templates): the wording of SMS, e-mails and bell notices,
registered in code with their placeholders, edited by staff, rendered and queued through the outbox.

What matters to an operator: staff's wording is what customers receive once they changed it, the
code's default otherwise; a wording with an unknown or malformed placeholder, without a required one
or too long for 2 SMS is refused with a French reason; rendering never fails a business transaction
(a missing value renders empty); every edit is kept in the history."""

from __future__ import annotations

import logging

import pytest

from rak_base.message_templates import (
    _REGISTRY,
    MAX_SMS_SEGMENTS,
    MessageTemplateInvalid,
    MessageTemplateUnknown,
    message_render,
    message_renderer,
    message_send,
    message_template_register,
    message_template_reset,
    message_template_update,
    message_template_validate,
    message_templates_registered,
    message_templates_sync,
    template_problems,
)
from rak_base.models import Message, MessageTemplate
from rak_base.sms_length import sms_length
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

SMS, EMAIL, BELL = Message.Channel.SMS, Message.Channel.EMAIL, Message.Channel.BELL
CODE = "test.sample"


@pytest.fixture
def sample():
    spec = message_template_register(
        CODE,
        label="Exemple de test",
        placeholders={"number": ("numéro du dossier", "REC-2026-000123"), "name": "nom du client"},
        defaults={
            SMS: ("", "RAK : dossier {number} pour {name}."),
            EMAIL: ("Dossier {number}", "Bonjour {name},\n\nVotre dossier {number} avance."),
            BELL: ("Dossier {number}", "Votre dossier {number} avance."),
        },
        required=("number",),
    )
    message_templates_sync()
    yield spec
    _REGISTRY.pop(CODE, None)


def row(channel=SMS) -> MessageTemplate:
    return MessageTemplate.objects.get(code=CODE, channel=channel, language="fr")


def test_the_default_is_sent_until_staff_change_the_wording(sample, now):
    assert message_render(code=CODE, channel=SMS, context={"number": "R1", "name": "Amal"}) == (
        "",
        "RAK : dossier R1 pour Amal.",
    )
    staff = StaffFactory()
    message_template_update(
        template_id=row().pk, subject="", body="Dossier {number} : c'est noté.", user=staff, now=now
    )
    assert message_render(code=CODE, channel=SMS, context={"number": "R1"}) == ("", "Dossier R1 : c'est noté.")
    # the other channels keep their default
    assert message_render(code=CODE, channel=EMAIL, context={"number": "R1", "name": "Amal"})[0] == "Dossier R1"


def test_a_row_nobody_changed_follows_the_code(sample):
    MessageTemplate.objects.filter(pk=row().pk).update(body="Ancien texte {number}")  # an older default
    assert (
        message_render(code=CODE, channel=SMS, context={"number": "R1", "name": "A"})[1] == "RAK : dossier R1 pour A."
    )
    message_templates_sync()
    assert row().body == "RAK : dossier {number} pour {name}."  # the list shows today's default


def test_sync_creates_each_row_once_and_leaves_staff_wording_alone(sample, now):
    # one row per channel (3) in each of the site's languages (fr, ar, en: issue 12)
    assert sorted(set(MessageTemplate.objects.filter(code=CODE).values_list("language", flat=True))) == [
        "ar",
        "en",
        "fr",
    ]
    assert MessageTemplate.objects.filter(code=CODE).count() == 9
    assert message_templates_sync() == 0
    message_template_update(template_id=row().pk, subject="", body="Mon texte {number}", user=StaffFactory(), now=now)
    message_templates_sync()
    assert MessageTemplate.objects.filter(code=CODE).count() == 9
    assert row().body == "Mon texte {number}" and row().customized


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Dossier {numero}", "Variable inconnue : {numero}. Variables possibles : {number}, {name}."),
        ("Dossier {number.__class__}", "n'est pas une variable"),
        ("Dossier {number[0]}", "n'est pas une variable"),
        ("Dossier {}", "n'est pas une variable"),
        ("Dossier {0}", "n'est pas une variable"),
        ("Dossier {number!r}", "sans « : » ni « ! »"),
        ("Dossier {number:>300}", "sans « : » ni « ! »"),
        ("Dossier {number", "Une accolade est seule ou mal fermée"),
        ("Dossier } {number}", "Une accolade est seule ou mal fermée"),
        ("Bonjour {name}", "Le message doit contenir {number}."),
        ("   ", "Le texte du message est obligatoire."),
    ],
)
def test_a_wrong_wording_is_refused_with_its_reason(sample, now, body, expected):
    with pytest.raises(MessageTemplateInvalid) as refused:
        message_template_update(template_id=row().pk, subject="", body=body, user=StaffFactory(), now=now)
    assert expected in refused.value.message
    assert not row().customized and row().body == "RAK : dossier {number} pour {name}."


def test_doubled_braces_write_a_brace(sample, now):
    message_template_update(template_id=row().pk, subject="", body="{{RAK}} {number}", user=StaffFactory(), now=now)
    assert message_render(code=CODE, channel=SMS, context={"number": "R1"})[1] == "{RAK} R1"


def test_an_email_needs_a_subject_and_its_placeholders_are_checked_too(sample, now):
    with pytest.raises(MessageTemplateInvalid) as refused:
        message_template_validate(code=CODE, channel=EMAIL, subject="", body="Dossier {number}")
    assert "L'objet de l'e-mail est obligatoire." in refused.value.message
    problems = template_problems(sample, channel=EMAIL, subject="Dossier {dossier}", body="Dossier {number}")
    assert problems == [("subject", "Variable inconnue : {dossier}. Variables possibles : {number}, {name}.")]


def test_an_sms_too_long_with_typical_values_is_refused(sample, now):
    # {number}'s example is 15 characters, {name} has none: 12 stand for it
    filler = "a" * (153 * MAX_SMS_SEGMENTS - len("REC-2026-000123") - 12)
    fits = "{number}{name}" + filler
    assert sms_length(fits.replace("{number}", "REC-2026-000123").replace("{name}", "X" * 12)).segments == 2
    message_template_validate(code=CODE, channel=SMS, subject="", body=fits)
    with pytest.raises(MessageTemplateInvalid) as refused:
        message_template_validate(code=CODE, channel=SMS, subject="", body=fits + "a")
    assert "Ce SMS est trop long : avec des valeurs types il fait 307 caractères, soit 3 SMS (GSM-7)" in (
        refused.value.message
    )
    # one « ê » makes it UCS-2: 67 per part
    with pytest.raises(MessageTemplateInvalid, match="UCS-2"):
        message_template_validate(code=CODE, channel=SMS, subject="", body="ê{number}" + "a" * 130)


def test_a_missing_value_renders_empty_and_is_logged(sample, caplog):
    with caplog.at_level(logging.WARNING, logger="rak_base.message_templates"):
        assert message_render(code=CODE, channel=SMS, context={"number": "R1"})[1] == "RAK : dossier R1 pour ."
    assert "no value for {name}" in caplog.text


def test_a_stored_wording_broken_by_hand_falls_back_to_the_default(sample, caplog):
    MessageTemplate.objects.filter(pk=row().pk).update(body="Cassé {number.__class__} {", customized=True)
    with caplog.at_level(logging.ERROR, logger="rak_base.message_templates"):
        body = message_render(code=CODE, channel=SMS, context={"number": "R1", "name": "A"})[1]
    assert body == "RAK : dossier R1 pour A."
    assert "invalid" in caplog.text


def test_unknown_code_or_channel_is_refused(sample):
    with pytest.raises(MessageTemplateUnknown):
        message_render(code="nope.nothing", channel=SMS, context={})
    message_template_register(CODE, label="x", placeholders={"number": "n"}, defaults={SMS: ("", "{number}")})
    with pytest.raises(MessageTemplateUnknown):
        message_renderer(code=CODE, channel=EMAIL)


def test_send_queues_each_channel_that_has_a_recipient_under_one_event(sample, now):
    customer = StaffFactory(role="CUSTOMER", is_staff=False)
    message_template_update(
        template_id=row().pk, subject="", body="Nouveau : dossier {number}.", user=StaffFactory(), now=now
    )
    sent = message_send(
        code=CODE,
        context={"number": "R9", "name": "Amal"},
        channels=[SMS, EMAIL, BELL],
        user=customer,
        phone="+212612345678",
        email="amal@example.ma",
    )
    assert [m.channel for m in sent] == [SMS, EMAIL, BELL]
    sms, email, bell = sent
    assert sms.body == "Nouveau : dossier R9." and sms.recipient == "+212612345678" and sms.status == "QUEUED"
    assert (email.subject, email.recipient) == ("Dossier R9", "amal@example.ma")
    assert email.body == "Bonjour Amal,\n\nVotre dossier R9 avance."
    assert bell.user == customer and bell.body == "Votre dossier R9 avance."
    assert len({m.event for m in sent}) == 1 and sent[0].event
    assert {m.kind for m in sent} == {CODE}


def test_send_skips_a_channel_without_recipient(sample):
    sent = message_send(
        code=CODE, context={"number": "R9", "name": "A"}, channels=[SMS, EMAIL, BELL], phone="0612345678"
    )
    assert [m.channel for m in sent] == [SMS]
    assert sent[0].event == ""  # one copy: nothing to group
    assert Message.objects.count() == 1


def test_sensitive_messages_are_flagged(sample):
    message_template_register(
        "test.secret",
        label="Code",
        placeholders={"code": ("code", "123456")},
        defaults={SMS: ("", "Votre code : {code}")},
        sensitive=True,
        required=("code",),
    )
    try:
        (sms,) = message_send(code="test.secret", context={"code": "654321"}, channels=[SMS], phone="+212612345678")
        assert sms.sensitive and sms.body == "Votre code : 654321"
    finally:
        _REGISTRY.pop("test.secret")


def test_edits_and_resets_are_kept_in_the_history(sample, now):
    staff = StaffFactory(username="sup1")
    template = message_template_update(template_id=row().pk, subject="", body="V2 {number}", user=staff, now=now)
    assert (template.customized, template.updated_by, template.updated_at) == (True, staff, now)
    template = message_template_reset(template_id=row().pk, user=staff, now=now)
    assert not template.customized and template.body == "RAK : dossier {number} pour {name}."
    bodies = list(row().history.order_by("history_id").values_list("body", "history_change_reason"))
    assert bodies[-2:] == [
        ("V2 {number}", "Texte modifié"),
        ("RAK : dossier {number} pour {name}.", "Texte par défaut rétabli"),
    ]


def test_the_model_clean_refuses_like_the_service(sample):
    from django.core.exceptions import ValidationError

    template = row()
    template.body = "Dossier {numero}"
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert refused.value.message_dict["body"] == [
        "Variable inconnue : {numero}. Variables possibles : {number}, {name}."
    ]


def test_every_registered_default_is_valid_and_fits_in_two_sms():
    """The software's own wordings pass the checks staff edits pass (registration checks them too)."""
    for spec in message_templates_registered().values():
        for channel in spec.channels:
            subject, body = spec.default(channel)
            assert template_problems(spec, channel=channel, subject=subject, body=body) == [], (spec.code, channel)


def test_each_language_of_the_site_gets_its_rows(sample, settings, now):
    """Issue 12 adds Arabic and English to LANGUAGES: their rows appear, the default through gettext
    (French until a catalogue translates it), and a wording is chosen per language."""
    MessageTemplate.objects.exclude(language="fr").delete()  # as before issue 12
    assert message_templates_sync() > 0  # the Arabic and English rows (settings.LANGUAGES has them)
    assert MessageTemplate.objects.filter(code=CODE).count() == 9  # 3 channels × fr, ar, en
    assert set(MessageTemplate.objects.filter(code=CODE).values_list("language", flat=True)) == {"fr", "ar", "en"}
    arabic = MessageTemplate.objects.get(code=CODE, channel=SMS, language="ar")
    message_template_update(template_id=arabic.pk, subject="", body="ملف {number}", user=StaffFactory(), now=now)
    assert message_render(code=CODE, channel=SMS, context={"number": "R1"}, language="ar")[1] == "ملف R1"
    assert (
        message_render(code=CODE, channel=SMS, context={"number": "R1", "name": "A"})[1] == "RAK : dossier R1 pour A."
    )


def test_send_reads_the_wordings_once(sample):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        message_send(
            code=CODE,
            context={"number": "R9", "name": "A"},
            channels=[SMS, EMAIL],
            phone="+212612345678",
            email="a@example.ma",
        )
    reads = [q["sql"] for q in queries.captured_queries if "rak_base_messagetemplate" in q["sql"]]
    assert len(reads) == 1


def test_a_value_is_never_read_as_a_template(sample):
    """A customer's text that looks like a placeholder (or a format trick) is written as is."""
    body = message_render(code=CODE, channel=SMS, context={"number": "{name}", "name": "{number.__class__}"})[1]
    assert body == "RAK : dossier {name} pour {number.__class__}."
