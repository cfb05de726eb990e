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
import re

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rak_base import clock
from rak_base.money import local_number
from rak_base.private_files import private_file_response
from rak_billing import api, selectors
from rak_billing.models import Bill
from rak_customer.models import Dossier, Service
from rak_portal import exports
from rak_portal.charts import Bar, bar_chart, month_label, month_short
from rak_portal.selectors import news_active
from rak_portal.views.account import customer_required
from rak_requests.complaint_models import Complaint

EFACTURE_PAGE_SIZE = 20
EXPORT_MAX_ROWS = 5000
OTHER_BILLS_PAGE_SIZE = 20


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


def _pick_dossier(dossiers: list[Dossier], number: str | None) -> Dossier | None:
    """The dossier named in ``?dossier=`` among the customer's own (404 for any other), else the
    first active metered one (water or electricity: a sanitation dossier has no consumption of
    its own to chart), else the first active one, else the first."""
    if number:
        for dossier in dossiers:
            if dossier.number == number:
                return dossier
        raise Http404("Dossier inconnu")  # i18n: not for customers (the 404 page says it)
    active = [d for d in dossiers if d.status == Dossier.Status.ACTIVE]
    metered = [d for d in active if d.meter_id is not None and d.service != Service.ASSAINISSEMENT]
    return (metered or active or dossiers or [None])[0]


def consumption_chart(dossier: Dossier) -> dict:
    """The six-month histogram of a dossier: the SVG and the same figures for the hidden table."""
    unit = selectors.service_unit(dossier.service)
    points = selectors.dossier_monthly_consumption(dossier.pk, months=6)
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


def dashboard_context(request: HttpRequest) -> dict:
    """What the dashboard shows besides the customer's name: the dossiers, the two top cards,
    the histogram of the chosen dossier (``?dossier=<n°>``), the news slider."""
    dossiers = selectors.customer_dossiers(request.customer.pk)
    dossier = _pick_dossier(dossiers, request.GET.get("dossier"))
    return {
        "dossiers": dossiers,
        "summary": selectors.account_summary(request.customer.pk),
        "chart_dossier": dossier,
        "chart": consumption_chart(dossier) if dossier else None,
        "news": news_active(now=clock.now()),
    }


# --- Mes consommations ---------------------------------------------------------------------------


@customer_required
@require_GET
def consumptions(request: HttpRequest) -> HttpResponse:
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
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
    open_complaint = (
        Complaint.objects.filter(customer_id=request.customer.pk, bill_id=bill.pk)
        .exclude(status=Complaint.Status.CLOSED)
        .only("number")
        .order_by("-filed_at")
        .first()
        if bill.kind != Bill.Kind.CREDIT_NOTE
        else None
    )
    return render(
        request, "rak_portal/bills/detail.html", {"bill": bill, "unit": unit, "open_complaint": open_complaint}
    )


@customer_required
@require_GET
def bill_pdf(request: HttpRequest, pk: int) -> HttpResponse:
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
def unpaid(request: HttpRequest) -> HttpResponse:
    summary = selectors.unpaid_bills(request.customer.pk, as_of=_today())
    return render(request, "rak_portal/bills/unpaid.html", {"unpaid": summary})


@customer_required
@require_GET
def other_bills(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.other_bills(request.customer.pk), OTHER_BILLS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.bills_status(page.object_list, as_of=_today())
    return render(request, "rak_portal/bills/other.html", {"page": page})


# --- e-facture (seed 002 « Consultation de factures ») --------------------------------------------

MONTH_RE = re.compile(r"^\s*(?:(\d{4})-(\d{1,2})|(\d{1,2})\s*[/.-]?\s*(\d{4}))\s*$")


class EFactureFilterForm(forms.Form):
    """Filters of the table: N° client (the customer's own only), échéance, dossier."""

    client = forms.ChoiceField(
        label=gettext_lazy("N° client"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Ce numéro client n'est pas rattaché à votre compte.")},
    )
    echeance = forms.CharField(
        label=gettext_lazy("Échéance"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("MM/AAAA"), "inputmode": "numeric"}),
        help_text=gettext_lazy("Mois facturé, par exemple 01/2026."),
    )
    dossier = forms.ChoiceField(label=gettext_lazy("N° dossier"), required=False)

    def __init__(self, *args, customer, dossiers: list[Dossier], **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.dossiers = {d.number: d for d in dossiers}
        self.fields["client"].choices = [("", _("Tous")), (customer.code, customer.code)]
        self.fields["dossier"].choices = [("", _("Tous"))] + [
            (d.number, f"{d.number} — {d.get_service_display()}") for d in dossiers
        ]

    def clean_echeance(self) -> datetime.date | None:
        text = self.cleaned_data["echeance"]
        if not text:
            return None
        match = MONTH_RE.match(text)
        if not match:
            raise forms.ValidationError(_("Saisissez un mois au format MM/AAAA (par exemple 01/2026)."))
        year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if not 1 <= int(month) <= 12:
            raise forms.ValidationError(_("Saisissez un mois au format MM/AAAA (par exemple 01/2026)."))
        return datetime.date(int(year), int(month), 1)

    def clean_dossier(self) -> Dossier | None:
        number = self.cleaned_data["dossier"]
        return self.dossiers[number] if number else None


def _efacture_filters(request: HttpRequest) -> tuple[EFactureFilterForm, dict | None]:
    """The bound filter form and the selector arguments (``None`` when the filters are invalid:
    nothing is shown, never another customer's bills)."""
    dossiers = selectors.customer_dossiers(request.customer.pk)
    form = EFactureFilterForm(request.GET or None, customer=request.customer, dossiers=dossiers)
    if not request.GET:
        return form, {}
    if not form.is_valid():
        return form, None
    dossier = form.cleaned_data["dossier"]
    return form, {"dossier_id": dossier.pk if dossier else None, "month": form.cleaned_data["echeance"]}


def _efacture_rows(request: HttpRequest, filters: dict | None):
    if filters is None:
        return Bill.objects.none()
    return selectors.efacture_bills(request.customer.pk, **filters)


@customer_required
@require_GET
def efacture(request: HttpRequest) -> HttpResponse:
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


@customer_required
@require_GET
def efacture_xlsx(request: HttpRequest) -> HttpResponse:
    _form, filters = _efacture_filters(request)
    rows = selectors.bills_status(_efacture_rows(request, filters)[:EXPORT_MAX_ROWS], as_of=_today())
    return _download(
        exports.efacture_xlsx(rows, customer=request.customer),
        f"factures-{request.customer.code}.xlsx",
        exports.XLSX_TYPE,
    )


@customer_required
@require_GET
def efacture_pdf(request: HttpRequest) -> HttpResponse:
    form, filters = _efacture_filters(request)
    rows = selectors.bills_status(_efacture_rows(request, filters)[:EXPORT_MAX_ROWS], as_of=_today())
    html = render_to_string(
        "rak_portal/bills/efacture_pdf.html",
        {"customer": request.customer, "rows": rows, "form": form, "printed_at": clock.now()},
    )
    return _download(exports.html_to_pdf(html), f"factures-{request.customer.code}.pdf", "application/pdf")


@customer_required
@require_GET
def statistics_xlsx(request: HttpRequest) -> HttpResponse:
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
