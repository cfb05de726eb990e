"""What other addons may call from rak_base."""

from rak_base.clock import now
from rak_base.errors import RakError
from rak_base.hooks import hook_fire, hook_subscribe
from rak_base.message_templates import (
    MessageTemplateInvalid,
    message_render,
    message_renderer,
    message_send,
    message_template_register,
)
from rak_base.money import amount_in_words, round_money
from rak_base.otp import OtpError, otp_send, otp_verify
from rak_base.outbox import event_key, message_queue_bell, message_queue_bulk, message_queue_email, message_queue_sms
from rak_base.phones import (
    InvalidPhone,
    NotAMobile,
    phone_display,
    phone_is_mobile,
    phone_last_digits,
    phone_normalize,
)
from rak_base.scheduler import each_item, job_register
from rak_base.sequences import sequence_ensure_at_least, sequence_next
from rak_base.sms_length import sms_length

__all__ = [
    "InvalidPhone",
    "MessageTemplateInvalid",
    "NotAMobile",
    "OtpError",
    "RakError",
    "amount_in_words",
    "each_item",
    "event_key",
    "hook_fire",
    "hook_subscribe",
    "job_register",
    "message_queue_bell",
    "message_queue_bulk",
    "message_queue_email",
    "message_queue_sms",
    "message_render",
    "message_renderer",
    "message_send",
    "message_template_register",
    "now",
    "otp_send",
    "otp_verify",
    "phone_display",
    "phone_is_mobile",
    "phone_last_digits",
    "phone_normalize",
    "round_money",
    "sequence_ensure_at_least",
    "sequence_next",
    "sms_length",
]
