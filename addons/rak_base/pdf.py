"""The one function that renders every PDF the agency issues (bills, receipts, quotes, contracts,
request receipts, the e-facture list): WeasyPrint, tagged PDF/UA-1 so that a screen reader reads
the document in order, with its headings and tables (a structure tree, /MarkInfo Marked, the
language from ``<html lang="fr">`` and the ``<title>`` shown as the window title).

WeasyPrint 70: ``pdf_variant="pdf/ua-1"`` turns on ``pdf_tags`` and writes the PDF/UA metadata
(https://doc.courtbouillon.org/weasyprint/v70.0/api_reference.html). Each template must carry
``<html lang="fr">`` and a ``<title>``; tests/integration/test_pdf_tagged.py checks the result.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

PDF_VARIANT = "pdf/ua-1"
_PROJECT = object()


def pdf_render(html: str, *, base_url: str | None | object = _PROJECT, url_fetcher: Callable | None = None) -> bytes:
    """The PDF of ``html``. Relative URLs resolve from the project directory unless ``base_url``
    says otherwise (``None``: none); ``url_fetcher`` replaces WeasyPrint's (e.g. to fetch nothing)."""
    from weasyprint import HTML  # heavy import (Pango, fonts): only where a PDF is made

    options = {"string": html, "base_url": str(settings.BASE_DIR) if base_url is _PROJECT else base_url}
    if url_fetcher is not None:
        options["url_fetcher"] = url_fetcher
    return HTML(**options).write_pdf(pdf_variant=PDF_VARIANT)
