"""Back office of payment plans (« Échéanciers »).

- the list: number, customer, status, next instalment due, overdue flag (one query: annotations);
- a plan's page: its instalments (bills, paid or not) and the bills it covers (credit notes),
  « Imprimer l'accord » (the PDF the customer signs at the counter, in their language) and
  « Annuler l'échéancier » (with a reason);
- « Accorder un échéancier » from the customer 360 (a card through ``HOOK_CUSTOMER_360_PANELS``):
  the customer's open bills (overdue ones ticked), the terms, one call to ``payment_plan_grant``.
Permissions: ``rak_collections.view_paymentplan`` (list, pages, PDF), ``add_paymentplan`` (grant),
``change_paymentplan`` (cancel).
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_base.hooks import hook_subscribe
from rak_base.money import money_format
from rak_collections.models import Instalment, PaymentPlan, PaymentPlanBill
from rak_collections.plans import (
    customer_plan_candidates,
    payment_plan_cancel,
    payment_plan_grant,
    plan_broken_after_days,
    plan_max_instalments,
    plan_min_debt,
)
from rak_customer.admin import HOOK_CUSTOMER_360_PANELS
from rak_customer.language import customer_language_code
from rak_customer.models import Customer

LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"
STATUS_LABELS = {"ACTIVE": "info", "COMPLETED": "success", "BROKEN": "danger", "CANCELLED": "warning"}


def _bill_link(bill) -> str:
    if bill is None:
        return "—"
    return format_html(
        '<a href="{}" class="{}">{}</a>', reverse("admin:rak_billing_bill_change", args=[bill.pk]), LINK_CLASSES, bill
    )


class InstalmentInline(TabularInline):
    model = Instalment
    extra = 0
    can_delete = False
    fields = ("position_display", "due_date", "amount", "bill_display", "paid_display")
    readonly_fields = fields
    verbose_name_plural = _("échéances")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("bill").order_by("position")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("échéance"))
    def position_display(self, obj: Instalment) -> str:
        return gettext("Acompte") if obj.position == 0 else str(obj.position)

    @display(description=_("facture"))
    def bill_display(self, obj: Instalment) -> str:
        return _bill_link(obj.bill)

    @display(description=_("réglée"), label={"yes": "success", "no": "warning", "late": "danger"})
    def paid_display(self, obj: Instalment):
        if obj.bill.settled_at:
            return "yes", gettext("réglée le %(date)s") % {
                "date": date_format(timezone.localtime(obj.bill.settled_at), "d/m/Y")
            }
        if obj.due_date < clock.now().date():
            return "late", gettext("en retard")
        return "no", gettext("à régler")


class CoveredBillInline(TabularInline):
    model = PaymentPlanBill
    extra = 0
    can_delete = False
    fields = ("bill_display", "amount", "credit_note_display")
    readonly_fields = fields
    verbose_name_plural = _("factures couvertes")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("bill", "credit_note")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("facture"))
    def bill_display(self, obj: PaymentPlanBill) -> str:
        return _bill_link(obj.bill)

    @display(description=_("avoir"))
    def credit_note_display(self, obj: PaymentPlanBill) -> str:
        return _bill_link(obj.credit_note)


class GrantForm(forms.Form):
    bills = forms.MultipleChoiceField(
        label=_("Factures à échelonner"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins une facture à échelonner.")},
    )
    instalments = forms.IntegerField(
        label=_("Nombre d'échéances (mensuelles)"),
        min_value=2,
        error_messages={"invalid": _("Indiquez le nombre d'échéances (un nombre entier).")},
    )
    first_due_date = forms.DateField(
        label=_("Première échéance"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Date invalide : choisissez une date (jj/mm/aaaa).")},
    )
    down_payment = forms.CharField(label=_("Acompte (DH, facultatif)"), required=False, max_length=20)
    reason = forms.CharField(label=_("Motif / accord"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, bills=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["bills"]).choices = [(str(b.pk), b.number) for b in bills]
        instalments = cast(forms.IntegerField, self.fields["instalments"])
        instalments.max_value = plan_max_instalments()
        instalments.widget.attrs["max"] = plan_max_instalments()


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=200,
        error_messages={"required": _("Indiquez le motif de l'annulation.")},
    )


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ModelAdmin):
    list_display = (
        "number",
        "customer_display",
        "status_display",
        "total_amount",
        "next_due_display",
        "overdue_display",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("number", "customer__code", "customer__last_name", "customer__company_name")
    list_select_related = ("customer",)
    ordering = ("-created_at",)
    fields = (
        ("number", "status"),
        "customer_display",
        ("total_amount", "down_payment", "instalments_count", "first_due_date"),
        "reason",
        ("created_at", "created_by"),
        ("broken_at", "closed_at"),
        "close_reason",
        "agreement_link",
    )
    readonly_fields = tuple(f for row in fields for f in (row if isinstance(row, tuple) else (row,)))
    inlines = (InstalmentInline, CoveredBillInline)
    actions_detail = ("cancel_plan",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "created_by")
            .annotate(next_due=Min("instalments__due_date", filter=Q(instalments__bill__settled_at__isnull=True)))
        )

    def has_add_permission(self, request) -> bool:
        return False  # granted from the customer's page (« Accorder un échéancier »)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read only: the cancellation is an action

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("client"), ordering="customer__code")
    def customer_display(self, obj: PaymentPlan) -> str:
        return format_html(
            '<a href="{}" class="{}">{} — {}</a>',
            reverse("admin:rak_customer_customer_change", args=[obj.customer_id]),
            LINK_CLASSES,
            obj.customer.code,
            obj.customer.display_name,
        )

    @display(description=_("statut"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj: PaymentPlan):
        return obj.status, obj.get_status_display()

    @display(description=_("prochaine échéance"), ordering="next_due")
    def next_due_display(self, obj: PaymentPlan) -> str:
        next_due = getattr(obj, "next_due", None)  # annotated by get_queryset
        return date_format(next_due, "d/m/Y") if next_due else "—"

    @display(description=_("en retard"), label={"late": "danger", "ok": "success"})
    def overdue_display(self, obj: PaymentPlan):
        next_due = getattr(obj, "next_due", None)
        if obj.status == PaymentPlan.Status.ACTIVE and next_due and next_due < clock.now().date():
            return "late", gettext("en retard")
        return "" if next_due is None else ("ok", gettext("à jour"))

    @display(description=_("accord à signer"))
    def agreement_link(self, obj: PaymentPlan) -> str:
        return format_html(
            '<a href="{}" class="{}" data-testid="plan-agreement-pdf">{}</a>',
            reverse("admin:rak_collections_paymentplan_agreement", args=[obj.pk]),
            LINK_CLASSES,
            gettext("Imprimer l'accord (PDF)"),
        )

    # --- cancel -------------------------------------------------------------------------------------

    def has_cancel_plan_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_collections.change_paymentplan"):
            return False
        return (
            object_id is None
            or PaymentPlan.objects.filter(
                pk=object_id, status__in=[PaymentPlan.Status.ACTIVE, PaymentPlan.Status.BROKEN]
            ).exists()
        )

    @action(description=_("Annuler l'échéancier"), url_path="annuler", permissions=["cancel_plan"], icon="cancel")
    def cancel_plan(self, request, object_id):
        plan = get_object_or_404(PaymentPlan, pk=object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payment_plan_cancel(plan=plan, reason=form.cleaned_data["reason"], by=request.user, now=clock.now())
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Échéancier %(number)s annulé.") % {"number": plan.number})
                return HttpResponseRedirect(reverse("admin:rak_collections_paymentplan_change", args=[plan.pk]))
        return TemplateResponse(
            request,
            "admin/rak_collections/plans/cancel.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Annuler l'échéancier %(number)s") % {"number": plan.number},
                "opts": self.model._meta,
                "original": plan,
                "form": form,
                "back_url": reverse("admin:rak_collections_paymentplan_change", args=[plan.pk]),
            },
            status=400 if request.method == "POST" else 200,
        )

    # --- grant, agreement ------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "accorder/<int:customer_id>/",
                view(self.grant_view),
                name="rak_collections_paymentplan_grant",
            ),
            path(
                "<int:plan_id>/accord.pdf",
                view(self.agreement_view),
                name="rak_collections_paymentplan_agreement",
            ),
            *super().get_urls(),
        ]

    def grant_view(self, request, customer_id: int):
        if not request.user.has_perm("rak_collections.add_paymentplan"):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        now = clock.now()
        today = timezone.localdate(now)
        bills = customer_plan_candidates(customer, as_of=today)
        active = PaymentPlan.objects.filter(customer=customer, status=PaymentPlan.Status.ACTIVE).first()
        initial = {"bills": [str(b.pk) for b in bills if b.overdue], "instalments": 6}  # type: ignore[attr-defined]  # set by customer_plan_candidates
        form = GrantForm(request.POST or None, bills=bills, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                try:
                    plan = payment_plan_grant(
                        customer=customer,
                        bills=[int(pk) for pk in data["bills"]],
                        instalments=data["instalments"],
                        first_due_date=data["first_due_date"],
                        down_payment=data["down_payment"],
                        reason=data["reason"],
                        by=request.user,
                        now=now,
                    )
                except RakError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        gettext("Échéancier %(number)s accordé : %(count)s échéances, %(total)s.")
                        % {
                            "number": plan.number,
                            "count": plan.instalments_count,
                            "total": money_format(plan.total_amount),
                        },
                    )
                    return HttpResponseRedirect(reverse("admin:rak_collections_paymentplan_change", args=[plan.pk]))
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Accorder un échéancier — %(customer)s (%(code)s)")
            % {"customer": customer.display_name, "code": customer.code},
            "opts": self.model._meta,
            "customer": customer,
            "customer_url": reverse("admin:rak_customer_customer_change", args=[customer.pk]),
            "form": form,
            "bills": bills,
            "checked": set(form["bills"].value() or []),
            "active_plan": active,
            "min_debt": plan_min_debt(),
            "max_instalments": plan_max_instalments(),
        }
        return TemplateResponse(request, "admin/rak_collections/plans/grant.html", context, status=status)

    def agreement_view(self, request, plan_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        plan = PaymentPlan.objects.select_related("customer", "created_by").filter(pk=plan_id).first()
        if plan is None:
            raise Http404
        pdf = plan_agreement_pdf(plan, printed_at=clock.now())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="echeancier-{plan.number}.pdf"'
        return response


def plan_agreement_pdf(plan: PaymentPlan, *, printed_at) -> bytes:
    """The plan agreement the customer signs at the counter, in the customer's language."""
    from rak_base.pdf import pdf_render

    with translation.override(customer_language_code(plan.customer)):
        html = render_to_string(
            "rak_collections/pdf/plan_agreement.html",
            {
                "plan": plan,
                "customer": plan.customer,
                "instalments": list(plan.instalments.select_related("bill").order_by("position")),
                "covered": list(plan.covered.select_related("bill", "credit_note").order_by("bill__due_date")),
                "printed_at": timezone.localtime(printed_at),
                "broken_after_days": plan_broken_after_days(),
            },
        )
    return pdf_render(html)


# --- customer 360 ---------------------------------------------------------------------------------------


def customer_plans_panel(*, request, customer_id: int) -> dict | None:
    """The « Échéanciers » card of the customer 360: the customer's plans, « Accorder un échéancier »."""
    user = request.user
    if not user.has_perm("rak_collections.view_paymentplan"):
        return None
    plans = (
        PaymentPlan.objects.filter(customer_id=customer_id)
        .annotate(next_due=Min("instalments__due_date", filter=Q(instalments__bill__settled_at__isnull=True)))
        .order_by("-created_at")
    )
    rows = [
        [
            format_html(
                '<a href="{}" class="{}" data-testid="customer-plan">{}</a>',
                reverse("admin:rak_collections_paymentplan_change", args=[p.pk]),
                LINK_CLASSES,
                p.number,
            ),
            p.get_status_display(),
            money_format(p.total_amount),
            str(p.instalments_count),
            date_format(p.next_due, "d/m/Y") if p.next_due else "—",
        ]
        for p in plans
    ]
    actions = []
    if user.has_perm("rak_collections.add_paymentplan") and not any(
        p.status == PaymentPlan.Status.ACTIVE for p in plans
    ):
        actions.append(
            {
                "label": gettext("Accorder un échéancier"),
                "url": reverse("admin:rak_collections_paymentplan_grant", args=[customer_id]),
            }
        )
    return {
        "id": "customer-plans",
        "title": gettext("Échéanciers"),
        "table": {
            "headers": [
                gettext("n° d'échéancier"),
                gettext("statut"),
                gettext("dette couverte"),
                gettext("échéances"),
                gettext("prochaine échéance"),
            ],
            "rows": rows,
        },
        "empty": gettext("Aucun échéancier."),
        "actions": actions,
    }


def panels_register() -> None:
    """Called at start-up (rak_collections.plans.register): the customer 360's « Échéanciers »."""
    hook_subscribe(HOOK_CUSTOMER_360_PANELS, customer_plans_panel)
