"""Back-office screens of bills and the customer ledger: bills (search by number / code client /
dossier, filters, lines, PDF, credit note, other invoices), payments at the agency counter, the
ledger of a customer (read only, with the balance). Billing runs are in runs.py.

Screens only: every write is one service call (``bill_issue_other``, ``credit_note_issue``,
``payment_record_staff``, ``payment_reverse``); a domain error is shown with its French message.
Payments are never deleted, by anyone: a wrong one is reversed (« Annuler le paiement »,
permission ``rak_billing.reverse_payment``) with a reason. Searches are exact matches on indexed
columns; lists are ordered by primary key (an index) and never count a large table twice.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

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
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.admin_labels import FieldLabelsMixin
from rak_base.errors import RakError
from rak_base.money import money_format
from rak_base.private_files import private_file_response
from rak_billing.ledger import (
    OTHER_KINDS,
    OtherLine,
    PaymentRefused,
    bill_is_exigible,
    bill_issue_other,
    bill_outstanding,
    credit_note_issue,
    customer_balance,
    payment_bounds_check,
    payment_record_staff,
    payment_reverse,
)
from rak_billing.models import Bill, BillingRun, BillLine, LedgerEntry, Payment, PaymentReversal
from rak_customer.admin import admin_link
from rak_customer.models import Customer, Dossier


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


def _money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return money_format(value, plain_space=True)


# --- bills ---------------------------------------------------------------------------------------------


class BillLineInline(TabularInline):
    model = BillLine
    fields = (
        "position",
        "kind",
        "label",
        "quantity",
        "unit_price",
        "amount_ht",
        "vat_rate",
        "amount_tva",
        "amount_ttc",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SettlementFilter(admin.SimpleListFilter):
    title = _("règlement")
    parameter_name = "reglement"

    def lookups(self, request, model_admin):
        return (
            ("open", _("Non réglées")),
            ("due", _("Exigibles (échéance passée)")),
            ("settled", _("Réglées")),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(settled_at__isnull=True).exclude(kind=Bill.Kind.CREDIT_NOTE)
        if value == "due":
            return queryset.filter(settled_at__isnull=True, due_date__lt=_today()).exclude(kind=Bill.Kind.CREDIT_NOTE)
        if value == "settled":
            return queryset.filter(settled_at__isnull=False)
        return queryset


class PeriodFilter(DropdownFilter):
    title = _("période")
    parameter_name = "periode"

    def lookups(self, request, model_admin):
        periods = BillingRun.objects.order_by("-period_start").values_list("period_start", flat=True).distinct()[:36]
        return [(p.isoformat(), p.strftime("%m/%Y")) for p in periods]

    def queryset(self, request, queryset):
        if self.value():
            try:
                return queryset.filter(period_start=datetime.date.fromisoformat(self.value()))
            except ValueError:
                return queryset.none()
        return queryset


class OtherInvoiceForm(forms.ModelForm):
    """« Autres factures »: frais de coupure, fraude, abonnement, travaux/devis, avance."""

    kind = forms.ChoiceField(label=_("Type"), choices=[(k.value, k.label) for k in OTHER_KINDS])
    customer_code = forms.CharField(label=_("Code client"), max_length=12)
    dossier_number = forms.CharField(label=_("N° dossier (facultatif)"), max_length=16, required=False)
    label = forms.CharField(label=_("Libellé"), max_length=160)
    amount_ht = forms.DecimalField(
        label=_("Montant HT (DH)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    vat_rate = forms.DecimalField(
        label=_("Taux de TVA"),
        max_digits=5,
        decimal_places=4,
        min_value=0,
        max_value=1,
        required=False,
        help_text=_("Vide : le taux « frais et travaux » de la table de TVA en vigueur à la date d'émission."),
    )
    issue_date = forms.DateField(label=_("Date d'émission"))
    due_date = forms.DateField(label=_("Date d'échéance"), required=False)

    class Meta:
        model = Bill
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issue_date"].initial = _today()

    def _post_clean(self):
        pass  # nothing is written from this form: bill_issue_other checks and builds the bill

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        code = (cleaned.get("customer_code") or "").strip()
        customer = Customer.objects.filter(code=code).first() if code else None
        if code and customer is None:
            self.add_error("customer_code", _("Aucun client avec ce code."))
        cleaned["customer"] = customer
        number = (cleaned.get("dossier_number") or "").strip().upper()
        cleaned["dossier"] = None
        if number:
            dossier = Dossier.objects.filter(number=number).first()
            if dossier is None or (customer and dossier.customer_id != customer.pk):
                self.add_error("dossier_number", _("Aucun dossier de ce client avec ce numéro."))
            cleaned["dossier"] = dossier
        return cleaned


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Montant TTC de l'avoir (DH)"),
        max_digits=12,
        decimal_places=2,
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Vide : tout ce qui n'a pas encore été crédité."),
    )
    reason = forms.CharField(label=_("Motif"), max_length=120)


@admin.register(Bill)
class BillAdmin(ModelAdmin):
    list_display = (
        "number",
        "kind",
        "customer_link",
        "dossier_link",
        "period_display",
        "total_display",
        "estimated",
        "due_date",
        "state_display",
    )
    list_select_related = ("customer", "dossier")
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        "estimated",
        SettlementFilter,
        PeriodFilter,
    )
    list_filter_submit = True
    search_fields = ("number",)
    search_help_text = _("N° de facture, code client ou n° dossier (exacts).")
    show_full_result_count = False
    ordering = ("-id",)
    list_per_page = 50
    inlines = (BillLineInline,)
    actions_detail = ("pdf", "credit_note")
    fieldsets = (
        (None, {"fields": ("number", "kind", "customer_link", "dossier_link", "run", "credited_bill")}),
        (
            _("Consommation"),
            {
                "fields": (
                    ("period_start", "period_end"),
                    ("previous_index", "current_index", "consumption", "estimated"),
                )
            },
        ),
        (
            _("Montants"),
            {"fields": (("total_ht", "total_tva", "total_ttc"), "tranche_notice", "outstanding_display")},
        ),
        (_("Dates"), {"fields": (("issue_date", "due_date"), "settled_at", "state_display", "created_at")}),
    )
    readonly_fields = (
        "number",
        "kind",
        "customer_link",
        "dossier_link",
        "run",
        "credited_bill",
        "period_start",
        "period_end",
        "previous_index",
        "current_index",
        "consumption",
        "estimated",
        "total_ht",
        "total_tva",
        "total_ttc",
        "tranche_notice",
        "outstanding_display",
        "issue_date",
        "due_date",
        "settled_at",
        "state_display",
        "created_at",
    )

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip().upper()
        if not term:
            return queryset, False
        customers = Customer.objects.filter(code=term).values("pk")
        dossiers = Dossier.objects.filter(number=term).values("pk")
        return queryset.filter(Q(number=term) | Q(customer_id__in=customers) | Q(dossier_id__in=dossiers)), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OtherInvoiceForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (
                    _("Autre facture (frais de coupure, fraude, abonnement, travaux…)"),
                    {
                        "fields": (
                            "kind",
                            ("customer_code", "dossier_number"),
                            "label",
                            ("amount_ht", "vat_rate"),
                            ("issue_date", "due_date"),
                        )
                    },
                ),
            )
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a wrong bill is cancelled by a credit note

    def has_pdf_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_billing.view_bill")

    def has_credit_note_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_billing.add_bill")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            bill = bill_issue_other(
                kind=data["kind"],
                customer=data["customer"],
                dossier=data["dossier"],
                lines=[OtherLine(label=data["label"], unit_price=data["amount_ht"], vat_rate=data["vat_rate"])],
                issue_date=data["issue_date"],
                due_date=data.get("due_date"),
                now=clock.now(),
            )
        except RakError as exc:
            request._rak_error = exc.message
            return
        obj.pk = bill.pk
        obj.__dict__.update({f.attname: getattr(bill, f.attname) for f in Bill._meta.concrete_fields})

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_rak_error", None):
            messages.error(request, request._rak_error)
            return HttpResponseRedirect(reverse("admin:rak_billing_bill_add"))
        messages.success(request, _("Facture %(number)s émise.") % {"number": obj.number})
        return HttpResponseRedirect(reverse("admin:rak_billing_bill_change", args=[obj.pk]))

    def log_addition(self, request, obj, message):
        return super().log_addition(request, obj, message) if obj.pk else None

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: Bill) -> str:
        return admin_link(obj.customer, obj.customer.code)

    @display(description=_("dossier"))
    def dossier_link(self, obj: Bill) -> str:
        return admin_link(obj.dossier, obj.dossier.number) if obj.dossier is not None else "—"

    @display(description=_("période"), ordering="period_start")
    def period_display(self, obj: Bill) -> str:
        return obj.period_start.strftime("%m/%Y") if obj.period_start else "—"

    @display(description=_("montant TTC"), ordering="total_ttc")
    def total_display(self, obj: Bill) -> str:
        return _money(obj.total_ttc)

    @display(description=_("reste à payer"))
    def outstanding_display(self, obj: Bill) -> str:
        return _money(bill_outstanding(obj))

    @display(
        description=_("état"),
        label={"settled": "success", "due": "danger", "open": "warning", "credit": "info"},
    )
    def state_display(self, obj: Bill):
        if obj.kind == Bill.Kind.CREDIT_NOTE:
            return "credit", _("Avoir")
        if obj.settled_at:
            return "settled", _("Réglée")
        if bill_is_exigible(obj, as_of=_today()):
            return "due", _("Exigible")
        return "open", _("À payer")

    @action(description=_("PDF"), permissions=["pdf"], icon="picture_as_pdf")
    def pdf(self, request, object_id):
        from rak_billing.pdf import bill_pdf

        bill = self.get_object(request, unquote(object_id))
        if bill is None:
            raise Http404
        document = bill_pdf(bill)
        return private_file_response(document.file, download_name=f"facture-{bill.number}.pdf")

    @action(description=_("Émettre un avoir"), permissions=["credit_note"], icon="undo")
    def credit_note(self, request, object_id):
        bill = self.get_object(request, unquote(object_id))
        if bill is None:
            raise Http404
        if not self.has_credit_note_permission(request):
            raise PermissionDenied
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(
                    bill=bill,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    issue_date=_today(),
                    now=clock.now(),
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Avoir %(number)s émis.") % {"number": note.number})
                return HttpResponseRedirect(reverse("admin:rak_billing_bill_change", args=[note.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Avoir sur la facture %(number)s") % {"number": bill.number},
            "bill": bill,
            "form": form,
            "opts": self.model._meta,
            "outstanding": bill_outstanding(bill),
        }
        return TemplateResponse(request, "admin/rak_billing/bill/credit_note.html", context)


# --- payments -------------------------------------------------------------------------------------------


class PaymentForm(forms.ModelForm):
    """« Encaisser un paiement » at the counter: the bounds of ``payment_bounds_check`` are shown
    on the field they concern (the service checks them again under the customer's lock)."""

    customer_code = forms.CharField(label=_("Code client"), max_length=12)

    class Meta:
        model = Payment
        fields = ("amount", "method", "paid_at", "reference", "reason")
        labels = {"reason": _("Motif (montant supérieur au solde dû)")}
        widgets = {"reason": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "paid_at" in self.fields:  # the add form (the change page is read only)
            self.fields["paid_at"].initial = clock.now()
            self.fields["method"].initial = Payment.Method.CASH

    def clean_customer_code(self):
        code = self.cleaned_data["customer_code"].strip()
        customer = Customer.objects.filter(code=code).first()
        if customer is None:
            raise forms.ValidationError(_("Aucun client avec ce code."))
        self.customer = customer
        return code

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        customer = getattr(self, "customer", None)
        if customer is not None and data.get("amount") is not None and data.get("paid_at") is not None:
            try:
                payment_bounds_check(
                    amount=data["amount"],
                    paid_at=data["paid_at"],
                    now=clock.now(),
                    open_balance=customer_balance(customer),
                    reason=data.get("reason") or "",
                )
            except PaymentRefused as exc:
                field = exc.params.get("field")
                self.add_error(field if field in self.fields else None, exc.message)
        return data


class PaymentReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=500,
        help_text=_("Obligatoire : chèque impayé, paiement saisi sur le mauvais client…"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(Payment)
class PaymentAdmin(FieldLabelsMixin, ModelAdmin):
    field_labels = {"received_by": _("enregistré par")}
    list_display = ("paid_at", "customer_link", "amount_display", "method", "reference", "received_by", "state_display")
    list_select_related = ("customer", "received_by", "reversal")
    list_filter = (("method", ChoicesDropdownFilter),)
    search_fields = ("reference",)
    search_help_text = _("Code client, référence ou identifiant externe (exacts).")
    show_full_result_count = False
    ordering = ("-id",)
    form = PaymentForm
    actions_detail = ("receipt", "reverse")
    readonly_fields = (
        "customer_link",
        "amount",
        "method",
        "paid_at",
        "reference",
        "external_id",
        "received_by",
        "reason",
        "created_at",
        "allocations_display",
        "reversal_display",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer_code", "amount", "method", "paid_at", "reference", "reason")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        customers = Customer.objects.filter(code=term).values("pk")
        return queryset.filter(Q(reference=term) | Q(external_id=term) | Q(customer_id__in=customers)), False

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # nobody, superuser included: a wrong payment is reversed, with a reason

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        try:
            payment = payment_record_staff(
                customer=form.customer,
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                paid_at=form.cleaned_data["paid_at"],
                now=clock.now(),
                reference=form.cleaned_data.get("reference") or "",
                reason=form.cleaned_data.get("reason") or "",
                received_by=request.user,
            )
        except RakError as exc:  # changed between the form and the service (another payment)
            request._rak_error = exc.message
            return
        obj.pk = payment.pk
        obj.__dict__.update({f.attname: getattr(payment, f.attname) for f in Payment._meta.concrete_fields})

    def log_addition(self, request, obj, message):
        return super().log_addition(request, obj, message) if obj.pk else None

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_rak_error", None):
            messages.error(request, request._rak_error)
            return HttpResponseRedirect(reverse("admin:rak_billing_payment_add"))
        balance = customer_balance(obj.customer_id)
        settled = obj.allocations.filter(bill__settled_at__isnull=False).count()
        messages.success(
            request,
            _(
                "Paiement de %(amount)s enregistré : %(settled)s facture(s) soldée(s). "
                "Nouveau solde du client : %(balance)s. Imprimez le reçu (« Reçu de paiement (PDF) »)."
            )
            % {"amount": _money(obj.amount), "settled": settled, "balance": _money(balance)},
        )
        return HttpResponseRedirect(reverse("admin:rak_billing_payment_change", args=[obj.pk]))

    def has_receipt_permission(self, request, object_id=None) -> bool:
        return self.has_view_permission(request)

    def has_reverse_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_billing.reverse_payment")

    @action(description=_("Annuler le paiement"), permissions=["reverse"], icon="undo")
    def reverse(self, request, object_id):
        """« Annuler le paiement »: a reason, then one call to ``payment_reverse`` (ledger entry,
        bills re-opened, receipt revoked)."""
        payment = self.get_object(request, unquote(object_id))
        if payment is None:
            raise Http404
        if not self.has_reverse_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:rak_billing_payment_change", args=[payment.pk])
        form = PaymentReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payment_reverse(payment=payment, reason=form.cleaned_data["reason"], by=request.user, at=clock.now())
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, payment, _("Paiement annulé — motif : %s") % form.cleaned_data["reason"])
                messages.success(
                    request,
                    _("Paiement de %(amount)s annulé : les factures qu'il réglait sont de nouveau à payer.")
                    % {"amount": _money(payment.amount)},
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Annuler le paiement de %(amount)s du %(date)s")
            % {"amount": _money(payment.amount), "date": f"{timezone.localtime(payment.paid_at):%d/%m/%Y}"},
            "payment": payment,
            "form": form,
            "opts": self.model._meta,
            "change_url": change_url,
            "reversal": PaymentReversal.objects.filter(payment=payment).select_related("reversed_by").first(),
            "allocations": payment.allocations.filter(reversal__isnull=True).select_related("bill").order_by("id"),
        }
        return TemplateResponse(request, "admin/rak_billing/payment/reverse.html", context)

    @display(description=_("état"), label={"reversed": "danger", "ok": "success"})
    def state_display(self, obj: Payment):
        if getattr(obj, "reversal", None) is not None:
            return "reversed", _("Annulé")
        return "ok", _("Enregistré")

    @display(description=_("annulation"))
    def reversal_display(self, obj: Payment) -> str:
        reversal = PaymentReversal.objects.filter(payment=obj).select_related("reversed_by").first()
        if reversal is None:
            return "—"
        who = reversal.reversed_by.get_full_name() or reversal.reversed_by.get_username()
        return _("Annulé le %(date)s par %(who)s — motif : %(reason)s") % {
            "date": f"{timezone.localtime(reversal.reversed_at):%d/%m/%Y %H:%M}",
            "who": who,
            "reason": reversal.reason,
        }

    @action(description=_("Reçu de paiement (PDF)"), permissions=["receipt"], icon="receipt_long")
    def receipt(self, request, object_id):
        """The printable receipt handed over at the counter (registered, with its QR code)."""
        from rak_billing.receipts import payment_receipt_pdf, receipt_number

        payment = self.get_object(request, unquote(object_id))
        if payment is None:
            raise Http404
        try:
            document = payment_receipt_pdf(payment)
        except RakError as exc:  # a reversed payment: its receipt was revoked
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:rak_billing_payment_change", args=[payment.pk]))
        return private_file_response(document.file, download_name=f"recu-{receipt_number(payment)}.pdf")

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: Payment) -> str:
        return admin_link(obj.customer, obj.customer.code)

    @display(description=_("montant"), ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        return _money(obj.amount)

    @display(description=_("affecté à"))
    def allocations_display(self, obj: Payment) -> str:
        rows = obj.allocations.select_related("bill").order_by("id")  # a reversal's negative rows included
        if not rows:
            return str(_("Rien : le montant reste au crédit du client."))
        return format_html(
            "<br>".join(["{}"] * len(rows)),
            *[f"{a.bill.number} : {_money(a.amount)}" for a in rows],
        )


@admin.register(PaymentReversal)
class PaymentReversalAdmin(ModelAdmin):
    """« Annulations de paiements »: who reversed which payment, when and why (read only; a
    reversal is made from the payment's page, « Annuler le paiement »)."""

    list_display = ("reversed_at", "payment_link", "amount_display", "reason", "reversed_by")
    list_select_related = ("payment", "payment__customer", "reversed_by")
    search_fields = ("payment__customer__code",)
    search_help_text = _("Code client (exact).")
    show_full_result_count = False
    ordering = ("-id",)
    fields = ("payment_link", "amount_display", "reason", "reversed_by", "reversed_at", "created_at")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(payment__customer__code=term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("paiement"))
    def payment_link(self, obj: PaymentReversal) -> str:
        return admin_link(obj.payment, f"{obj.payment.customer.code} — {_money(obj.payment.amount)}")

    @display(description=_("montant"))
    def amount_display(self, obj: PaymentReversal) -> str:
        return _money(obj.payment.amount)


# --- ledger ------------------------------------------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(FieldLabelsMixin, ModelAdmin):
    field_labels = {
        "customer": _("client"),
        "dossier": _("dossier"),
        "bill": _("facture"),
        "payment": _("paiement"),
        "reversal": _("annulation de paiement"),
        "refund": _("remboursement"),
        "refund_cancellation": _("annulation de remboursement"),
    }
    list_display = ("entry_date", "customer_link", "kind", "label", "amount_display")
    list_select_related = ("customer",)
    list_filter = (("kind", ChoicesDropdownFilter),)
    search_fields = ("customer__code",)
    search_help_text = _("Code client (exact) : le compte du client et son solde.")
    show_full_result_count = False
    ordering = ("-id",)

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(customer_id__in=Customer.objects.filter(code=term).values("pk")), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        term = (request.GET.get("q") or "").strip()
        customer = Customer.objects.filter(code=term).first() if term else None
        extra_context = extra_context or {}
        if customer is not None:
            balance = customer_balance(customer)
            extra_context["title"] = _("Compte client %(code)s — %(name)s · solde : %(balance)s") % {
                "code": customer.code,
                "name": customer.display_name,
                "balance": _money(balance),
            }
        return super().changelist_view(request, extra_context)

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: LedgerEntry) -> str:
        return admin_link(obj.customer, obj.customer.code)

    @display(description=_("montant"), ordering="amount")
    def amount_display(self, obj: LedgerEntry) -> str:
        return _money(obj.amount)
