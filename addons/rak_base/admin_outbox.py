"""The outbox's cost of SMS in the back office (issue 12): each SMS shows « SMS : N segments (UCS-2) »
(counted when it was queued: ``Message.sms_encoding`` / ``sms_segments``), a filter by encoding, and
above the list the segments by day and type of the SMS selected, so that staff see what Arabic costs —
70 characters in one SMS and 67 per part (UCS-2) against 160 and 153 in GSM-7. French only."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display

from rak_base import clock
from rak_base.mixin_bases import ModelAdminMixinBase
from rak_base.models import Message
from rak_base.sms_length import GSM7_PART, GSM7_SINGLE, UCS2_PART, UCS2_SINGLE

SUMMARY_DAYS = 7  # the summary covers the selection's last week (the outbox is the biggest table)
SUMMARY_ROWS = 60


def sms_cost_label(message: Message) -> str:
    """« SMS : 2 segments (UCS-2) »; « — » for an e-mail or a notification."""
    if message.channel != Message.Channel.SMS or not message.sms_segments:
        return "—"
    return ngettext(
        "SMS : %(count)d segment (%(encoding)s)", "SMS : %(count)d segments (%(encoding)s)", message.sms_segments
    ) % {"count": message.sms_segments, "encoding": message.sms_encoding or "?"}


class SmsEncodingFilter(DropdownFilter):
    title = _("encodage SMS")
    parameter_name = "sms_encoding"

    def lookups(self, request, model_admin):
        return (("GSM-7", _("GSM-7 (alphabet latin)")), ("UCS-2", _("UCS-2 (arabe, accents hors GSM)")))

    def queryset(self, request, queryset):
        if self.value() in ("GSM-7", "UCS-2"):
            return queryset.filter(channel=Message.Channel.SMS, sms_encoding=self.value())
        return queryset


def sms_segments_summary(queryset, *, now=None) -> dict:
    """Segments of the SMS in ``queryset`` (the list's current selection) over the last
    ``SUMMARY_DAYS`` days, by local day and type: messages, GSM-7 and UCS-2 segments, total."""
    now = now or clock.now()
    since = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=SUMMARY_DAYS - 1
    )
    sms = queryset.filter(channel=Message.Channel.SMS, created_at__gte=since).order_by()
    rows = list(
        sms.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "kind")
        .annotate(
            messages=Count("id"),
            gsm=Sum("sms_segments", filter=Q(sms_encoding="GSM-7"), default=0),
            ucs=Sum("sms_segments", filter=Q(sms_encoding="UCS-2"), default=0),
            ucs_messages=Count("id", filter=Q(sms_encoding="UCS-2")),
        )
        .order_by("-day", "kind")[:SUMMARY_ROWS]
    )
    for row in rows:
        row["segments"] = row["gsm"] + row["ucs"]
    totals = {
        "messages": sum(r["messages"] for r in rows),
        "gsm": sum(r["gsm"] for r in rows),
        "ucs": sum(r["ucs"] for r in rows),
        "ucs_messages": sum(r["ucs_messages"] for r in rows),
    }
    totals["segments"] = totals["gsm"] + totals["ucs"]
    return {
        "rows": rows,
        "totals": totals,
        "since": since.date(),
        "days": SUMMARY_DAYS,
        "limits": {"gsm": (GSM7_SINGLE, GSM7_PART), "ucs": (UCS2_SINGLE, UCS2_PART)},
    }


class OutboxCostMixin(ModelAdminMixinBase):
    """For MessageAdmin: the « coût SMS » column and field, the encoding filter, the summary."""

    change_list_template = "admin/rak_base/message/change_list.html"

    @display(description=_("coût SMS"))
    def sms_cost(self, obj: Message) -> str:
        return sms_cost_label(obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context=extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["sms_summary"] = sms_segments_summary(context["cl"].queryset)
        return response


# the outbox's PUSH channel and SKIPPED status need nothing here (the filters list the model's choices);
# the push subscriptions' screen and the preferences' inlines register with the outbox's module
from rak_base import admin_preferences  # noqa: E402, F401
