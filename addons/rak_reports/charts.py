"""Server-side SVG charts of the report pages, drawn like the portal's (``rak_portal.charts``): a
``role="img"`` SVG with a title and a description, no script, no external file; the same numbers
are given as a table beside it (``templates/rak_reports/includes/chart.html``) for screen readers
and for anyone who wants the figures. Grouped vertical bars (months × series) or horizontal bars
(categories with long names)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from rak_base.money import local_number
from rak_reports.reports import PERCENT, Chart

PALETTE = ("#0b5fa5", "#e08a00", "#2e8b57", "#8e44ad", "#c0392b", "#5b6b7b")
GRID, INK, MUTED = "#dbe3ea", "#1c2733", "#5b6b7b"


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _num(value) -> float:
    return float(value) if value is not None else 0.0


def _label(value, kind: str) -> str:
    if value is None:
        return "—"
    decimals = 1 if kind == PERCENT else 0
    text = local_number(Decimal(str(value)), decimals)
    return f"{text} %" if kind == PERCENT else text


def _legend(chart: Chart, y: float) -> list:
    parts, x = [], 8.0
    for i, series in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            format_html('<rect x="{}" y="{}" width="10" height="10" fill="{}"/>', _fmt(x), _fmt(y - 9), colour)
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>', _fmt(x + 14), _fmt(y), INK, series.name
            )
        )
        x += 24 + 6.2 * len(series.name)
    return parts


def _svg(chart: Chart, width: int, height: int, body: list) -> SafeString:
    return format_html(
        '<svg class="report-chart" id="chart-{id}" viewBox="0 0 {w} {h}" width="100%" '  # i18n: not for customers
        'role="img" '
        'aria-labelledby="chart-{id}-title chart-{id}-desc" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" data-testid="chart-{id}">'
        '<title id="chart-{id}-title">{title}</title><desc id="chart-{id}-desc">{desc}</desc>{body}</svg>',
        id=chart.key,
        w=width,
        h=height,
        title=chart.title,
        desc=chart.desc or chart.title,
        body=format_html_join("", "{}", ((p,) for p in body)),
    )


def chart_svg(chart: Chart) -> SafeString:
    return _horizontal(chart) if chart.horizontal else _vertical(chart)


def _vertical(chart: Chart) -> SafeString:
    width, height, top, bottom, side = 720, 260, 30, 42, 8
    plot = height - top - bottom
    baseline = top + plot
    values = [_num(v) for s in chart.series for v in s.values]
    top_value = max([v for v in values if v > 0], default=1.0)
    groups = max(len(chart.labels), 1)
    slot = (width - 2 * side) / groups
    n = max(len(chart.series), 1)
    bar = min(slot * 0.8 / n, 36)
    body = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>',
            side,
            _fmt(top + plot * f),
            width - side,
            _fmt(top + plot * f),
            GRID,
        )
        for f in (0, 0.5)
    ]
    body.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>', side, baseline, width - side, baseline, MUTED
        )
    )
    body.append(
        format_html(
            '<text x="{}" y="{}" font-size="10" fill="{}">{}</text>',
            side,
            top - 4,
            MUTED,
            _label(top_value, chart.kind),
        )
    )
    for g, label in enumerate(chart.labels):
        left = side + slot * g + (slot - bar * n) / 2
        for s, series in enumerate(chart.series):
            value = _num(series.values[g]) if g < len(series.values) else 0.0
            h = max(value / top_value * plot, 1.0) if value > 0 else 0
            if h:
                body.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} — {} : {}</title></rect>',
                        _fmt(left + s * bar),
                        _fmt(baseline - h),
                        _fmt(bar * 0.92),
                        _fmt(h),
                        PALETTE[s % len(PALETTE)],
                        label,
                        series.name,
                        _label(series.values[g], chart.kind),
                    )
                )
        body.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                _fmt(side + slot * g + slot / 2),
                baseline + 15,
                INK,
                label,
            )
        )
    body += _legend(chart, height - 8)
    return _svg(chart, width, height, body)


def _horizontal(chart: Chart) -> SafeString:
    row, gap, label_w, width, top = 18, 6, 250, 720, 8
    n = max(len(chart.series), 1)
    group_h = row * n + gap
    height = int(top + group_h * max(len(chart.labels), 1) + 28)
    values = [_num(v) for s in chart.series for v in s.values]
    top_value = max([v for v in values if v > 0], default=1.0)
    plot = width - label_w - 70
    body = []
    for g, label in enumerate(chart.labels):
        y0 = top + g * group_h
        text = label if len(label) <= 40 else label[:39] + "…"
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>', 4, _fmt(y0 + row * n / 2 + 4), INK, text
            )
        )
        for s, series in enumerate(chart.series):
            value = _num(series.values[g]) if g < len(series.values) else 0.0
            w = max(value / top_value * plot, 1.0) if value > 0 else 0
            y = y0 + s * row
            if w:
                body.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                        label_w,
                        _fmt(y + 2),
                        _fmt(w),
                        row - 4,
                        PALETTE[s % len(PALETTE)],
                    )
                )
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" fill="{}">{}</text>',
                    _fmt(label_w + w + 4),
                    _fmt(y + row - 5),
                    MUTED,
                    _label(series.values[g] if g < len(series.values) else None, chart.kind),
                )
            )
    if len(chart.series) > 1:
        body += _legend(chart, height - 6)
    return _svg(chart, width, height, body)
