"""The customer's language for what is written to them outside a page they are reading: SMS, e-mails,
bell notices and documents composed by a worker or by a staff action are composed in
``Customer.language`` (issue 12), not in the language of whoever triggered them.

    with customer_language(customer):
        body = gettext("Votre facture est disponible.")
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.conf import settings
from django.utils import translation


def customer_language_code(customer) -> str:
    """``customer.language`` if it is one of the site's languages, else the site's default (French)."""
    code = getattr(customer, "language", "") or ""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def customer_language(customer) -> AbstractContextManager:
    """Activate the customer's language for the ``with`` block (gettext, dates, amounts)."""
    return translation.override(customer_language_code(customer))
