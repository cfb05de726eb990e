"""Every message the software sends, in each language of the site (issue 12): the registered
defaults (rak_base.message_templates) translated into Arabic and English keep their placeholders
and, filled with their example values, fit in two SMS — Arabic SMS are UCS-2, 70 characters in one
SMS and 67 per part, so an Arabic wording must be shorter than the French one. The rows staff edit
exist in ar and en too (``message_templates_sync`` over ``site_languages()``)."""

from __future__ import annotations

import pytest

from rak_base.message_templates import (
    MAX_SMS_SEGMENTS,
    _format,
    message_templates_registered,
    message_templates_sync,
    site_languages,
    template_problems,
)
from rak_base.models import Message, MessageTemplate
from rak_base.sms_length import sms_length

LANGUAGES = ("fr", "ar", "en")


def test_the_site_languages_are_french_arabic_and_english():
    assert site_languages() == ["fr", "ar", "en"]


@pytest.mark.django_db
def test_sync_makes_a_row_per_code_channel_and_language():
    MessageTemplate.objects.all().delete()
    created = message_templates_sync()
    expected = sum(len(spec.channels) for spec in message_templates_registered().values()) * len(LANGUAGES)
    assert created == expected and MessageTemplate.objects.count() == expected
    for language in LANGUAGES:
        assert MessageTemplate.objects.filter(language=language).count() == expected // len(LANGUAGES)
    assert message_templates_sync() == 0
    # a row nobody changed shows the default in its own language
    row = MessageTemplate.objects.filter(language="ar", channel=Message.Channel.SMS).first()
    spec = message_templates_registered()[row.code]
    assert row.body == spec.default(Message.Channel.SMS, "ar")[1]


def _every_wording():
    for spec in message_templates_registered().values():
        for channel in spec.channels:
            for language in LANGUAGES:
                yield spec, channel, language


def test_every_default_in_every_language_is_valid_and_fits_in_two_sms():
    """Placeholders kept and, for an SMS, two SMS at most with the example values."""
    problems = []
    for spec, channel, language in _every_wording():
        subject, body = spec.default(channel, language)
        found = template_problems(spec, channel=channel, subject=subject, body=body)
        if found:
            length = sms_length(_format(body, spec.examples())) if channel == Message.Channel.SMS else None
            problems.append((spec.code, channel, language, length and (length.units, length.segments), found))
    assert problems == [], "\n".join(map(str, problems))


def test_every_arabic_sms_is_counted_as_ucs2_within_two_sms():
    for spec, channel, language in _every_wording():
        if channel != Message.Channel.SMS or language != "ar":
            continue
        _subject, body = spec.default(channel, language)
        length = sms_length(_format(body, spec.examples()))
        assert length.segments <= MAX_SMS_SEGMENTS, (spec.code, length)


def test_every_default_is_translated_into_arabic_and_english():
    """The catalogues translate every wording (the French text would be sent otherwise)."""
    untranslated = []
    for spec, channel, language in _every_wording():
        if language == "fr":
            continue
        french = spec.default(channel, "fr")
        if spec.default(channel, language) == french and any(c.isalpha() for c in french[1]):
            untranslated.append((spec.code, channel, language))
    assert untranslated == [], "\n".join(map(str, untranslated))
