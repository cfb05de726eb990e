"""Back-office screen of the quotes (devis): the list (number, request, status, amounts) and
« Émettre un devis » for a connection request in its « Étude technique » or « Devis » phase:
the agent types the lines (libellé ; quantité ; prix unitaire HT) and the VAT rate; one call to
``rak_requests.quotes.quote_issue`` numbers it, renders and registers the PDF, and asks the
customer to accept it in « Mes devis »."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from rak_base import clock
from rak_base.admin_labels import FieldLabelsMixin
from rak_base.errors import RakError
from rak_base.money import money_format
from rak_requests.engine import OPEN_STATUSES
from rak_requests.models import Phase, Quote, RequestType, ServiceRequest
from rak_requests.quotes import quote_issue, quote_lines_parse, quote_vat_rate


def _number(value) -> str:
    return number_format(Decimal(value)) if value not in (None, "") else "—"


def _money(value) -> str:
    """« 1 070,00 », the one French amount format (the column header says DH)."""
    return money_format(value, currency="") if value not in (None, "") else "—"


class QuoteIssueForm(forms.Form):
    request = forms.ModelChoiceField(
        label=_("Demande de branchement"),
        queryset=ServiceRequest.objects.none(),
        error_messages={"required": _("Choisissez la demande.")},
    )
    lines = forms.CharField(
        label=_("Lignes (une par ligne : libellé ; quantité ; prix unitaire HT)"),
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": _("Branchement BT monophasé ; 1 ; 4500\nCâble (m) ; 12 ; 80")}
        ),
    )
    vat_percent = forms.DecimalField(
        label=_("TVA (%)"), initial=lambda: quote_vat_rate(now=clock.now()) * 100, min_value=0, max_value=100
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["request"]).queryset = ServiceRequest.objects.filter(
            request_type__code=RequestType.Code.CONNECTION,
            status__in=OPEN_STATUSES,
            phase__code__in=[Phase.Code.ETUDE, Phase.Code.DEVIS],
        ).select_related("customer")


@admin.register(Quote)
class QuoteAdmin(FieldLabelsMixin, ModelAdmin):
    field_labels = {"request": _("demande")}
    list_display = ("number", "request", "status", "amount_ttc_display", "issued_at", "valid_until", "accepted_at")
    list_filter = ("status",)
    search_fields = ("number", "request__number", "request__customer__code")
    readonly_fields = (
        "number",
        "request",
        "status",
        "lines_display",
        "amount_ht_display",
        "amount_tva_display",
        "amount_ttc_display",
        "valid_until",
        "issued_at",
        "accepted_at",
        "works_bill_display",
        "pdf",
    )
    exclude = ("document", "lines", "amount_ht", "amount_tva", "amount_ttc")  # shown as « 1 070,00 DH »

    @admin.display(description=_("lignes"))
    def lines_display(self, obj):
        """The quote's lines as a table (libellé, quantité, prix unitaire HT, montant HT, TVA),
        never the stored JSON."""
        if not obj.lines:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td class='pe-4'>{}</td><td class='pe-4 text-end'>{}</td><td class='pe-4 text-end'>{}</td>"
            "<td class='pe-4 text-end'>{}</td><td class='text-end'>{}</td></tr>",
            (
                (
                    line.get("label", ""),
                    _number(line.get("quantity")),
                    _money(line.get("unit_price")),
                    _money(line.get("amount")),
                    f"{number_format(Decimal(line['vat_rate']) * 100)} %" if line.get("vat_rate") else "—",
                )
                for line in obj.lines
            ),
        )
        return format_html(
            "<table><thead><tr><th class='pe-4 text-start'>{}</th><th class='pe-4'>{}</th><th class='pe-4'>{}</th>"
            "<th class='pe-4'>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("Libellé"),
            _("Quantité"),
            _("Prix unitaire HT"),
            _("Montant HT"),
            _("TVA"),
            rows,
        )

    @admin.display(description=_("montant HT"), ordering="amount_ht")
    def amount_ht_display(self, obj):
        return money_format(obj.amount_ht)

    @admin.display(description=_("TVA"), ordering="amount_tva")
    def amount_tva_display(self, obj):
        return money_format(obj.amount_tva)

    @admin.display(description=_("montant TTC"), ordering="amount_ttc")
    def amount_ttc_display(self, obj):
        return money_format(obj.amount_ttc)

    @admin.display(description=_("facture des travaux"))
    def works_bill_display(self, obj):
        bill = obj.request.fee_bill if obj.status == Quote.Status.ACCEPTE and obj.request.fee_bill_id else None
        if bill is None:
            return "—"
        state = _("payée") if bill.settled_at else _("à payer")
        return format_html(
            '<a href="{}">{}</a> — {} ({})',
            reverse("admin:rak_billing_bill_change", args=[bill.pk]),
            bill.number,
            money_format(bill.total_ttc),
            state,
        )

    @admin.display(description=_("PDF"))
    def pdf(self, obj):
        if obj.document_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:rak_base_document_change", args=[obj.document_id]),
            obj.document.reference,
        )

    def add_view(self, request, form_url="", extra_context=None):
        """« Ajouter » is « Émettre un devis »: quotes are only created by ``quote_issue``."""
        return self.issue_view(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("emettre/", self.admin_site.admin_view(self.issue_view), name="rak_requests_quote_issue"),
            *super().get_urls(),
        ]

    def issue_view(self, request):
        if not request.user.has_perm("rak_requests.add_quote"):
            raise PermissionDenied
        form = QuoteIssueForm(request.POST or None, initial={"request": request.GET.get("request")})
        if request.method == "POST" and form.is_valid():
            try:
                quote = quote_issue(
                    request_id=form.cleaned_data["request"].pk,
                    lines=quote_lines_parse(form.cleaned_data["lines"]),
                    vat_rate=form.cleaned_data["vat_percent"] / Decimal(100),
                    now=clock.now(),
                    actor=request.user,
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Devis %(number)s émis : %(ttc)s TTC.")
                    % {"number": quote.number, "ttc": money_format(quote.amount_ttc)},
                )
                return HttpResponseRedirect(reverse("admin:rak_requests_quote_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Émettre un devis"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/rak_requests/quote_issue.html", context)
