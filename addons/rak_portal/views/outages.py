"""« Coupures et travaux en cours »: the published outage and works notices (public, no login),
and one notice's page. The home page and the dashboard show them through the template tag
``rak_portal.templatetags.outages`` (the customer's own only on the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rak_base import clock
from rak_requests.complaint_models import OutageNotice
from rak_requests.outages import (
    OUTAGE_STATE_LABELS,
    outage_area_text,
    outage_notice_public,
    outage_notice_state,
    outage_notices_current,
    outage_what,
)

STATE_LABELS = OUTAGE_STATE_LABELS


@dataclass(frozen=True)
class OutageCard:
    """One notice as the portal shows it."""

    notice: OutageNotice
    state: str
    state_label: str
    what: str
    area: str

    @property
    def is_current(self) -> bool:
        return self.state in ("in_progress", "overrun")


def outage_card(notice: OutageNotice, *, now: datetime) -> OutageCard:
    state = outage_notice_state(notice, now=now)
    return OutageCard(
        notice=notice,
        state=state,
        state_label=str(STATE_LABELS.get(state, "")),
        what=outage_what(notice),
        area=outage_area_text(notice),
    )


@require_GET
def outage_list(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    cards = [outage_card(n, now=now) for n in outage_notices_current(now=now)]
    district = (request.GET.get("quartier") or "").strip()
    districts = sorted({d for card in cards for d in card.notice.districts})
    if district:
        cards = [card for card in cards if district in card.notice.districts]
    context = {
        "current": [c for c in cards if c.state != "upcoming"],
        "upcoming": [c for c in cards if c.state == "upcoming"],
        "districts": districts,
        "district": district,
    }
    return render(request, "rak_portal/outages/list.html", context)


@require_GET
def outage_detail(request: HttpRequest, number: str) -> HttpResponse:
    notice = outage_notice_public(number)
    if notice is None:
        raise Http404
    return render(request, "rak_portal/outages/detail.html", {"card": outage_card(notice, now=clock.now())})
