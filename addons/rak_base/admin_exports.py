"""« Exporter (XLSX) » on every back-office list, with the list's current filters.

Installed once on the admin site (``exports_install``, from rak_base.admin): one URL,
``/backoffice/exporter/<app>/<model>/?<the list's query string>``, and, when the site builds its
URLs (every addon's admin is registered by then), an « Exporter (XLSX) » button in the toolbar of
every registered list — each list's template is wrapped by ``admin/rak_base/exports/change_list.html``
which extends the list's own template and adds the button to its ``object-tools-items`` block. No
ModelAdmin is changed otherwise, and this module knows none of the higher addons.

The export builds the very ChangeList the page shows (the ModelAdmin's filters, search and ordering
read from the same query string, the staff member's own querysets), then writes its rows with
openpyxl's write-only workbook into a temporary file streamed back: the ``list_display`` columns
with their French headers, the values typed (numbers, dates in local time, booleans, choice labels,
links and labels reduced to their text). Refused (403) without the view permission of the model;
more than ``RAK_EXPORT_MAX_ROWS`` rows (100,000) is refused with a message asking to narrow the
filters. A GET with no side effect but one log line (who, which list, which filters — the search text
reduced to its length —, how many rows).

Never exported: models holding secrets (OTP codes, sessions, devices' and push subscriptions' keys,
login attempts) and any column whose name designates a secret (password, token,
hash, secret...). A ModelAdmin may opt out with ``export_xlsx = False`` or drop columns with
``export_exclude``.
"""

from __future__ import annotations

import datetime
import html
import logging
import re
import tempfile
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.loader import select_template
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

logger = logging.getLogger(__name__)

EXPORT_MAX_ROWS = 100_000
EXPORT_URL_NAME = "rak_export_xlsx"
WRAPPER_TEMPLATE = "admin/rak_base/exports/change_list.html"
# app_label.model_name (or app_label.*) never exported: secrets, security logs
EXCLUDED_MODELS = frozenset(
    {
        "rak_base.onetimecode",
        "rak_base.pushsubscription",
        "rak_customer.device",
        "sessions.*",
        "captcha.*",
        "axes.*",
        "rak_cmi_sandbox.*",
    }
)
SECRET_NAME_RE = re.compile(r"(^|_)(password|passwd|hash|token|secret|p256dh|auth|otp|code_hash|api_key)$", re.I)
SKIPPED_COLUMNS = frozenset({"action_checkbox"})


def export_max_rows() -> int:
    return int(getattr(settings, "RAK_EXPORT_MAX_ROWS", EXPORT_MAX_ROWS))


def model_exportable(model_admin) -> bool:
    opts = model_admin.model._meta
    if f"{opts.app_label}.{opts.model_name}" in EXCLUDED_MODELS or f"{opts.app_label}.*" in EXCLUDED_MODELS:
        return False
    return getattr(model_admin, "export_xlsx", True)


def _secret_column(model, name) -> bool:
    if not isinstance(name, str) or not SECRET_NAME_RE.search(name):
        return False
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a computed column: judged by its name
        return True
    return not isinstance(field, models.BooleanField)  # « must change password » is no secret


def export_columns(model_admin, list_display) -> list[str]:
    excluded = set(getattr(model_admin, "export_exclude", ()))
    return [
        name
        for name in list_display
        if not (isinstance(name, str) and name in SKIPPED_COLUMNS)
        and name not in excluded
        and not _secret_column(model_admin.model, name)
    ]


# --- values ----------------------------------------------------------------------------------------


TAG_RE = re.compile(r"<[^>]*>")


def _text(value: str) -> str:
    """Text of a cell: the list's HTML (links, labels built by format_html) reduced to its text —
    a plain regular expression, ten times faster than strip_tags' parser on 100,000 rows."""
    if "<" in value:
        value = TAG_RE.sub("", value)
    if "&" in value:
        value = html.unescape(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value).strip()


def cell_value(value):
    """A value as an XLSX cell holds it: numbers and dates typed, the rest as text."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date | datetime.time):
        return value
    if isinstance(value, list | tuple | set):
        return _text(", ".join(str(cell_value(item) or "") for item in value))
    if isinstance(value, models.Model | Promise):
        return _text(str(value))
    return _text(str(value))


def column_value(name, obj, model_admin):
    """What the list shows in a column for ``obj``, typed (Django's ``items_for_result``, less the
    HTML)."""
    try:
        field, attr, value = lookup_field(name, obj, model_admin)
    except (AttributeError, ObjectDoesNotExist):
        return None
    if field is None:
        if isinstance(value, tuple) and len(value) == 2 and getattr(attr, "label", None):
            return cell_value(value[1])  # unfold's @display(label=...): (value, text)
        if isinstance(value, list | tuple) and getattr(attr, "header", None):
            return cell_value(value[0])  # unfold's @display(header=True): (title, subtitle, ...)
        return cell_value(value)
    if getattr(field, "flatchoices", None):
        return cell_value(dict(field.flatchoices).get(value, value))
    return cell_value(value)


def header_label(name, model_admin) -> str:
    try:
        label = label_for_field(name, model_admin.model, model_admin, return_attr=False)
    except AttributeError:
        label = str(name)
    return _text(str(label))


# --- the view ----------------------------------------------------------------------------------


def _write_rows(sheet, queryset, columns, model_admin) -> int:
    rows = 0
    for obj in queryset.iterator(chunk_size=2000):
        values = []
        for name in columns:
            value = column_value(name, obj, model_admin)
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, never a formula
                value = cell
            values.append(value)
        sheet.append(values)
        rows += 1
    return rows


def _changelist_url(model_admin, request) -> str:
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=model_admin.admin_site.name)
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


def export_view(request, app_label: str, model_name: str, *, site):
    model_admin = next(
        (
            candidate
            for model, candidate in site._registry.items()
            if model._meta.app_label == app_label and model._meta.model_name == model_name
        ),
        None,
    )
    if model_admin is None or not model_exportable(model_admin):
        raise Http404
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    model_admin.request = request  # as unfold's changelist_view does (its filters read it)
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        opts = model_admin.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")
    cap = export_max_rows()
    queryset = changelist.queryset
    total = queryset[: cap + 1].count()
    if total > cap:
        messages.error(
            request,
            _("La liste compte plus de %(cap)s lignes : affinez les filtres avant d'exporter.")
            % {"cap": f"{cap:,}".replace(",", "\u202f")},
        )
        return HttpResponseRedirect(_changelist_url(model_admin, request))
    columns = export_columns(model_admin, changelist.list_display)
    opts = model_admin.model._meta
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", str(opts.verbose_name_plural))[:31] or "Export")
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=header_label(name, model_admin))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # in a transaction, the server-side cursor streams (outside one, PostgreSQL materialises a
    # WITH HOLD cursor's whole result before the first row)
    with transaction.atomic():
        rows = _write_rows(sheet, queryset, columns, model_admin)
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    # the search box as typed is a customer's name, CIN or address: its length only
    filters = {
        key: [f"[{len(value)} chars]" for value in request.GET.getlist(key)]
        if key == SEARCH_VAR
        else request.GET.getlist(key)
        for key in request.GET
    }
    logger.info(
        "back-office export: user=%s list=%s.%s filters=%s rows=%d",
        request.user.get_username(),
        opts.app_label,
        opts.model_name,
        filters,
        rows,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{slugify(str(opts.verbose_name_plural)) or opts.model_name}-{stamp}.xlsx"
    return FileResponse(
        output,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- installation --------------------------------------------------------------------------------


def _template_name(names) -> str:
    if isinstance(names, str):
        names = [names]
    return select_template(list(names)).origin.template_name


def exports_prepare(site) -> None:
    """Every registered list gets the button (its template wrapped); idempotent."""
    for model, model_admin in site._registry.items():
        if getattr(model_admin, "rak_export_parent", None) or not model_exportable(model_admin):
            continue
        opts = model._meta
        own = model_admin.change_list_template or [
            f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
            f"admin/{opts.app_label}/change_list.html",
            "admin/change_list.html",
        ]
        model_admin.rak_export_parent = _template_name(own)
        model_admin.change_list_template = WRAPPER_TEMPLATE


def exports_install(site) -> None:
    """Called once with the admin site (rak_base.admin): the export URL, and the buttons added when
    the site builds its URLs (after every addon registered its admins)."""
    if getattr(site, "_rak_exports_installed", False):
        return
    previous = getattr(site, "extra_urls", None)

    def extra_urls():
        exports_prepare(site)

        def view(request, app_label, model_name):
            return export_view(request, app_label, model_name, site=site)

        urls = [path("exporter/<slug:app_label>/<slug:model_name>/", site.admin_view(view), name=EXPORT_URL_NAME)]
        return urls + (list(previous()) if callable(previous) else [])

    site.extra_urls = extra_urls
    site._rak_exports_installed = True
