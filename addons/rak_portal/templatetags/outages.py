"""The outage and works notices on the home page (every current one) and on a customer's dashboard
(theirs only): ``{% include "rak_portal/outages/_home.html" %}`` and
``{% include "rak_portal/outages/_dashboard.html" %}``, one line each in those templates. One
query on the home page, one on the dashboard (rak_requests.outages)."""

from __future__ import annotations

from django import template

from rak_base import clock
from rak_portal.views.outages import outage_card
from rak_requests.outages import customer_outage_notices, outage_notices_current

register = template.Library()

HOME_MAX = 3


@register.inclusion_tag("rak_portal/outages/_banner.html")
def outage_banner_public() -> dict:
    """The notices in progress and upcoming (at most ``HOME_MAX``, with « voir tout » beyond)."""
    now = clock.now()
    notices = list(outage_notices_current(now=now)[: HOME_MAX + 1])
    return {
        "cards": [outage_card(n, now=now) for n in notices[:HOME_MAX]],
        "more": len(notices) > HOME_MAX,
        "scope": "public",
    }


@register.inclusion_tag("rak_portal/outages/_banner.html")
def outage_banner_customer(customer) -> dict:
    """The notices of this customer (told by SMS, or covering one of their premises), restored ones
    for a day."""
    if customer is None:
        return {"cards": [], "scope": "customer"}
    now = clock.now()
    return {
        "cards": [outage_card(n, now=now) for n in customer_outage_notices(customer, now=now)],
        "more": False,
        "scope": "customer",
    }
