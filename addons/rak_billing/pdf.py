"""The bill PDF (WeasyPrint, A4, bilingual French / Arabic as Moroccan bills are — issue 12): the
layout of a Moroccan utility bill — the issuer
block (legal name, address, customer-service phone, ICE/IF/TP from rak.conf [company],
``rak_base.company``), customer and dossier block, the period actually billed (reading to
reading, ``bill_billed_period``) and indexes, tranche lines with HT unit prices, fixed charges,
levies, VAT, totals HT/TVA/TTC, the previous unpaid balance at issue (``bill_previous_balance``)
and the total due, the amount in words (French and Arabic), the due date and the cut-off warning, the 12-month
consumption chart (SVG drawn here, no network), the tranche notice, and the QR code + reference
code of the public verification page. Every kind of invoice (works, fees, online fee, credit
notes) uses the same template.

``bill_pdf(bill)`` renders a bill once, registers it in the document registry
(``rak_base.documents``) and returns the ``Document``; later calls return the same document, so
the file a customer downloads twice has the same SHA-256 and can be verified.
"""

from __future__ import annotations

import base64
import datetime
import io
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from rak_base.documents import (
    document_for_subject,
    document_reference_new,
    document_register,
    reference_display,
    verification_url,
)
from rak_base.models import Document
from rak_base.money import amount_in_words
from rak_billing.models import Bill, LedgerEntry, MeterReading
from rak_customer.models import PortalAccount, Service

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # one INFO line per rendering step

CHART_MONTHS = 12
UNITS: dict[str, str] = {Service.ELECTRICITE: "kWh", Service.EAU: "m³", Service.ASSAINISSEMENT: "m³"}
TITLES: dict[str, StrOrPromise] = {
    Service.ELECTRICITE: gettext_lazy("Facture de consommation d'électricité"),
    Service.EAU: gettext_lazy("Facture de consommation d'eau potable"),
    Service.ASSAINISSEMENT: gettext_lazy("Facture d'assainissement liquide"),
}
# The chart's month labels: the bill's figures are written once, in French (the Arabic labels sit beside them).
MONTHS_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


# --- QR code ----------------------------------------------------------------------------------------


def qr_svg(data: str) -> str:
    """An SVG QR code (medium error correction) for ``data``."""
    import qrcode
    import qrcode.image.svg

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=1)
    qr.add_data(data)
    qr.make(fit=True)
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def qr_data_uri(data: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(data).encode()).decode()


# --- consumption chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    label: str
    value: Decimal
    estimated: bool = False
    current: bool = False


def consumption_chart_svg(bars: list[ChartBar], *, unit: str, width: int = 340, height: int = 124) -> str:
    """Vertical bars, one per month, the value above each bar; estimated months hatched, the
    billed month darker. Pure: no database, no network."""
    left, bottom, top = 4, 22, 14
    plot_h = height - bottom - top
    slots = max(len(bars), 1)
    slot = (width - left * 2) / slots
    bar_w = slot * 0.62
    highest = max((bar.value for bar in bars), default=Decimal(0)) or Decimal(1)
    svg_font = 'font-family="DejaVu Sans, sans-serif" font-size="7"'  # i18n: not for customers
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {svg_font}>',
        '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="4" height="4" fill="#dbe7f5"/><line x1="0" y1="0" x2="0" y2="4" stroke="#1d4e89" '
        'stroke-width="1.4"/></pattern></defs>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#6b7280" '
        'stroke-width="0.6"/>',
    ]
    for i, bar in enumerate(bars):
        h = float(bar.value / highest) * plot_h if bar.value > 0 else 0.0
        x = left + i * slot + (slot - bar_w) / 2
        y = height - bottom - h
        fill = "url(#hatch)" if bar.estimated else ("#1d4e89" if bar.current else "#5b8fd1")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{fill}"/>')
        value = (
            f"{bar.value.normalize():f}".replace(".", ",")
            if bar.value == bar.value.to_integral()
            else f"{bar.value:.1f}".replace(".", ",")
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 2:.1f}" text-anchor="middle" fill="#111827">{value}</text>'
        )
        month, _, year = bar.label.partition(" ")
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 8:.1f}" text-anchor="middle" fill="#374151">'
            f'{month}<tspan x="{x + bar_w / 2:.1f}" dy="7.5">{year}</tspan></text>'
        )
    parts.append(f'<text x="{width - left}" y="8" text-anchor="end" fill="#374151">{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _chart_bars(bill: Bill) -> list[ChartBar]:
    if bill.dossier_id is None or bill.period_start is None:
        return []
    history = list(
        Bill.objects.filter(dossier_id=bill.dossier_id, kind=Bill.Kind.CONSUMPTION, period_start__lte=bill.period_start)
        .order_by("-period_start")
        .values_list("period_start", "consumption", "estimated")[:CHART_MONTHS]
    )
    return [
        ChartBar(
            label=f"{MONTHS_SHORT[start.month - 1]} {start.year % 100:02d}",
            value=consumption,
            estimated=estimated,
            current=start == bill.period_start,
        )
        for start, consumption, estimated in reversed(history)
        if start is not None  # (period_start__lte already left out bills without a period)
    ]


# --- rendering ------------------------------------------------------------------------------------------


def _fmt_qty(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


@dataclass(frozen=True)
class BilledPeriod:
    start: datetime.date
    end: datetime.date
    days: int
    estimated: bool


def bill_billed_period(bill: Bill) -> BilledPeriod | None:
    """The « période facturée » of a consumption bill: from the index it starts from to its new
    reading — the dates the billing run priced (``billing._old_index``: the previous bill's
    reading, else the previous accepted reading, else the start of the month); an estimated bill
    covers its calendar period (last day included)."""
    if (
        bill.kind != Bill.Kind.CONSUMPTION
        or bill.period_start is None
        or bill.period_end is None
        or bill.dossier_id is None  # (a consumption bill always has its dossier)
    ):
        return None
    reading = None if bill.estimated else bill.reading  # no query when there is no reading
    if reading is None:
        days = (bill.period_end - bill.period_start).days
        return BilledPeriod(bill.period_start, bill.period_end - datetime.timedelta(days=1), days, True)
    end = reading.reading_date
    previous = (
        Bill.objects.filter(dossier_id=bill.dossier_id, kind=Bill.Kind.CONSUMPTION, period_start__lt=bill.period_start)
        .select_related("reading")
        .order_by("-period_start")
        .first()
    )
    if previous is not None and previous.current_index is not None:
        if previous.reading is not None:
            start = previous.reading.reading_date
        elif previous.period_end is not None:
            start = previous.period_end - datetime.timedelta(days=1)
        else:  # a consumption bill always has its period (billing run, final bill)
            raise RuntimeError(f"consumption bill {previous.pk} without a period")
    else:
        prior = (
            MeterReading.objects.filter(
                dossier_id=reading.dossier_id, status=MeterReading.Status.ACCEPTED, reading_date__lt=end
            )
            .order_by("-reading_date")
            .values_list("reading_date", flat=True)
            .first()
        )
        start = prior or bill.period_start
    return BilledPeriod(start, end, max((end - start).days, 1), False)


def bill_previous_balance(bill: Bill) -> Decimal:
    """« Solde antérieur impayé »: what the customer owed just before this bill — the ledger up to
    the bill's issue date, without this bill nor the other bills issued that day (negative: a
    credit)."""
    before = Q(entry_date__lt=bill.issue_date) | (
        Q(entry_date=bill.issue_date) & ~Q(kind=LedgerEntry.Kind.BILL) & ~Q(bill_id=bill.pk)
    )
    own = LedgerEntry.objects.filter(bill_id=bill.pk).values_list("created_at", flat=True).first()
    if own is not None:  # same-day payments recorded after the bill came after it
        before &= Q(entry_date__lt=bill.issue_date) | Q(created_at__lt=own)
    total = LedgerEntry.objects.filter(customer_id=bill.customer_id).filter(before).aggregate(total=Sum("amount"))
    return total["total"] or Decimal("0.00")


def bill_context(bill: Bill, *, reference: str) -> dict:
    customer = bill.customer
    dossier = bill.dossier
    service = dossier.service if dossier else ""
    unit = UNITS.get(service, "")
    title = TITLES.get(service, "") if bill.kind == Bill.Kind.CONSUMPTION else bill.get_kind_display()
    lines = list(bill.lines.order_by("position"))
    bars = _chart_bars(bill) if bill.kind == Bill.Kind.CONSUMPTION else []
    url = verification_url(reference)
    previous_balance = bill_previous_balance(bill)
    return {
        "bill": bill,
        "billed_period": bill_billed_period(bill),
        "previous_balance": previous_balance,
        "previous_credit": -previous_balance,
        "total_due": max(previous_balance + bill.total_ttc, Decimal("0.00")),
        "customer": customer,
        "dossier": dossier,
        "premises": dossier.premises if dossier else None,
        # sanitation has no meter of its own: the water meter it is billed on
        "meter": (dossier.meter if dossier and dossier.meter_id else None)
        or (bill.reading.meter if bill.reading is not None else None),
        "title": title,
        "unit": unit,
        "lines": lines,
        "consumption": _fmt_qty(bill.consumption),
        "previous_index": _fmt_qty(bill.previous_index),
        "current_index": _fmt_qty(bill.current_index),
        "reading_date": bill.reading.reading_date if not bill.estimated and bill.reading is not None else None,
        "amount_words": amount_in_words(bill.total_ttc, "fr"),
        "amount_words_ar": amount_in_words(bill.total_ttc, "ar"),
        "chart_svg": consumption_chart_svg(bars, unit=unit, width=330, height=100) if bars else "",
        "qr_uri": qr_data_uri(url),
        "verification_url": url,
        "verification_site": settings.SITE_URL.split("://", 1)[-1],
        "reference": reference_display(reference),
        "period_label": (
            date_format(bill.period_start, "F Y", use_l10n=True) if bill.period_start and bill.period_end else ""
        ),
        "is_credit_note": bill.kind == Bill.Kind.CREDIT_NOTE,
    }


def render_bill_pdf(bill: Bill, *, reference: str) -> bytes:
    from rak_base.pdf import pdf_render

    # Bilingual French / Arabic whatever language the caller works in (the template says which part
    # is in which language): the French part and the figures in French.
    with translation.override("fr"):
        html = render_to_string("rak_billing/pdf/bill.html", bill_context(bill, reference=reference))
    return pdf_render(html)


def _bill_for_pdf(pk: int) -> Bill:
    return Bill.objects.select_related(
        "customer", "dossier", "dossier__premises", "dossier__meter", "reading__meter", "credited_bill"
    ).get(pk=pk)


def bill_pdf(bill: Bill) -> Document:
    """The registered PDF of ``bill``: rendered and registered on the first call, the same
    Document afterwards."""
    document = document_for_subject(kind=Document.Kind.BILL, subject=bill)
    if document is not None:
        return document
    with transaction.atomic():
        Bill.objects.select_for_update().filter(pk=bill.pk).values_list("pk").first()  # one renderer per bill
        document = document_for_subject(kind=Document.Kind.BILL, subject=bill)
        if document is not None:
            return document
        bill = _bill_for_pdf(bill.pk)
        reference = document_reference_new()
        pdf = render_bill_pdf(bill, reference=reference)
        account = PortalAccount.objects.filter(customer_id=bill.customer_id).select_related("user").first()
        label = "Avoir" if bill.kind == Bill.Kind.CREDIT_NOTE else "Facture"
        return document_register(
            kind=Document.Kind.BILL,
            title=f"{label} {bill.number}" + (f" — {bill.period_start:%m/%Y}" if bill.period_start else ""),
            owner=account.user if account else None,
            owner_label=bill.customer.display_name,
            subject=bill,
            pdf_bytes=pdf,
            reference=reference,
        )
