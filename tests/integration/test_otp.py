"""One-time codes (rak_base.otp) against the database, read from the SMS as a customer would.

Rules under test: valid 5 minutes; single use; bound to its purpose and phone; 5 wrong tries and
the code is blocked; a resend waits 60 s and carries the failures over; at most 5 codes per phone
per hour; stored as an HMAC, and the SMS text masked once delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rak_base.models import Message, OneTimeCode
from rak_base.otp import (
    MAX_CODES_PER_HOUR,
    MAX_FAILURES,
    OtpAlreadyUsed,
    OtpExpired,
    OtpInvalid,
    OtpNotFound,
    OtpResendTooEarly,
    OtpTooManyCodes,
    OtpTooManyFailures,
    otp_send,
    otp_verify,
)

pytestmark = pytest.mark.django_db

PHONE = "+212612345678"
OTHER_PHONE = "+212698765432"
CREATE = OneTimeCode.Purpose.ACCOUNT_CREATE
CHANGE = OneTimeCode.Purpose.PHONE_CHANGE


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def send(now, *, phone=PHONE, purpose=CREATE, sms_outbox) -> str:
    """Send a code and return it as read in the queued SMS."""
    otp_send(phone=phone, purpose=purpose, now=now)
    return sms_outbox.last_code(phone)


def test_code_arrives_by_sms_and_is_accepted_once(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    message = sms_outbox.last(PHONE)
    assert message.kind == "otp"
    assert message.sensitive is True
    assert "valable 5 minutes" in message.body

    otp = otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now + timedelta(seconds=30))
    assert otp.used_at == now + timedelta(seconds=30)


def test_code_typed_with_spaces_is_accepted(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    otp_verify(phone=PHONE, purpose=CREATE, code=f" {code[:3]} {code[3:]} ", now=now)


def test_code_is_single_use(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now)
    with pytest.raises(OtpAlreadyUsed, match="déjà été utilisé"):
        otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now + timedelta(seconds=5))


def test_code_expires_after_five_minutes(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    with pytest.raises(OtpExpired, match="a expiré"):
        otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now + timedelta(minutes=5))
    # Just before the limit it was still good.
    otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now + timedelta(minutes=5) - timedelta(seconds=1))


def test_code_is_bound_to_its_purpose(now, sms_outbox):
    code = send(now, purpose=CREATE, sms_outbox=sms_outbox)
    with pytest.raises(OtpNotFound):
        otp_verify(phone=PHONE, purpose=CHANGE, code=code, now=now)

    other = send(now, purpose=CHANGE, sms_outbox=sms_outbox)
    if other != code:  # one chance in a million that both codes are equal
        with pytest.raises(OtpInvalid):
            otp_verify(phone=PHONE, purpose=CHANGE, code=code, now=now)
    otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now)


def test_code_is_bound_to_its_phone(now, sms_outbox):
    code = send(now, phone=PHONE, sms_outbox=sms_outbox)
    with pytest.raises(OtpNotFound, match="Aucun code"):
        otp_verify(phone=OTHER_PHONE, purpose=CREATE, code=code, now=now)


def test_five_wrong_tries_block_the_code(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    for remaining in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(OtpInvalid) as excinfo:
            otp_verify(phone=PHONE, purpose=CREATE, code=wrong(code), now=now)
        assert excinfo.value.remaining == remaining
        assert f"Il vous reste {remaining} essai" in str(excinfo.value)
    with pytest.raises(OtpTooManyFailures):
        otp_verify(phone=PHONE, purpose=CREATE, code=wrong(code), now=now)
    # Blocked: even the right code is refused now.
    with pytest.raises(OtpTooManyFailures, match="Trop d'essais"):
        otp_verify(phone=PHONE, purpose=CREATE, code=code, now=now)
    assert OneTimeCode.objects.get().failed_attempts == MAX_FAILURES


def test_failures_are_counted_even_when_the_caller_handles_the_error(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    for _ in range(2):
        try:
            otp_verify(phone=PHONE, purpose=CREATE, code=wrong(code), now=now)
        except OtpInvalid:
            pass
    assert OneTimeCode.objects.get().failed_attempts == 2


def test_resend_too_early_says_how_long_to_wait(now, sms_outbox):
    send(now, sms_outbox=sms_outbox)
    with pytest.raises(OtpResendTooEarly) as excinfo:
        otp_send(phone=PHONE, purpose=CREATE, now=now + timedelta(seconds=20))
    assert excinfo.value.wait_seconds == 40
    assert "dans 40 secondes" in str(excinfo.value)
    with pytest.raises(OtpResendTooEarly):
        otp_send(phone=PHONE, purpose=CREATE, now=now + timedelta(seconds=59))
    assert len(sms_outbox) == 1, "no SMS for a refused resend"

    otp_send(phone=PHONE, purpose=CREATE, now=now + timedelta(seconds=60))
    assert len(sms_outbox) == 2


def test_resend_replaces_the_previous_code(now, sms_outbox):
    first = send(now, sms_outbox=sms_outbox)
    second = send(now + timedelta(seconds=60), sms_outbox=sms_outbox)
    later = now + timedelta(seconds=90)
    if first != second:
        with pytest.raises(OtpInvalid):
            otp_verify(phone=PHONE, purpose=CREATE, code=first, now=later)
    otp_verify(phone=PHONE, purpose=CREATE, code=second, now=later)


def test_resend_does_not_reset_the_failure_count(now, sms_outbox):
    first = send(now, sms_outbox=sms_outbox)
    for _ in range(3):
        with pytest.raises(OtpInvalid):
            otp_verify(phone=PHONE, purpose=CREATE, code=wrong(first), now=now)

    second = send(now + timedelta(minutes=1), sms_outbox=sms_outbox)
    later = now + timedelta(minutes=1, seconds=10)
    with pytest.raises(OtpInvalid) as excinfo:
        otp_verify(phone=PHONE, purpose=CREATE, code=wrong(second), now=later)
    assert excinfo.value.remaining == 1
    with pytest.raises(OtpTooManyFailures):
        otp_verify(phone=PHONE, purpose=CREATE, code=wrong(second), now=later)


def test_no_new_code_once_blocked_until_the_hour_has_passed(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    for _ in range(MAX_FAILURES):
        with pytest.raises((OtpInvalid, OtpTooManyFailures)):
            otp_verify(phone=PHONE, purpose=CREATE, code=wrong(code), now=now)
    with pytest.raises(OtpTooManyFailures):
        otp_send(phone=PHONE, purpose=CREATE, now=now + timedelta(minutes=2))

    fresh = send(now + timedelta(hours=1, seconds=1), sms_outbox=sms_outbox)
    otp_verify(phone=PHONE, purpose=CREATE, code=fresh, now=now + timedelta(hours=1, seconds=10))


def test_at_most_five_codes_per_phone_per_hour(now, sms_outbox):
    purposes = [CREATE, CHANGE, OneTimeCode.Purpose.PHONE_CONFIRM, OneTimeCode.Purpose.REQUEST, CREATE]
    for minute, purpose in enumerate(purposes):
        otp_send(phone=PHONE, purpose=purpose, now=now + timedelta(minutes=minute * 2))
    assert len(sms_outbox) == MAX_CODES_PER_HOUR

    with pytest.raises(OtpTooManyCodes, match="trop de codes"):
        otp_send(phone=PHONE, purpose=CHANGE, now=now + timedelta(minutes=30))
    # Another phone is not affected.
    otp_send(phone=OTHER_PHONE, purpose=CREATE, now=now + timedelta(minutes=30))
    # An hour after the first code, one slot is free again.
    otp_send(phone=PHONE, purpose=CHANGE, now=now + timedelta(hours=1, seconds=1))
    assert len(sms_outbox.all(PHONE)) == MAX_CODES_PER_HOUR + 1


def test_code_is_stored_hashed_not_in_clear(now, sms_outbox):
    code = send(now, sms_outbox=sms_outbox)
    otp = OneTimeCode.objects.get()
    assert len(otp.code_hash) == 64
    assert code not in otp.code_hash
    for field in OneTimeCode._meta.concrete_fields:
        assert str(getattr(otp, field.attname)) != code


def test_the_code_is_nowhere_in_the_database_once_the_sms_is_sent(now, sms_outbox, run_worker, sms_lines):
    code = send(now, sms_outbox=sms_outbox)
    run_worker()

    message = sms_outbox.last(PHONE)
    assert message.status == Message.Status.SENT
    assert message.body == Message.REDACTED
    assert not Message.objects.filter(body__contains=code).exists()
    assert not OneTimeCode.objects.filter(code_hash__contains=code).exists()
    assert any(code in line for line in sms_lines()), "the customer received the code"
