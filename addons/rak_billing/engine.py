"""The tariff engine: a pure function from (schedule, VAT rate, consumption, period length) to
the lines and totals of a bill. No database, no clock: billing runs and the public simulator
call exactly this.

Rules
- Tranche bounds and fixed charges are monthly; a period of ``days`` days counts as
  ``days / 30`` months, so bounds and fixed charges are prorated and a late reading does not push
  a household into a higher tranche.
- ``PROGRESSIVE``: each slice of consumption is billed at its tranche's price.
  ``SELECTIVE``: the whole consumption at the price of the tranche reached.
  ``SWITCH``: while the monthly consumption is at most ``switch_threshold``, the PROGRESSIVE
  tranches apply; above it, the SELECTIVE tranches (electricity, arrêté 2451-14: up to 150 kWh
  progressive over 0-100 / 101-150, above 150 selective over 151-210 / 211-310 / 311-510 / >510).
- Prices are TTC or HT (``prices_include_tax``). Every line is rounded half-up to the centime;
  with TTC prices the line's TTC is rounded first and HT = TTC / (1 + rate), rounded, TVA the
  difference (the customer pays exactly the published price); with HT prices TVA = HT × rate.
- Charges: ``FIXED_MONTHLY`` (× months) or ``PER_UNIT`` (× consumption, or × the slice of it in
  the monthly band ``(lower, upper]``); a charge is waived when the monthly consumption is at most
  ``exempt_up_to``, and the lines of one label cost at most ``monthly_cap`` × months (a negative
  « plafond » line takes the excess off) — TPPAN, loi de finances 8-96 art. 16.
- Totals are sums of the rounded lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
QTY = Decimal("0.001")
DAYS_PER_MONTH = Decimal("30")

PROGRESSIVE = "PROGRESSIVE"
SELECTIVE = "SELECTIVE"
SWITCH = "SWITCH"
FIXED_MONTHLY = "FIXED_MONTHLY"
PER_UNIT = "PER_UNIT"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_qty(value: Decimal) -> str:
    """``150`` not ``150.000`` in labels; French decimal comma."""
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value.quantize(QTY).normalize():f}"
    return text.replace(".", ",")


@dataclass(frozen=True)
class Tranche:
    lower: Decimal  # exclusive monthly lower bound
    upper: Decimal | None  # inclusive monthly upper bound, None = unbounded
    price: Decimal
    mode: str = PROGRESSIVE


@dataclass(frozen=True)
class Charge:
    label: str
    kind: str  # FIXED_MONTHLY or PER_UNIT
    amount: Decimal
    taxable: bool = True
    vat_rate: Decimal | None = None  # own rate (e.g. TPPAN 14 %), else the schedule's
    # PER_UNIT only: the levy applies to the slice of the monthly consumption in (lower, upper]
    # (prorated like tranches), e.g. TPPAN 0.10 DH/kWh up to 100 kWh, 0.15 from 101 to 200...
    lower: Decimal | None = None
    upper: Decimal | None = None
    # Not billed at all when the monthly consumption is at most this (TPPAN: <= 50 kWh exempt).
    exempt_up_to: Decimal | None = None
    # The lines of this charge's label together cost at most this per month (TPPAN: 100 DH);
    # the excess is taken off by a « plafond » line.
    monthly_cap: Decimal | None = None


@dataclass(frozen=True)
class Schedule:
    combination: str
    tranches: tuple[Tranche, ...]
    charges: tuple[Charge, ...] = ()
    prices_include_tax: bool = False
    switch_threshold: Decimal | None = None
    unit: str = "kWh"
    energy_label: str = "Consommation"


@dataclass(frozen=True)
class Line:
    kind: str  # TRANCHE, FIXED, LEVY
    label: str
    quantity: Decimal
    unit_price: Decimal
    amount_ht: Decimal
    vat_rate: Decimal
    amount_tva: Decimal
    amount_ttc: Decimal


@dataclass(frozen=True)
class Computation:
    lines: tuple[Line, ...]
    total_ht: Decimal
    total_tva: Decimal
    total_ttc: Decimal
    monthly_consumption: Decimal
    months: Decimal
    notice: str = ""
    tranche_reached: int = 0  # 1-based index of the highest tranche used in the applied set
    extra: dict = field(default_factory=dict)


class EngineError(ValueError):
    pass


def _line(kind: str, label: str, quantity: Decimal, unit_price: Decimal, *, rate: Decimal, ttc_prices: bool) -> Line:
    gross = money(quantity * unit_price)
    if ttc_prices:
        ttc = gross
        ht = money(ttc / (ONE + rate)) if rate else ttc
        tva = ttc - ht
    else:
        ht = gross
        tva = money(ht * rate)
        ttc = ht + tva
    return Line(kind, label, quantity, unit_price, ht, rate, tva, ttc)


def _applicable(schedule: Schedule, monthly: Decimal) -> tuple[str, list[Tranche]]:
    tranches = sorted(schedule.tranches, key=lambda t: (t.lower, t.mode))
    if schedule.combination == SWITCH:
        if schedule.switch_threshold is None:
            raise EngineError(gettext("Seuil de bascule manquant pour un barème à bascule."))
        if monthly <= schedule.switch_threshold:
            return PROGRESSIVE, [t for t in tranches if t.mode == PROGRESSIVE]
        return SELECTIVE, [t for t in tranches if t.mode == SELECTIVE]
    return schedule.combination, tranches


def _french(msgid: str) -> str:
    with translation.override("fr"):
        return gettext(msgid)


def _bounds_label(lower: Decimal, upper: Decimal | None, unit: str) -> str:
    # A bill's lines and notice are stored in French whatever language the page or worker that
    # issues it speaks (and ``billing._PRICED`` shares them between bills): the portal shows them
    # in the reader's language with ``rak_billing.line_labels``.
    with translation.override("fr"):
        return _bounds_label_fr(lower, upper, unit)


def _bounds_label_fr(lower: Decimal, upper: Decimal | None, unit: str) -> str:
    if upper is None:
        return gettext("plus de %(lower)s %(unit)s") % {"lower": fmt_qty(lower), "unit": unit}
    start = lower + 1 if lower == lower.to_integral() and lower > 0 else lower
    return gettext("%(start)s à %(upper)s %(unit)s") % {"start": fmt_qty(start), "upper": fmt_qty(upper), "unit": unit}


def compute(schedule: Schedule, *, vat_rate: Decimal, consumption: Decimal, days: int) -> Computation:
    """Bill ``consumption`` units used over ``days`` days under ``schedule``."""
    if days <= 0:
        raise EngineError(gettext("la période doit compter au moins un jour"))
    if consumption < ZERO:
        raise EngineError(gettext("la consommation ne peut pas être négative"))
    months = Decimal(days) / DAYS_PER_MONTH
    monthly = consumption / months
    mode, tranches = _applicable(schedule, monthly)
    if not tranches:
        raise EngineError(gettext("aucune tranche applicable"))
    ttc_prices = schedule.prices_include_tax
    unit = schedule.unit
    lines: list[Line] = []
    reached = 0
    if mode == SELECTIVE:
        for index, tranche in enumerate(tranches, start=1):
            if tranche.upper is None or monthly <= tranche.upper:
                reached = index
                break
        else:
            reached = len(tranches)
        tranche = tranches[reached - 1]
        label = f"{schedule.energy_label} — tranche {_bounds_label(tranche.lower, tranche.upper, unit)} (sélective)"
        lines.append(_line("TRANCHE", label, consumption, tranche.price, rate=vat_rate, ttc_prices=ttc_prices))
    else:
        remaining = consumption
        for index, tranche in enumerate(tranches, start=1):
            if remaining <= ZERO:
                break
            lower = tranche.lower * months
            upper = None if tranche.upper is None else tranche.upper * months
            width = remaining if upper is None else min(remaining, max(upper - lower, ZERO))
            if width <= ZERO:
                continue
            quantity = width.quantize(QTY, rounding=ROUND_HALF_UP)
            label = f"{schedule.energy_label} — tranche {_bounds_label(tranche.lower, tranche.upper, unit)}"
            lines.append(_line("TRANCHE", label, quantity, tranche.price, rate=vat_rate, ttc_prices=ttc_prices))
            remaining -= width
            reached = index
    caps: dict[str, tuple[Decimal, Decimal]] = {}  # label -> (monthly cap, rate)
    charged: dict[str, list[Line]] = {}
    for charge in schedule.charges:
        if charge.exempt_up_to is not None and monthly <= charge.exempt_up_to:
            continue
        rate = ZERO if not charge.taxable else (charge.vat_rate if charge.vat_rate is not None else vat_rate)
        if charge.monthly_cap is not None:
            caps.setdefault(charge.label, (charge.monthly_cap, rate))
        first = len(lines)
        if charge.kind == FIXED_MONTHLY:
            quantity = months.quantize(QTY, rounding=ROUND_HALF_UP)
            lines.append(_line("FIXED", charge.label, quantity, charge.amount, rate=rate, ttc_prices=ttc_prices))
        elif charge.lower is None and charge.upper is None:
            lines.append(_line("LEVY", charge.label, consumption, charge.amount, rate=rate, ttc_prices=ttc_prices))
        else:
            lower = (charge.lower or ZERO) * months
            top = consumption if charge.upper is None else min(consumption, charge.upper * months)
            if top <= lower:
                continue  # this band of the levy is not reached
            quantity = (top - lower).quantize(QTY, rounding=ROUND_HALF_UP)
            label = f"{charge.label} ({_bounds_label(charge.lower or ZERO, charge.upper, unit)})"
            lines.append(_line("LEVY", label, quantity, charge.amount, rate=rate, ttc_prices=ttc_prices))
        charged.setdefault(charge.label, []).extend(lines[first:])
    for label, (cap, rate) in caps.items():
        group = charged.get(label, [])
        billed = sum((line.amount_ttc if ttc_prices else line.amount_ht for line in group), ZERO)
        excess = billed - money(cap * months)
        if group and excess > ZERO:
            lines.append(
                _line(
                    "LEVY",
                    _french(gettext_noop("%(label)s — plafond de %(cap)s DH par mois"))
                    % {"label": label, "cap": fmt_qty(cap)},
                    ONE,
                    -excess,
                    rate=rate,
                    ttc_prices=ttc_prices,
                )
            )
    total_ht = sum((line.amount_ht for line in lines), ZERO)
    total_tva = sum((line.amount_tva for line in lines), ZERO)
    total_ttc = sum((line.amount_ttc for line in lines), ZERO)
    with translation.override("fr"):  # stored in French, like the lines (see _bounds_label)
        notice = _notice(schedule, mode, tranches, reached, monthly)
    return Computation(
        lines=tuple(lines),
        total_ht=total_ht,
        total_tva=total_tva,
        total_ttc=total_ttc,
        monthly_consumption=monthly.quantize(QTY, rounding=ROUND_HALF_UP),
        months=months,
        notice=notice,
        tranche_reached=reached,
    )


def _notice(schedule: Schedule, mode: str, tranches: list[Tranche], reached: int, monthly: Decimal) -> str:
    """« vous avez dépassé la tranche... »: said whenever the consumption left the first tranche,
    and with the cost of crossing the switch threshold when it applies."""
    unit = schedule.unit
    # _applicable refused a SWITCH schedule without its threshold
    if schedule.combination == SWITCH and mode == SELECTIVE and schedule.switch_threshold is not None:
        return gettext(
            "Votre consommation mensuelle (%(monthly)s %(unit)s) a dépassé %(threshold)s %(unit)s : toute votre "
            "consommation est facturée au prix de la tranche atteinte (%(tranche)s)."
        ) % {
            "monthly": fmt_qty(monthly.quantize(QTY)),
            "unit": unit,
            "threshold": fmt_qty(schedule.switch_threshold),
            "tranche": _bounds_label(tranches[reached - 1].lower, tranches[reached - 1].upper, unit),
        }
    if reached > 1:
        # the last tranche below the one reached that was cheaper (two tranches may share a price)
        current = tranches[reached - 1]
        cheaper = [t for t in tranches[: reached - 1] if t.price < current.price]
        if not cheaper:
            return ""
        previous = cheaper[-1]
        return (
            gettext(
                "Vous avez dépassé la tranche %(tranche)s : la consommation au-delà de %(upper)s %(unit)s par mois "
                "est facturée plus cher."
            )
            % {
                "tranche": _bounds_label(previous.lower, previous.upper, unit),
                "upper": fmt_qty(previous.upper),
                "unit": unit,
            }
            if previous.upper is not None
            else ""
        )
    return ""
