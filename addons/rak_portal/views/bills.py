"""The customer's bills: dashboard figures and histogram, « Mes consommations », bill detail and
PDF, « Mes impayés », « Autres factures », the e-facture table (seed 002) with its exports and
statistics (« Payer en ligne » is ``views/payments.py``).

Every lookup goes through ``request.customer``: a dossier or bill number that is not the
customer's is a 404, never someone else's data. Views parse the query string, call the
selectors of ``rak_billing.selectors`` (a fixed number of queries whatever the history) and
render.
"""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rak_base import clock
from rak_base.money import local_number
from rak_base.private_files import private_file_response
from rak_billing import api, selectors
from rak_billing.models import Bill
from rak_customer.models import Dossier
from rak_portal import exports
from rak_portal import selectors as portal_selectors
from rak_portal.billing_forms import EFactureFilterForm
from rak_portal.charts import Bar, bar_chart, month_label, month_short
from rak_portal.views.account import CustomerRequest, customer_required

EFACTURE_PAGE_SIZE = 20
EXPORT_MAX_ROWS = selectors.EXPORT_MAX_ROWS
OTHER_BILLS_PAGE_SIZE = 20


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


def _pick_dossier(dossiers: list[Dossier], number: str | None) -> Dossier | None:
    """``rak_portal.selectors.chart_dossier_pick``; another customer's number is a 404."""
    try:
        return portal_selectors.chart_dossier_pick(dossiers, number)
    except portal_selectors.DossierNotFound as exc:
        raise Http404("Dossier inconnu") from exc  # i18n: not for customers (the 404 page says it)


def consumption_chart(dossier: Dossier, points: list[selectors.MonthPoint] | None = None) -> dict:
    """The six-month histogram of a dossier: the SVG and the same figures for the hidden table
    (``points``: already read, else read here)."""
    unit = selectors.service_unit(dossier.service)
    if points is None:
        points = selectors.dossier_monthly_consumption(dossier.pk, months=portal_selectors.CHART_MONTHS)
    if not points:
        return {"points": [], "svg": "", "unit": unit}
    estimated = _("%(month)s : %(value)s %(unit)s (estimée)")
    read = _("%(month)s : %(value)s %(unit)s")
    missing = _("%(month)s : pas de facture")
    described = _(" ; ").join(
        (estimated if p.estimated else read)
        % {"month": month_label(p.month), "value": local_number(p.value), "unit": unit}
        if p.value is not None
        else missing % {"month": month_label(p.month)}
        for p in points
    )
    svg = bar_chart(
        [Bar(label=month_short(p.month), sublabel=str(p.month.year), value=p.value, muted=p.estimated) for p in points],
        chart_id=f"conso-{dossier.number}",
        title=_("Consommation des six derniers mois, dossier n° %(number)s (%(unit)s)")
        % {"number": dossier.number, "unit": unit},
        desc=described,
    )
    return {"points": points, "svg": svg, "unit": unit}


def dashboard_context(request: CustomerRequest) -> dict:
    """What the dashboard shows besides the customer's name: the dossiers, the two top cards,
    the histogram of the chosen dossier (``?dossier=<n°>``), the news slider
    (``rak_portal.selectors.dashboard``, which the API's dashboard reads too)."""
    try:
        data = portal_selectors.dashboard(
            request.customer.pk, dossier_number=request.GET.get("dossier"), now=clock.now()
        )
    except portal_selectors.DossierNotFound as exc:
        raise Http404("Dossier inconnu") from exc  # i18n: not for customers (the 404 page says it)
    dossier = data.chart_dossier
    return {
        "dossiers": data.dossiers,
        "summary": data.summary,
        "chart_dossier": dossier,
        "chart": consumption_chart(dossier, data.consumption) if dossier else None,
        "news": data.news,
    }


# --- Mes consommations ---------------------------------------------------------------------------


@customer_required
@require_GET
def consumptions(request: CustomerRequest) -> HttpResponse:
    dossiers = selectors.customer_dossiers(request.customer.pk)
    dossier = _pick_dossier(dossiers, request.GET.get("dossier"))
    unpaid_only = request.GET.get("statut") == "impayees"
    bills = selectors.dossier_bills(dossier.pk, as_of=_today(), unpaid_only=unpaid_only) if dossier else []
    return render(
        request,
        "rak_portal/bills/consumptions.html",
        {
            "dossiers": dossiers,
            "dossier": dossier,
            "unit": selectors.service_unit(dossier.service) if dossier else "",
            "bills": bills,
            "unpaid_only": unpaid_only,
            "keep": [("statut", "impayees")] if unpaid_only else [],
            "limit": selectors.CONSUMPTION_BILLS_SHOWN,
        },
    )


def lines_for_display(lines):
    """A bill's lines with their stored (French) labels in the page's language (display only: the
    instances must not be saved)."""
    lines = list(lines)
    for line in lines:
        line.label = api.bill_line_label(line.label)
    return lines


@customer_required
@require_GET
def bill_detail(request: CustomerRequest, pk: int) -> HttpResponse:
    try:
        bill = selectors.customer_bill(request.customer.pk, pk, as_of=_today())
    except Bill.DoesNotExist as exc:
        raise Http404("Facture introuvable") from exc  # i18n: not for customers (the 404 page says it)
    unit = selectors.service_unit(bill.dossier.service) if bill.dossier else ""
    # The lines and the tranche notice are stored in French (the bill as issued): shown in the page's
    # language. Display only: these prefetched instances are never saved.
    lines_for_display(bill.lines.all())
    bill.tranche_notice = api.tranche_notice(bill.tranche_notice)
    # a bill already contested: « Suivre ma réclamation » instead of a second « Contester cette facture »
    open_complaint = portal_selectors.bill_open_complaint(request.customer.pk, bill)
    return render(
        request, "rak_portal/bills/detail.html", {"bill": bill, "unit": unit, "open_complaint": open_complaint}
    )


@customer_required
@require_GET
def bill_pdf(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """The bill's PDF (rendered and registered once by ``rak_billing.pdf.bill_pdf``), to its
    owner only, as a download."""
    try:
        bill = selectors.customer_bill_only(request.customer.pk, pk)
    except Bill.DoesNotExist as exc:
        raise Http404("Facture introuvable") from exc  # i18n: not for customers (the 404 page says it)
    document = api.bill_pdf(bill)
    return private_file_response(document.file, as_attachment=True, download_name=f"facture-{bill.number}.pdf")


# --- Mes impayés, Autres factures --------------------------------------------------


@customer_required
@require_GET
def unpaid(request: CustomerRequest) -> HttpResponse:
    summary = selectors.unpaid_bills(request.customer.pk, as_of=_today())
    return render(request, "rak_portal/bills/unpaid.html", {"unpaid": summary})


@customer_required
@require_GET
def other_bills(request: CustomerRequest) -> HttpResponse:
    page = Paginator(selectors.other_bills(request.customer.pk), OTHER_BILLS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.bills_status(page.object_list, as_of=_today())
    return render(request, "rak_portal/bills/other.html", {"page": page})


# --- e-facture (seed 002 « Consultation de factures ») --------------------------------------------


def _efacture_filters(request: CustomerRequest) -> tuple[EFactureFilterForm, dict | None]:
    """The bound filter form and the selector arguments (``None`` when the filters are invalid:
    nothing is shown, never another customer's bills)."""
    dossiers = selectors.customer_dossiers(request.customer.pk)
    form = EFactureFilterForm(request.GET or None, customer=request.customer, dossiers=dossiers)
    if not request.GET:
        return form, {}
    if not form.is_valid():
        return form, None
    return form, form.selector_filters()


def _efacture_rows(request: CustomerRequest, filters: dict | None):
    if filters is None:
        return Bill.objects.none()
    return selectors.efacture_bills(request.customer.pk, **filters)


@customer_required
@require_GET
def efacture(request: CustomerRequest) -> HttpResponse:
    form, filters = _efacture_filters(request)
    page = Paginator(_efacture_rows(request, filters), EFACTURE_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.bills_status(page.object_list, as_of=_today())
    query = request.GET.copy()
    query.pop("page", None)
    points = selectors.customer_monthly_billed(request.customer.pk, as_of=_today(), months=6)
    chart = ""
    if points:
        chart = bar_chart(
            [Bar(label=f"{p.month:%m/%Y}", value=p.value) for p in points],
            chart_id="montants-factures",
            title=_("Evolution des montants facturés les 6 derniers mois en DH HT"),
            desc=_(" ; ").join(
                _("%(month)s : %(amount)s DH HT") % {"month": f"{p.month:%m/%Y}", "amount": local_number(p.value, 2)}
                for p in points
            ),
        )
    return render(
        request,
        "rak_portal/bills/efacture.html",
        {"form": form, "page": page, "query": query.urlencode(), "chart": chart, "points": points},
    )


def _export_rows(request: CustomerRequest, filters: dict | None) -> list[selectors.BillWithStatus]:
    if filters is None:
        return []
    return selectors.efacture_export_rows(request.customer.pk, as_of=_today(), **filters)


@customer_required
@require_GET
def efacture_xlsx(request: CustomerRequest) -> HttpResponse:
    _form, filters = _efacture_filters(request)
    return _download(
        exports.efacture_xlsx(_export_rows(request, filters), customer=request.customer),
        f"factures-{request.customer.code}.xlsx",
        exports.XLSX_TYPE,
    )


@customer_required
@require_GET
def efacture_pdf(request: CustomerRequest) -> HttpResponse:
    form, filters = _efacture_filters(request)
    content = exports.efacture_pdf(
        _export_rows(request, filters), customer=request.customer, form=form, printed_at=clock.now()
    )
    return _download(content, f"factures-{request.customer.code}.pdf", "application/pdf")


@customer_required
@require_GET
def statistics_xlsx(request: CustomerRequest) -> HttpResponse:
    stats = selectors.customer_statistics(request.customer.pk, as_of=_today())
    return _download(
        exports.statistics_xlsx(stats, customer=request.customer),
        f"statistiques-{request.customer.code}.xlsx",
        exports.XLSX_TYPE,
    )


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
