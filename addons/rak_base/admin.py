"""Back-office screens of rak_base: staff users and groups, the outbox, OTP codes, sequences.

Screens only: every write goes through a service (``message_retry``); a customer account can
never be given back-office access from here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter, RangeDateTimeFilter
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from rak_base import clock, scheduler
from rak_base.admin_outbox import OutboxCostMixin, SmsEncodingFilter
from rak_base.admin_preferences import NotificationPreferenceInline, PushSubscriptionInline
from rak_base.documents import reference_display, reference_normalize
from rak_base.errors import RakError
from rak_base.mixin_bases import ModelAdminMixinBase, ModelFormMixinBase
from rak_base.models import Document, Message, OneTimeCode, ScheduledJob, Sequence, User
from rak_base.otp import MAX_FAILURES
from rak_base.outbox import message_retry
from rak_base.phones import InvalidPhone, phone_normalize
from rak_base.private_files import private_file_response
from rak_base.redact import mask_text

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MASKED = _("•••••• (contenu confidentiel : code ou mot de passe)")


class ReadOnlyAdminMixin(ModelAdminMixinBase):
    """Journal-like screens: consulted, never edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ArchivedFilter(admin.SimpleListFilter):
    """Imports (readings, other networks' payments) are archived, never deleted: archived rows
    leave the list by default; « Archivés » or « Tous » bring them back (``archived_at``)."""

    title = _("archivage")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return (("0", _("En cours (non archivés)")), ("1", _("Archivés")), ("all", _("Tous")))

    def choices(self, changelist):
        value = self.value() or "0"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "0"
        if value == "1":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'archivage"),
        max_length=255,
        help_text=_("Le fichier, son rapport et ce qu'il a enregistré sont conservés ; l'import quitte la liste."),
    )


class ArchivedImportAdminMixin(ModelAdminMixinBase):
    """An import kept with its file (reading imports, other networks' payment files): never
    deleted; « Archiver » with a reason (``archive_permission``) through the addon's service
    (``archive_call``), « Télécharger le fichier » for whoever may view it. The model has
    ``file``, ``file_name`` and ``archived_at``."""

    model: type[Any]  # the ModelAdmin's (an import batch model)
    archive_permission: str = ""  # "app_label.archive_<model>"
    archive_done_message = _(
        "Import « %(name)s » archivé : son fichier et son rapport restent consultables (filtre « Archivés »)."
    )

    def archive_call(self, *, batch, staff_user, reason: str, now) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _import_url_name(self, suffix: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{suffix}"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # « Archiver »: the file, its report and what it recorded stay

    def has_archive_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm(self.archive_permission):
            return False
        return object_id is None or self.model.objects.filter(pk=object_id, archived_at__isnull=True).exists()

    @action(description=_("Archiver"), url_path="archiver", permissions=["archive"], icon="archive")
    def archive(self, request, object_id):
        batch = self.get_object(request, unquote(str(object_id)))
        if batch is None:
            raise Http404
        form = ArchiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                self.archive_call(
                    batch=batch, staff_user=request.user, reason=form.cleaned_data["reason"], now=clock.now()
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, self.archive_done_message % {"name": batch.file_name})
                return HttpResponseRedirect(reverse(f"admin:{self._import_url_name('changelist')}"))
        return TemplateResponse(
            request,
            "admin/rak_base/import_archive.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Archiver l'import « %(name)s »") % {"name": batch.file_name},
                "opts": self.model._meta,
                "original": batch,
                "form": form,
                "back_url": reverse(f"admin:{self._import_url_name('change')}", args=[batch.pk]),
            },
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/fichier/",
                self.admin_site.admin_view(self.file_view),
                name=self._import_url_name("file"),
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, object_id):
        batch = self.get_object(request, unquote(object_id))
        if batch is None or not batch.file:
            raise Http404
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return private_file_response(batch.file, as_attachment=True, download_name=batch.file_name)

    @display(description=_("fichier importé"))
    def file_link(self, obj) -> str:
        if not obj.file:
            return "—"
        url = reverse(f"admin:{self._import_url_name('file')}", args=[obj.pk])
        return format_html('<a class="text-primary-600 font-medium" href="{}">{}</a>', url, _("Télécharger le fichier"))


# --- staff users and groups -------------------------------------------------------------------


class CustomerNeverStaffMixin(ModelFormMixinBase):
    """A customer account (role « Client ») never gets into the back office."""

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        role = cleaned.get("role", getattr(self.instance, "role", User.Role.CUSTOMER))
        if role == User.Role.CUSTOMER and (cleaned.get("is_staff") or cleaned.get("is_superuser")):
            raise forms.ValidationError(
                _("Un compte client ne peut pas accéder au back office : choisissez le rôle « Personnel ».")
            )
        return cleaned


class StaffUserChangeForm(CustomerNeverStaffMixin, UserChangeForm):
    pass


class StaffUserCreationForm(UserCreationForm):
    pass


# Django names its default permissions in English in the database (« Can view code OTP »): the
# back office shows them in French (« Peut voir : code OTP ») without renaming the rows.
PERMISSION_ACTIONS = {
    "add": _("Peut ajouter"),
    "change": _("Peut modifier"),
    "delete": _("Peut supprimer"),
    "view": _("Peut voir"),
}
DEFAULT_PERMISSION_NAME = re.compile(r"^Can (add|change|delete|view) (.+)$")


def permission_label(permission) -> str:
    """« Application | modèle | permission », the model named by its (French) verbose_name; the
    history tables (« historical ... », simple_history's English) as « historique : ... »."""
    content_type = permission.content_type
    model = content_type.model_class()
    if model is None:
        return str(permission)
    app_name = django_apps.get_app_config(content_type.app_label).verbose_name
    model_name = str(model._meta.verbose_name)
    if model_name.startswith("historical "):
        model_name = gettext("historique : %(name)s") % {"name": model_name.removeprefix("historical ")}
    name = permission.name
    match = DEFAULT_PERMISSION_NAME.match(name)
    if match:
        name = f"{PERMISSION_ACTIONS[match.group(1)]} : {model_name}"
    return f"{app_name} | {model_name} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return permission_label(obj)


class FrenchPermissionsMixin(ModelAdminMixinBase):
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):  # GroupAdmin's request is optional
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(FrenchPermissionsMixin, DjangoUserAdmin, ModelAdmin):
    """Staff accounts. Customers' accounts are under « Comptes portail »."""

    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "full_name", "email", "role", "group_names", "is_staff", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    readonly_fields = ("last_login", "date_joined", "password_changed_at")
    # notification preferences and Web Push browsers of a customer's account (issue 13)
    preference_inlines = [NotificationPreferenceInline, PushSubscriptionInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Accès au back office"),
            {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Mot de passe"), {"fields": ("must_change_password", "password_changed_at")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_inlines(self, request, obj=None):
        return self.preference_inlines if obj is not None and obj.is_customer else []

    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "email")}),
        (_("Accès au back office"), {"fields": ("groups",)}),
    )

    def get_queryset(self, request):
        staff = Q(role=User.Role.STAFF) | Q(is_staff=True) | Q(is_superuser=True)
        return super().get_queryset(request).filter(staff).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only an administrator makes administrators or hands out individual permissions.
            fields += ["is_superuser", "user_permissions"]
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.role = User.Role.STAFF
            obj.is_staff = True
        super().save_model(request, obj, form, change)

    @display(description=_("nom"))
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @display(description=_("groupes"))
    def group_names(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(FrenchPermissionsMixin, DjangoGroupAdmin, ModelAdmin):
    """The staff groups are kept in code (rak_customer.groups): edits here last until the next
    migrate."""


# --- outbox ------------------------------------------------------------------------------------


class MessageKindFilter(DropdownFilter):
    title = _("type")
    parameter_name = "kind"
    # A fixed list: SELECT DISTINCT on the whole outbox would scan it.
    KINDS = (
        ("otp", _("Code de confirmation (OTP)")),
        ("password", _("Mot de passe")),
        ("security", _("Sécurité du compte")),
        ("email_confirm", _("Confirmation d'e-mail")),
        ("change_request", _("Demande de modification")),
        ("info", _("Information")),
    )

    def lookups(self, request, model_admin):
        return self.KINDS

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(kind=self.value())
        return queryset


def message_body_display(message: Message) -> str:
    """What staff may read of a message: codes and passwords never appear in the back office."""
    if message.sensitive and message.body != Message.REDACTED:
        return str(MASKED)
    return message.body


STATUS_LABELS = {
    Message.Status.QUEUED: "warning",
    Message.Status.SENT: "success",
    Message.Status.FAILED: "danger",
    Message.Status.SKIPPED: "info",  # held back by the customer's notification preferences
}


@admin.register(Message)
class MessageAdmin(OutboxCostMixin, ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "recipient_display",
        "kind",
        "sms_cost",
        "status_display",
        "attempts",
        "error_short",
        "sent_at",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        MessageKindFilter,
        SmsEncodingFilter,
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    list_select_related = ("user",)
    ordering = ("-id",)  # newest first through the primary key: there is no index on created_at
    search_fields = ("recipient",)
    search_help_text = _("Téléphone (06..., +212...), e-mail ou code client, saisis en entier.")
    show_full_result_count = False
    actions = ("retry_selected",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "channel",
                    "recipient",
                    "user",
                    "kind",
                    "subject",
                    "body_masked",
                    "attachments_display",
                    "sensitive",
                    "sms_cost",
                )
            },
        ),
        (_("Acheminement"), {"fields": ("status", "attempts", "last_error", "provider_id")}),
        (_("Dates"), {"fields": ("created_at", "next_attempt_at", "sent_at", "read_at")}),
    )
    readonly_fields = (
        "channel",
        "recipient",
        "user",
        "kind",
        "subject",
        "body_masked",
        "attachments_display",
        "sensitive",
        "sms_cost",
        "status",
        "attempts",
        "last_error",
        "provider_id",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "read_at",
    )

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on indexed columns: the outbox is the biggest table of the site."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        values = {term, term.lower()}
        try:
            values.add(phone_normalize(term))
        except InvalidPhone:
            pass
        query = Q(recipient__in=values)
        # The account resolved first: « recipient IN (...) OR user_id = n » is two index scans,
        # where an OR across a join would read the whole outbox.
        user_id = User.objects.filter(username=term).values_list("pk", flat=True).first()
        if user_id is not None:
            query |= Q(user_id=user_id)
        return queryset.filter(query), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read only: « Renvoyer » is the only thing staff do here

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("rak_base.change_message")

    @display(description=_("pièces jointes"))
    def attachments_display(self, obj: Message) -> str:
        """Names, types and sizes of an e-mail's files (their bytes are not read)."""
        found = obj.attachments.values_list("name", "content_type", "size")
        return (
            ", ".join(f"{name} ({content_type}, {filesizeformat(size)})" for name, content_type, size in found) or "—"
        )

    @display(description=_("destinataire"), ordering="recipient")
    def recipient_display(self, obj: Message) -> str:
        if obj.recipient:
            return obj.recipient
        return obj.user.username if obj.user else "—"

    @display(description=_("statut"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj: Message):
        return obj.status, obj.get_status_display()

    @display(description=_("dernière erreur"))
    def error_short(self, obj: Message) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @display(description=_("contenu"))
    def body_masked(self, obj: Message) -> str:
        return message_body_display(obj)

    @action(description=_("Renvoyer"), permissions=["retry"], icon="send")
    def retry_selected(self, request, queryset):
        """Put FAILED messages back in the queue (message_retry); other statuses are left alone."""
        failed = list(queryset.filter(status=Message.Status.FAILED).values_list("pk", flat=True))
        skipped = queryset.exclude(status=Message.Status.FAILED).count()
        requeued = 0
        for message_id in failed:
            try:
                message = message_retry(message_id=message_id)
            except RakError as exc:
                messages.error(request, exc.message)
                continue
            requeued += message.status == Message.Status.QUEUED
        if requeued:
            messages.success(
                request,
                ngettext(
                    "%(count)d message remis en file d'envoi.", "%(count)d messages remis en file d'envoi.", requeued
                )
                % {"count": requeued},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d message n'était pas en échec : il n'a pas été renvoyé.",
                    "%(count)d messages n'étaient pas en échec : ils n'ont pas été renvoyés.",
                    skipped,
                )
                % {"count": skipped},
            )


# --- one-time codes and sequences ----------------------------------------------------------------


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Who asked for a code and what became of it. The code itself (its hash) is never shown."""

    list_display = ("created_at", "phone", "purpose", "state", "failed_attempts", "expires_at", "used_at")
    list_filter = (("purpose", ChoicesDropdownFilter), "superseded")
    ordering = ("-id",)
    list_filter_submit = True
    search_fields = ("phone",)
    search_help_text = _("Téléphone (06..., +212...), saisi en entier.")
    show_full_result_count = False
    fields = ("phone", "purpose", "state", "created_at", "expires_at", "failed_attempts", "used_at", "superseded")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("code_hash")

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        try:
            term = phone_normalize(term)
        except InvalidPhone:
            pass
        return queryset.filter(phone=term), False

    @display(description=_("état"))
    def state(self, obj: OneTimeCode) -> StrOrPromise:
        if obj.used_at:
            return _("Utilisé")
        if obj.superseded:
            return _("Remplacé")
        if obj.failed_attempts >= MAX_FAILURES:
            return _("Bloqué (trop d'essais)")
        if clock.now() >= obj.expires_at:
            return _("Expiré")
        return _("En cours de validité")


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("name", "next_value")
    fields = ("name", "next_value")
    readonly_fields = fields
    search_fields = ("name",)


# --- issued documents (registry) ---------------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Every PDF issued (bills, attestations...): what the public verification page checks."""

    list_display = ("reference_display", "kind", "title", "owner_label", "created_at", "revoked_at")
    list_filter = (("kind", ChoicesDropdownFilter),)
    search_fields = ("reference",)
    search_help_text = _("Code de référence (tel qu'imprimé, avec ou sans tirets).")
    show_full_result_count = False
    ordering = ("-id",)
    fields: ClassVar[tuple[str, ...]] = (
        "reference_display",
        "kind",
        "title",
        "owner",
        "owner_label",
        "subject_type",
        "subject_id",
    )
    fields += ("sha256", "size", "created_at", "revoked_at")
    readonly_fields = fields
    actions_detail = ("download",)

    def get_search_results(self, request, queryset, search_term):
        term = reference_normalize(search_term or "")
        return (queryset.filter(reference=term), False) if term else (queryset, False)

    def has_download_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("rak_base.view_document")

    @display(description=_("code de référence"), ordering="reference")
    def reference_display(self, obj: Document) -> str:
        return reference_display(obj.reference)

    @action(description=_("Télécharger"), permissions=["download"], icon="download")
    def download(self, request, object_id):
        document = self.get_object(request, object_id)
        if document is None:
            raise Http404
        return private_file_response(document.file, download_name=f"{document.reference}.pdf")


# --- scheduled jobs (rak_base.scheduler) -----------------------------------------------------------


JOB_STATE_LABELS = {
    "ok": "success",
    "running": "info",
    "never": "info",
    "item_errors": "warning",
    "disabled": "warning",
    "failed": "danger",
    "late": "danger",
    "unknown": "danger",
}


def scheduled_job_state(job: ScheduledJob, *, now) -> tuple[str, StrOrPromise]:
    """(key, French label) of a job as the back office shows it."""
    if job.name not in scheduler.jobs_registered():
        return "unknown", _("Absente du code")
    if not job.enabled:
        return "disabled", _("Désactivée")
    if scheduler.job_is_late(job, now=now):
        return "late", _("En retard")
    if job.running_since and job.lease_until and job.lease_until > now:
        return "running", _("En cours")
    if job.last_outcome == ScheduledJob.Outcome.FAILED:
        return "failed", _("Échec")
    if job.last_outcome == ScheduledJob.Outcome.ITEM_ERRORS:
        return "item_errors", _("Erreurs sur des éléments")
    if not job.last_outcome:
        return "never", _("Jamais exécutée")
    return "ok", _("À jour")


def duration_display(value) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return _("%(s)s s") % {"s": f"{seconds:.1f}".replace(".", ",")}
    return _("%(m)d min %(s)02d s") % {"m": seconds // 60, "s": seconds % 60}


def interval_display(value) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes and minutes % 1440 == 0:
        return ngettext("chaque jour", "tous les %(n)d jours", minutes // 1440) % {"n": minutes // 1440}
    if minutes and minutes % 60 == 0:
        return ngettext("chaque heure", "toutes les %(n)d heures", minutes // 60) % {"n": minutes // 60}
    if minutes:
        return ngettext("chaque minute", "toutes les %(n)d minutes", minutes) % {"n": minutes}
    return _("toutes les %(n)d secondes") % {"n": int(value.total_seconds())}


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ModelAdmin):
    """The periodic jobs: when each ran, how long, how it went, its last error. Read only; the
    superviseur group may « Exécuter maintenant » and enable or disable a job (one service each)."""

    list_display = (
        "label",
        "state_display",
        "interval_text",
        "next_run_at",
        "last_started_at",
        "duration_text",
        "last_success_at",
        "last_result",
        "error_short",
    )
    ordering = ("label",)
    actions = ("run_now", "enable", "disable")
    fieldsets = (
        (None, {"fields": ("label", "name", "state_display", "interval_text", "enabled")}),
        (
            _("Dernière exécution"),
            {
                "fields": (
                    ("last_started_at", "last_finished_at", "duration_text"),
                    ("last_success_at", "last_outcome"),
                    "last_result",
                    "last_error",
                )
            },
        ),
        (
            _("Planification"),
            {
                "fields": (
                    "next_run_at",
                    ("running_since", "running_on", "lease_until"),
                    "late_alerted_at",
                    ("enabled_changed_at", "enabled_changed_by"),
                )
            },
        ),
    )
    readonly_fields = (
        "label",
        "name",
        "state_display",
        "interval_text",
        "enabled",
        "last_started_at",
        "last_finished_at",
        "duration_text",
        "last_success_at",
        "last_outcome",
        "last_result",
        "last_error",
        "next_run_at",
        "running_since",
        "running_on",
        "lease_until",
        "late_alerted_at",
        "enabled_changed_at",
        "enabled_changed_by",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read only: the actions below are the only writes

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_operate_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("rak_base.change_scheduledjob")

    @display(description=_("état"), label=JOB_STATE_LABELS)
    def state_display(self, obj: ScheduledJob):
        return scheduled_job_state(obj, now=clock.now())

    @display(description=_("intervalle"), ordering="interval")
    def interval_text(self, obj: ScheduledJob) -> str:
        return interval_display(obj.interval)

    @display(description=_("durée"), ordering="last_duration")
    def duration_text(self, obj: ScheduledJob) -> str:
        return duration_display(obj.last_duration)

    @display(description=_("dernière erreur"))
    def error_short(self, obj: ScheduledJob) -> str:
        first = obj.last_error.splitlines()[0] if obj.last_error else ""
        return (first[:80] + "…") if len(first) > 80 else first

    def _each(self, request, queryset, service, done_message) -> None:
        done = 0
        for job_id in queryset.values_list("pk", flat=True):
            try:
                service(job_id)
            except RakError as exc:
                messages.error(request, exc.message)
            else:
                done += 1
        if done:
            messages.success(request, done_message % {"count": done})

    @action(description=_("Exécuter maintenant"), permissions=["operate"], icon="play_arrow")
    def run_now(self, request, queryset):
        now = clock.now()
        self._each(
            request,
            queryset,
            lambda job_id: scheduler.scheduled_job_run_now(job_id=job_id, now=now),
            _("%(count)d tâche(s) lancée(s) : un worker l'exécute dans les secondes qui viennent."),
        )

    @action(description=_("Activer"), permissions=["operate"], icon="toggle_on")
    def enable(self, request, queryset):
        now = clock.now()
        self._each(
            request,
            queryset,
            lambda job_id: scheduler.scheduled_job_set_enabled(
                job_id=job_id, enabled=True, actor=request.user, now=now
            ),
            _("%(count)d tâche(s) activée(s)."),
        )

    @action(description=_("Désactiver"), permissions=["operate"], icon="toggle_off")
    def disable(self, request, queryset):
        now = clock.now()
        self._each(
            request,
            queryset,
            lambda job_id: scheduler.scheduled_job_set_enabled(
                job_id=job_id, enabled=False, actor=request.user, now=now
            ),
            _("%(count)d tâche(s) désactivée(s)."),
        )


# --- login attempts (django-axes), themed like the rest -------------------------------------------


def _reregister_axes() -> None:
    from axes import admin as axes_admin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    pairs = (
        (AccessAttempt, axes_admin.AccessAttemptAdmin),
        (AccessLog, axes_admin.AccessLogAdmin),
        (AccessFailureLog, getattr(axes_admin, "AccessFailureLogAdmin", None)),
    )
    for model, base in pairs:
        if base is None or not admin.site.is_registered(model):
            continue
        admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (base, ModelAdmin), {"__module__": __name__}))
    # django-axes titles its rows in English (« Access Log for x @ ... »), outside gettext: the
    # pages, breadcrumbs and history of « Connexions » and « Tentatives de connexion » say it in French.
    AccessLog.__str__ = _access_log_str
    AccessAttempt.__str__ = _access_attempt_str
    AccessFailureLog.__str__ = _access_failure_str


def _axes_time(value) -> str:
    return date_format(localtime(value), "d/m/Y H:i:s") if value else "—"


def _access_log_str(self) -> str:
    return gettext("Connexion de %(username)s le %(time)s") % {
        "username": self.username,
        "time": _axes_time(self.attempt_time),
    }


def _access_attempt_str(self) -> str:
    return gettext("Tentatives de connexion de %(username)s, la dernière le %(time)s") % {
        "username": self.username,
        "time": _axes_time(self.attempt_time),
    }


def _access_failure_str(self) -> str:
    text = gettext("Échec de connexion de %(username)s le %(time)s depuis %(ip)s") % {
        "username": self.username,
        "time": _axes_time(self.attempt_time),
        "ip": self.ip_address,
    }
    return text + (gettext(" (bloqué)") if self.locked_out else "")


_reregister_axes()


# --- background jobs' results (django-tasks), themed and in French ------------------------------------


def _reregister_task_results() -> None:
    """django-tasks-db names its app and two columns in English, outside gettext: French here (its
    other labels are translated in locale/fr)."""
    from django.apps import apps
    from django_tasks_db.admin import DBTaskResultAdmin
    from django_tasks_db.models import DBTaskResult

    if not admin.site.is_registered(DBTaskResult):
        return
    apps.get_app_config(DBTaskResult._meta.app_label).verbose_name = _("Tâches en arrière-plan")

    class TaskResultAdmin(DBTaskResultAdmin, ModelAdmin):
        list_display = (
            "id",
            "task_label",
            "status",
            "enqueued_at",
            "started_at",
            "finished_at",
            "priority",
            "queue_name",
        )

        @display(description=_("tâche"))
        def task_label(self, obj) -> str:
            return obj.task_name

        @display(description=_("trace de l'erreur"))
        def formatted_traceback(self, obj) -> str:
            """Masked on display too: a row recorded before rak_base.task_results masked them (kept
            until the purge job removes it) still holds PostgreSQL's quoted row as it was."""
            if not obj.traceback:
                return "-"
            return format_html("<pre>{}</pre>", mask_text(obj.traceback))

        @display(description=_("à exécuter après"))
        def display_run_after(self, obj):
            return super().display_run_after(obj)

    TaskResultAdmin.__module__ = __name__
    admin.site.unregister(DBTaskResult)
    admin.site.register(DBTaskResult, TaskResultAdmin)


_reregister_task_results()


# « Modèles de messages » (the wording of SMS, e-mails and notifications), in its own module
from rak_base import admin_templates  # noqa: E402, F401

# « Exporter (XLSX) » on every back-office list (issue 14), in its own module
from rak_base.admin_exports import exports_install  # noqa: E402

# « Workers » (issue 15): the worker processes' heartbeats, read only (registered before the exports)
from rak_base.admin_workers import WorkerHeartbeatAdmin  # noqa: E402, F401

exports_install(admin.site)
