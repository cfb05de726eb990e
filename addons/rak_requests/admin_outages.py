"""Back office: outage and works notices (« Avis de coupure et de travaux », issue 11).

- The list: number, nature, service, districts and rounds, start, expected end, state, customers
  concerned and SMS sent; filters by status, service, nature and period (en cours, à venir,
  passés).
- « Ajouter » / a draft's page: the form (districts as a multiple choice among the districts of
  the premises, rounds among the reading rounds), then a preview of the customers concerned (how
  many, how many get the SMS, why the others do not) and the SMS text with its length, and
  « Publier » (permission ``rak_requests.publish_outagenotice``).
- A published notice's page: « Mettre à jour la fin prévue », « Rétablissement constaté »,
  « Annuler » (same permission), and its history (who did what, when, how many SMS).

Each post parses its form and makes one call to ``rak_requests.outages``; a refusal is shown next
to the form with what was typed kept (status 400), never a 500.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin

from rak_base import clock
from rak_base.errors import RakError
from rak_customer.admin import HistoryAdmin
from rak_customer.models import Service
from rak_requests.admin_actions import _styled
from rak_requests.complaint_models import OutageNotice
from rak_requests.outages import (
    OVERRUN_GRACE,
    OutageNoticeData,
    outage_area_text,
    outage_districts,
    outage_notice_cancel,
    outage_notice_create,
    outage_notice_edit,
    outage_notice_end,
    outage_notice_preview,
    outage_notice_publish,
    outage_notice_state,
    outage_notice_update,
    outage_rounds,
)

PUBLISH_PERMISSION = "rak_requests.publish_outagenotice"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]

STATE_LABELS = {
    "draft": _("Brouillon"),
    "cancelled": _("Annulé"),
    "restored": _("Rétabli"),
    "upcoming": _("À venir"),
    "in_progress": _("En cours"),
    "overrun": _("Fin prévue dépassée"),
}


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Indiquez la date et l'heure."),
            "invalid": _("Date et heure invalides (jj/mm/aaaa hh:mm)."),
        },
    )


class OutageNoticeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=OutageNotice.Kind.choices)
    service = forms.ChoiceField(
        label=_("Métier"),
        choices=Service.choices,
        help_text=_("Assainissement : avis de travaux seulement."),
    )
    districts = forms.MultipleChoiceField(
        label=_("Quartiers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les quartiers des locaux desservis."),
    )
    round_codes = forms.MultipleChoiceField(
        label=_("Tournées de relève"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ou des tournées entières (les locaux relevés par ces tournées)."),
    )
    starts_at = _datetime_field(_("Début"))
    expected_end_at = _datetime_field(_("Fin prévue"))
    reason = forms.CharField(
        label=_("Motif"),
        max_length=255,
        help_text=_("Figure dans le SMS (abrégé au besoin) : « Travaux de raccordement sur la conduite principale »."),
    )
    details = forms.CharField(
        label=_("Informations pour les clients"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Affichées sur l'agence en ligne (citernes, conseils, numéro à appeler)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["districts"]).choices = [(d, d) for d in outage_districts()]
        cast(forms.ChoiceField, self.fields["round_codes"]).choices = [
            (code, f"{code} — {name}") for code, name in outage_rounds()
        ]
        _styled(self)

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if not data.get("districts") and not data.get("round_codes"):
            raise forms.ValidationError(_("Choisissez au moins un quartier ou une tournée de relève."))
        return data

    def notice_data(self) -> OutageNoticeData:
        data = self.cleaned_data
        return OutageNoticeData(
            kind=data["kind"],
            service=data["service"],
            starts_at=data["starts_at"],
            expected_end_at=data["expected_end_at"],
            reason=data["reason"],
            districts=tuple(data["districts"]),
            round_codes=tuple(data["round_codes"]),
            details=data["details"],
        )

    @classmethod
    def for_notice(cls, notice: OutageNotice) -> OutageNoticeForm:
        return cls(
            initial={
                "kind": notice.kind,
                "service": notice.service,
                "districts": notice.districts,
                "round_codes": notice.round_codes,
                "starts_at": notice.starts_at,
                "expected_end_at": notice.expected_end_at,
                "reason": notice.reason,
                "details": notice.details,
            }
        )


class OutageUpdateForm(forms.Form):
    expected_end_at = _datetime_field(_("Nouvelle fin prévue"))
    details = forms.CharField(
        label=_("Informations pour les clients"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notify = forms.BooleanField(label=_("Prévenir par SMS les clients informés"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class OutageEndForm(forms.Form):
    notify = forms.BooleanField(label=_("Envoyer le SMS « service rétabli »"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class OutageCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=255,
        help_text=_("Envoyé par SMS aux clients qui ont été prévenus."),
        error_messages={"required": _("Indiquez le motif de l'annulation.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class PeriodFilter(admin.SimpleListFilter):
    title = _("période")
    parameter_name = "periode"

    def lookups(self, request, model_admin):
        return [("current", _("En cours")), ("upcoming", _("À venir")), ("past", _("Passés"))]

    def queryset(self, request, queryset):
        now = clock.now()
        published = queryset.filter(status=OutageNotice.Status.PUBLISHED)
        current = published.filter(ended_at__isnull=True, expected_end_at__gt=now - OVERRUN_GRACE)
        if self.value() == "current":
            return current.filter(starts_at__lte=now)
        if self.value() == "upcoming":
            return current.filter(starts_at__gt=now)
        if self.value() == "past":
            return queryset.exclude(status=OutageNotice.Status.DRAFT).exclude(pk__in=current.values("pk"))
        return queryset


@admin.register(OutageNotice)
class OutageNoticeAdmin(HistoryAdmin, ModelAdmin):
    list_display = (
        "number",
        "kind",
        "service",
        "area_display",
        "starts_at",
        "expected_end_at",
        "state_display",
        "recipients_count",
        "sms_count",
    )
    list_filter = ("status", "service", "kind", PeriodFilter)
    search_fields = ("number", "reason")
    ordering = ("-starts_at",)

    @admin.display(description=_("quartiers et tournées"))
    def area_display(self, obj):
        return outage_area_text(obj, limit=80)

    @admin.display(description=_("état"))
    def state_display(self, obj):
        return STATE_LABELS[outage_notice_state(obj, now=clock.now())]

    def has_delete_permission(self, request, obj=None):
        return False  # kept: what customers were told; « Annuler » instead

    def revert_disabled(self, request, obj=None):
        return True  # a notice changes through its services only (an old version would skip the SMS rules)

    def get_urls(self):
        def view(func, segment, name):
            return path(
                f"<int:notice_id>/{segment}/",
                self.admin_site.admin_view(require_POST(func)),
                name=f"rak_requests_outage_{name}",
            )

        return [
            view(self.publish_view, "publier", "publish"),
            view(self.update_view, "fin-prevue", "update"),
            view(self.end_view, "retabli", "end"),
            view(self.cancel_view, "annuler", "cancel"),
            *super().get_urls(),
        ]

    # --- pages ---------------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """« Ajouter »: a new draft, through ``outage_notice_create``."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OutageNoticeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                notice = outage_notice_create(data=form.notice_data(), user=request.user, now=clock.now())
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    gettext("Brouillon %(number)s enregistré : vérifiez les clients concernés, puis publiez.")
                    % {"number": notice.number},
                )
                return HttpResponseRedirect(reverse("admin:rak_requests_outagenotice_change", args=[notice.pk]))
        return self._page(request, None, form=form, status=400 if request.method == "POST" else 200)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A notice's page: the draft's form and preview, or the actions of a published notice."""
        try:
            notice = get_object_or_404(OutageNotice, pk=int(object_id))
        except (TypeError, ValueError):
            raise Http404 from None
        if not self.has_view_permission(request, notice):
            raise PermissionDenied
        form = None
        if notice.status == OutageNotice.Status.DRAFT and self.has_change_permission(request, notice):
            form = OutageNoticeForm(request.POST) if request.method == "POST" else OutageNoticeForm.for_notice(notice)
            if request.method == "POST" and form.is_valid():
                try:
                    outage_notice_edit(notice_id=notice.pk, data=form.notice_data(), user=request.user, now=clock.now())
                except RakError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, gettext("Brouillon %(number)s enregistré.") % {"number": notice.number})
                    return HttpResponseRedirect(request.path)
        elif request.method == "POST":
            raise PermissionDenied
        return self._page(request, notice, form=form, status=400 if request.method == "POST" else 200)

    def _page(self, request, notice, *, form=None, status=200, **forms_bound):
        now = clock.now()
        can_publish = request.user.has_perm(PUBLISH_PERMISSION)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": notice.number if notice else gettext("Nouvel avis de coupure ou de travaux"),
            "notice": notice,
            "form": form,
            "can_publish": can_publish,
        }
        if notice is not None:
            context["state"] = outage_notice_state(notice, now=now)
            context["state_label"] = STATE_LABELS[context["state"]]
            context["area"] = outage_area_text(notice)
            context["history"] = list(notice.history.select_related("history_user").order_by("-history_date")[:50])
            if notice.status == OutageNotice.Status.DRAFT:
                context["preview"] = outage_notice_preview(notice, now=now)
            active = notice.status == OutageNotice.Status.PUBLISHED and notice.ended_at is None
            if can_publish and active:
                context["update_form"] = forms_bound.get("update_form") or OutageUpdateForm(
                    initial={"expected_end_at": notice.expected_end_at, "details": notice.details, "notify": True},
                    prefix="update",
                )
                context["end_form"] = forms_bound.get("end_form") or OutageEndForm(
                    initial={"notify": True}, prefix="end"
                )
            if can_publish and notice.status != OutageNotice.Status.CANCELLED and notice.ended_at is None:
                context["cancel_form"] = forms_bound.get("cancel_form") or OutageCancelForm(prefix="cancel")
        return TemplateResponse(request, "admin/rak_requests/outagenotice/notice.html", context, status=status)

    # --- actions (POST, permission « Publier les avis de coupure ») ----------------------------

    def _notice_for_action(self, request, notice_id: int) -> OutageNotice:
        if not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(OutageNotice, pk=notice_id)

    def _back(self, notice: OutageNotice):
        return HttpResponseRedirect(reverse("admin:rak_requests_outagenotice_change", args=[notice.pk]))

    def publish_view(self, request, notice_id: int):
        notice = self._notice_for_action(request, notice_id)
        try:
            result = outage_notice_publish(notice_id=notice.pk, user=request.user, now=clock.now())
        except RakError as exc:
            messages.error(request, f"{notice.number} : {exc.message}")
        else:
            messages.success(
                request,
                gettext("Avis %(number)s publié : %(customers)s, %(sms)s.")
                % {
                    "number": notice.number,
                    "customers": ngettext("%(n)d client concerné", "%(n)d clients concernés", result.recipients)
                    % {"n": result.recipients},
                    "sms": ngettext("%(n)d SMS envoyé", "%(n)d SMS envoyés", result.sms) % {"n": result.sms},
                },
            )
        return self._back(notice)

    def update_view(self, request, notice_id: int):
        notice = self._notice_for_action(request, notice_id)
        form = OutageUpdateForm(request.POST, prefix="update")
        if form.is_valid():
            try:
                sms = outage_notice_update(
                    notice_id=notice.pk,
                    expected_end_at=form.cleaned_data["expected_end_at"],
                    details=form.cleaned_data["details"],
                    notify=form.cleaned_data["notify"],
                    user=request.user,
                    now=clock.now(),
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    gettext("Avis %(number)s mis à jour : %(sms)s.")
                    % {
                        "number": notice.number,
                        "sms": ngettext("%(n)d SMS envoyé", "%(n)d SMS envoyés", sms) % {"n": sms},
                    },
                )
                return self._back(notice)
        return self._page(request, notice, status=400, update_form=form)

    def end_view(self, request, notice_id: int):
        notice = self._notice_for_action(request, notice_id)
        form = OutageEndForm(request.POST, prefix="end")
        form.is_valid()
        try:
            sms = outage_notice_end(
                notice_id=notice.pk, notify=form.cleaned_data.get("notify", False), user=request.user, now=clock.now()
            )
        except RakError as exc:
            messages.error(request, f"{notice.number} : {exc.message}")
        else:
            messages.success(
                request,
                gettext("Rétablissement constaté : %(sms)s.")
                % {"sms": ngettext("%(n)d SMS « rétabli » envoyé", "%(n)d SMS « rétabli » envoyés", sms) % {"n": sms}},
            )
        return self._back(notice)

    def cancel_view(self, request, notice_id: int):
        notice = self._notice_for_action(request, notice_id)
        form = OutageCancelForm(request.POST, prefix="cancel")
        if form.is_valid():
            try:
                sms = outage_notice_cancel(
                    notice_id=notice.pk, reason=form.cleaned_data["reason"], user=request.user, now=clock.now()
                )
            except RakError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    gettext("Avis %(number)s annulé : %(sms)s.")
                    % {
                        "number": notice.number,
                        "sms": ngettext("%(n)d SMS envoyé", "%(n)d SMS envoyés", sms) % {"n": sms},
                    },
                )
                return self._back(notice)
        return self._page(request, notice, status=400, cancel_form=form)
