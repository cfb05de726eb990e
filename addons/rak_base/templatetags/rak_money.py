"""``{% load rak_money %}{{ amount|money }}`` -> « 1 070,00 DH » in French, the active language's
format and unit otherwise (rak_base.money.money_format)."""

from __future__ import annotations

from django import template

from rak_base.money import money_format

register = template.Library()


@register.filter
def money(value, currency: str = "DH") -> str:
    """An amount with « DH » in the active language's format (« 1 070,00 DH », « 1,070.00 MAD »,
    « 1070,00 درهم »); « — » when there is none. ``|money:""`` drops the
    unit (table cells under a « (DH) » header), ``|money:"MAD"`` writes the card receipts' unit."""
    if value is None or value == "":
        return "—"
    return money_format(value, currency=currency)
