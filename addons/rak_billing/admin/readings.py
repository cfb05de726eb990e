"""Back-office screens of the meter readings: reading rounds (tournées), readings with the queue of
abnormal / contested readings to review, imports of agents' files with their per-row report.

Screens only: the import page calls ``reading_import_file``, the review actions call
``reading_review``; photos are served by an access-checked view (``photo_view``), never from the
web root.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.admin import ArchivedFilter, ArchivedImportAdminMixin
from rak_base.admin_labels import FieldLabelsMixin
from rak_base.errors import RakError
from rak_base.private_files import private_file_response
from rak_billing.models import MeterReading, ReadingImport, ReadingRound
from rak_billing.readings import reading_import_archive, reading_import_file, reading_review
from rak_billing.readings.imports import IMPORT_MAX_BYTES
from rak_billing.readings.rules import fmt_quantity, window_next, window_open
from rak_billing.readings.selectors import review_queue_filter
from rak_customer.admin import HistoryAdmin, IndexedSearchMixin, admin_link

STATUS_LABELS = {"ACCEPTED": "success", "HELD": "warning", "CONTESTED": "info", "REJECTED": "danger"}


@admin.register(ReadingRound)
class ReadingRoundAdmin(ModelAdmin):
    list_display = ("code", "name", "window_start_day", "window_days", "window_display")
    search_fields = ("code", "name")
    ordering = ("code",)

    @display(description=_("fenêtre de relève"))
    def window_display(self, obj: ReadingRound) -> str:
        today = timezone.localdate(clock.now())
        start_day, days = obj.window_start_day, obj.window_days
        window = window_open(start_day=start_day, days=days, today=today)
        if window:
            return _("ouverte %(label)s") % {"label": window.label()}
        return _("prochaine %(label)s") % {"label": window_next(start_day=start_day, days=days, today=today).label()}


# --- readings ---------------------------------------------------------------------------------------


class ReviewQueueFilter(admin.SimpleListFilter):
    title = _("file de vérification")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("review", _("À vérifier (anormaux, contestés, vérification demandée)")),)

    def queryset(self, request, queryset):
        if self.value() == "review":
            return queryset.filter(review_queue_filter())
        return queryset


class RoundFilter(DropdownFilter):
    title = _("tournée")
    parameter_name = "round"

    def lookups(self, request, model_admin):
        return [(r.code, f"{r.code} — {r.name}") for r in ReadingRound.objects.order_by("code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(dossier__premises__round_code=self.value())
        return queryset


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du rejet (communiqué au client)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class ReviewNoteForm(forms.ModelForm):
    class Meta:
        model = MeterReading
        fields = ("review_note",)


@admin.register(MeterReading)
class MeterReadingAdmin(FieldLabelsMixin, IndexedSearchMixin, HistoryAdmin, ModelAdmin):
    field_labels = {"import_batch": _("import de relevés"), "created_by": _("saisi par")}
    list_display = (
        "reading_date",
        "dossier_link",
        "meter",
        "index_display",
        "consumption_display",
        "source",
        "status_display",
        "round_code",
        "import_batch",
    )
    list_select_related = ("dossier__premises", "meter", "import_batch")
    list_filter = (
        ReviewQueueFilter,
        ("status", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        RoundFilter,
    )
    list_filter_submit = True
    search_fields = ("dossier__number",)
    search_exact_fields = ("dossier__number", "meter__number")
    search_help_text = _("N° dossier ou n° compteur.")
    show_full_result_count = False
    ordering = ("-reading_date", "-id")
    actions = ("accept_selected", "reject_selected")
    actions_submit_line = ("accept", "reject")
    form = ReviewNoteForm
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "dossier_link",
                    "meter",
                    "reading_date",
                    ("index", "previous_index", "consumption"),
                    ("source", "status", "meter_replaced"),
                    "note",
                    "photo_display",
                    "import_batch",
                    "created_by",
                    "created_at",
                )
            },
        ),
        (_("Contestation du client"), {"fields": ("contest_note", "contest_photo_display")}),
        (
            _("Vérification demandée (réclamation)"),
            {"fields": ("review_requested_at", "review_requested_by", "review_request_note")},
        ),
        (_("Décision"), {"fields": ("review_note", "reviewed_by", "reviewed_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = [
            "dossier_link",
            "meter",
            "reading_date",
            "index",
            "previous_index",
            "consumption",
            "source",
            "status",
            "meter_replaced",
            "note",
            "photo_display",
            "import_batch",
            "created_by",
            "created_at",
            "contest_note",
            "contest_photo_display",
            "reviewed_by",
            "reviewed_at",
            "review_requested_at",
            "review_requested_by",
            "review_request_note",
        ]
        in_queue = obj is not None and (
            obj.status in (MeterReading.Status.HELD, MeterReading.Status.CONTESTED) or obj.review_requested_at
        )
        if not in_queue:
            fields.append("review_note")
        return fields

    def has_add_permission(self, request) -> bool:
        return False  # readings come from imports, the portal or the billing run's estimates

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a wrong reading is rejected, never deleted

    def has_review_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_billing.change_meterreading"):
            return False
        if object_id is None:
            return True
        return MeterReading.objects.filter(pk=object_id).filter(review_queue_filter()).exists()

    def save_model(self, request, obj, form, change):
        # Nothing is written from the form itself: the decision buttons call the service, which
        # locks the row and checks its state.
        for unfold_action in self.get_actions_submit_line(request, obj.pk):
            if unfold_action.action_name in request.POST:
                unfold_action.method(request, obj)

    def response_change(self, request, obj):
        if getattr(request, "_rak_action_done", False):
            return HttpResponseRedirect(reverse("admin:rak_billing_meterreading_changelist") + "?queue=review")
        return super().response_change(request, obj)

    def _review(self, request, reading: MeterReading, *, accept: bool, reason: str = "") -> bool:
        try:
            reading_review(
                reading_id=reading.pk, staff_user=request.user, accept=accept, reason=reason, now=clock.now()
            )
        except RakError as exc:
            messages.error(request, f"{reading.dossier.number} ({reading.reading_date:%d/%m/%Y}) : {exc.message}")
            return False
        return True

    @action(description=_("Valider le relevé"), permissions=["review"], icon="check")
    def accept_selected(self, request, queryset):
        done = sum(
            self._review(request, reading, accept=True)
            for reading in queryset.filter(review_queue_filter()).select_related("dossier")
        )
        if done:
            messages.success(request, _("%(count)d relevé(s) validé(s), clients informés.") % {"count": done})

    @action(description=_("Rejeter le relevé"), permissions=["review"], icon="close")
    def reject_selected(self, request, queryset):
        queryset = queryset.filter(review_queue_filter()).select_related("dossier")
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = sum(
                self._review(request, reading, accept=False, reason=form.cleaned_data["reason"]) for reading in queryset
            )
            if done:
                messages.success(request, _("%(count)d relevé(s) rejeté(s), clients informés.") % {"count": done})
            return None
        return TemplateResponse(
            request,
            "admin/rak_billing/meterreading/reject_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Rejeter des relevés"),
                "opts": self.model._meta,
                "readings": list(queryset),
                "form": form,
                "action": "reject_selected",
            },
        )

    @action(description=_("Valider le relevé"), permissions=["review"], icon="check")
    def accept(self, request, obj: MeterReading):
        request._rak_action_done = self._review(request, obj, accept=True, reason=request.POST.get("review_note", ""))
        if request._rak_action_done:
            messages.success(request, _("Relevé validé, client informé."))

    @action(description=_("Rejeter le relevé"), permissions=["review"], icon="close")
    def reject(self, request, obj: MeterReading):
        request._rak_action_done = self._review(request, obj, accept=False, reason=request.POST.get("review_note", ""))
        if request._rak_action_done:
            messages.success(request, _("Relevé rejeté, client informé."))

    # --- photos (access-checked) ---

    def get_urls(self):
        urls = super().get_urls()
        photo = path(
            "<path:object_id>/photo/<str:which>/",
            self.admin_site.admin_view(self.photo_view),
            name="rak_billing_meterreading_photo",
        )
        return [photo, *urls]

    def photo_view(self, request, object_id, which):
        reading = self.get_object(request, unquote(object_id))
        if reading is None or which not in ("photo", "contest"):
            raise Http404
        if not self.has_view_permission(request, reading):
            raise PermissionDenied
        return private_file_response(reading.contest_photo if which == "contest" else reading.photo)

    def _photo_html(self, obj: MeterReading, which: str):
        field = obj.contest_photo if which == "contest" else obj.photo
        if not field:
            return "—"
        url = reverse("admin:rak_billing_meterreading_photo", args=[obj.pk, which])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">'
            '<img src="{}" alt="" style="max-height:240px;border-radius:6px"></a>',
            url,
            url,
        )

    @display(description=_("photo de l'index"))
    def photo_display(self, obj: MeterReading):
        return self._photo_html(obj, "photo")

    @display(description=_("photo jointe à la contestation"))
    def contest_photo_display(self, obj: MeterReading):
        return self._photo_html(obj, "contest")

    @display(description=_("dossier"), ordering="dossier__number")
    def dossier_link(self, obj: MeterReading):
        return admin_link(obj.dossier, obj.dossier.number)

    @display(description=_("index"), ordering="index")
    def index_display(self, obj: MeterReading) -> str:
        return fmt_quantity(obj.index)

    @display(description=_("consommation"), ordering="consumption")
    def consumption_display(self, obj: MeterReading) -> str:
        return fmt_quantity(obj.consumption)

    @display(description=_("tournée"), ordering="dossier__premises__round_code")
    def round_code(self, obj: MeterReading) -> str:
        return obj.dossier.premises.round_code or "—"

    @display(description=_("statut"), ordering="status", label=STATUS_LABELS)
    def status_display(self, obj: MeterReading):
        return obj.status, obj.get_status_display()


# --- imports ----------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier des relevés (CSV ou Excel XLSX)"),
        help_text=_(
            "Colonnes : N° dossier (ou N° compteur), Date de relève, Index, et au besoin Compteur remplacé "
            "(oui/non) et Observation. Première ligne : les titres."
        ),
    )


@admin.register(ReadingImport)
class ReadingImportAdmin(FieldLabelsMixin, ArchivedImportAdminMixin, ModelAdmin):
    field_labels = {"uploaded_by": _("importé par")}
    list_display = (
        "created_at",
        "file_name",
        "uploaded_by",
        "rows_total",
        "rows_created",
        "rows_unchanged",
        "rows_rejected",
    )
    list_select_related = ("uploaded_by",)
    list_filter = (ArchivedFilter,)
    search_fields = ("file_name", "sha256")
    actions_list = ("import_file",)
    actions_detail = ("archive",)
    fields = (
        "file_name",
        "file_link",
        "sha256",
        "uploaded_by",
        "created_at",
        ("rows_total", "rows_created", "rows_unchanged", "rows_rejected"),
        ("archived_at", "archived_by", "archive_reason"),
        "report_display",
    )
    readonly_fields = (
        "file_name",
        "file_link",
        "sha256",
        "uploaded_by",
        "created_at",
        "rows_total",
        "rows_created",
        "rows_unchanged",
        "rows_rejected",
        "archived_at",
        "archived_by",
        "archive_reason",
        "report_display",
    )

    def has_add_permission(self, request) -> bool:
        return False  # through « Importer un fichier »

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    archive_permission = "rak_billing.archive_readingimport"

    def archive_call(self, *, batch, staff_user, reason: str, now) -> None:
        reading_import_archive(batch_id=batch.pk, staff_user=staff_user, reason=reason, now=now)

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("rak_billing.add_readingimport") and request.user.has_perm(
            "rak_billing.add_meterreading"
        )

    @action(description=_("Importer un fichier"), url_path="import", permissions=["import"], icon="upload_file")
    def import_file(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = reading_import_file(file=upload, file_name=upload.name, user=request.user, now=clock.now())
            except RakError as exc:
                form.add_error("file", exc.message)
            else:
                batch = result.batch
                messages.success(
                    request,
                    _(
                        "%(created)d relevé(s) créé(s), %(unchanged)d déjà présent(s), %(rejected)d ligne(s) "
                        "rejetée(s), %(held)d relevé(s) mis en attente de vérification."
                    )
                    % {
                        "created": batch.rows_created,
                        "unchanged": batch.rows_unchanged,
                        "rejected": batch.rows_rejected,
                        "held": result.held,
                    },
                )
                if result.previously_imported:
                    messages.warning(
                        request,
                        _("Ce fichier avait déjà été importé le %(date)s : les lignes déjà présentes sont inchangées.")
                        % {
                            "date": timezone.localtime(result.previously_imported.created_at).strftime("%d/%m/%Y %H:%M")
                        },
                    )
                return HttpResponseRedirect(reverse("admin:rak_billing_readingimport_change", args=[batch.pk]))
        return TemplateResponse(
            request,
            "admin/rak_billing/readingimport/import.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Importer un fichier de relevés"),
                "opts": self.model._meta,
                "form": form,
                "max_size": f"{IMPORT_MAX_BYTES // (1024 * 1024)} Mo",
            },
        )

    @display(description=_("rapport (lignes rejetées ou mises en attente)"))
    def report_display(self, obj: ReadingImport):
        if not obj.report:
            return _("Aucune ligne rejetée.")
        levels = {"rejected": _("rejetée"), "held": _("en attente de vérification")}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry["line"],
                    entry.get("dossier", ""),
                    entry.get("value", ""),
                    levels.get(entry.get("level"), ""),
                    entry["reason"],
                )
                for entry in obj.report
            ),
        )
        return format_html(
            '<table class="w-full text-left" data-testid="import-report"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("Ligne"),
            _("Dossier"),
            _("Valeur"),
            _("Résultat"),
            _("Motif"),
            rows,
        )
