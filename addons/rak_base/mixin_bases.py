"""Bases of our mixins, for the type checker only.

At run time a mixin derives from ``object`` (the class it is mixed into brings the rest, as
before); mypy sees the class it is meant for, so the mixin's ``super()`` calls and its uses of
that class's attributes are checked (``check_untyped_defs``) instead of being unknown:

    class FieldLabelsMixin(ModelAdminMixinBase): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django import forms
    from django.contrib import admin

    ModelAdminMixinBase = admin.ModelAdmin[Any]
    InlineMixinBase = admin.options.InlineModelAdmin[Any, Any]
    ModelFormMixinBase = forms.ModelForm[Any]
else:
    ModelAdminMixinBase = InlineMixinBase = ModelFormMixinBase = object

__all__ = ["InlineMixinBase", "ModelAdminMixinBase", "ModelFormMixinBase"]
