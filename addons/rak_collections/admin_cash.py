"""Back office of the counters' cash closing (« Clôture de caisse »).

- « Postes de guichet » (CounterPost): which agency each counter agent works at (supervisors);
- « Clôtures de caisse »: the list (agency, day, agent, expected, counted, difference) — an agent
  sees their own closings, a supervisor (``rak_collections.supervise_cashclosing``) every agent's,
  filtered by agency, day and status; a closing's page (lines per method, adjustments) and its
  printable sheet (PDF);
- « Clôturer ma caisse » (``add_cashclosing``): the agent's day per method, the counted amounts, the
  explanation of a difference, « Clôturer » — one call to ``cash_closing_close``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_billing.models import Payment
from rak_collections.cash import (
    SUPERVISE_PERMISSION,
    cash_closing_close,
    cash_day,
    closing_lines_by_method,
    counter_post_agency,
)
from rak_collections.models import CashClosing, CashClosingLine, CounterPost
from rak_collections.models.cash import CashClosingEntry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"


@admin.register(CounterPost)
class CounterPostAdmin(ModelAdmin):
    list_display = ("user", "agency")
    list_select_related = ("user", "agency")
    list_filter = ("agency",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    raw_id_fields = ("user",)


class LineInline(TabularInline):
    model = CashClosingLine
    extra = 0
    can_delete = False
    fields = ("method_display", "payments_count", "expected", "counted", "difference")
    readonly_fields = fields
    verbose_name_plural = _("par mode de paiement")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("mode"))
    def method_display(self, obj: CashClosingLine) -> StrOrPromise:
        return dict(Payment.Method.choices).get(obj.method, obj.method)


class AdjustmentInline(TabularInline):
    model = CashClosingEntry
    extra = 0
    can_delete = False
    fields = ("payment_display", "kind", "late", "method", "amount")
    readonly_fields = fields
    verbose_name_plural = _("régularisations (paiements d'une journée déjà clôturée, annulations après clôture)")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .exclude(kind=CashClosingEntry.Kind.COUNTED, late=False)
            .select_related("payment", "payment__customer")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("paiement"))
    def payment_display(self, obj: CashClosingEntry) -> str:
        payment = obj.payment
        return f"{payment.customer.code} — {date_format(timezone.localtime(payment.paid_at), 'd/m/Y H:i')}"


class DifferenceFilter(admin.SimpleListFilter):
    title = _("écart")
    parameter_name = "ecart"

    def lookups(self, request, model_admin):
        return (("avec", _("Avec écart")), ("sans", _("Sans écart")))

    def queryset(self, request, queryset):
        if self.value() == "avec":
            return queryset.exclude(difference=0)
        if self.value() == "sans":
            return queryset.filter(difference=0)
        return queryset


@admin.register(CashClosing)
class CashClosingAdmin(ModelAdmin):
    list_display = (
        "day",
        "agency",
        "agent_display",
        "status_display",
        "expected_total",
        "counted_total",
        "difference_display",
        "explanation_short",
        "closed_at",
    )
    list_filter = ("status", DifferenceFilter, "agency", "day")
    date_hierarchy = "day"
    list_select_related = ("agency", "agent")
    search_fields = ("agent__username", "agent__last_name", "agent__first_name")
    fields = (
        ("day", "agency", "agent"),
        ("status", "closed_at", "closed_by"),
        ("expected_total", "counted_total", "difference"),
        "explanation",
        "sheet_link",
    )
    readonly_fields = tuple(f for row in fields for f in (row if isinstance(row, tuple) else (row,)))
    inlines = (LineInline, AdjustmentInline)
    actions_list = ("close_day",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("agency", "agent", "closed_by")
        if not request.user.has_perm(SUPERVISE_PERMISSION):
            queryset = queryset.filter(agent=request.user)  # an agent sees their own closings
        return queryset

    def has_add_permission(self, request) -> bool:
        return False  # « Clôturer ma caisse »

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a closed day never changes

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("agent"), ordering="agent__last_name")
    def agent_display(self, obj: CashClosing) -> str:
        return obj.agent.get_full_name() or obj.agent.get_username()

    @display(description=_("statut"), label={"OPEN": "info", "CLOSED": "success"})
    def status_display(self, obj: CashClosing):
        return obj.status, obj.get_status_display()

    @display(description=_("écart"), ordering="difference", label={"ok": "success", "diff": "danger"})
    def difference_display(self, obj: CashClosing):
        return ("diff" if obj.difference else "ok"), f"{obj.difference:.2f}".replace(".", ",")

    @display(description=_("explication"))
    def explanation_short(self, obj: CashClosing) -> str:
        text = obj.explanation or ""
        return text if len(text) <= 60 else text[:57] + "..."

    @display(description=_("feuille de clôture"))
    def sheet_link(self, obj: CashClosing) -> str:
        return format_html(
            '<a href="{}" class="{}" data-testid="cash-sheet-pdf">{}</a>',
            reverse("admin:rak_collections_cashclosing_sheet", args=[obj.pk]),
            LINK_CLASSES,
            gettext("Imprimer la feuille de clôture (PDF)"),
        )

    # --- « Clôturer ma caisse » ---------------------------------------------------------------------------

    def has_close_day_permission(self, request) -> bool:
        return request.user.has_perm("rak_collections.add_cashclosing")

    @action(description=_("Clôturer ma caisse"), url_path="cloturer", permissions=["close_day"], icon="point_of_sale")
    def close_day(self, request):
        now = clock.now()
        today = timezone.localdate(now)
        raw_day = request.POST.get("jour") or request.GET.get("jour") or ""
        try:
            day = datetime.date.fromisoformat(raw_day) if raw_day else today
        except ValueError:
            messages.error(request, gettext("Journée invalide : la journée d'aujourd'hui est affichée."))
            day = today
        agent = request.user
        existing = CashClosing.objects.filter(agent=agent, day=day, status=CashClosing.Status.CLOSED).first()
        state = cash_day(agent=agent, day=day)
        error = ""
        typed = {}
        explanation = ""
        status = 200
        if request.method == "POST" and existing is None:
            typed = {line.method: request.POST.get(f"counted_{line.method}", "") for line in state.lines}
            explanation = request.POST.get("explanation", "")
            try:
                closing = cash_closing_close(
                    agent=agent, day=day, counted=typed, explanation=explanation, by=request.user, now=now
                )
            except RakError as exc:
                error = exc.message
                status = 400
            else:
                messages.success(
                    request,
                    gettext("Caisse du %(day)s clôturée (écart : %(difference)s DH).")
                    % {
                        "day": date_format(day, "d/m/Y"),
                        "difference": f"{closing.difference:.2f}".replace(".", ","),
                    },
                )
                return HttpResponseRedirect(reverse("admin:rak_collections_cashclosing_change", args=[closing.pk]))
        for line in state.lines:
            line.typed = typed.get(line.method, "")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Clôture de caisse du %(day)s") % {"day": date_format(day, "d/m/Y")},
            "opts": self.model._meta,
            "day": day,
            "today": today,
            "state": state,
            "agency": counter_post_agency(agent),
            "existing": existing,
            "error": error,
            "explanation": explanation,
            "day_payments": [e for e in state.entries if not e.late and e.kind == CashClosingEntry.Kind.COUNTED],
        }
        return TemplateResponse(request, "admin/rak_collections/cash/close.html", context, status=status)

    # --- the sheet ---------------------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:closing_id>/feuille.pdf",
                self.admin_site.admin_view(self.sheet_view),
                name="rak_collections_cashclosing_sheet",
            ),
            *super().get_urls(),
        ]

    def sheet_view(self, request, closing_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        closing = self.get_queryset(request).filter(pk=closing_id).first()  # someone else's: 404
        if closing is None:
            raise Http404
        pdf = cash_closing_pdf(closing, printed_at=clock.now())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="cloture-{closing.day:%Y-%m-%d}-{closing.agent_id}.pdf"'
        )
        return response


def cash_closing_pdf(closing: CashClosing, *, printed_at) -> bytes:
    """The closing sheet (French: a staff document), signed by the agent and their supervisor."""
    from rak_base.pdf import pdf_render

    entries = list(closing.entries.select_related("payment", "payment__customer").order_by("payment__paid_at", "pk"))
    html = render_to_string(
        "rak_collections/pdf/cash_closing.html",
        {
            "closing": closing,
            "lines": closing_lines_by_method(closing),
            "entries": entries,
            "methods": dict(Payment.Method.choices),
            "printed_at": timezone.localtime(printed_at),
        },
    )
    return pdf_render(html)
