"""Back office of the subscription lifecycle (registered from ``RakRequestsConfig.ready``):

- « Demandes d'appel »: the queue of customers who pressed « Appeler » (oldest first, pending
  ones by default), with their details and phone numbers; the agent records the identity check
  with « Identité confirmée » / « Identité non confirmée » (date and agent recorded);
- « Ordres de pose »: the installation orders created by the fees' payment; the technician records
  the installed meter (number, caliber, brand, index) with « Enregistrer la pose », which creates
  the meter and the dossier and, for the last order of a request, activates and closes it;
  « Vérifier les paiements des frais » moves on, by hand, the requests whose bill is settled but
  that did not move when it was (``settlement.settled_bills_recheck``; normally the ledger's
  « facture réglée » hook moves them at once, whatever the channel).

Screens only: each button is one service call of ``rak_requests.lifecycle``; a domain error is
shown with its French message. No field of these rows is written by the form itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.admin import ReadOnlyAdminMixin
from rak_base.admin_labels import FieldLabelsMixin
from rak_base.errors import RakError
from rak_customer.models import Contact
from rak_requests import contracts as contract_docs
from rak_requests import lifecycle, settlement
from rak_requests.models import CallRequest, Contract, InstallationOrder

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CALL_PERMISSION = "rak_requests.change_callrequest"
INSTALL_PERMISSION = "rak_requests.change_installationorder"
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"


def _request_link(request_) -> str:
    url = reverse("admin:rak_requests_servicerequest_change", args=[request_.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, request_.number)


def _customer_contacts(customer, kind: str) -> str:
    values = [c.value for c in customer.contacts.all() if c.kind == kind]
    return format_html_join(", ", "{}", ((v,) for v in values)) if values else "—"


class _ActionsOnlyAdmin(ModelAdmin):
    """The form feeds the buttons; saving it writes nothing by itself."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        request._rak_form_data = form.cleaned_data
        for unfold_action in self.get_actions_submit_line(request, obj.pk):
            if unfold_action.action_name in request.POST:
                unfold_action.method(request, obj)

    def save_related(self, request, form, formsets, change):
        pass

    def response_change(self, request, obj):
        return HttpResponseRedirect(request.path)

    def _run(self, request, call, success: StrOrPromise) -> None:
        try:
            call()
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, success)


# --- calls and identity checks ----------------------------------------------------------------------------


class IdentityCheckForm(forms.ModelForm):
    check_notes = forms.CharField(
        label=_("Notes de l'appel"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pièce vérifiée, questions posées, motif d'un échec."),
    )

    class Meta:
        model = CallRequest
        fields = ()


class CallResultFilter(admin.SimpleListFilter):
    title = _("résultat")
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return [("all", _("Tous")), *CallRequest.Result.choices]

    def choices(self, changelist):
        value = self.value() or CallRequest.Result.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or CallRequest.Result.PENDING  # the queue: calls to make
        return queryset if value == "all" else queryset.filter(result=value)


@admin.register(CallRequest)
class CallRequestAdmin(FieldLabelsMixin, _ActionsOnlyAdmin):
    field_labels = {"checked_by": _("vérifié par")}
    form = IdentityCheckForm
    list_display = (
        "requested_at",
        "request_display",
        "customer_display",
        "identity_display",
        "phones_display",
        "result_display",
        "checked_at",
        "checked_by",
    )
    list_select_related = ("request", "request__customer", "request__phase", "checked_by")
    list_filter = (CallResultFilter,)
    search_fields = ("request__number", "request__customer__code")
    ordering = ("requested_at", "id")
    actions_submit_line = ("identity_confirmed", "identity_failed")
    readonly_fields = (
        "request_display",
        "customer_display",
        "identity_display",
        "phones_display",
        "emails_display",
        "premises_display",
        "requested_at",
        "result",
        "checked_at",
        "checked_by",
        "notes",
    )
    fieldsets = (
        (
            _("Client à appeler"),
            {
                "fields": (
                    ("request_display", "requested_at"),
                    ("customer_display", "identity_display"),
                    ("phones_display", "emails_display"),
                    "premises_display",
                )
            },
        ),
        (_("Vérification d'identité"), {"fields": (("result", "checked_at", "checked_by"), "notes", "check_notes")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("request__customer", "request__phase", "checked_by")
            .prefetch_related("request__customer__contacts")
        )

    @display(description=_("demande"), ordering="request__number")
    def request_display(self, obj: CallRequest) -> str:
        return _request_link(obj.request)

    @display(description=_("client"))
    def customer_display(self, obj: CallRequest) -> str:
        customer = obj.request.customer
        return f"{customer.code} — {customer.display_name}"

    @display(description=_("CIN / ICE"))
    def identity_display(self, obj: CallRequest) -> str:
        customer = obj.request.customer
        if customer.birth_date:
            return _("%(identity)s (né(e) le %(date)s)") % {
                "identity": customer.identity or "—",
                "date": f"{customer.birth_date:%d/%m/%Y}",
            }
        return customer.identity or "—"

    @display(description=_("téléphone"))
    def phones_display(self, obj: CallRequest) -> str:
        return _customer_contacts(obj.request.customer, Contact.Kind.PHONE)

    @display(description=_("e-mail"))
    def emails_display(self, obj: CallRequest) -> str:
        return _customer_contacts(obj.request.customer, Contact.Kind.EMAIL)

    @display(description=_("local"))
    def premises_display(self, obj: CallRequest) -> str:
        address = contract_docs.request_address(obj.request)
        return ", ".join(v for v in (address["address"], address["district"], address["city"]) if v)

    @display(
        description=_("résultat"),
        ordering="result",
        label={"PENDING": "warning", "CONFIRMED": "success", "FAILED": "danger"},
    )
    def result_display(self, obj: CallRequest):
        return obj.result, obj.get_result_display()

    def has_identity_check_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm(CALL_PERMISSION):
            return False
        return object_id is None or CallRequest.objects.filter(pk=object_id, result="PENDING").exists()

    def _check(self, request, obj: CallRequest, result: str, success: StrOrPromise) -> None:
        notes = (getattr(request, "_rak_form_data", {}) or {}).get("check_notes", "")
        self._run(
            request,
            lambda: lifecycle.identity_check_record(
                call_id=obj.pk, agent=request.user, result=result, notes=notes, now=clock.now()
            ),
            success,
        )

    @action(description=_("Identité confirmée"), permissions=["identity_check"], icon="verified_user")
    def identity_confirmed(self, request, obj: CallRequest):
        self._check(request, obj, CallRequest.Result.CONFIRMED, _("Identité confirmée : le client en est informé."))

    @action(description=_("Identité non confirmée"), permissions=["identity_check"], icon="person_off")
    def identity_failed(self, request, obj: CallRequest):
        self._check(
            request, obj, CallRequest.Result.FAILED, _("Identité non confirmée : le client est invité à rappeler.")
        )


# --- installation orders ----------------------------------------------------------------------------------


class InstallationForm(forms.ModelForm):
    meter_number = forms.CharField(label=_("N° du compteur posé"), max_length=20, required=False)
    caliber = forms.CharField(
        label=_("Calibre / puissance"),
        max_length=20,
        required=False,
        help_text=_("Vide : celui de la demande."),
    )
    brand = forms.CharField(label=_("Marque"), max_length=40, required=False)
    index = forms.DecimalField(
        label=_("Index de pose"), min_value=Decimal("0"), max_digits=12, decimal_places=3, required=False
    )

    class Meta:
        model = InstallationOrder
        fields = ()


@admin.register(InstallationOrder)
class InstallationOrderAdmin(FieldLabelsMixin, _ActionsOnlyAdmin):
    field_labels = {"meter": _("compteur"), "dossier": _("dossier"), "technician": _("technicien")}
    form = InstallationForm
    list_display = (
        "created_at",
        "request_display",
        "service",
        "customer_display",
        "address_display",
        "asked_display",
        "status_display",
        "meter",
        "dossier",
        "installed_at",
    )
    list_select_related = ("request", "request__customer", "request__premises", "meter", "dossier")
    list_filter = (("status", ChoicesDropdownFilter), ("service", ChoicesDropdownFilter))
    search_fields = ("request__number", "request__customer__code", "meter__number")
    actions_list = ("check_payments",)
    actions_submit_line = ("record_meter",)
    readonly_fields = (
        "request_display",
        "service",
        "customer_display",
        "address_display",
        "asked_display",
        "status",
        "created_at",
        "meter",
        "dossier",
        "installed_at",
        "technician",
    )
    fieldsets = (
        (
            _("Ordre de pose"),
            {
                "fields": (
                    ("request_display", "service", "status"),
                    ("customer_display", "created_at"),
                    ("address_display", "asked_display"),
                )
            },
        ),
        (_("Compteur posé"), {"fields": (("meter_number", "brand"), ("caliber", "index"))}),
        (_("Résultat"), {"fields": (("meter", "dossier"), ("installed_at", "technician"))}),
    )

    def get_queryset(self, request):
        status_order = Case(When(status="PENDING", then=Value(0)), default=Value(1), output_field=IntegerField())
        return (
            super()
            .get_queryset(request)
            .select_related("request__customer", "request__premises", "meter", "dossier", "technician")
            .order_by(status_order, "created_at", "id")
        )

    @display(description=_("demande"), ordering="request__number")
    def request_display(self, obj: InstallationOrder) -> str:
        return _request_link(obj.request)

    @display(description=_("client"))
    def customer_display(self, obj: InstallationOrder) -> str:
        customer = obj.request.customer
        return f"{customer.code} — {customer.display_name}"

    @display(description=_("local"))
    def address_display(self, obj: InstallationOrder) -> str:
        address = contract_docs.request_address(obj.request)
        return ", ".join(v for v in (address["address"], address["district"], address["city"]) if v)

    @display(description=_("demandé"))
    def asked_display(self, obj: InstallationOrder) -> str:
        return contract_docs.request_caliber(obj.request, obj.service)

    @display(description=_("statut"), ordering="status", label={"PENDING": "warning", "DONE": "success"})
    def status_display(self, obj: InstallationOrder):
        return obj.status, obj.get_status_display()

    def has_record_meter_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm(INSTALL_PERMISSION):
            return False
        return object_id is None or InstallationOrder.objects.filter(pk=object_id, status="PENDING").exists()

    def has_check_payments_permission(self, request) -> bool:
        return request.user.has_perm(INSTALL_PERMISSION)

    @action(description=_("Enregistrer la pose"), permissions=["record_meter"], icon="electric_meter")
    def record_meter(self, request, obj: InstallationOrder):
        data = getattr(request, "_rak_form_data", {}) or {}
        self._run(
            request,
            lambda: lifecycle.installation_record(
                order_id=obj.pk,
                agent=request.user,
                meter_number=data.get("meter_number") or "",
                caliber=data.get("caliber") or "",
                brand=data.get("brand") or "",
                index=data.get("index"),
                now=clock.now(),
            ),
            _("Pose enregistrée : compteur et dossier créés."),
        )

    @action(
        description=_("Vérifier les paiements des frais"),
        url_path="verifier-paiements",
        permissions=["check_payments"],
        icon="price_check",
    )
    def check_payments(self, request):
        moved = settlement.settled_bills_recheck(now=clock.now(), actor=request.user)
        messages.info(request, _("Demandes passées à la pose du compteur : %(n)d.") % {"n": moved})
        return HttpResponseRedirect(reverse("admin:rak_requests_installationorder_changelist"))


# --- contracts (read only) ---------------------------------------------------------------------------------


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The contracts of the requests: text, signature proof (date, IP, SHA-256 of the text) and the
    signed PDF in the document registry. Consulted, never edited."""

    list_display = ("request_display", "service", "status", "fees_amount", "signed_at", "signer_ip", "document_link")
    list_select_related = ("request", "document")
    list_filter = (("status", ChoicesDropdownFilter), ("service", ChoicesDropdownFilter))
    search_fields = ("request__number", "request__customer__code")
    ordering = ("-generated_at", "id")
    fields = (
        ("request_display", "service", "status"),
        ("fees_amount", "generated_at"),
        ("signed_at", "signer_ip"),
        "text_sha256",
        "document_link",
        "body_display",
    )
    readonly_fields = (
        "request_display",
        "service",
        "status",
        "fees_amount",
        "generated_at",
        "signed_at",
        "signer_ip",
        "text_sha256",
        "document_link",
        "body_display",
    )

    @display(description=_("demande"), ordering="request__number")
    def request_display(self, obj: Contract) -> str:
        return _request_link(obj.request)

    @display(description=_("empreinte SHA-256 du texte"))
    def text_sha256(self, obj: Contract) -> str:
        return contract_docs.contract_text_sha256(obj)

    @display(description=_("PDF signé (registre)"))
    def document_link(self, obj: Contract) -> str:
        document = obj.document  # no query when document_id is None
        if document is None:
            return "—"
        url = reverse("admin:rak_base_document_change", args=[document.pk])
        return format_html(
            '<a href="{}" class="{}">{}</a>',
            url,
            LINK_CLASSES,
            contract_docs.reference_display(document.reference),
        )

    @display(description=_("texte du contrat"))
    def body_display(self, obj: Contract) -> str:
        return format_html('<div class="prose max-w-none">{}</div>', mark_safe(obj.body_html))  # noqa: S308 - rendered by us
