"""Template filters of the bills pages: amounts and quantities (French figures in French, the active
language's otherwise), bill status labels, months and periods in the active language."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.money import local_number
from rak_billing.selectors import BillStatus, add_months, billing_month_of
from rak_portal.charts import month_label

ESTIMATED_TITLE = gettext_lazy("Consommation estimée, faute de relève")
ESTIMATED_TAG = gettext_lazy("Estimée")

register = template.Library()


@register.filter
def dh(value) -> str:
    """``1234.5`` -> ``1 234,50`` (append « DH » in the template, or use ``dh_unit``)."""
    return local_number(value, 2) if value is not None else "—"


@register.filter
def dh_unit(value) -> str:
    """``1234.5`` -> « 1 234,50 DH » (« 1,234.50 MAD » in English, « 1234,50 درهم » in Arabic)."""
    return _("%(amount)s DH") % {"amount": dh(value)}


@register.filter
def qty(value) -> str:
    """A consumption or an index: up to 3 decimals, trailing zeros dropped (``120,5``)."""
    if value is None:
        return "—"
    value = Decimal(value)
    decimals = 0 if value == value.to_integral() else min(3, max(0, -value.normalize().as_tuple().exponent))
    return local_number(value, decimals)


@register.filter
def status_label(status: str) -> str:
    return str(BillStatus.LABELS.get(status, status))


@register.filter
def status_tag(bill) -> str:
    """The « Payée / Impayée / Exigible / Avoir » pill, and « Estimée » when it is (a filter,
    not an include: it is drawn on every row of the bill tables)."""
    tag = format_html(
        '<span class="tag tag-bill-{}">{}</span>', bill.status.lower(), BillStatus.LABELS.get(bill.status, "")
    )
    if bill.estimated:
        tag += format_html(
            ' <span class="tag tag-estimated" title="{}">{}</span>',
            ESTIMATED_TITLE,
            ESTIMATED_TAG,
        )
    return tag


@lru_cache(maxsize=8)
def _url_pattern(name: str) -> tuple[str, str]:
    marker = 987654321
    head, _marker, tail = reverse(name, args=[marker]).partition(str(marker))
    return head, tail


@register.filter
def bill_url(bill, name: str = "detail") -> str:
    """``bill|bill_url`` -> its detail page, ``bill|bill_url:"pdf"`` -> its PDF (one ``reverse``
    per process instead of two per table row)."""
    head, tail = _url_pattern("portal:bill_pdf" if name == "pdf" else "portal:bill_detail")
    return f"{head}{int(bill.pk)}{tail}"


@register.filter
def month_fr(day) -> str:
    """« février 2026 » (« فبراير 2026 », « February 2026 »): the month in the active language."""
    return month_label(day) if day else "—"


@register.filter
def echeance(bill) -> str:
    """The e-facture « échéance »: ``MM/AAAA`` of the billing month."""
    return f"{billing_month_of(bill):%m/%Y}"


@register.filter
def period(bill) -> str:
    """A bill's period: « janvier 2026 » for a calendar month, else « du 05/01/2026 au 03/02/2026 »
    (the stored end is exclusive)."""
    start, end = bill.period_start, bill.period_end
    if not start:
        return "—"
    if not end:
        return _("à partir du %(start)s") % {"start": date_format(start, "d/m/Y")}
    if start.day == 1 and end == add_months(start, 1):
        return month_label(start)
    return _("du %(start)s au %(end)s") % {
        "start": date_format(start, "d/m/Y"),
        "end": date_format(end - timedelta(days=1), "d/m/Y"),
    }
