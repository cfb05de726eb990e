"""Back office of the helpdesk (issue 11): the « Réclamations » queue, a complaint's page, staff
filing, the categories' deadlines, « Contactez-nous » answered or turned into a complaint, and the
customer 360's « Réclamations du client ».

- The queue: counters above the list (open, new, overdue, waiting for the customer, mine,
  unassigned, closed today: one query, ``complaint_counters``), filters (category, agency, district,
  status, SLA state, assignee, « Mes réclamations »), open ones first by deadline, urgent categories
  and overdue rows marked with a badge and a word (never colour alone), search by number, name,
  phone or code client (exact or prefix matches on indexed columns). A fixed number of queries
  whatever the page's length.
- A complaint's page (``change_view`` replaced by ``complaint_page``): the header (number,
  category, status, deadline and its state, channel, source, agency, agent), the complainant and the
  links (customer 360, dossier, bill, reading, outage notice, « Contactez-nous » message), the whole
  thread (internal lines marked « interne », attachments through an access-checked view), and the
  forms — « Répondre au client » (with canned replies: message templates ``complaint.canned.*``
  staff edit in « Modèles de messages »), « Note interne », « Affecter à » / « Prendre en charge »,
  « Clôturer », and the resolving actions of ``rak_requests.complaints.actions`` when that module
  provides them. Each form posts to its own URL: permission ``handle_complaint`` (403 otherwise),
  the page's « dernière activité » (stale page refused), one service call; a refusal re-renders the
  page with the French message next to the form and what was typed kept.
- « Nouvelle réclamation » (the admin's add page): a phone call or a visit at the counter, for a
  customer of the 360 (``?customer=<id>``) or anybody (``complaint_file`` with ``staff_user``).
- « Contactez-nous »: rak_customer's admin re-registered with « Répondre » (e-mail, and SMS when a
  phone is given; the message is marked handled with the answer as its « suite donnée ») and
  « Transformer en réclamation » (``complaint_from_contact_message``): rak_customer does not know
  rak_requests.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RelatedDropdownFilter
from unfold.decorators import display
from unfold.widgets import CHECKBOX_CLASSES, INPUT_CLASSES, SELECT_CLASSES, TEXTAREA_CLASSES

from rak_base import clock
from rak_base.api import message_template_register
from rak_base.errors import RakError
from rak_base.hooks import hook_subscribe
from rak_base.phones import InvalidPhone, phone_display, phone_normalize
from rak_base.private_files import private_file_response
from rak_billing.models import Bill
from rak_customer.admin import HOOK_BACKOFFICE_STATS, HOOK_CUSTOMER_360_PANELS, HistoryAdmin
from rak_customer.admin import ContactMessageAdmin as BaseContactMessageAdmin
from rak_customer.models import ContactMessage, Customer, Dossier
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints.canned import (
    CANNED_CHANNEL,
    CANNED_PLACEHOLDERS,
    CANNED_PREFIX,
    CANNED_REPLIES,
    canned_reply_text,
)
from rak_requests.complaints.contact import ContactReplyError, contact_message_reply, contact_templates_register
from rak_requests.complaints.errors import ComplaintError, ComplaintStale
from rak_requests.complaints.notify import complaint_handlers
from rak_requests.complaints.selectors import (
    complaint_categories,
    complaint_counters,
    complaint_districts,
    complaint_entries,
    complaint_queue_sla_filter,
    complaint_sla_state,
)
from rak_requests.complaints.services import (
    ComplaintFiling,
    complaint_assign,
    complaint_close,
    complaint_file,
    complaint_from_contact_message,
    complaint_note,
    complaint_reply,
    complaint_take,
)
from rak_requests.complaints.sla import SLA_LABELS, SlaState

HANDLE_PERMISSION = "rak_requests.handle_complaint"
ADD_PERMISSION = "rak_requests.add_complaint"
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"
CLOSED = Complaint.Status.CLOSED
MAX_DEADLINE_HOURS = 90 * 24  # a category's deadlines (processing, first answer): 90 days at most
CHANNEL_LABELS = {"SMS": _("SMS"), "EMAIL": _("e-mail"), "BELL": _("notification")}


# --- canned replies: message templates staff edit (« Modèles de messages »), worded in
# rak_requests.complaints.canned (customer-facing, translated) --------------------------------------


def canned_templates_register() -> None:
    for slug, label, body in CANNED_REPLIES:
        message_template_register(
            CANNED_PREFIX + slug,
            label=label,
            placeholders=CANNED_PLACEHOLDERS,
            defaults={CANNED_CHANNEL: ("", body)},
        )


def canned_choices() -> list[tuple[str, str]]:
    return [(slug, str(label).split(" : ", 1)[-1]) for slug, label, _body in CANNED_REPLIES]


def canned_text(slug: str, complaint: Complaint) -> str:
    """The wording of canned reply ``slug`` (as staff edited it) for this complaint, in the
    complainant's language: the agent sends it to the customer."""
    return canned_reply_text(slug, complaint)


# --- small helpers ----------------------------------------------------------------------------------


def _styled(form):
    """unfold's look for a plain form's inputs."""
    for field in form.fields.values():
        widget = field.widget
        if widget.attrs.get("class") or isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            classes = CHECKBOX_CLASSES
        elif isinstance(widget, forms.Select):
            classes = SELECT_CLASSES
        elif isinstance(widget, forms.Textarea):
            classes = TEXTAREA_CLASSES
        else:
            classes = INPUT_CLASSES
        widget.attrs["class"] = " ".join(classes)
    return form


def _link(url_name: str, obj, text) -> str:
    if obj is None:
        return ""
    try:
        url = reverse(url_name, args=[obj.pk])
    except NoReverseMatch:
        return str(text)
    return format_html('<a href="{}" class="{}">{}</a>', url, LINK_CLASSES, text)


def _agent_name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _local(value: datetime | None) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i") if value else "—"


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


SLA_BADGES = {
    SlaState.OVERDUE: "danger",
    SlaState.SOON: "warning",
    SlaState.OK: "success",
    SlaState.CLOSED: "info",
}


# --- the queue's filters ------------------------------------------------------------------------------


class OpenFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return (("ouvertes", _("Ouvertes")), ("closes", _("Clôturées")), ("closes-jour", _("Clôturées aujourd'hui")))

    def queryset(self, request, queryset):
        if self.value() == "ouvertes":
            return queryset.exclude(status=CLOSED)
        if self.value() == "closes":
            return queryset.filter(status=CLOSED)
        if self.value() == "closes-jour":
            start = _day_start(clock.now())
            return queryset.filter(closed_at__gte=start, closed_at__lt=start + timedelta(days=1))
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("mes réclamations")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return (("1", _("Mes réclamations")),)

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(assigned_to=request.user)
        return queryset


class SlaFilter(DropdownFilter):
    title = _("délai")
    parameter_name = "delai"

    def lookups(self, request, model_admin):
        return [(state.value, SLA_LABELS[state]) for state in (SlaState.OVERDUE, SlaState.SOON, SlaState.OK)]

    def queryset(self, request, queryset):
        if self.value() in {SlaState.OVERDUE, SlaState.SOON, SlaState.OK}:
            return queryset.filter(complaint_queue_sla_filter(self.value(), clock.now()))
        return queryset


class DistrictFilter(DropdownFilter):
    title = _("quartier")
    parameter_name = "quartier"

    def lookups(self, request, model_admin):
        return [(district, district) for district in complaint_districts()]

    def queryset(self, request, queryset):
        return queryset.filter(district=self.value()) if self.value() else queryset


class AssigneeFilter(DropdownFilter):
    """The agents who may handle complaints (never the customers' accounts), and « Non affectées »."""

    title = _("agent en charge")
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        agents = complaint_handlers().order_by("first_name", "last_name", "username")
        return [("aucun", _("Non affectées")), *[(str(u.pk), _agent_name(u)) for u in agents]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "aucun":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class UrgentFilter(admin.SimpleListFilter):
    title = _("urgence")
    parameter_name = "urgent"

    def lookups(self, request, model_admin):
        return (("1", _("Catégories urgentes")),)

    def queryset(self, request, queryset):
        return queryset.filter(category__is_urgent=True) if self.value() == "1" else queryset


# --- the forms of a complaint's page -------------------------------------------------------------------


class ReplyForm(forms.Form):
    canned = forms.ChoiceField(label=_("Réponse type"), required=False)
    body = forms.CharField(
        label=_("Message au client"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Écrivez votre réponse au client.")},
    )
    channels = forms.MultipleChoiceField(label=_("Envoyer par"), required=False, widget=forms.CheckboxSelectMultiple)
    asks_information = forms.BooleanField(
        label=_("Demander un complément d'information au client"),
        required=False,
        help_text=_("La réclamation passe « En attente de votre réponse » jusqu'à la réponse du client."),
    )

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        choices = []
        if complaint.phone:
            choices.append(("SMS", gettext("SMS au %(phone)s") % {"phone": phone_display(complaint.phone)}))
        if complaint.email:
            choices.append(("EMAIL", gettext("E-mail à %(email)s") % {"email": complaint.email}))
        if complaint.user_id:
            choices.append(("BELL", gettext("Notification dans l'agence en ligne")))
        cast(forms.ChoiceField, self.fields["channels"]).choices = choices
        self.fields["channels"].initial = [value for value, _label in choices]
        if not choices:
            self.fields["channels"].help_text = _(
                "Ni téléphone, ni e-mail, ni compte : la réponse est seulement consignée dans le fil."
            )
        cast(forms.ChoiceField, self.fields["canned"]).choices = [
            ("", _("— Choisir une réponse type —")),
            *canned_choices(),
        ]

    def clean_channels(self):
        channels = self.cleaned_data.get("channels") or []
        if cast(forms.ChoiceField, self.fields["channels"]).choices and not channels:
            raise forms.ValidationError(_("Cochez au moins un moyen d'envoi au client."))
        return channels


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note interne"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Visible des seuls agents : jamais envoyée ni montrée au client."),
        error_messages={"required": _("Écrivez la note.")},
    )


class _AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _agent_name(obj)


class AssignForm(forms.Form):
    assignee = _AgentChoiceField(
        label=_("Affecter à"),
        queryset=Complaint.objects.none(),
        required=False,
        empty_label=_("— Personne (remettre dans la file) —"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
        assignee.queryset = complaint_handlers().order_by("first_name", "last_name", "username")


class CloseForm(forms.Form):
    result = forms.CharField(
        label=_("Résultat du traitement"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Envoyé au client par SMS (et par e-mail et notification quand il les a)."),
        error_messages={"required": _("Indiquez le résultat du traitement : il est envoyé au client par SMS.")},
    )


FORMS: dict[str, type[forms.Form] | None] = {
    "reply": ReplyForm,
    "note": NoteForm,
    "assign": AssignForm,
    "take": None,
    "close": CloseForm,
}


def _complaint_actions() -> list:
    """The resolving actions (credit note, reading review, intervention order…) of
    ``rak_requests.complaints.actions``, when that module provides them."""
    try:
        module = importlib.import_module("rak_requests.complaints.actions")
    except ImportError:
        return []
    factory = getattr(module, "complaint_actions", None)
    return list(factory()) if callable(factory) else []


def _expected(request) -> datetime | None:
    try:
        value = datetime.fromisoformat(request.POST.get("expected_updated_at", ""))
    except ValueError:
        return None
    return value if timezone.is_aware(value) else None


REPEAT_WINDOW = timedelta(minutes=2)
REPEAT_KINDS = {
    "reply": (ComplaintEntry.Kind.REPLY, ComplaintEntry.Kind.INFO_REQUEST),
    "note": (ComplaintEntry.Kind.NOTE,),
    "close": (ComplaintEntry.Kind.CLOSED,),
    "take": (ComplaintEntry.Kind.ASSIGNED,),
    "assign": (ComplaintEntry.Kind.ASSIGNED,),
}


def _repeated(complaint_id: int, user, now: datetime, *, what: str, data: dict) -> bool:
    """The agent's own form sent twice (a double click, « Renvoyer » after a slow page): the page's
    « dernière activité » is stale only because of the first post, whose entry is the thread's last
    — theirs, of this kind, with this text (or action, or assignee), a moment ago. Nothing is done
    again; the agent is told it was done rather than that someone else changed the complaint."""
    last = ComplaintEntry.objects.filter(complaint_id=complaint_id).order_by("-at", "-id").first()
    if last is None or last.actor_id != user.pk or now - last.at > REPEAT_WINDOW:
        return False
    if what.startswith("action:"):
        return last.kind == ComplaintEntry.Kind.ACTION and (last.data or {}).get("action") == what[7:]
    if last.kind not in REPEAT_KINDS.get(what, ()):
        return False
    if what in ("reply", "note"):
        return last.body.strip() == (data.get("body") or "").strip()
    if what == "close":
        return last.body.strip() == (data.get("result") or "").strip()
    assignee = user if what == "take" else data.get("assignee")
    return (last.data or {}).get("assignee_id") == (assignee.pk if assignee is not None else None)


def _guarded(complaint_id: int, expected: datetime | None, call):
    """Run ``call`` (one service) only if the complaint is as the agent's page showed it: the row
    is locked and its « dernière activité » compared in the same transaction."""
    with transaction.atomic():
        current = Complaint.objects.select_for_update().filter(pk=complaint_id).values_list("updated_at", flat=True)
        if expected is None or current.first() != expected:
            raise ComplaintStale()
        return call()


# --- the categories (SLA as data, superviseur) ---------------------------------------------------------


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(HistoryAdmin, ModelAdmin):
    """Deadlines of each category: changed by the superviseur only (``change_complaintcategory``
    is only that group's), every change in the history."""

    list_display = (
        "name",
        "code",
        "sla_display",
        "first_answer_hours",
        "urgent_display",
        "is_incident",
        "about_bill",
        "is_active",
        "position",
    )
    fields = (
        "code",
        "name",
        "description",
        ("sla_hours", "first_answer_hours"),
        ("is_urgent", "is_incident", "about_bill"),
        "service",
        ("position", "is_active"),
    )
    ordering = ("position", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """A deadline is hours or days, never centuries: « 12 » typed « 120000000 » was saved, then
        every filing in the category failed (its deadline beyond the calendar)."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("sla_hours", "first_answer_hours") and field is not None:
            field.max_value = MAX_DEADLINE_HOURS
            field.widget.attrs["max"] = MAX_DEADLINE_HOURS
            field.validators.append(
                MaxValueValidator(
                    MAX_DEADLINE_HOURS,
                    message=gettext("Un délai de %(hours)d heures au plus (%(days)d jours).")
                    % {"hours": MAX_DEADLINE_HOURS, "days": MAX_DEADLINE_HOURS // 24},
                )
            )
        return field

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # complaints refer to it: deactivate instead

    @display(description=_("délai de traitement"), ordering="sla_hours")
    def sla_display(self, obj: ComplaintCategory) -> str:
        if obj.is_urgent or obj.sla_hours % 24:
            return gettext("%(hours)d h") % {"hours": obj.sla_hours}
        return gettext("%(days)d jours ouvrés") % {"days": obj.sla_hours // 24}

    @display(description=_("urgente"), label={True: "danger", False: "info"})
    def urgent_display(self, obj: ComplaintCategory):
        return obj.is_urgent, gettext("Urgente") if obj.is_urgent else gettext("Normale")


# --- the staff's filing form ---------------------------------------------------------------------------


class StaffFilingForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Reçue par"),
        choices=[
            (Complaint.Channel.PHONE, Complaint.Channel.PHONE.label),
            (Complaint.Channel.AGENCY, Complaint.Channel.AGENCY.label),
        ],
        initial=Complaint.Channel.PHONE,
    )
    category = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=ComplaintCategory.objects.none(),
        error_messages={"required": _("Choisissez une catégorie de réclamation.")},
    )
    name = forms.CharField(
        label=_("Nom et prénom"), max_length=120, error_messages={"required": _("Indiquez le nom du réclamant.")}
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        max_length=20,
        help_text=_("Le SMS de prise en charge puis le résultat du traitement y sont envoyés."),
        error_messages={"required": _("Indiquez le téléphone du réclamant : le SMS de prise en charge y est envoyé.")},
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    customer_code = forms.CharField(
        label=_("Code client"),
        max_length=20,
        required=False,
        help_text=_("Si la réclamation porte sur un abonnement (rattachée au client si le téléphone est le sien)."),
    )
    dossier = forms.ModelChoiceField(label=_("Dossier concerné"), queryset=Dossier.objects.none(), required=False)
    bill = forms.ModelChoiceField(label=_("Facture concernée"), queryset=Bill.objects.none(), required=False)
    subject = forms.CharField(label=_("Objet"), max_length=160, required=False)
    message = forms.CharField(
        label=_("Message"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Ce que dit le client, avec ses mots."),
        error_messages={"required": _("Écrivez le message de la réclamation.")},
    )
    address = forms.CharField(
        label=_("Adresse du problème"),
        max_length=255,
        required=False,
        help_text=_("Pour une fuite ou une coupure : l'adresse ou le repère indiqué par le client."),
    )
    district = forms.CharField(label=_("Quartier"), max_length=80, required=False)

    def __init__(self, *args, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = complaint_categories()
        if customer is None:
            del self.fields["dossier"]
            del self.fields["bill"]
        else:
            del self.fields["customer_code"]
            cast(forms.ModelChoiceField, self.fields["dossier"]).queryset = Dossier.objects.filter(
                customer=customer
            ).order_by("number")
            bill_field = cast(forms.ModelChoiceField, self.fields["bill"])
            bill_field.queryset = Bill.objects.filter(customer=customer).order_by("-issue_date", "-id")[:24]
            bill_field.label_from_instance = lambda bill: (  # type: ignore[assignment]  # this field's labels
                gettext("%(number)s du %(date)s")
                % {
                    "number": bill.number,
                    "date": date_format(bill.issue_date, "d/m/Y"),
                }
            )

    def clean_phone(self):
        try:
            return phone_normalize(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.message) from exc

    def filing(self) -> ComplaintFiling:
        data = self.cleaned_data
        dossier, bill = data.get("dossier"), data.get("bill")
        return ComplaintFiling(
            category=data["category"],
            name=data["name"],
            phone=data["phone"],
            email=data.get("email") or "",
            message=data["message"],
            subject=data.get("subject") or "",
            customer_code=data.get("customer_code") or (self.customer.code if self.customer else ""),
            dossier_id=dossier.pk if dossier else None,
            bill_id=bill.pk if bill else None,
            address=data.get("address") or "",
            district=data.get("district") or "",
            channel=data["channel"],
            source=Complaint.Source.BILL if bill is not None else Complaint.Source.FORM,
        )


# --- the queue and the complaint's page ------------------------------------------------------------------


@admin.register(Complaint)
class ComplaintAdmin(ModelAdmin):
    list_display = (
        "number",
        "category_display",
        "status_display",
        "sla_display",
        "complainant_display",
        "agency",
        "assignee_display",
        "filed_display",
    )
    list_display_links = ("number",)
    list_select_related = ("category", "customer", "agency", "assigned_to")
    list_filter = (
        OpenFilter,
        MineFilter,
        UrgentFilter,
        SlaFilter,
        ("status", ChoicesDropdownFilter),
        ("category", RelatedDropdownFilter),
        ("agency", RelatedDropdownFilter),
        DistrictFilter,
        AssigneeFilter,
    )
    list_before_template = "admin/rak_requests/complaint/queue_counters.html"
    search_fields = ("number",)
    search_help_text = _("N° de réclamation, nom (début), téléphone ou code client.")
    list_per_page = 50
    show_full_result_count = False

    # --- the list ---

    def get_ordering(self, request):
        # open ones first, the nearest deadline first; then the closed ones, the latest closure first
        return (
            Case(When(status=CLOSED, then=Value(1)), default=Value(0)).asc(),
            Case(When(~Q(status=CLOSED), then=F("due_at"))).asc(nulls_last=True),
            F("closed_at").desc(nulls_last=True),
            "-id",
        )

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        code = term.upper()
        # each branch on an index of its own (PostgreSQL ORs them in a bitmap): the customer's id
        # is read first so that no branch is a subquery
        customer_ids = list(Customer.objects.filter(code=code).values_list("pk", flat=True)[:5])
        query = Q(number=code) | Q(customer_code_given=code) | Q(name__istartswith=term)
        if customer_ids:
            query |= Q(customer_id__in=customer_ids)
        try:
            query |= Q(phone=phone_normalize(term))
        except (InvalidPhone, RakError):
            pass
        return queryset.filter(query), False

    def changelist_view(self, request, extra_context=None):
        now = clock.now()
        base = reverse("admin:rak_requests_complaint_changelist")
        counters = complaint_counters(user=request.user, now=now, day_start=_day_start(now))
        extra_context = {
            **(extra_context or {}),
            "complaint_counters": [
                ("open", _("Ouvertes"), counters.open, "?etat=ouvertes", ""),
                ("new", _("Nouvelles (à prendre en charge)"), counters.new, "?status__exact=NEW", ""),
                ("overdue", _("En retard"), counters.overdue, "?delai=overdue", "danger"),
                (
                    "waiting",
                    _("En attente du client"),
                    counters.waiting_customer,
                    "?status__exact=WAITING_CUSTOMER",
                    "",
                ),
                ("mine", _("Mes réclamations"), counters.mine, "?mine=1&etat=ouvertes", ""),
                ("unassigned", _("Non affectées"), counters.unassigned, "?agent=aucun&etat=ouvertes", ""),
                ("closed-today", _("Clôturées aujourd'hui"), counters.closed_today, "?etat=closes-jour", ""),
            ],
            "complaint_queue_url": base,
            "complaint_add_url": reverse("admin:rak_requests_complaint_add")
            if self.has_add_permission(request)
            else "",
        }
        return super().changelist_view(request, extra_context)

    @display(description=_("catégorie"), ordering="category__position")
    def category_display(self, obj: Complaint) -> str:
        if obj.category.is_urgent:
            return format_html(
                '{} <span class="rak-badge rak-badge-danger" title="{}">⚡ {}</span>',
                obj.category.name,
                gettext("Catégorie urgente : traitée en priorité"),
                gettext("Urgente"),
            )
        return obj.category.name

    @display(
        description=_("statut"),
        ordering="status",
        label={"NEW": "warning", "IN_PROGRESS": "info", "WAITING_CUSTOMER": "info", "CLOSED": "success"},
    )
    def status_display(self, obj: Complaint):
        return obj.status, obj.get_status_display()

    @display(description=_("échéance"), ordering="due_at")
    def sla_display(self, obj: Complaint) -> str:
        state = complaint_sla_state(obj, clock.now())
        if state == SlaState.CLOSED:
            return format_html('<span data-sla="closed">{} {}</span>', gettext("Clôturée le"), _local(obj.closed_at))
        mark = {"overdue": "⚠ ", "soon": "⏳ ", "ok": ""}[state.value]
        return format_html(
            '<span data-sla="{}">{}</span><br><span class="rak-badge rak-badge-{}">{}{}</span>',
            state.value,
            _local(obj.due_at),
            SLA_BADGES[state],
            mark,
            SLA_LABELS[state],
        )

    @display(description=_("réclamant"), ordering="name")
    def complainant_display(self, obj: Complaint) -> str:
        if obj.customer is not None:
            code = obj.customer.code
        elif obj.customer_code_given:
            code = gettext("code indiqué : %(code)s") % {"code": obj.customer_code_given}
        else:
            code = ""
        details = " · ".join(part for part in (code, phone_display(obj.phone) if obj.phone else "") if part)
        return format_html("{}<br><small>{}</small>", obj.name, details) if details else obj.name

    @display(description=_("déposée le"), ordering="filed_at")
    def filed_display(self, obj: Complaint) -> str:
        return _local(obj.filed_at)

    @display(description=_("agent en charge"), ordering="assigned_to__first_name")
    def assignee_display(self, obj: Complaint) -> str:
        return _agent_name(obj.assigned_to) if obj.assigned_to_id else format_html("<em>{}</em>", _("non affectée"))

    # --- permissions ---

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a complaint is closed, never deleted

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(ADD_PERMISSION)

    # --- URLs ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:complaint_id>/traiter/<slug:what>/",
                view(self.complaint_post_view),
                name="rak_requests_complaint_handle",
            ),
            path(
                "<int:complaint_id>/action/<slug:code>/",
                view(self.complaint_action_view),
                name="rak_requests_complaint_action",
            ),
            path(
                "<int:complaint_id>/pieces/<int:entry_id>/",
                view(self.attachment_view),
                name="rak_requests_complaint_attachment",
            ),
            *super().get_urls(),
        ]

    # --- the complaint's page ---

    def _complaint(self, complaint_id) -> Complaint:
        if not str(complaint_id).isdigit():
            raise Http404
        return get_object_or_404(
            Complaint.objects.select_related(
                "category",
                "customer",
                "dossier",
                "bill",
                "reading",
                "premises",
                "agency",
                "assigned_to",
                "closed_by",
                "outage_notice",
                "contact_message",
            ),
            pk=complaint_id,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            return HttpResponseRedirect(request.path)
        return self.complaint_page(request, self._complaint(object_id))

    def complaint_page(self, request, complaint: Complaint, *, bound: dict | None = None, status: int = 200):
        if not self.has_view_permission(request, complaint):
            raise PermissionDenied
        bound = bound or {}
        now = clock.now()
        state = complaint_sla_state(complaint, now)
        can_handle = request.user.has_perm(HANDLE_PERMISSION)
        forms_ = {}
        actions = []
        if can_handle and complaint.is_open:
            forms_ = {
                "reply": bound.get("reply") or ReplyForm(complaint=complaint, prefix="reply"),
                "note": bound.get("note") or NoteForm(prefix="note"),
                "assign": bound.get("assign")
                or AssignForm(prefix="assign", initial={"assignee": complaint.assigned_to_id}),
                "close": bound.get("close") or CloseForm(prefix="close"),
            }
            for form in forms_.values():
                _styled(form)
            for item in _complaint_actions():
                if not (item.available(complaint) and request.user.has_perm(item.permission)):
                    continue
                form = bound.get(f"action:{item.code}")
                if form is None and item.form_class is not None:
                    form = item.form_class(prefix=item.code)
                actions.append(
                    {
                        "action": item,
                        "form": _styled(form) if form is not None else None,
                        "url": reverse("admin:rak_requests_complaint_action", args=[complaint.pk, item.code]),
                    }
                )
        elif can_handle:
            forms_ = {"note": bound.get("note") or _styled(NoteForm(prefix="note"))}
        entries = list(complaint_entries(complaint))
        for entry in entries:
            # for the template
            entry.channels_display = ", ".join(str(CHANNEL_LABELS.get(c, c)) for c in entry.channels)  # type: ignore[attr-defined]
            entry.attachment_url = (  # type: ignore[attr-defined]
                reverse("admin:rak_requests_complaint_attachment", args=[complaint.pk, entry.pk]) if entry.file else ""
            )
        links = [
            (
                gettext("Client (fiche 360)"),
                _link("admin:rak_customer_customer_change", complaint.customer, _customer_text(complaint)),
            ),
            (
                gettext("Dossier"),
                _link("admin:rak_customer_dossier_change", complaint.dossier, getattr(complaint.dossier, "number", "")),
            ),
            (
                gettext("Facture"),
                _link("admin:rak_billing_bill_change", complaint.bill, getattr(complaint.bill, "number", "")),
            ),
            (gettext("Relevé"), _link("admin:rak_billing_meterreading_change", complaint.reading, complaint.reading)),
            (
                gettext("Avis de coupure"),
                _link("admin:rak_requests_outagenotice_change", complaint.outage_notice, complaint.outage_notice),
            ),
            (
                gettext("Message « Contactez-nous » d'origine"),
                _link("admin:rak_customer_contactmessage_change", complaint.contact_message, complaint.contact_message),
            ),
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Réclamation %(number)s") % {"number": complaint.number},
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "original": complaint,
            "complaint": complaint,
            "sla_state": state.value,
            "sla_label": SLA_LABELS[state],
            "sla_badge": SLA_BADGES[state],
            "links": [(label, html) for label, html in links if html],
            "entries": entries,
            "forms": forms_,
            "complaint_actions": actions,
            "can_handle": can_handle,
            "is_mine": complaint.assigned_to_id == request.user.pk,
            "expected_updated_at": complaint.updated_at.isoformat(),
            "urls": {
                what: reverse("admin:rak_requests_complaint_handle", args=[complaint.pk, what])
                for what in ("reply", "note", "assign", "take", "close")
            },
            "queue_url": reverse("admin:rak_requests_complaint_changelist"),
            # the canned replies' text for this complaint: « Insérer » fills the box at once with
            # JavaScript (without it, the button posts and the page comes back filled)
            "canned_texts": {slug: canned_text(slug, complaint) for slug, _label in canned_choices()}
            if "reply" in forms_
            else {},
        }
        return TemplateResponse(request, "admin/rak_requests/complaint/page.html", context, status=status)

    def _refused(self, request, complaint: Complaint, message: str, bound: dict):
        """The page again, the form bound (nothing typed is lost), the refusal shown."""
        messages.error(request, f"{complaint.number} : {message}")
        fresh = self._complaint(complaint.pk)
        return self.complaint_page(request, fresh, bound=bound, status=400)

    def _done(self, request, complaint: Complaint, message: str):
        messages.success(request, f"{complaint.number} : {message}")
        return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[complaint.pk]) + "#fil")

    def _repeat_done(self, request, complaint: Complaint):
        messages.info(
            request,
            f"{complaint.number} : "
            + gettext(
                "c'est fait, votre premier envoi a été enregistré (voir le fil) ; le formulaire envoyé une "
                "seconde fois n'a rien refait."
            ),
        )
        return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[complaint.pk]) + "#fil")

    def complaint_post_view(self, request, complaint_id: int, what: str):
        """One form of the complaint's page: « Répondre », « Note interne », « Affecter »,
        « Prendre en charge », « Clôturer »."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[complaint_id]))
        if what not in FORMS:
            raise Http404
        if not (self.has_view_permission(request) and request.user.has_perm(HANDLE_PERMISSION)):
            raise PermissionDenied
        complaint = self._complaint(complaint_id)
        now = clock.now()
        expected = _expected(request)
        user = request.user
        form_class = FORMS[what]
        form: forms.Form | None = None
        if form_class is ReplyForm:
            form = ReplyForm(request.POST, complaint=complaint, prefix="reply")
            if "insert" in request.POST:  # « Insérer » the canned reply (no service call)
                slug = request.POST.get("reply-canned", "")
                typed = request.POST.get("reply-body", "").rstrip()
                text = canned_text(slug, complaint)
                initial = {
                    "body": f"{typed}\n\n{text}" if typed and text else (typed or text),
                    "channels": request.POST.getlist("reply-channels"),
                    "asks_information": bool(request.POST.get("reply-asks_information")),
                    "canned": slug,
                }
                if not text:
                    messages.warning(request, gettext("Choisissez une réponse type à insérer."))
                return self.complaint_page(
                    request, complaint, bound={"reply": ReplyForm(complaint=complaint, prefix="reply", initial=initial)}
                )
        elif form_class is not None:
            form = form_class(request.POST, prefix=what)
        bound = {what: form} if form is not None else {}
        if form is not None and not form.is_valid():
            errors = " ".join(" ".join(str(e) for e in errs) for errs in form.errors.values())
            return self._refused(request, complaint, errors, bound)
        data = form.cleaned_data if form is not None else {}
        calls = {
            "reply": lambda: complaint_reply(
                complaint_id=complaint.pk,
                staff_user=user,
                body=data["body"],
                channels=data["channels"],
                asks_information=data["asks_information"],
                now=now,
                expected_updated_at=expected,
            ),
            "note": lambda: complaint_note(complaint_id=complaint.pk, staff_user=user, body=data["body"], now=now),
            "assign": lambda: complaint_assign(
                complaint_id=complaint.pk, staff_user=user, assignee=data["assignee"], now=now
            ),
            "take": lambda: complaint_take(complaint_id=complaint.pk, staff_user=user, now=now),
            "close": lambda: complaint_close(
                complaint_id=complaint.pk,
                staff_user=user,
                result=data["result"],
                now=now,
                expected_updated_at=expected,
            ),
        }
        try:
            _guarded(complaint.pk, expected, calls[what])
        except RakError as exc:
            if isinstance(exc, ComplaintStale) and _repeated(complaint.pk, user, clock.now(), what=what, data=data):
                return self._repeat_done(request, complaint)
            if form is not None:
                form.add_error(None, exc.message)
            return self._refused(request, complaint, exc.message, bound)
        done = {
            "reply": gettext("réponse envoyée au client.")
            if not data.get("asks_information")
            else gettext("complément d'information demandé au client."),
            "note": gettext("note interne ajoutée."),
            "assign": gettext("affectation enregistrée."),
            "take": gettext("vous avez pris en charge cette réclamation."),
            "close": gettext("réclamation clôturée ; le résultat est envoyé au client par SMS."),
        }
        return self._done(request, complaint, done[what])

    def complaint_action_view(self, request, complaint_id: int, code: str):
        """A resolving action of ``rak_requests.complaints.actions`` (its form, prefix = code)."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[complaint_id]))
        if not (self.has_view_permission(request) and request.user.has_perm(HANDLE_PERMISSION)):
            raise PermissionDenied
        complaint = self._complaint(complaint_id)
        item = next((a for a in _complaint_actions() if a.code == code), None)
        if item is None:
            raise Http404
        if not request.user.has_perm(item.permission):
            raise PermissionDenied
        if not item.available(complaint):
            return self._refused(request, complaint, str(ComplaintError.default_message), {})
        form = None
        data: dict = {}
        if item.form_class is not None:
            form = item.form_class(request.POST, request.FILES, prefix=code)
            if not form.is_valid():
                errors = " ".join(" ".join(str(e) for e in errs) for errs in form.errors.values())
                return self._refused(request, complaint, errors, {f"action:{code}": form})
            data = form.cleaned_data
        bound = {f"action:{code}": form} if form is not None else {}
        try:
            message = _guarded(
                complaint.pk,
                _expected(request),
                lambda: item.run(complaint=complaint, staff_user=request.user, data=data, now=clock.now()),
            )
        except RakError as exc:
            if isinstance(exc, ComplaintStale) and _repeated(
                complaint.pk, request.user, clock.now(), what=f"action:{code}", data=data
            ):
                return self._repeat_done(request, complaint)
            return self._refused(request, complaint, exc.message, bound)
        return self._done(request, complaint, message or gettext("action enregistrée."))

    def attachment_view(self, request, complaint_id: int, entry_id: int):
        """A file of the thread, inline (images and PDF open in the browser), for staff who may view
        complaints."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        entry = get_object_or_404(ComplaintEntry, pk=entry_id, complaint_id=complaint_id)
        if not entry.file:
            raise Http404
        return private_file_response(entry.file, download_name=entry.file_name or None)

    # --- « Nouvelle réclamation » (phone, counter) ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        customer = None
        customer_id = request.GET.get("customer", "")
        if customer_id:
            if not customer_id.isdigit():
                raise Http404
            customer = get_object_or_404(Customer, pk=customer_id)
        status = 200
        if request.method == "POST":
            form = _styled(StaffFilingForm(request.POST, customer=customer))
            if form.is_valid():
                try:
                    filed = complaint_file(
                        filing=form.filing(),
                        now=clock.now(),
                        customer=customer,
                        staff_user=request.user,
                        deduplicate=True,  # « Enregistrer » clicked twice: one complaint, one SMS
                    )
                except RakError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(
                        request,
                        gettext("Réclamation %(number)s enregistrée ; le SMS de prise en charge est envoyé.")
                        % {"number": filed.number},
                    )
                    return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[filed.pk]))
            status = 400
        else:
            initial = {}
            if customer is not None:
                initial = {
                    "name": customer.display_name,
                    "phone": customer_sms_phone(customer) or "",
                    "email": customer_email(customer) or "",
                }
            form = _styled(StaffFilingForm(customer=customer, initial=initial))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Nouvelle réclamation (téléphone ou guichet)"),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "form": form,
            "customer": customer,
            "customer_url": reverse("admin:rak_customer_customer_change", args=[customer.pk]) if customer else "",
            "queue_url": reverse("admin:rak_requests_complaint_changelist"),
        }
        return TemplateResponse(request, "admin/rak_requests/complaint/file.html", context, status=status)


def _customer_text(complaint: Complaint) -> str:
    customer = complaint.customer
    return f"{customer.code} — {customer.display_name}" if customer is not None else ""


# --- « Contactez-nous »: answer it, or turn it into a complaint ------------------------------------------


class ContactReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Votre réponse"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Envoyée par e-mail, et par SMS quand l'expéditeur a donné un téléphone."),
        error_messages={"required": _("Écrivez votre réponse.")},
    )


class ContactToComplaintForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Catégorie"),
        queryset=ComplaintCategory.objects.none(),
        error_messages={"required": _("Choisissez la catégorie de la réclamation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = complaint_categories()


class ContactMessageAdmin(BaseContactMessageAdmin):
    """rak_customer's queue, with « Répondre » and « Transformer en réclamation »."""

    change_form_template = "admin/rak_requests/complaint_contact/change_form.html"
    list_display = (*BaseContactMessageAdmin.list_display, "complaint_link")
    list_select_related = ("customer", "handled_by", "complaint")

    @display(description=_("réclamation"))
    def complaint_link(self, obj: ContactMessage) -> str:
        complaint = getattr(obj, "complaint", None)
        return _link("admin:rak_requests_complaint_change", complaint, complaint.number) if complaint else "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:message_id>/repondre/", view(self.reply_view), name="rak_customer_contactmessage_reply"),
            path(
                "<int:message_id>/reclamation/",
                view(self.to_complaint_view),
                name="rak_customer_contactmessage_complaint",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._contact_context(request, object_id, {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _contact_context(self, request, object_id, bound: dict) -> dict:
        if not str(object_id).isdigit():
            return {}
        message = ContactMessage.objects.filter(pk=object_id).select_related("complaint").first()
        if message is None:
            return {}
        complaint = getattr(message, "complaint", None)
        context = {"contact_complaint": complaint}
        if complaint is not None:
            context["contact_complaint_url"] = reverse("admin:rak_requests_complaint_change", args=[complaint.pk])
        if message.status == ContactMessage.Status.NEW:
            if request.user.has_perm("rak_customer.change_contactmessage"):
                context["contact_reply_form"] = bound.get("reply") or _styled(ContactReplyForm(prefix="answer"))
                context["contact_reply_url"] = reverse("admin:rak_customer_contactmessage_reply", args=[message.pk])
                context["contact_reply_sms"] = bool(message.phone)
            if complaint is None and request.user.has_perm(ADD_PERMISSION):
                context["contact_complaint_form"] = bound.get("complaint") or _styled(
                    ContactToComplaintForm(prefix="convert")
                )
                context["contact_complaint_post_url"] = reverse(
                    "admin:rak_customer_contactmessage_complaint", args=[message.pk]
                )
        return context

    def _page_again(self, request, message_id: int, bound: dict, error: str):
        messages.error(request, error)
        request.method = "GET"
        extra = self._contact_context(request, message_id, bound)
        response = super().change_view(request, str(message_id), extra_context=extra)
        response.status_code = 400
        return response

    def reply_view(self, request, message_id: int):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:rak_customer_contactmessage_change", args=[message_id]))
        if not request.user.has_perm("rak_customer.change_contactmessage"):
            raise PermissionDenied
        get_object_or_404(ContactMessage, pk=message_id)
        form = _styled(ContactReplyForm(request.POST, prefix="answer"))
        if not form.is_valid():
            return self._page_again(request, message_id, {"reply": form}, " ".join(form.errors.get("body", [])))
        try:
            message = contact_message_reply(
                message_id=message_id, staff_user=request.user, body=form.cleaned_data["body"], now=clock.now()
            )
        except (ContactReplyError, RakError) as exc:
            form.add_error(None, exc.message)
            return self._page_again(request, message_id, {"reply": form}, exc.message)
        sent = gettext("par e-mail et par SMS") if message.phone else gettext("par e-mail")
        messages.success(
            request,
            gettext("Réponse envoyée à %(name)s %(how)s ; le message est traité.")
            % {"name": message.name, "how": sent},
        )
        return HttpResponseRedirect(reverse("admin:rak_customer_contactmessage_changelist"))

    def to_complaint_view(self, request, message_id: int):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:rak_customer_contactmessage_change", args=[message_id]))
        if not (request.user.has_perm(ADD_PERMISSION) and request.user.has_perm("rak_customer.change_contactmessage")):
            raise PermissionDenied
        get_object_or_404(ContactMessage, pk=message_id)
        form = _styled(ContactToComplaintForm(request.POST, prefix="convert"))
        if not form.is_valid():
            return self._page_again(request, message_id, {"complaint": form}, " ".join(form.errors.get("category", [])))
        try:
            complaint = complaint_from_contact_message(
                message_id=message_id, staff_user=request.user, category=form.cleaned_data["category"], now=clock.now()
            )
        except RakError as exc:
            return self._page_again(request, message_id, {"complaint": form}, exc.message)
        messages.success(
            request,
            gettext("Message transformé en réclamation %(number)s ; le SMS de prise en charge est envoyé.")
            % {"number": complaint.number},
        )
        return HttpResponseRedirect(reverse("admin:rak_requests_complaint_change", args=[complaint.pk]))


if admin.site.is_registered(ContactMessage):
    admin.site.unregister(ContactMessage)
admin.site.register(ContactMessage, ContactMessageAdmin)


# --- the customer 360's complaints -------------------------------------------------------------------------


def customer_complaints_panel(*, request, customer_id: int) -> dict | None:
    """« Réclamations du client » on the customer 360: every complaint, open ones first (one query),
    and « Nouvelle réclamation » for the staff who may file one."""
    user = request.user
    if not user.has_perm("rak_requests.view_complaint"):
        return None
    now = clock.now()
    rows = (
        Complaint.objects.filter(customer_id=customer_id)
        .select_related("category", "assigned_to")
        .annotate(is_closed=Case(When(status=CLOSED, then=Value(1)), default=Value(0)))
        .order_by("is_closed", "-filed_at", "-id")
    )
    table = {
        "headers": [
            _("n° de réclamation"),
            _("catégorie"),
            _("déposée le"),
            _("statut"),
            _("échéance"),
            _("agent en charge"),
        ],
        "rows": [
            [
                format_html(
                    '<a href="{}" class="{}" data-testid="customer-complaint">{}</a>',
                    reverse("admin:rak_requests_complaint_change", args=[c.pk]),
                    LINK_CLASSES,
                    c.number,
                ),
                c.category.name,
                _local(c.filed_at),
                c.get_status_display(),
                _panel_sla(c, now),
                _agent_name(c.assigned_to) or "—",
            ]
            for c in rows
        ],
    }
    actions = []
    if user.has_perm(ADD_PERMISSION):
        actions.append(
            {
                "label": _("Nouvelle réclamation"),
                "url": reverse("admin:rak_requests_complaint_add") + f"?customer={customer_id}",
            }
        )
    return {
        "id": "customer-complaints",
        "title": _("Réclamations du client"),
        "table": table,
        "empty": _("Aucune réclamation."),
        "actions": actions,
    }


def _panel_sla(complaint: Complaint, now: datetime) -> str:
    state = complaint_sla_state(complaint, now)
    if state == SlaState.CLOSED:
        return gettext("clôturée le %(date)s") % {"date": _local(complaint.closed_at)}
    return f"{_local(complaint.due_at)} — {SLA_LABELS[state]}"


def backoffice_stats(*, request) -> list[dict]:
    """The back-office home's figures of the helpdesk (HOOK_BACKOFFICE_STATS): open and overdue
    complaints, mine, field interventions to do — each a link to its filtered list, one query each."""
    from rak_requests.complaint_models import FieldIntervention

    user, now = request.user, clock.now()
    items: list[dict] = []
    if user.has_perm("rak_requests.view_complaint"):
        counters = complaint_counters(user=user, now=now, day_start=_day_start(now))
        url = reverse("admin:rak_requests_complaint_changelist")
        items += [
            {
                "title": gettext("Réclamations ouvertes"),
                "url": url + "?etat=ouvertes",
                "count": counters.open,
                "variant": "primary",
            },
            {
                "title": gettext("Réclamations en retard"),
                "url": url + "?delai=overdue",
                "count": counters.overdue,
                "variant": "danger",
            },
            {
                "title": gettext("Mes réclamations"),
                "url": url + "?mine=1&etat=ouvertes",
                "count": counters.mine,
                "variant": "primary",
            },
        ]
    if user.has_perm("rak_requests.view_fieldintervention"):
        items.append(
            {
                "title": gettext("Ordres d'intervention à réaliser"),
                "url": reverse("admin:rak_requests_fieldintervention_changelist") + "?status__exact=PENDING",
                "count": FieldIntervention.objects.filter(status=FieldIntervention.Status.PENDING).count(),
                "variant": "warning",
            }
        )
    return items


def register() -> None:
    """Called once on import (RakRequestsConfig.ready): canned replies, the 360's panel, the
    back-office home's figures."""
    canned_templates_register()
    contact_templates_register()
    hook_subscribe(HOOK_CUSTOMER_360_PANELS, customer_complaints_panel)
    hook_subscribe(HOOK_BACKOFFICE_STATS, backoffice_stats)


register()
