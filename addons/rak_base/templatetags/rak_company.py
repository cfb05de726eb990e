"""``{% company as company %}`` for templates rendered without a request (PDFs), and
``|css_string`` to put a value inside a CSS string (``@page`` margin boxes: HTML entities are not
decoded inside ``<style>``)."""

from django import template
from django.utils.safestring import mark_safe

from rak_base.company import company as _company

register = template.Library()


@register.simple_tag
def company():
    return _company()


@register.filter
def css_string(value) -> str:
    """``value`` as the inside of a double-quoted CSS string."""
    text = str(value)
    escaped = "".join(c if c.isalnum() or c in " '.,-()·—/:" else f"\\{ord(c):x} " for c in text)
    return mark_safe(escaped)  # noqa: S308 - every character outside a safe set is CSS-escaped
