"""Back office « Modèles de messages »: the wording of every SMS, e-mail and notification the
software sends, one row per message, channel and language (``rak_base.message_templates``).

The list holds every registered message (rows are created when it opens, and after each migrate);
the change page shows the variables and their meaning, the code's default, the SMS length with a
live counter, and « Rétablir le texte par défaut ». Only who has ``rak_base.change_messagetemplate``
(superviseur) edits; others with the view permission read. Writes go through the services
(``message_template_update``, ``message_template_reset``); simple_history keeps every version (no
« revert »: it would bypass the checks — edit the text instead)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_base.message_templates import (
    MAX_SMS_SEGMENTS,
    message_template_reset,
    message_template_update,
    message_templates_registered,
    message_templates_sync,
    sms_length_with_examples,
)
from rak_base.models import Message, MessageTemplate


def sms_length_text(length) -> str:
    if not length.segments:
        return gettext("vide")
    text = gettext("%(units)d caractères — %(segments)d SMS (%(encoding)s, %(per)d par SMS)") % {
        "units": length.units,
        "segments": length.segments,
        "encoding": length.encoding,
        "per": length.per_segment,
    }
    if length.non_gsm:
        text += " — " + gettext("caractères qui imposent l'UCS-2 : %(chars)s") % {"chars": " ".join(length.non_gsm)}
    return text


CELL_STYLE = "padding-block: 0.25rem; padding-inline-end: 1rem"


class MessageTemplateForm(forms.ModelForm):
    """Subject and body; the model's clean() checks the variables and the SMS length."""

    class Meta:
        model = MessageTemplate
        fields = ("subject", "body")


class CustomizedFilter(admin.SimpleListFilter):
    title = _("texte")
    parameter_name = "customized"

    def lookups(self, request, model_admin):
        return (("1", _("Modifié par le personnel")), ("0", _("Texte par défaut")))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(customized=self.value() == "1")
        return queryset


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin, ModelAdmin):
    form = MessageTemplateForm
    list_display = (
        "label_display",
        "channel",
        "language",
        "state_display",
        "sms_length_display",
        "updated_at",
        "updated_by",
    )
    list_display_links = ("label_display",)
    list_filter = (("channel", ChoicesDropdownFilter), CustomizedFilter, ("language", ChoicesDropdownFilter))
    list_filter_submit = True
    list_select_related = ("updated_by",)
    search_fields = ("code", "body", "subject")
    search_help_text = _("Code du message (ex. complaint.filed) ou mots du texte.")
    ordering = ("code", "channel", "language")
    object_history_list_template = "rak_base/history/object_history_list.html"
    actions_detail = ("reset_default",)
    readonly_fields = (
        "label_display",
        "code",
        "channel",
        "language",
        "placeholders_display",
        "sms_length_display",
        "default_display",
        "state_display",
        "state_text",
        "updated_at",
        "updated_by",
    )

    class Media:
        js = ("rak_base/sms_counter.js",)

    def get_fieldsets(self, request, obj=None):
        text_fields = ["body"] if obj is not None and obj.channel == Message.Channel.SMS else ["subject", "body"]
        if obj is not None and obj.channel == Message.Channel.SMS:
            text_fields.append("sms_length_display")
        return (
            (None, {"fields": ("label_display", "code", ("channel", "language"), "state_text")}),
            (_("Texte envoyé"), {"fields": text_fields}),
            (_("Variables"), {"fields": ("placeholders_display",)}),
            (_("Texte par défaut du logiciel"), {"fields": ("default_display",)}),
            (_("Dernière modification"), {"fields": (("updated_at", "updated_by"),)}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        spec = message_templates_registered().get(obj.code) if obj is not None else None
        if "body" in form.base_fields:
            body = form.base_fields["body"]
            body.help_text = _(
                "Les variables s'écrivent entre accolades, par exemple {numero} : seules celles listées "
                "ci-dessous sont acceptées."
            )
            if spec is not None and obj.channel == Message.Channel.SMS:
                body.widget.attrs.update(
                    {
                        "data-sms-examples": json.dumps(spec.examples(), ensure_ascii=False),
                        "data-sms-max": str(MAX_SMS_SEGMENTS),
                        "rows": 4,
                    }
                )
        if obj is not None:
            # an Arabic wording is typed and read right to left (the page around it stays French)
            direction = {"dir": "rtl" if obj.language == "ar" else "ltr", "lang": obj.language}
            for name in ("subject", "body"):
                if name in form.base_fields:
                    form.base_fields[name].widget.attrs.update(direction)
        return form

    # --- permissions: rows come from the code, never added or deleted by hand ---------------------

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.code not in message_templates_registered():
            return False  # a message the software no longer sends: kept for its history, read only
        return super().has_change_permission(request, obj)

    def revert_disabled(self, request, obj=None) -> bool:
        return True  # « revert » would save an old text without the checks: edit the text instead

    def has_reset_default_permission(self, request, object_id=None) -> bool:
        if not request.user.has_perm("rak_base.change_messagetemplate"):
            return False
        if object_id is None:
            return True
        row = MessageTemplate.objects.filter(pk=object_id).values("code", "customized").first()
        return bool(row and row["customized"] and row["code"] in message_templates_registered())

    # --- list -------------------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        message_templates_sync()  # a message registered since the last migrate is listed (infra)
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        filtered = queryset  # the list's filters (channel, « Modifié », language) already applied
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip().lower()
        if term:
            # the labels live in the code: a search on « réclamation » finds the complaint messages
            codes = [spec.code for spec in message_templates_registered().values() if term in spec.label.lower()]
            if codes:
                queryset |= filtered.filter(code__in=codes)
        return queryset, distinct

    @display(description=_("message"), ordering="code")
    def label_display(self, obj: MessageTemplate) -> str:
        spec = message_templates_registered().get(obj.code)
        return spec.label if spec else gettext("%(code)s (absent du logiciel)") % {"code": obj.code}

    @display(
        description=_("texte"),
        label={"custom": "warning", "default": "info", "orphan": "danger"},
    )
    def state_display(self, obj: MessageTemplate):
        if obj.code not in message_templates_registered():
            return "orphan", gettext("Plus utilisé")
        if obj.customized:
            return "custom", gettext("Modifié")
        return "default", gettext("Par défaut")

    @display(description=_("texte"))
    def state_text(self, obj: MessageTemplate) -> str:
        return self.state_display(obj)[1]

    @display(description=_("longueur (valeurs types)"))
    def sms_length_display(self, obj: MessageTemplate) -> str:
        if obj.channel != Message.Channel.SMS or obj.code not in message_templates_registered():
            return "—"
        length = sms_length_with_examples(code=obj.code, body=obj.body)
        # the live counter (static/rak_base/sms_counter.js) rewrites this text as staff type, with
        # these translated patterns
        return format_html(
            '<span data-testid="sms-length" data-sms-counter-for="id_body" aria-live="polite" '
            'data-pattern="{}" data-pattern-ucs2="{}" data-pattern-too-long="{}" data-pattern-empty="{}">{}</span>',
            gettext("%(units)d caractères — %(segments)d SMS (%(encoding)s, %(per)d par SMS)"),
            gettext("caractères qui imposent l'UCS-2 : %(chars)s"),
            gettext("trop long : %(max)d SMS au plus") % {"max": MAX_SMS_SEGMENTS},
            gettext("vide"),
            sms_length_text(length),
        )

    @display(description=_("variables possibles"))
    def placeholders_display(self, obj: MessageTemplate) -> str:
        spec = message_templates_registered().get(obj.code)
        if spec is None or not spec.placeholders:
            return gettext("Aucune : ce message n'a pas de variable.")
        rows = format_html_join(
            "",
            '<tr style="vertical-align: top"><td class="font-mono" style="{}">{{{}}}</td><td style="{}">{}{}</td>'
            '<td class="text-base-500" style="padding-block: 0.25rem">{}</td></tr>',
            (
                (
                    CELL_STYLE,
                    name,
                    CELL_STYLE,
                    placeholder.description,
                    format_html(" <strong>({})</strong>", gettext("obligatoire")) if name in spec.required else "",
                    gettext("ex. : %(example)s") % {"example": placeholder.example},
                )
                for name, placeholder in spec.placeholders.items()
            ),
        )
        return format_html('<table data-testid="placeholders">{}</table>', rows)

    @display(description=_("texte par défaut"))
    def default_display(self, obj: MessageTemplate) -> str:
        spec = message_templates_registered().get(obj.code)
        if spec is None or obj.channel not in spec.defaults:
            return "—"
        subject, body = spec.default(obj.channel, obj.language)
        if subject:
            return format_html(
                '<p><strong>{}</strong></p><p style="white-space: pre-line" data-testid="default-text">{}</p>',
                subject,
                body,
            )
        return format_html('<p style="white-space: pre-line" data-testid="default-text">{}</p>', body)

    # --- writes: through the services --------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        try:
            saved = message_template_update(
                template_id=obj.pk,
                subject=form.cleaned_data.get("subject", ""),
                body=form.cleaned_data["body"],
                user=request.user,
                now=clock.now(),
            )
        except RakError as exc:  # checked by the form already; a change of code between the two
            raise PermissionDenied(exc.message) from exc
        obj.__dict__.update({k: getattr(saved, k) for k in ("subject", "body", "customized", "updated_at")})

    def save_related(self, request, form, formsets, change):
        pass  # no relation edited here

    @action(
        description=_("Rétablir le texte par défaut"), url_path="retablir", permissions=["reset_default"], icon="undo"
    )
    def reset_default(self, request, object_id):
        template = self.get_object(request, unquote(str(object_id)))
        if template is None:
            raise Http404
        if not self.has_reset_default_permission(request, template.pk):
            raise PermissionDenied
        change_url = reverse("admin:rak_base_messagetemplate_change", args=[template.pk])
        if request.method == "POST":
            try:
                message_template_reset(template_id=template.pk, user=request.user, now=clock.now())
            except RakError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    gettext(
                        "Le texte par défaut de « %(label)s » est rétabli : il sera utilisé pour les prochains envois."
                    )
                    % {"label": self.label_display(template)},
                )
            return HttpResponseRedirect(change_url)
        spec = message_templates_registered()[template.code]
        default_subject, default_body = spec.default(template.channel, template.language)
        return TemplateResponse(
            request,
            "admin/rak_base/messagetemplate_reset.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Rétablir le texte par défaut — %(label)s") % {"label": spec.label},
                "opts": self.model._meta,
                "original": template,
                "default_subject": default_subject,
                "default_body": default_body,
                "back_url": change_url,
            },
        )
