"""The back office's report pages (/backoffice/rapports/): the Direction dashboard, one page per
report with its filters, and the same report as XLSX and PDF with the same filters (one address:
the query string). Staff only (the admin's login), and the report's permission
(« Peut consulter les rapports de direction »: groups direction, superviseur)."""

from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from rak_base import clock
from rak_base.db_router import read_on_replica
from rak_reports.exports import XLSX_TYPE, result_context, result_pdf, result_xlsx
from rak_reports.forms import ReportFilterForm
from rak_reports.reports import ALL_FILTERS, Report, ReportResult, report_get, reports_registered

PERMISSION = "rak_reports.view_reports"


def _allowed(request, report: Report | None = None) -> None:
    if not request.user.has_perm(report.permission if report else PERMISSION):
        raise PermissionDenied


def _form(request, allowed) -> ReportFilterForm:
    data = (
        request.GET
        if any(k in request.GET for k in ("du", "au", "quartier", "agence", "metier", "type_client"))
        else None
    )
    # its districts come from a report view
    return read_on_replica(lambda: ReportFilterForm(data, today=timezone.localdate(clock.now()), allowed=allowed))


def _filters(form: ReportFilterForm):
    if form.is_bound:
        return form.report_filters() if form.is_valid() else None
    return form.default_filters()


def _file_name(slug: str, filters, ext: str) -> str:
    return f"rapport-{slugify(slug)}-{filters.month_from:%Y%m}-{filters.month_to:%Y%m}.{ext}"


def _describe(form: ReportFilterForm, filters) -> list[tuple[str, str]]:
    if form.is_bound:
        return form.describe()
    return [(_("Période"), f"{filters.month_from:%m/%Y} – {filters.month_to:%m/%Y}")]


def _page(request, *, report: Report | None, title: str, form, result: ReportResult | None, status=200):
    context = {
        **admin.site.each_context(request),
        "title": title,
        "report": report,
        "reports": [r for r in reports_registered() if request.user.has_perm(r.permission)],
        "form": form,
        "query": request.GET.urlencode(),
        **(result_context(result) if result else {}),
    }
    return TemplateResponse(request, "rak_reports/report.html", context, status=status)


def dashboard(request):
    """« Tableau de bord de la direction »: the headline figures of every report, for the same
    filters, each a link to its report."""
    _allowed(request)
    form = _form(request, ALL_FILTERS)
    filters = _filters(form)
    if filters is None:
        return _page(
            request, report=None, title=_("Tableau de bord de la direction"), form=form, result=None, status=400
        )
    now = clock.now()
    sections = []
    for report in reports_registered():
        if request.user.has_perm(report.permission):
            # the read replica when configured, the primary if it cannot answer (rak_base.db_router)
            kpis = read_on_replica(partial(report.headline, filters, now=now))
            sections.append({"report": report, "kpis": result_context(ReportResult(kpis=kpis))["kpis"]})
    context = {
        **admin.site.each_context(request),
        "title": _("Tableau de bord de la direction"),
        "form": form,
        "sections": sections,
        "reports": [s["report"] for s in sections],
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "rak_reports/dashboard.html", context)


def report_view(request, slug: str, fmt: str = ""):
    report = report_get(slug)
    if report is None:
        raise Http404
    _allowed(request, report)
    form = _form(request, report.filters)
    filters = _filters(form)
    if filters is None:
        return _page(request, report=report, title=str(report.title), form=form, result=None, status=400)
    now = clock.now()
    # the read replica when configured, the primary if it cannot answer (rak_base.db_router)
    result = read_on_replica(lambda: report.build(filters, now=now))
    if fmt == "xlsx":
        body = result_xlsx(title=str(report.title), result=result, filters=_describe(form, filters), generated_at=now)
        response = HttpResponse(body, content_type=XLSX_TYPE)
    elif fmt == "pdf":
        body = result_pdf(title=str(report.title), result=result, filters=_describe(form, filters), generated_at=now)
        response = HttpResponse(body, content_type="application/pdf")
    else:
        return _page(request, report=report, title=str(report.title), form=form, result=result)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(slug, filters, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response
