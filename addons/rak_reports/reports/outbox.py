"""« Messages envoyés »: the outbox (``rak_base.models.Message``) month by month — messages sent,
failed and not sent (the customer's preference), by kind and channel, and what the SMS cost in
segments (the unit the operator bills: 160 GSM-7 characters, 70 in UCS-2 for Arabic, fewer per
part when split; counted when the SMS is queued by ``rak_base.outbox.sms_cost_set``).

Definitions (also told on the page):

- A message counts in the month it was queued (``created_at``, Casablanca time), with its status
  today: sent (``SENT``), failed after its retries (``FAILED``), not sent because the customer
  turned that notice off (``SKIPPED``), still waiting (``QUEUED``).
- Its kind is the first word of ``Message.kind`` (« bill_available:42 » → « bill_available »),
  shown with its notification category (``rak_base.notification_kinds``).
- **Segments facturés**: the segments of the SMS sent; UCS-2 share: segments of SMS written in
  UCS-2 (Arabic) over all segments sent.
- Messages have no district, agency nor customer type: only the period applies.

Aggregate: ``rak_rpt_outbox_monthly`` (month × kind × channel × status)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.models import Message
from rak_base.notification_kinds import category_of
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Kpi,
    Report,
    ReportResult,
    Series,
    Table,
    report_register,
)

ZONE = settings.TIME_ZONE  # from code, never from a request
MESSAGE = Message._meta.db_table

OUTBOX = matview_register(
    MatView(
        name="outbox_monthly",
        label="messages de la boîte d'envoi par mois, type, canal et statut (segments SMS)",
        sql=f"""
SELECT date_trunc('month', m.created_at AT TIME ZONE '{ZONE}')::date AS month,
       split_part(split_part(m.kind, ':', 1), '.', 1) AS kind,
       m.channel AS channel,
       m.status AS status,
       COUNT(*) AS messages,
       COALESCE(SUM(m.sms_segments), 0)::bigint AS segments,
       COUNT(*) FILTER (WHERE m.sms_encoding = 'UCS-2') AS ucs2_messages,
       COALESCE(SUM(m.sms_segments) FILTER (WHERE m.sms_encoding = 'UCS-2'), 0)::bigint AS ucs2_segments
FROM {MESSAGE} m
GROUP BY 1, 2, 3, 4
""",  # noqa: S608 - table names from code
        unique=("month", "kind", "channel", "status"),
        indexes=(("month",),),
    )
)

STATUSES = (
    ("SENT", gettext_lazy("Envoyés")),
    ("FAILED", gettext_lazy("En échec")),
    ("SKIPPED", gettext_lazy("Non envoyés (préférence du client)")),
    ("QUEUED", gettext_lazy("En attente")),
)
CHANNELS = tuple(Message.Channel.choices)


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


def _kind_label(kind: str) -> str:
    spec = category_of(kind)
    return f"{kind or '—'} ({spec.label})" if spec else (kind or "—")


TOP_KINDS = 5


def _kind_series(totals: dict, by_month: dict, months: list) -> list[Series]:
    """The most sent kinds, one series each, the others together (a chart stays readable)."""
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    top, rest = ranked[:TOP_KINDS], ranked[TOP_KINDS:]
    series = [Series(k or "—", [by_month.get((k, m), 0) for m in months]) for k in top]
    if rest:
        series.append(Series(_("Autres"), [sum(by_month.get((k, m), 0) for k in rest) for m in months]))
    return series


def outbox_rows(filters: ReportFilters) -> list[dict]:
    sql, params = where(filters, dims=())
    return rows(
        f"SELECT month, kind, channel, status, SUM(messages) AS messages, SUM(segments) AS segments, "  # noqa: S608
        f"SUM(ucs2_segments) AS ucs2_segments FROM {OUTBOX.table} WHERE {sql} "
        f"GROUP BY month, kind, channel, status",
        params,
    )


@report_register
class OutboxReport(Report):
    slug = "messages"
    title = gettext_lazy("Messages envoyés")
    description = gettext_lazy(
        "SMS, e-mails, notifications envoyés, en échec ou non envoyés, par type et par canal ; "
        "segments SMS facturés (coût de l'arabe)."
    )
    filters = ("period",)
    matviews = (OUTBOX.name,)

    def build(self, filters: ReportFilters, *, now: datetime.datetime) -> ReportResult:
        months = filters.months()
        found = outbox_rows(filters)

        status_month: defaultdict[Any, int] = defaultdict(int)
        status_total: defaultdict[Any, int] = defaultdict(int)
        channel_status: defaultdict[Any, int] = defaultdict(int)
        kinds: dict[tuple[str, str], dict] = {}
        seg_month: defaultdict[Any, int] = defaultdict(int)  # (month, "gsm" | "ucs")
        sent_kind_month: defaultdict[Any, int] = defaultdict(int)  # (kind, month): messages sent, every channel
        sent_kind: defaultdict[Any, int] = defaultdict(int)
        for r in found:
            n = int(r["messages"])
            status_month[(r["month"], r["status"])] += n
            status_total[r["status"]] += n
            channel_status[(r["channel"], r["status"])] += n
            row = kinds.setdefault(
                (r["kind"], r["channel"]),
                {"kind": _kind_label(r["kind"]), "channel": str(Message.Channel(r["channel"]).label)}
                | {key: 0 for key, _l in STATUSES}
                | {"segments": 0},
            )
            row[r["status"]] += n
            if r["status"] == Message.Status.SENT:
                sent_kind_month[(r["kind"], r["month"])] += n
                sent_kind[r["kind"]] += n
            if r["channel"] == Message.Channel.SMS and r["status"] == Message.Status.SENT:
                segments, ucs = int(r["segments"]), int(r["ucs2_segments"])
                row["segments"] += segments
                seg_month[(r["month"], "ucs")] += ucs
                seg_month[(r["month"], "gsm")] += segments - ucs

        month_rows = []
        for month in months:
            row = {"month": _month_label(month), **{key: status_month.get((month, key), 0) for key, _l in STATUSES}}
            row["gsm"], row["ucs"] = seg_month.get((month, "gsm"), 0), seg_month.get((month, "ucs"), 0)
            row["segments"] = row["gsm"] + row["ucs"]
            month_rows.append(row)
        segments = sum(r["segments"] for r in month_rows)
        ucs = sum(r["ucs"] for r in month_rows)
        sms_sent = channel_status.get((Message.Channel.SMS.value, "SENT"), 0)

        kind_rows = sorted(kinds.values(), key=lambda r: (-r["SENT"], r["kind"], r["channel"]))
        for row in kind_rows:
            row["total"] = sum(row[key] for key, _l in STATUSES)
        channel_rows = []
        for key, label in CHANNELS:
            row = {"channel": str(label), **{s: channel_status.get((key, s), 0) for s, _l in STATUSES}}
            row["total"] = sum(row[s] for s, _l in STATUSES)
            row["failure_rate"] = _pct(row["FAILED"], row["SENT"] + row["FAILED"])
            channel_rows.append(row)

        labels = [r["month"] for r in month_rows]
        status_columns = [Column(key, str(label), COUNT) for key, label in STATUSES]
        kpis = [
            Kpi(_("Messages envoyés"), status_total["SENT"], COUNT, _("Tous canaux"), key="sent"),
            Kpi(
                _("Messages en échec"),
                status_total["FAILED"],
                COUNT,
                _("Après leurs nouvelles tentatives"),
                key="failed",
            ),
            Kpi(
                _("Taux d'échec"),
                _pct(status_total["FAILED"], status_total["SENT"] + status_total["FAILED"]),
                PERCENT,
                _("En échec, sur les messages envoyés ou en échec"),
                key="failure-rate",
            ),
            Kpi(_("Segments SMS facturés"), segments, COUNT, _("SMS envoyés, en segments"), key="segments"),
            Kpi(_("SMS envoyés"), sms_sent, COUNT, key="sms-sent"),
            Kpi(
                _("Segments par SMS"),
                (Decimal(segments) / sms_sent).quantize(Decimal("0.01")) if sms_sent else None,
                "decimal",
                key="segments-per-sms",
            ),
            Kpi(
                _("Part des segments en arabe (UCS-2)"),
                _pct(ucs, segments),
                PERCENT,
                key="ucs2-share",
            ),
            Kpi(
                _("Non envoyés (préférence du client)"),
                status_total["SKIPPED"],
                COUNT,
                key="skipped",
            ),
        ]
        charts = [
            Chart(
                "messages-by-status",
                _("Messages par mois et statut"),
                labels,
                [Series(str(label), [r[key] for r in month_rows]) for key, label in STATUSES[:3]],
                kind=COUNT,
            ),
            Chart(
                "sms-segments",
                _("Segments SMS facturés"),
                labels,
                [
                    Series(_("GSM-7"), [r["gsm"] for r in month_rows]),
                    Series(_("UCS-2 (arabe)"), [r["ucs"] for r in month_rows]),
                ],
                kind=COUNT,
            ),
            Chart(
                "sent-by-kind",
                _("Messages envoyés par mois et type"),
                labels,
                _kind_series(sent_kind, sent_kind_month, months),
                kind=COUNT,
            ),
        ]
        tables = [
            Table(
                "by-month",
                _("Messages par mois"),
                [
                    Column("month", _("Mois")),
                    *status_columns,
                    Column("gsm", _("Segments GSM-7"), COUNT),
                    Column("ucs", _("Segments UCS-2"), COUNT),
                    Column("segments", _("Segments facturés"), COUNT),
                ],
                month_rows,
                totals={
                    "month": _("Total"),
                    **{key: status_total[key] for key, _l in STATUSES},
                    "gsm": segments - ucs,
                    "ucs": ucs,
                    "segments": segments,
                },
            ),
            Table(
                "by-kind",
                _("Messages par type et canal"),
                [
                    Column("kind", _("Type")),
                    Column("channel", _("Canal")),
                    *status_columns,
                    Column("total", _("Total"), COUNT),
                    Column("segments", _("Segments facturés"), COUNT),
                ],
                kind_rows,
                totals={
                    "kind": _("Total"),
                    "channel": "",
                    **{key: status_total[key] for key, _l in STATUSES},
                    "total": sum(status_total.values()),
                    "segments": segments,
                },
            ),
            Table(
                "by-channel",
                _("Messages par canal"),
                [
                    Column("channel", _("Canal"), TEXT),
                    *status_columns,
                    Column("total", _("Total"), COUNT),
                    Column("failure_rate", _("Taux d'échec"), PERCENT),
                ],
                channel_rows,
            ),
        ]
        notes = [
            _(
                "Un message compte au mois où il a été mis en file, avec son statut actuel. Segments "
                "facturés : ceux des SMS envoyés (160 caractères par SMS en GSM-7, 70 en UCS-2 pour "
                "l'arabe, moins par partie quand le SMS est découpé). Seule la période s'applique."
            )
        ]
        return ReportResult(
            kpis=kpis, charts=charts, tables=tables, notes=notes, data_as_of=matviews_freshness(self.matviews)
        )

    def headline(self, filters: ReportFilters, *, now: datetime.datetime) -> list[Kpi]:
        kpis = {k.key: k for k in self.build(filters, now=now).kpis}
        return [kpis["sent"], kpis["failure-rate"], kpis["segments"]]
