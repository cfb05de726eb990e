"""Back-office screens of refunds (« Demande de remboursement »): the refunds paid (read only: a
refund is recorded from its request, « Enregistrer le remboursement »), their receipt, and
« Annuler le remboursement » (permission ``rak_billing.cancel_refund``, a reason required): one call
to ``refund_cancel`` — a reversing entry, never a delete."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_base.money import money_format
from rak_base.private_files import private_file_response
from rak_billing.models import Refund, RefundCancellation
from rak_billing.refunds import refund_cancel, refund_receipt_number
from rak_customer.admin import admin_link
from rak_customer.models import Customer


def _money(value) -> str:
    return money_format(value, plain_space=True)


class RefundCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=500,
        help_text=_("Obligatoire : chèque non encaissé, virement retourné par la banque…"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(Refund)
class RefundAdmin(ModelAdmin):
    list_display = (
        "paid_at",
        "customer_link",
        "amount_display",
        "method",
        "reference",
        "request_ref",
        "recorded_by",
        "state_display",
    )
    list_select_related = ("customer", "recorded_by", "cancellation")
    list_filter = (("method", ChoicesDropdownFilter),)
    search_fields = ("reference",)
    search_help_text = _("Code client, n° de demande ou référence (exacts).")
    show_full_result_count = False
    ordering = ("-id",)
    actions_detail = ("receipt", "cancel")
    fields = (
        "customer_link",
        "amount_display",
        "method",
        "bank_name",
        "rib",
        "reference",
        "request_ref",
        "external_id",
        "paid_at",
        "recorded_by",
        "created_at",
        "origins_display",
        "cancellation_display",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        customers = Customer.objects.filter(code=term).values("pk")
        return queryset.filter(Q(reference=term) | Q(request_ref=term) | Q(customer_id__in=customers)), False

    def has_add_permission(self, request) -> bool:
        return False  # recorded from its request (« Enregistrer le remboursement »)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # nobody, superuser included: a wrong refund is cancelled, with a reason

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_receipt_permission(self, request, object_id=None) -> bool:
        return self.has_view_permission(request)

    def has_cancel_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_billing.cancel_refund")

    @action(description=_("Annuler le remboursement"), permissions=["cancel"], icon="undo")
    def cancel(self, request, object_id):
        """« Annuler le remboursement »: a reason, then one call to ``refund_cancel``."""
        refund = self.get_object(request, unquote(object_id))
        if refund is None:
            raise Http404
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:rak_billing_refund_change", args=[refund.pk])
        form = RefundCancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund_cancel(refund=refund, reason=form.cleaned_data["reason"], by=request.user, at=clock.now())
            except RakError as exc:
                form.add_error("reason" if exc.params.get("field") == "reason" else None, exc.message)
            else:
                self.log_change(request, refund, _("Remboursement annulé — motif : %s") % form.cleaned_data["reason"])
                messages.success(
                    request,
                    _("Remboursement de %(amount)s annulé : le montant est de nouveau au crédit du client.")
                    % {"amount": _money(refund.amount)},
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Annuler le remboursement de %(amount)s du %(date)s")
            % {"amount": _money(refund.amount), "date": f"{timezone.localtime(refund.paid_at):%d/%m/%Y}"},
            "refund": refund,
            "form": form,
            "opts": self.model._meta,
            "change_url": change_url,
            "cancellation": RefundCancellation.objects.filter(refund=refund).select_related("cancelled_by").first(),
        }
        return TemplateResponse(request, "admin/rak_billing/refund/cancel.html", context)

    @action(description=_("Reçu de remboursement (PDF)"), permissions=["receipt"], icon="receipt_long")
    def receipt(self, request, object_id):
        refund = self.get_object(request, unquote(object_id))
        if refund is None:
            raise Http404
        if refund.receipt is None or refund.receipt.revoked_at is not None:
            messages.error(request, _("Ce remboursement a été annulé : son reçu n'est plus valable."))
            return HttpResponseRedirect(reverse("admin:rak_billing_refund_change", args=[refund.pk]))
        return private_file_response(
            refund.receipt.file, download_name=f"recu-remboursement-{refund_receipt_number(refund)}.pdf"
        )

    @display(description=_("état"), label={"cancelled": "danger", "ok": "success"})
    def state_display(self, obj: Refund):
        if getattr(obj, "cancellation", None) is not None:
            return "cancelled", _("Annulé")
        return "ok", _("Remboursé")

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: Refund) -> str:
        return admin_link(obj.customer, obj.customer.code)

    @display(description=_("montant"), ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return _money(obj.amount)

    @display(description=_("crédit remboursé"))
    def origins_display(self, obj: Refund) -> str:
        rows = obj.allocations.select_related("payment", "credit_note").order_by("id")
        if not rows:
            return "—"
        lines = [
            (
                _("Paiement du %(date)s") % {"date": f"{timezone.localtime(a.payment.paid_at):%d/%m/%Y}"}
                if a.payment is not None  # select_related: no query
                else _("Avoir %(number)s") % {"number": a.credit_note.number if a.credit_note is not None else "—"}
            )
            + f" : {_money(a.amount)}"
            for a in rows
        ]
        return format_html("<br>".join(["{}"] * len(lines)), *lines)

    @display(description=_("annulation"))
    def cancellation_display(self, obj: Refund) -> str:
        cancellation = RefundCancellation.objects.filter(refund=obj).select_related("cancelled_by").first()
        if cancellation is None:
            return "—"
        who = cancellation.cancelled_by.get_full_name() or cancellation.cancelled_by.get_username()
        return _("Annulé le %(date)s par %(who)s — motif : %(reason)s") % {
            "date": f"{timezone.localtime(cancellation.cancelled_at):%d/%m/%Y %H:%M}",
            "who": who,
            "reason": cancellation.reason,
        }
