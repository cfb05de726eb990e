"""Back-office screens of rak_customer: the customer « 360 », dossiers, premises, meters, agencies,
portal accounts, change requests and the « Contactez-nous » queue.

Screens only: an action parses its input, calls one service (``password_reset``,
``change_request_decide``, ``contact_message_handle``) and reports the outcome; a domain error is
shown to the staff member with its French message. Searches use exact matches on indexed columns
(code client, CIN, ICE, phone, numbers), never ``icontains`` over a whole table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.http import HttpResponseRedirect, QueryDict
from django.template.defaultfilters import truncatechars
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.forms import PaginationInlineFormSet

from rak_base import clock
from rak_base.admin import message_body_display
from rak_base.admin_preferences import CustomerNotificationPreferencesMixin
from rak_base.errors import RakError
from rak_base.hooks import hook_collect
from rak_base.mixin_bases import InlineMixinBase, ModelAdminMixinBase
from rak_base.models import Message
from rak_base.phones import InvalidPhone, phone_display, phone_normalize
from rak_base.scheduler import jobs_late_count
from rak_customer.admin_devices import customer_devices_panel  # also registers DeviceAdmin
from rak_customer.admin_efacture import EInvoiceAdminMixin
from rak_customer.admin_links import CustomerLinkInline  # also registers CustomerLinkAdmin
from rak_customer.models import (
    Agency,
    ChangeRequest,
    Contact,
    ContactMessage,
    Customer,
    Dossier,
    Meter,
    PortalAccount,
    Premises,
    Service,
)
from rak_customer.selectors import customer_search_filter
from rak_customer.services import (
    DOSSIER_SERVICE_PERMISSION,
    change_request_decide,
    contact_message_handle,
    customer_notice_preferences_set,
    dossier_save,
    password_reset,
)
from rak_customer.timeline import PAGE_SIZE as TIMELINE_PAGE_SIZE
from rak_customer.timeline import Cursor, customer_summary, timeline_page
from rak_customer.timeline import hooks_register as timeline_hooks_register
from rak_customer.validators import InvalidIdentity, cin_normalize, ice_normalize

CUSTOMER_MESSAGES_SHOWN = 50
# The customer 360 asks the higher addons for their cards (``hook_collect``, with ``request=`` and
# ``customer_id=``): each answers a dict ``{"id", "title", "table" (unfold's table: headers, rows),
# "empty", "actions": [{"label", "url"}]}`` or None. rak_requests: « Demandes du client ».
HOOK_CUSTOMER_360_PANELS = "rak_customer.customer_360_panels"
# The back-office home's figures from higher addons (asked with hook_collect, ``request=``): each
# subscriber answers a list of {"title", "url", "count", "variant"} the user may see.
HOOK_BACKOFFICE_STATS = "rak_customer.backoffice_stats"
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"


def admin_link(obj, text=None) -> str:
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, text or obj)


def matching_customers(term: str):
    """Primary keys of the customers the back-office search box designates."""
    return Customer.objects.filter(customer_search_filter(term)).values("pk")


def _phone_or_none(term: str) -> str | None:
    try:
        return phone_normalize(term)
    except InvalidPhone:
        return None


# --- filters -----------------------------------------------------------------------------------
# Filters that go through dossiers use a subquery (pk IN (...)) rather than a join, so a customer
# with two dossiers is listed once without a DISTINCT over the whole page query.


class DistrictFilter(DropdownFilter):
    title = _("quartier")
    parameter_name = "quartier"

    def lookups(self, request, model_admin):
        districts = Premises.objects.order_by("district").values_list("district", flat=True).distinct()
        return [(district, district) for district in districts]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        dossiers = Dossier.objects.filter(premises__district=self.value()).values("customer_id")
        return queryset.filter(pk__in=dossiers)


class DossierServiceFilter(DropdownFilter):
    title = _("métier")
    parameter_name = "metier"

    def lookups(self, request, model_admin):
        return Service.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk__in=Dossier.objects.filter(service=self.value()).values("customer_id"))


class DossierStatusFilter(DropdownFilter):
    title = _("statut du dossier")
    parameter_name = "statut_dossier"

    def lookups(self, request, model_admin):
        return Dossier.Status.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk__in=Dossier.objects.filter(status=self.value()).values("customer_id"))


class PremisesDistrictFilter(DropdownFilter):
    title = _("quartier")
    parameter_name = "quartier"
    field_path = "district"

    def lookups(self, request, model_admin):
        districts = Premises.objects.order_by("district").values_list("district", flat=True).distinct()
        return [(district, district) for district in districts]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(**{self.field_path: self.value()})


class DossierDistrictFilter(PremisesDistrictFilter):
    field_path = "premises__district"


# --- history ---------------------------------------------------------------------------------------


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, with « revert to this version » kept to those who may
    change the record: its history_form_view saves a POST after checking only the *view*
    permission (simple_history 3.13), so a read-only staff member could revert a record. The list
    shows an empty change reason as « — », not the Python literal None."""

    object_history_list_template = "rak_base/history/object_history_list.html"

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is None or self.revert_disabled(request, obj):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- customer « 360 » ------------------------------------------------------------------------------


class ContactInlineForm(forms.ModelForm):
    """Phones are stored in E.164 whatever way they are typed (06..., +212...); e-mails in lower
    case. Changing the value clears its verification."""

    class Meta:
        model = Contact
        fields = ("kind", "value", "is_sms", "is_primary_email")

    def _get_validation_exclusions(self) -> set[str]:
        # « one SMS number / one main e-mail per customer » is checked for the whole formset
        # (ContactInlineFormSet): per form, moving the flag from one row to another would fail.
        exclude = super()._get_validation_exclusions()  # type: ignore[misc]  # private: not in django-stubs
        exclude.update({"is_sms", "is_primary_email"})
        return exclude

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        if kind == Contact.Kind.PHONE and value:
            try:
                cleaned["value"] = phone_normalize(value, mobile=bool(cleaned.get("is_sms")))
            except RakError as exc:
                self.add_error("value", exc.message)
        elif kind == Contact.Kind.EMAIL and value:
            try:
                validate_email(value)
            except ValidationError:
                self.add_error("value", _("Adresse e-mail invalide."))
            cleaned["value"] = value.lower()
        if cleaned.get("is_sms") and kind != Contact.Kind.PHONE:
            self.add_error("is_sms", _("Seul un numéro de téléphone peut recevoir les SMS."))
        if cleaned.get("is_primary_email") and kind != Contact.Kind.EMAIL:
            self.add_error("is_primary_email", _("Seule une adresse e-mail peut être l'e-mail principal."))
        return cleaned

    def save(self, commit=True):
        if self.instance.pk and "value" in self.changed_data:
            self.instance.verified_at = None
        return super().save(commit)


class ContactInlineFormSet(PaginationInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form for form in self.forms if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        if sum(bool(form.cleaned_data.get("is_sms")) for form in kept) > 1:
            raise ValidationError(_("Un seul numéro peut recevoir les SMS : décochez « n° SMS » sur l'autre numéro."))
        if sum(bool(form.cleaned_data.get("is_primary_email")) for form in kept) > 1:
            raise ValidationError(_("Une seule adresse peut être l'e-mail principal."))


class ContactInline(TabularInline):
    model = Contact
    form = ContactInlineForm
    formset = ContactInlineFormSet
    fields = ("kind", "value", "is_sms", "is_primary_email", "verified_at")
    readonly_fields = ("verified_at",)
    extra = 0
    tab = True

    def get_queryset(self, request):
        # The SMS number and the main e-mail come first: rows are saved in this order, so the row
        # giving up a flag is saved before the row taking it (one-per-customer constraints).
        return super().get_queryset(request).order_by("kind", "-is_sms", "-is_primary_email", "id")


class ReadOnlyInlineMixin(InlineMixinBase):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DossierInline(ReadOnlyInlineMixin, TabularInline):
    model = Dossier
    fk_name = "customer"
    fields = ("number", "service", "status", "tariff_category", "premises_link", "meter_link", "start_date", "end_date")
    readonly_fields = fields
    per_page = 20
    tab = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("premises", "meter").order_by("number")

    @display(description=_("local"))
    def premises_link(self, obj: Dossier) -> str:
        return admin_link(obj.premises, f"{obj.premises.reference} — {obj.premises}")

    @display(description=_("compteur"))
    def meter_link(self, obj: Dossier) -> str:
        return admin_link(obj.meter, obj.meter.number if obj.meter else None)


class PortalAccountInline(ReadOnlyInlineMixin, StackedInline):
    model = PortalAccount
    fields = (
        "login",
        "origin",
        "created_at",
        "terms_accepted_at",
        "data_processing_accepted_at",
        "last_login",
        "must_change_password",
    )
    readonly_fields = fields
    verbose_name = _("compte portail (agence en ligne)")
    tab = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "customer")

    @display(description=_("identifiant de connexion"))
    def login(self, obj: PortalAccount) -> str:
        return obj.user.username

    @display(description=_("dernière connexion"))
    def last_login(self, obj: PortalAccount):
        return obj.user.last_login or _("jamais")

    @display(description=_("doit changer son mot de passe"), boolean=True)
    def must_change_password(self, obj: PortalAccount) -> bool:
        return obj.user.must_change_password


class ChangeRequestInline(ReadOnlyInlineMixin, TabularInline):
    model = ChangeRequest
    fields = ("created_at", "field", "current_value", "requested_value", "status", "handled_at")
    readonly_fields = fields
    per_page = 10
    tab = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer").order_by("-created_at")


LANGUAGE_NAMES_FR = [
    (Customer.Language.FR, _("Français")),
    (Customer.Language.AR, _("Arabe")),
    (Customer.Language.EN, _("Anglais")),
]


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = (
            "code",
            "kind",
            "status",
            "cin",
            "ice",
            "civility",
            "first_name",
            "last_name",
            "company_name",
            "birth_date",
            "agency",
            "sms_service_notices",
            "language",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            # the back office stays French: the languages named in French, not as the portal's
            # switch names them (autonyms); empty = never chosen, French
            language = cast(forms.ChoiceField, self.fields["language"])
            language.choices = [("", _("Non choisie (français)")), *LANGUAGE_NAMES_FR]

    def clean_cin(self):
        value = self.cleaned_data.get("cin", "")
        try:
            return cin_normalize(value) if value else ""
        except InvalidIdentity as exc:
            raise ValidationError(exc.message) from exc

    def clean_ice(self):
        value = self.cleaned_data.get("ice", "")
        try:
            return ice_normalize(value) if value else ""
        except InvalidIdentity as exc:
            raise ValidationError(exc.message) from exc


@admin.register(Customer)
class CustomerAdmin(EInvoiceAdminMixin, CustomerNotificationPreferencesMixin, HistoryAdmin, ModelAdmin):
    form = CustomerForm
    list_display = ("code", "name", "kind", "identity_display", "status_display", "sms_phone_display")
    list_display_links = ("code", "name")
    list_filter = (
        DistrictFilter,
        DossierServiceFilter,
        DossierStatusFilter,
        ("kind", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("agency", RelatedDropdownFilter),
    )
    list_filter_submit = True
    # The search itself is get_search_results (customer_search_filter); search_fields only
    # switches the search box on.
    search_fields = ("code",)
    search_help_text = _("Code client, CIN, ICE, téléphone (06... ou +212...), e-mail ou nom.")
    show_full_result_count = False
    list_per_page = 50
    ordering = ("code",)
    # issue 13: the codes clients linked to this account or that link this customer
    inlines = (ContactInline, DossierInline, PortalAccountInline, ChangeRequestInline, CustomerLinkInline)
    fieldsets = (
        (
            _("Identité"),
            {
                "fields": (
                    ("code", "kind", "status"),
                    ("cin", "ice"),
                    ("civility", "first_name", "last_name"),
                    "company_name",
                    "birth_date",
                )
            },
        ),
        (_("Rattachement"), {"fields": ("agency", "created_at")}),
        (_("Préférences"), {"fields": ("sms_service_notices", "language", "notification_preferences")}),
    )
    readonly_fields = ("code", "created_at", "notification_preferences")
    actions_submit_line = ("password_resend",)
    change_form_outer_after_template = "admin/rak_customer/customer/messages.html"

    def get_queryset(self, request):
        sms_contacts = Contact.objects.filter(customer=OuterRef("pk"), kind=Contact.Kind.PHONE, is_sms=True)
        sms_phone = sms_contacts.values("value")[:1]
        return super().get_queryset(request).annotate(sms_phone=Subquery(sms_phone))

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=matching_customers(term)), False

    # Staff who may change contacts (accueil) save this page for the contacts only: the
    # customer's identity then stays read only; it changes through a change request.
    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) or request.user.has_perm("rak_customer.change_contact")

    def has_change_history_permission(self, request, obj=None) -> bool:
        # Reverting puts back a name or a CIN/ICE: that is changing the customer, not a contact.
        return request.user.has_perm("rak_customer.change_customer")

    def get_readonly_fields(self, request, obj=None):
        if not request.user.has_perm("rak_customer.change_customer"):
            editable = {"id"}
            if request.user.has_perm("rak_customer.change_contact"):
                # contact preferences, like the phone numbers: the counter records the customer's choice
                editable.update({"sms_service_notices", "language"})
            fields = [field.name for field in Customer._meta.fields if field.name not in editable]
            # and the computed ones the mixins show (e-invoice history, notification preferences)
            return fields + [name for name in super().get_readonly_fields(request, obj) if name not in fields]
        return super().get_readonly_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False  # customers come from the customer file and « Créer mon compte » (code client sequence)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a customer has dossiers, bills, payments: never deleted from here

    def save_model(self, request, obj, form, change):
        reverting = "/history/" in request.path  # simple_history's « revert to this version »
        if change and not reverting and not form.has_changed():
            # Only the contacts changed: no empty revision in the customer's history.
            self._run_submit_line_actions(request, obj)
            return
        if change and not reverting and form.changed_data == ["sms_service_notices"]:
            # only the notices preference (accueil may): through its service, with its history reason
            customer_notice_preferences_set(
                customer_id=obj.pk,
                sms_service_notices=form.cleaned_data["sms_service_notices"],
                user=request.user,
                now=clock.now(),
            )
            self._run_submit_line_actions(request, obj)
            return
        super().save_model(request, obj, form, change)

    def _run_submit_line_actions(self, request, obj) -> None:
        for unfold_action in self.get_actions_submit_line(request, obj.pk):
            if unfold_action.action_name in request.POST:
                unfold_action.method(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        pending = getattr(request, "_rak_after_save", None)
        if pending:
            pending()

    def response_change(self, request, obj):
        if getattr(request, "_rak_action_done", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def has_password_reset_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("rak_customer.change_portalaccount")

    @action(description=_("Renvoyer un mot de passe"), permissions=["password_reset"], icon="key")
    def password_resend(self, request, obj: Customer):
        # Run after the contacts are saved (save_related): the password goes to the number shown.
        def send():
            customer_password_resend(request, obj)
            request._rak_action_done = True

        request._rak_after_save = send

    def get_urls(self):
        timeline = path(
            "<int:customer_id>/chronologie/",
            self.admin_site.admin_view(self.timeline_view),
            name="rak_customer_customer_timeline",
        )
        return [timeline, *super().get_urls()]

    def timeline_context(self, request, customer_id: int, *, first_page: bool) -> dict:
        """The timeline's page asked by the query string: ``type`` (kinds, repeated; none: all),
        ``avant`` (the cursor of « Voir plus »). A malformed value is ignored, never an error."""
        kinds = [kind for kind in request.GET.getlist("type") if kind.replace("_", "").isalpha()][:30] or None
        before = None if first_page else Cursor.decode(request.GET.get("avant"))
        page = timeline_page(
            user=request.user, customer_id=customer_id, before=before, limit=TIMELINE_PAGE_SIZE, kinds=kinds
        )
        selected = set(kinds) if kinds else {kind.code for kind in page.kinds}
        more_url = ""
        if page.next_cursor is not None:
            query = QueryDict(mutable=True)
            if kinds:
                query.setlist("type", kinds)
            query["avant"] = page.next_cursor.encode()
            more_url = reverse("admin:rak_customer_customer_timeline", args=[customer_id]) + "?" + query.urlencode()
        return {
            "timeline": page,
            "timeline_kinds": [(kind, kind.code in selected) for kind in page.kinds],
            "timeline_more_url": more_url,
            "timeline_url": reverse("admin:rak_customer_customer_timeline", args=[customer_id]),
        }

    def timeline_view(self, request, customer_id: int):
        """« Voir plus »: the next page of the timeline, as rows to append (``fragment=1``, the
        page's script) or as a page of its own (without JavaScript)."""
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None or not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **self.timeline_context(request, customer_id, first_page=False),
            "opts": self.opts,
            "original": customer,
            "title": _("Chronologie de %(customer)s") % {"customer": f"{customer.code} — {customer.display_name}"},
            "customer_url": reverse("admin:rak_customer_customer_change", args=[customer_id]),
        }
        if request.GET.get("fragment"):
            return TemplateResponse(request, "admin/rak_customer/customer/timeline_rows.html", context)
        return TemplateResponse(request, "admin/rak_customer/customer/timeline_page.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if str(object_id).isdigit() and request.method == "GET":
            extra_context.update(self.timeline_context(request, int(object_id), first_page=True))
            extra_context["timeline_summary"] = customer_summary(
                user=request.user, customer_id=int(object_id), now=clock.now()
            )
        if request.user.has_perm("rak_base.view_message") and str(object_id).isdigit():
            extra_context["customer_messages_table"] = customer_messages_table(customer_messages(int(object_id)))
        if str(object_id).isdigit():
            extra_context["customer_panels"] = hook_collect(
                HOOK_CUSTOMER_360_PANELS, request=request, customer_id=int(object_id)
            )
            devices = customer_devices_panel(request, int(object_id))  # « Appareils connectés » (issue 13)
            if devices:
                extra_context["customer_panels"] = [*extra_context["customer_panels"], devices]
        return super().change_view(request, object_id, form_url, extra_context)

    @display(description=_("nom"), ordering="last_name")
    def name(self, obj: Customer) -> str:
        return obj.display_name

    @display(description=_("CIN / ICE"))
    def identity_display(self, obj: Customer) -> str:
        return obj.identity

    @display(description=_("statut"), ordering="status", label={"CLIENT": "success", "PROSPECT": "info"})
    def status_display(self, obj: Customer):
        return obj.status, obj.get_status_display()

    @display(description=_("téléphone SMS"))
    def sms_phone_display(self, obj: Customer) -> str:
        sms_phone = obj.sms_phone  # type: ignore[attr-defined]  # annotated by get_queryset
        return phone_display(sms_phone) if sms_phone else "—"


def customer_password_resend(request, customer: Customer) -> bool:
    """Admin glue around ``password_reset``: one call, the outcome as a message for the staff."""
    try:
        delivery = password_reset(customer_code=customer.code, identity=customer.identity, now=clock.now())
    except RakError as exc:
        messages.error(request, f"{customer.code} : {exc.message}")
        return False
    if delivery.channel == "SMS":
        text = _("%(code)s : nouveau mot de passe envoyé par SMS au numéro se terminant par %(hint)s.")
    else:
        text = _("%(code)s : nouveau mot de passe envoyé par e-mail à %(hint)s.")
    messages.success(request, text % {"code": customer.code, "hint": delivery.hint})
    return True


def customer_messages(customer_id: int) -> list[dict]:
    """The latest messages sent to a customer: to their portal account, or to one of their
    phones / e-mails. Two indexed lookups (message_user_recent, message_recipient_recent)."""
    user_id = PortalAccount.objects.filter(customer_id=customer_id).values_list("user_id", flat=True).first()
    recipients = list(Contact.objects.filter(customer_id=customer_id).values_list("value", flat=True))
    query = Q(recipient__in=recipients) if recipients else Q()
    if user_id is not None:
        query = (query | Q(user_id=user_id)) if recipients else Q(user_id=user_id)
    if not recipients and user_id is None:
        return []
    rows = Message.objects.filter(query).order_by("-created_at", "-id")[:CUSTOMER_MESSAGES_SHOWN]
    return [
        {
            "message": message,
            "body": message_body_display(message),
            "url": reverse("admin:rak_base_message_change", args=[message.pk]),
        }
        for message in rows
    ]


def customer_messages_table(rows: list[dict]) -> dict:
    """unfold's table component: headers and rows of cells (escaped, links built here)."""
    return {
        "headers": [_("envoyé le"), _("canal"), _("destinataire"), _("type"), _("statut"), _("contenu")],
        "rows": [
            [
                format_html(
                    '<a href="{}" class="{}">{}</a>',
                    row["url"],
                    LINK_CLASSES,
                    date_format(localtime(row["message"].created_at), "SHORT_DATETIME_FORMAT"),
                ),
                row["message"].get_channel_display(),
                row["message"].recipient or row["message"].user_id and _("compte portail") or "—",
                row["message"].kind,
                row["message"].get_status_display(),
                truncatechars(row["body"], 120),
            ]
            for row in rows
        ],
    }


# --- dossiers, premises, meters, agencies --------------------------------------------------------


class IndexedSearchMixin(ModelAdminMixinBase):
    """Exact matches on identifiers (unique, indexed), prefix matches on names: the search box
    never scans a whole table."""

    search_exact_fields: tuple[str, ...] = ()
    search_prefix_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        query = Q()
        for field in self.search_exact_fields:
            query |= Q(**{field: term})
            if term.upper() != term:
                query |= Q(**{field: term.upper()})
        for field in self.search_prefix_fields:
            query |= Q(**{f"{field}__istartswith": term})
        return queryset.filter(query), False


@admin.register(Dossier)
class DossierAdmin(IndexedSearchMixin, HistoryAdmin, ModelAdmin):
    list_display = (
        "number",
        "customer_link",
        "service",
        "status_display",
        "tariff_category",
        "district",
        "meter",
        "start_date",
    )
    list_select_related = ("customer", "premises", "meter")
    list_filter = (
        ("service", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("tariff_category", ChoicesDropdownFilter),
        ("billing_mode", ChoicesDropdownFilter),
        DossierDistrictFilter,
    )
    list_filter_submit = True
    search_fields = ("number",)
    search_exact_fields = ("number", "customer__code", "meter__number", "premises__reference")
    search_help_text = _("N° dossier, code client, n° compteur ou référence du local.")
    show_full_result_count = False
    autocomplete_fields = ("customer", "premises", "meter")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "customer",
                    ("service", "status"),
                    ("tariff_category", "billing_mode"),
                    "deposit_amount",
                    ("start_date", "end_date"),
                )
            },
        ),
        (_("Local et compteur"), {"fields": ("premises", "meter")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields: tuple[str, ...] = ("number", "customer") if obj else ()
        if obj is not None and not request.user.has_perm(DOSSIER_SERVICE_PERMISSION):
            fields += ("service",)  # the métier decides the billing: facturation and superviseur only
        return fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bills and payments hang on a dossier: it is terminated, not deleted

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user  # as SimpleHistoryAdmin does
        dossier_save(dossier=obj, staff_user=request.user)

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: Dossier) -> str:
        return admin_link(obj.customer, f"{obj.customer.code} — {obj.customer.display_name}")

    @display(description=_("quartier"), ordering="premises__district")
    def district(self, obj: Dossier) -> str:
        return obj.premises.district

    @display(
        description=_("statut"),
        ordering="status",
        label={"ACTIVE": "success", "SUSPENDED": "warning", "TERMINATED": "danger"},
    )
    def status_display(self, obj: Dossier):
        return obj.status, obj.get_status_display()


class PremisesDossierInline(ReadOnlyInlineMixin, TabularInline):
    model = Dossier
    fk_name = "premises"
    fields: ClassVar[tuple[str, ...]] = ("number", "customer", "service", "status", "meter", "start_date", "end_date")
    readonly_fields: ClassVar[tuple[str, ...]] = fields
    verbose_name_plural = _("dossiers de ce local")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "meter")


@admin.register(Premises)
class PremisesAdmin(IndexedSearchMixin, HistoryAdmin, ModelAdmin):
    list_display = ("reference", "address", "district", "city", "postal_code")
    list_filter = (PremisesDistrictFilter, "city")
    list_filter_submit = True
    search_fields = ("reference",)
    search_exact_fields = ("reference",)
    search_prefix_fields = ("address", "district")
    search_help_text = _("Référence du local, début de l'adresse ou du quartier.")
    show_full_result_count = False
    inlines = (PremisesDossierInline,)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MeterDossierInline(PremisesDossierInline):
    fk_name = "meter"
    fields = ("number", "customer", "service", "status", "start_date", "end_date")
    readonly_fields = fields
    verbose_name_plural = _("dossiers de ce compteur")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")


@admin.register(Meter)
class MeterAdmin(IndexedSearchMixin, HistoryAdmin, ModelAdmin):
    list_display = ("number", "service", "caliber", "brand", "installed_date", "dossier_number")
    list_filter = (("service", ChoicesDropdownFilter), "brand")
    list_filter_submit = True
    search_fields = ("number",)
    search_exact_fields = ("number",)
    search_help_text = _("N° compteur, en entier.")
    show_full_result_count = False
    inlines = (MeterDossierInline,)

    def get_queryset(self, request):
        current = Dossier.objects.filter(meter=OuterRef("pk")).order_by("-start_date", "-id").values("number")[:1]
        return super().get_queryset(request).annotate(dossier_number=Subquery(current))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("dossier"))
    def dossier_number(self, obj: Meter) -> str:
        return obj.dossier_number or "—"  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(Agency)
class AgencyAdmin(IndexedSearchMixin, ModelAdmin):
    list_display = ("name", "city", "address", "phone", "email", "hours")
    list_filter = ("city",)
    search_fields = ("name",)
    search_prefix_fields = ("name", "city")


# --- portal accounts --------------------------------------------------------------------------


@admin.register(PortalAccount)
class PortalAccountAdmin(ModelAdmin):
    list_display = (
        "login",
        "customer_link",
        "origin",
        "created_at",
        "last_login",
        "must_change_password",
        "terms_accepted_at",
    )
    list_select_related = ("customer", "user")
    list_filter = (("origin", ChoicesDropdownFilter), "user__must_change_password")
    list_filter_submit = True
    search_fields = ("customer__code",)
    search_help_text = _("Code client, CIN, ICE, téléphone, e-mail ou nom du client.")
    show_full_result_count = False
    actions = ("password_resend_selected",)
    fields = (
        "login",
        "customer_link",
        "origin",
        "created_at",
        "terms_accepted_at",
        "data_processing_accepted_at",
        "last_login",
        "must_change_password",
        "password_changed_at",
        "is_active",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(customer__in=matching_customers(term)), False

    def has_add_permission(self, request) -> bool:
        return False  # accounts are opened by the customer, or by « Renvoyer un mot de passe »

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_password_reset_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("rak_customer.change_portalaccount")

    @action(description=_("Renvoyer un mot de passe"), permissions=["password_reset"], icon="key")
    def password_resend_selected(self, request, queryset):
        for account in queryset.select_related("customer"):
            customer_password_resend(request, account.customer)

    @display(description=_("identifiant"), ordering="user__username")
    def login(self, obj: PortalAccount) -> str:
        return obj.user.username

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: PortalAccount) -> str:
        return admin_link(obj.customer, f"{obj.customer.code} — {obj.customer.display_name}")

    @display(description=_("dernière connexion"), ordering="user__last_login")
    def last_login(self, obj: PortalAccount):
        return obj.user.last_login

    @display(description=_("doit changer son mot de passe"), boolean=True)
    def must_change_password(self, obj: PortalAccount) -> bool:
        return obj.user.must_change_password

    @display(description=_("mot de passe changé le"))
    def password_changed_at(self, obj: PortalAccount):
        return obj.user.password_changed_at

    @display(description=_("compte actif"), boolean=True)
    def is_active(self, obj: PortalAccount) -> bool:
        return obj.user.is_active


# --- the two front-desk queues ---------------------------------------------------------------------


class QueueAdminMixin(ModelAdminMixinBase):
    """A queue (change requests, contact messages): open items first, newest first; an item is
    read only once handled, except for the staff note while it is open."""

    model: type[Any]  # the ModelAdmin's
    open_status: str = ""
    submit_line_done = False

    def get_ordering(self, request):
        return (Case(When(status=self.open_status, then=Value(0)), default=Value(1)).asc(), "-created_at", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == self.open_status)

    def get_readonly_fields(self, request, obj=None):
        editable = {"staff_note"} if obj is not None and obj.status == self.open_status else set()
        return [field.name for field in self.model._meta.fields if field.name not in editable]

    def save_model(self, request, obj, form, change):
        # Only the note is saved from the form: writing the whole row could put back the status
        # of a stale page over a decision another staff member just took.
        obj.save(update_fields=["staff_note"])
        for unfold_action in self.get_actions_submit_line(request, obj.pk):
            if unfold_action.action_name in request.POST:
                unfold_action.method(request, obj)

    if TYPE_CHECKING:  # unfold's ModelAdmin, which the queues mix this into (unfold has no types)

        def get_actions_submit_line(self, request, object_id: int) -> list[Any]: ...

    def _open_item(self, request, object_id) -> bool:
        return self.model.objects.filter(pk=object_id, status=self.open_status).exists()

    def response_change(self, request, obj):
        if getattr(request, "_rak_action_done", False):
            return HttpResponseRedirect(reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist"))
        return super().response_change(request, obj)


@admin.register(ChangeRequest)
class ChangeRequestAdmin(QueueAdminMixin, ModelAdmin):
    open_status = ChangeRequest.Status.PENDING
    list_display = (
        "created_at",
        "customer_link",
        "field",
        "current_value",
        "requested_value",
        "status_display",
        "handled_by",
        "handled_at",
    )
    list_select_related = ("customer", "handled_by")
    list_filter = (("status", ChoicesDropdownFilter), ("field", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("customer__code",)
    search_help_text = _("Code client, CIN, ICE, téléphone ou nom du client.")
    actions = ("accept_selected", "reject_selected")
    actions_submit_line = ("accept", "reject")
    fieldsets = (
        (None, {"fields": ("customer", "field", "current_value", "requested_value", "reason", "created_at")}),
        (_("Décision"), {"fields": ("status", "staff_note", "handled_by", "handled_at")}),
    )

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(customer__in=matching_customers(term)), False

    def has_decide_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_customer.change_changerequest"):
            return False
        return object_id is None or self._open_item(request, object_id)

    def _decide(self, request, change_request: ChangeRequest, *, accept: bool) -> bool:
        try:
            decided = change_request_decide(
                request_id=change_request.pk,
                staff_user=request.user,
                accept=accept,
                note=change_request.staff_note,
                now=clock.now(),
            )
        except RakError as exc:
            messages.error(request, f"{change_request.customer.code} : {exc.message}")
            return False
        verdict = _("acceptée") if accept else _("refusée")
        messages.success(
            request,
            _("Demande de %(customer)s (%(field)s) %(verdict)s.")
            % {"customer": decided.customer.code, "field": decided.get_field_display(), "verdict": verdict},
        )
        return True

    def _decide_selected(self, request, queryset, *, accept: bool) -> None:
        for change_request in queryset.select_related("customer"):
            self._decide(request, change_request, accept=accept)

    @action(description=_("Accepter"), permissions=["decide"], icon="check")
    def accept_selected(self, request, queryset):
        self._decide_selected(request, queryset, accept=True)

    @action(description=_("Refuser"), permissions=["decide"], icon="close")
    def reject_selected(self, request, queryset):
        self._decide_selected(request, queryset, accept=False)

    @action(description=_("Accepter"), permissions=["decide"], icon="check")
    def accept(self, request, obj: ChangeRequest):
        request._rak_action_done = self._decide(request, obj, accept=True)

    @action(description=_("Refuser"), permissions=["decide"], icon="close")
    def reject(self, request, obj: ChangeRequest):
        request._rak_action_done = self._decide(request, obj, accept=False)

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: ChangeRequest) -> str:
        return admin_link(obj.customer, f"{obj.customer.code} — {obj.customer.display_name}")

    @display(
        description=_("statut"),
        ordering="status",
        label={"PENDING": "warning", "ACCEPTED": "success", "REJECTED": "danger"},
    )
    def status_display(self, obj: ChangeRequest):
        return obj.status, obj.get_status_display()


@admin.register(ContactMessage)
class ContactMessageAdmin(QueueAdminMixin, ModelAdmin):
    open_status = ContactMessage.Status.NEW
    list_display: tuple[str, ...] = (
        "created_at",
        "status_display",
        "name",
        "email",
        "phone",
        "subject",
        "customer_link",
        "handled_by",
    )
    list_select_related: ClassVar[tuple[str, ...]] = ("customer", "handled_by")
    list_filter = (("status", ChoicesDropdownFilter),)
    list_filter_submit = True
    search_fields = ("email",)
    search_help_text = _("E-mail ou téléphone de l'expéditeur, code client, ou début du nom.")
    actions = ("handle_selected",)
    actions_submit_line = ("handle",)
    fieldsets = (
        (None, {"fields": ("created_at", "name", "email", "phone", "customer", "subject", "body")}),
        (_("Suite donnée"), {"fields": ("status", "staff_note", "handled_by", "handled_at")}),
    )

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        query = Q(email=term.lower()) | Q(customer__code=term) | Q(name__istartswith=term)
        phone = _phone_or_none(term)
        if phone:
            query |= Q(phone=phone)
        return queryset.filter(query), False

    def has_handle_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_customer.change_contactmessage"):
            return False
        return object_id is None or self._open_item(request, object_id)

    def _handle(self, request, contact_message: ContactMessage) -> bool:
        try:
            contact_message_handle(
                message_id=contact_message.pk,
                staff_user=request.user,
                note=contact_message.staff_note,
                now=clock.now(),
            )
        except RakError as exc:
            messages.error(request, exc.message)
            return False
        return True

    @action(description=_("Marquer comme traité"), permissions=["handle"], icon="done_all")
    def handle_selected(self, request, queryset):
        done = sum(self._handle(request, item) for item in queryset.filter(status=ContactMessage.Status.NEW))
        if done:
            messages.success(request, _("%(count)d message(s) marqué(s) comme traité(s).") % {"count": done})

    @action(description=_("Marquer comme traité"), permissions=["handle"], icon="done_all")
    def handle(self, request, obj: ContactMessage):
        request._rak_action_done = self._handle(request, obj)
        if request._rak_action_done:
            messages.success(request, _("Message de %(name)s marqué comme traité.") % {"name": obj.name})

    @display(description=_("client"), ordering="customer__code")
    def customer_link(self, obj: ContactMessage) -> str:
        return admin_link(obj.customer, obj.customer.code) if obj.customer else "—"

    @display(description=_("statut"), ordering="status", label={"NEW": "warning", "HANDLED": "success"})
    def status_display(self, obj: ContactMessage):
        return obj.status, obj.get_status_display()


# the customer 360's timeline: the messages sent to the customer (the higher addons subscribe their
# own sources in their AppConfig.ready)
timeline_hooks_register()


# --- dashboard ---------------------------------------------------------------------------------


def backoffice_stats(request) -> list[dict]:
    """The figures of the back-office home page, each a link to the matching list; only what the
    staff member may see."""
    user = request.user
    items = []

    def add(perm, title, url, count, variant="primary"):
        if user.has_perm(perm):
            items.append({"title": title, "url": url, "count": count(), "variant": variant})

    add(
        "rak_customer.view_customer",
        _("Clients"),
        reverse("admin:rak_customer_customer_changelist"),
        lambda: Customer.objects.count(),
    )
    add(
        "rak_customer.view_portalaccount",
        _("Comptes agence en ligne"),
        reverse("admin:rak_customer_portalaccount_changelist"),
        lambda: PortalAccount.objects.count(),
    )
    add(
        "rak_customer.view_changerequest",
        _("Demandes de modification en attente"),
        reverse("admin:rak_customer_changerequest_changelist") + "?status__exact=PENDING",
        lambda: ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).count(),
        "warning",
    )
    add(
        "rak_customer.view_contactmessage",
        _("Messages « Contactez-nous » nouveaux"),
        reverse("admin:rak_customer_contactmessage_changelist") + "?status__exact=NEW",
        lambda: ContactMessage.objects.filter(status=ContactMessage.Status.NEW).count(),
        "warning",
    )
    add(
        "rak_base.view_message",
        _("Messages en attente d'envoi"),
        reverse("admin:rak_base_message_changelist") + "?status__exact=QUEUED",
        lambda: Message.objects.filter(status=Message.Status.QUEUED).count(),
    )
    add(
        "rak_base.view_message",
        _("Messages en échec"),
        reverse("admin:rak_base_message_changelist") + "?status__exact=FAILED",
        lambda: Message.objects.filter(status=Message.Status.FAILED).count(),
        "danger",
    )
    add(
        "rak_base.view_scheduledjob",
        _("Tâches planifiées en retard"),
        reverse("admin:rak_base_scheduledjob_changelist"),
        lambda: jobs_late_count(now=clock.now()),
        "danger",
    )
    for answer in hook_collect(HOOK_BACKOFFICE_STATS, request=request):
        items.extend(answer)
    return items


def dashboard_callback(request, context):
    """UNFOLD["DASHBOARD_CALLBACK"] = "rak_customer.admin.dashboard_callback"."""
    context["rak_dashboard"] = backoffice_stats(request)
    return context


# The home page shows the figures above the applications when the dashboard callback is set.
admin.site.index_template = "admin/rak_customer/dashboard.html"
admin.site.index_title = _("Tableau de bord")
# After logging in at /backoffice/login/, staff land on the back office, not on the portal.
admin.site.login_template = "admin/rak_customer/login.html"
