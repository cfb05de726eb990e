"""Server-side SVG charts: no CDN, no JavaScript chart library.

``bar_chart`` draws a small histogram as an inline ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` (screen readers read those), the value above each bar and the month under it. The
templates add a visually hidden table with the same figures. The drawing uses presentation
attributes only, so the same SVG renders in a browser and in WeasyPrint.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats, translation
from django.utils.dates import MONTHS_AP
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from rak_base.money import local_number

# Geometry (viewBox units). 360 wide: about one unit per CSS pixel on a 390 px phone.
WIDTH, HEIGHT = 360, 220
TOP, BOTTOM, SIDE = 26, 38, 6
BLUE, BLUE_LIGHT, GRID, INK, MUTED = "#0b5fa5", "#8fb8df", "#dbe3ea", "#1c2733", "#5b6b7b"


def month_label(month: datetime.date) -> str:
    """« février 2026 », « فبراير 2026 », « February 2026 »: Django's month names in the active
    language."""
    return formats.date_format(month, "F Y")


def month_short(month: datetime.date) -> str:
    """« févr. », « فبراير », « Feb. »: Django's abbreviated month name (``MONTHS_AP``) in the
    active language."""
    return str(MONTHS_AP[month.month])


@dataclass(frozen=True)
class Bar:
    label: str  # first line under the bar (« févr. »)
    sublabel: str = ""  # second line (« 2026 »)
    value: Decimal | None = None  # None: nothing to draw (« — »)
    muted: bool = False  # e.g. an estimated consumption: lighter, hatched


def bar_chart(
    bars: list[Bar], *, chart_id: str, title: str, desc: str, decimals: int = 0, rtl: bool | None = None
) -> SafeString:
    """An accessible SVG histogram of ``bars`` (oldest first). The time axis follows the page's
    direction: left to right, or right to left in a right-to-left language (``rtl`` defaults to
    the active language's), the most recent month then at the left end."""
    if rtl is None:
        rtl = translation.get_language_bidi()
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    values = [b.value for b in bars if b.value is not None]
    top_value = max([v for v in values if v > 0], default=Decimal(1))
    slot = (WIDTH - 2 * SIDE) / max(len(bars), 1)
    bar_width = min(slot * 0.62, 48)
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>',
            SIDE,
            _fmt(TOP + plot_height * fraction),
            WIDTH - SIDE,
            _fmt(TOP + plot_height * fraction),
            GRID,
        )
        for fraction in (0, 0.5)
    ]
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5"/>',
            SIDE,
            baseline,
            WIDTH - SIDE,
            baseline,
            MUTED,
        )
    )
    for i, bar in enumerate(bars):
        position = len(bars) - 1 - i if rtl else i
        centre = SIDE + slot * position + slot / 2
        if bar.value is not None and bar.value > 0:
            height = max(float(bar.value / top_value) * plot_height, 1.5)
            fill = f"url(#{chart_id}-hatch)" if bar.muted else BLUE
            parts.append(
                format_html(
                    '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"/>',
                    _fmt(centre - bar_width / 2),
                    _fmt(baseline - height),
                    _fmt(bar_width),
                    _fmt(height),
                    fill,
                )
            )
            value_y = baseline - height - 6
        else:
            value_y = baseline - 6
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="12" font-weight="600" fill="{}">{}</text>',
                _fmt(centre),
                _fmt(value_y),
                INK,
                local_number(bar.value, decimals),
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="{}">{}</text>',
                _fmt(centre),
                baseline + 16,
                INK,
                bar.label,
            )
        )
        if bar.sublabel:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                    _fmt(centre),
                    baseline + 30,
                    MUTED,
                    bar.sublabel,
                )
            )
    pattern = format_html(
        '<defs><pattern id="{}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="{}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="{}" stroke-width="3"/></pattern></defs>',
        chart_id,
        BLUE_LIGHT,
        BLUE,
    )
    return format_html(
        '<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" width="100%" role="img" '  # i18n: not for customers
        'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif"{direction}>'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{pattern}{body}</svg>',
        id=chart_id,
        direction=SafeString(' direction="rtl"') if rtl else "",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        desc=desc,
        pattern=pattern,
        body=format_html_join("", "{}", ((p,) for p in parts)),
    )


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")
