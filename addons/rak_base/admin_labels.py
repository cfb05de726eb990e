"""French names, in the back office, for model fields that have none (issue 12).

A few foreign keys were declared without a verbose_name (``received_by``, ``uploaded_by``...):
Django then writes the column's name in English (« Received by »). Adding the verbose_name is a
migration for a label; instead an admin lists them in ``field_labels`` and the mixin uses those
names in the list's columns, the add / change form and its read-only fields.

    class PaymentAdmin(FieldLabelsMixin, ModelAdmin):
        field_labels = {"received_by": _("enregistré par")}
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import capfirst

from rak_base.mixin_bases import ModelAdminMixinBase

LABELLED_PREFIX = "labelled_"


class FieldLabelsMixin(ModelAdminMixinBase):
    field_labels: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.field_labels.items():
            setattr(self, LABELLED_PREFIX + name, _labelled_column(name, label))

    def get_list_display(self, request):
        names = super().get_list_display(request)
        return [
            LABELLED_PREFIX + name if isinstance(name, str) and name in self.field_labels else name for name in names
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Meta.labels names the form's fields and its read-only fields (AdminReadonlyField reads them)
        labels = dict(getattr(getattr(self.form, "Meta", None), "labels", None) or {})
        labels.update({name: capfirst(label) for name, label in self.field_labels.items()})
        kwargs["labels"] = {**labels, **(kwargs.get("labels") or {})}
        return super().get_form(request, obj, change=change, **kwargs)


def _labelled_column(name: str, label):
    @admin.display(description=label, ordering=name)
    def column(obj):
        return getattr(obj, name)

    column.__name__ = LABELLED_PREFIX + name
    return column
