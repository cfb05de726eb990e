"""« Simulateur de consommation » (seed 000): fill in the form, click « Simuler ma facture », and
the page shows the detailed bill the billing engine would produce — each line, HT / TVA / TTC,
the tranche warning, the monthly-equivalent consumption, and for water the sanitation lines on
the same bill. Public: no login needed; a logged-in customer keeps the menu.

The view parses the form (``rak_portal.simulator_forms``, shared with the API), makes one call
(``simulation_run`` → ``rak_billing.api.simulate``) and renders.
"""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from rak_base import clock
from rak_base.money import money_format
from rak_billing.api import EngineError, TariffNotFound, bill_line_label, fmt_qty
from rak_portal.simulator_forms import (  # noqa: F401 - MAX_CONSUMPTION, SimulatorForm: read by tests
    MAX_CONSUMPTION,
    SimulatorForm,
    _decimal_mark,
    _fmt,
    simulation_run,
    simulator_book,
    simulator_categories,
)


def _qty(value: Decimal) -> str:
    """A quantity without trailing zeros (``fmt_qty``) with the active language's decimal mark."""
    return fmt_qty(value).replace(",", _decimal_mark())


def _rate(value: Decimal) -> str:
    return gettext("%(rate)s %%") % {"rate": _qty(value * 100)}


def _price(value: Decimal) -> str:
    """Unit prices as published: at least 2 decimals, at most 4 (``3,00``, ``0,9010``, ``0,15``)."""
    text = f"{value.quantize(Decimal('0.0001')):f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}{_decimal_mark()}{decimals.ljust(2, '0')}"


def _at_threshold(part, unit: str) -> str:
    """« À 150 kWh par mois, … » when the consumption just crossed a switch threshold."""
    if part.at_threshold is None:
        return ""
    threshold, ttc = part.at_threshold
    more = part.computation.total_ttc - ttc
    return gettext(
        "Pour comparaison : avec %(threshold)s %(unit)s par mois, cette facture serait de "
        "%(ttc)s DH TTC, soit %(more)s DH de moins."
    ) % {
        "threshold": _qty(threshold),
        "unit": unit,
        "ttc": money_format(ttc, currency=""),
        "more": money_format(more, currency=""),
    }


def _present(result) -> dict:
    """What the template prints: quantities without trailing zeros, rates in per cent."""
    return {
        "consumption": _qty(result.consumption),
        "monthly": _qty(result.monthly_consumption),
        "parts": [
            {
                "service": part.service,
                "title": gettext(part.title),
                "computation": part.computation,
                "at_threshold": _at_threshold(part, result.unit),
                "lines": [
                    {
                        "line": line,
                        "label": bill_line_label(line.label),  # composed in French by the engine
                        "quantity": _qty(line.quantity),
                        "unit_price": _price(line.unit_price),
                        "rate": _rate(line.vat_rate),
                    }
                    for line in part.computation.lines
                ],
            }
            for part in result.parts
        ],
    }


@require_http_methods(["GET", "POST"])
def simulator(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate(clock.now())
    book = simulator_book(today)
    form = SimulatorForm(request.POST if request.method == "POST" else None, categories=simulator_categories(book))
    result = error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = simulation_run(form.cleaned_data, today=today, book=book)
            except (TariffNotFound, EngineError) as exc:
                error = str(exc)
                status = 400
        else:
            status = 400
    template = "rak_portal/simulator.html"
    category_choices = form.category_choices
    base = "rak_portal/private_base.html" if getattr(request.user, "is_customer", False) else "rak_portal/base.html"
    return render(
        request,
        template,
        {
            "form": form,
            "result": result,
            "shown": _present(result) if result else None,
            "error": error,
            "base_template": base,
            "category_label": dict(category_choices).get(result.category, "") if result else "",
        },
        status=status,
    )
