"""The header's code-client switch (issue 13), included once by private_base.html:
``{% include "rak_portal/includes/customer_switch.html" %}``, on the pages that act for a chosen
customer (customer_required sets ``request.customer``). No query for an account that linked
no code client (customer_acting_for already knows it); one or two otherwise."""

from __future__ import annotations

from django import template
from django.urls import reverse

from rak_customer.selectors import customer_link_choices

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_switch_state(context) -> dict:
    """{choices, active, linked, next}: ``choices`` empty when there is nothing to switch between;
    ``active`` the choice this page shows; ``linked`` True when it is not the account's own;
    ``next`` where the switch comes back to (this page, unless it shows one object — a bill, a
    request — that the other code client does not have: then the dashboard)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_customer", False):
        return {"choices": []}
    current = getattr(request, "customer", None)
    if current is None:  # a page outside customer_required acts for the account's own customer: no switch
        return {"choices": []}
    choices = customer_link_choices(user)
    if not choices:
        return {"choices": []}
    code = getattr(current, "code", None)
    active = next((choice for choice in choices if choice.code == code), None)
    match = getattr(request, "resolver_match", None)
    back = request.get_full_path() if match is not None and not match.kwargs else reverse("portal:dashboard")
    return {"choices": choices, "active": active, "linked": bool(active and not active.own), "next": back}
