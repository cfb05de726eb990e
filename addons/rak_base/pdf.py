"""The one function that renders every PDF the agency issues (bills, receipts, quotes, contracts,
request receipts, the e-facture list): WeasyPrint, tagged PDF/UA-1 so that a screen reader reads
the document in order, with its headings and tables (a structure tree, /MarkInfo Marked, the
language from ``<html lang="…">`` and the ``<title>`` shown as the window title).

WeasyPrint 70: ``pdf_variant="pdf/ua-1"`` turns on ``pdf_tags`` and writes the PDF/UA metadata
(https://doc.courtbouillon.org/weasyprint/v70.0/api_reference.html). Each template must carry
``<html lang="{{ LANGUAGE_CODE }}">`` (and ``dir="rtl"`` in Arabic) and a ``<title>``;
tests/integration/test_pdf_tagged.py checks the result.

Arabic (issue 12): text in Arabic (``lang="ar"`` on the page or on a part of it) is set in
DejaVu Sans — the PDFs' own font, which has every Arabic letter as its own glyph, so that the text
layer (copy, search, screen readers) reads the very words written. The self-hosted Noto Naskh
Arabic (``rak_base/static/rak_base/fonts``, OFL) is declared after it, for a host without DejaVu: it
shapes as well, but WeasyPrint 70 maps each glyph to the first letter it drew, and Noto draws
several letters from one dotless body plus dots (ق ف, ت ة, ن ز…), which garbles the extracted
text (``tests/integration/test_pdf_languages.py`` checks the words read back). The rule comes in
a user stylesheet added here, so that no template has to load it and documents rendered without
network access (``url_fetcher`` refusing everything) still have it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

PDF_VARIANT = "pdf/ua-1"
_PROJECT = object()

FONTS_DIR = Path(__file__).resolve().parent / "static" / "rak_base" / "fonts"
ARABIC_FONT = "Noto Naskh Arabic"
_ARABIC_RANGE = (
    "U+0600-06FF, U+0750-077F, U+0870-088E, U+0890-0891, U+0897-08E1, U+08E3-08FF, U+200C-200E, "
    "U+2010-2011, U+204F, U+2E41, U+FB50-FDFF, U+FE70-FE74, U+FE76-FEFC"
)


def arabic_fonts_css() -> str:
    """``@font-face`` rules of the vendored Arabic font (file URLs) and the rule that gives every
    element in Arabic DejaVu Sans, then that font."""
    faces = "".join(
        f'@font-face {{ font-family: "{ARABIC_FONT}"; font-weight: {weight}; font-style: normal; '
        f'src: url("{(FONTS_DIR / f"noto-naskh-arabic-arabic-{weight}-normal.woff").as_uri()}") format("woff"); '
        f"unicode-range: {_ARABIC_RANGE}; }}\n"
        for weight in (400, 700)
    )
    # A user stylesheet: !important so that it wins over the templates' own font-family.
    family = f'"DejaVu Sans", "{ARABIC_FONT}", sans-serif'  # i18n: not for customers
    rule = f":lang(ar) {{ font-family: {family} !important; }}\n"
    return faces + rule


def pdf_render(html: str, *, base_url: str | None | object = _PROJECT, url_fetcher: Callable | None = None) -> bytes:
    """The PDF of ``html``. Relative URLs resolve from the project directory unless ``base_url``
    says otherwise (``None``: none); ``url_fetcher`` replaces WeasyPrint's (e.g. to fetch nothing)."""
    from weasyprint import CSS, HTML  # heavy import (Pango, fonts): only where a PDF is made
    from weasyprint.text.fonts import FontConfiguration

    options = {"string": html, "base_url": str(settings.BASE_DIR) if base_url is _PROJECT else base_url}
    if url_fetcher is not None:
        options["url_fetcher"] = url_fetcher
    font_config = FontConfiguration()
    fonts = CSS(string=arabic_fonts_css(), font_config=font_config)
    return HTML(**options).write_pdf(pdf_variant=PDF_VARIANT, stylesheets=[fonts], font_config=font_config)
