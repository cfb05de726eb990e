"""« Relèves et estimations »: where the indexes come from (the customers' own readings against the
meter readers' and the estimates), how many consumption bills were estimated, and the readings held
for verification with what became of them.

Definitions (also told on the page):

- **Relevés** of a month: the meter readings dated that month (``reading_date``), withdrawn or
  rejected ones left out (``status = REJECTED``), by source: the customer's own reading
  (« auto-relève », ``SELF``), the meter reader's (``AGENT``), an estimate (``ESTIMATED``).
  Self-read share = SELF / all of them.
- **Factures estimées**: consumption bills (``Bill.kind = CONSUMPTION``) issued that month
  (``issue_date``) with ``estimated``, over every consumption bill of the month.
- **Relevés mis en attente**: the readings that went through the verification queue, by the month
  of the reading: still held (``HELD``), contested by the customer (``CONTESTED``), sent to
  verification by staff (``review_requested_at``), or decided by staff (``reviewed_at``). Their
  outcome: « en attente » (not decided yet), « validé » (decided ACCEPTED), « rejeté » (decided
  REJECTED), « corrigé par le client » (a self-reading held, then corrected or withdrawn by the
  customer before any decision: REJECTED without ``reviewed_at``, found HELD in its history).
  The time to decision is from the reading's entry (``created_at``) to ``reviewed_at``.
- A reading's district, service and agency / customer type are its dossier's premises, service
  and customer.

Aggregates: ``rak_rpt_readings_monthly`` (month × dimensions × source),
``rak_rpt_readings_held`` (month × dimensions × source × outcome) and
``rak_rpt_readings_bills`` (month × dimensions: consumption bills, estimated ones)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_billing.models import Bill, MeterReading
from rak_customer.models import Customer, Dossier, Premises
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    DAYS,
    PERCENT,
    Chart,
    Column,
    Kpi,
    Report,
    ReportResult,
    Series,
    Table,
    report_register,
)

READING = MeterReading._meta.db_table
HISTORY = MeterReading.history.model._meta.db_table
BILL = Bill._meta.db_table
CUSTOMER = Customer._meta.db_table
DOSSIER = Dossier._meta.db_table
PREMISES = Premises._meta.db_table

DIMS = ("district", "agency_id", "service", "customer_kind")

_DIM_COLUMNS = """
       COALESCE(p.district, '') AS district,
       COALESCE(c.agency_id, 0) AS agency_id,
       d.service AS service,
       c.kind AS customer_kind"""

_DIM_JOINS = f"""
JOIN {DOSSIER} d ON d.id = r.dossier_id
JOIN {PREMISES} p ON p.id = d.premises_id
JOIN {CUSTOMER} c ON c.id = d.customer_id"""

READINGS = matview_register(
    MatView(
        name="readings_monthly",
        label="relevés par mois et par origine (auto-relève, releveur, estimation)",
        sql=f"""
SELECT date_trunc('month', r.reading_date)::date AS month,{_DIM_COLUMNS},
       r.source AS source,
       COUNT(*) FILTER (WHERE r.status <> 'REJECTED') AS readings
FROM {READING} r{_DIM_JOINS}
GROUP BY 1, 2, 3, 4, 5, 6
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "service", "customer_kind", "source"),
        indexes=(("month",),),
    )
)

HELD = matview_register(
    MatView(
        name="readings_held",
        label="relevés mis en attente de vérification et leur issue",
        sql=f"""
SELECT month, district, agency_id, service, customer_kind, source, outcome,
       COUNT(*) AS readings,
       COUNT(decision_days) AS decided,
       COALESCE(SUM(decision_days), 0)::numeric(14, 3) AS decision_days
FROM (
    SELECT date_trunc('month', r.reading_date)::date AS month,{_DIM_COLUMNS},
           r.source AS source,
           CASE
               WHEN r.status IN ('HELD', 'CONTESTED') OR r.review_requested_at IS NOT NULL THEN 'PENDING'
               WHEN r.reviewed_at IS NOT NULL AND r.status = 'ACCEPTED' THEN 'ACCEPTED'
               WHEN r.reviewed_at IS NOT NULL THEN 'REJECTED'
               ELSE 'CORRECTED'
           END AS outcome,
           CASE
               WHEN r.reviewed_at IS NOT NULL AND r.review_requested_at IS NULL
                    AND r.status IN ('ACCEPTED', 'REJECTED')
               THEN GREATEST(EXTRACT(EPOCH FROM r.reviewed_at - r.created_at), 0) / 86400.0
           END AS decision_days
    FROM {READING} r{_DIM_JOINS}
    WHERE r.status IN ('HELD', 'CONTESTED')
       OR r.reviewed_at IS NOT NULL
       OR r.review_requested_at IS NOT NULL
       OR (r.status = 'REJECTED' AND r.source = 'SELF'
           AND EXISTS (SELECT 1 FROM {HISTORY} h WHERE h.id = r.id AND h.status IN ('HELD', 'CONTESTED')))
) held
GROUP BY 1, 2, 3, 4, 5, 6, 7
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "service", "customer_kind", "source", "outcome"),
        indexes=(("month",),),
    )
)

BILLS = matview_register(
    MatView(
        name="readings_bills",
        label="factures de consommation estimées par mois",
        sql=f"""
SELECT date_trunc('month', b.issue_date)::date AS month,
       COALESCE(p.district, '') AS district,
       COALESCE(c.agency_id, 0) AS agency_id,
       COALESCE(d.service, '') AS service,
       c.kind AS customer_kind,
       COUNT(*) AS bills,
       COUNT(*) FILTER (WHERE b.estimated) AS estimated
FROM {BILL} b
JOIN {CUSTOMER} c ON c.id = b.customer_id
LEFT JOIN {DOSSIER} d ON d.id = b.dossier_id
LEFT JOIN {PREMISES} p ON p.id = d.premises_id
WHERE b.kind = 'CONSUMPTION'
GROUP BY 1, 2, 3, 4, 5
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "service", "customer_kind"),
        indexes=(("month",),),
    )
)

SOURCES = (
    ("SELF", gettext_lazy("Auto-relève client")),
    ("AGENT", gettext_lazy("Releveur")),
    ("ESTIMATED", gettext_lazy("Estimation")),
)
OUTCOMES = (
    ("PENDING", gettext_lazy("En attente")),
    ("ACCEPTED", gettext_lazy("Validé")),
    ("CORRECTED", gettext_lazy("Corrigé par le client")),
    ("REJECTED", gettext_lazy("Rejeté")),
)


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


def readings_by_month_source(filters: ReportFilters) -> dict[tuple[datetime.date, str], int]:
    sql, params = where(filters, dims=DIMS)
    found = rows(
        f"SELECT month, source, SUM(readings) AS readings FROM {READINGS.table} "  # noqa: S608 - names from code
        f"WHERE {sql} GROUP BY month, source",
        params,
    )
    return {(r["month"], r["source"]): int(r["readings"]) for r in found}


def held_by_month_outcome(filters: ReportFilters) -> list[dict]:
    sql, params = where(filters, dims=DIMS)
    return rows(
        f"SELECT month, source, outcome, SUM(readings) AS readings, SUM(decided) AS decided, "  # noqa: S608
        f"SUM(decision_days) AS decision_days FROM {HELD.table} WHERE {sql} GROUP BY month, source, outcome",
        params,
    )


def bills_by_month(filters: ReportFilters) -> dict[datetime.date, dict]:
    sql, params = where(filters, dims=DIMS)
    found = rows(
        f"SELECT month, SUM(bills) AS bills, SUM(estimated) AS estimated FROM {BILLS.table} "  # noqa: S608
        f"WHERE {sql} GROUP BY month",
        params,
    )
    return {r["month"]: {"bills": int(r["bills"]), "estimated": int(r["estimated"])} for r in found}


@report_register
class ReadingsReport(Report):
    slug = "releves"
    title = gettext_lazy("Relèves et estimations")
    description = gettext_lazy(
        "Part des auto-relèves des clients, part des factures estimées, relevés mis en attente de "
        "vérification et leur issue."
    )
    matviews = (READINGS.name, HELD.name, BILLS.name)

    def build(self, filters: ReportFilters, *, now: datetime.datetime) -> ReportResult:
        months = filters.months()
        readings = readings_by_month_source(filters)
        bills = bills_by_month(filters)
        held = held_by_month_outcome(filters)

        month_rows: list[dict[str, Any]] = []
        totals: defaultdict[str, int] = defaultdict(int)
        for month in months:
            row: dict[str, Any] = {"month": _month_label(month)}
            for key, _label in SOURCES:
                row[key] = readings.get((month, key), 0)
                totals[key] += row[key]
            row["total"] = sum(row[k] for k, _l in SOURCES)
            row["self_share"] = _pct(row["SELF"], row["total"])
            counts = bills.get(month, {"bills": 0, "estimated": 0})
            row["bills"], row["estimated"] = counts["bills"], counts["estimated"]
            row["estimated_share"] = _pct(counts["estimated"], counts["bills"])
            totals["bills"] += counts["bills"]
            totals["estimated"] += counts["estimated"]
            month_rows.append(row)
        total_readings = sum(totals[k] for k, _l in SOURCES)

        outcome_month: defaultdict[tuple[Any, str], int] = defaultdict(int)
        outcome_total: defaultdict[str, int] = defaultdict(int)
        source_outcome: defaultdict[tuple[str, str], int] = defaultdict(int)
        decided = 0
        decision_days = Decimal(0)
        for r in held:
            n = int(r["readings"])
            outcome_month[(r["month"], r["outcome"])] += n
            outcome_total[r["outcome"]] += n
            source_outcome[(r["source"], r["outcome"])] += n
            decided += int(r["decided"])
            decision_days += Decimal(r["decision_days"])
        held_total = sum(outcome_total.values())
        closed = held_total - outcome_total["PENDING"]

        held_rows = []
        for month in months:
            row = {"month": _month_label(month)}
            for key, _label in OUTCOMES:
                row[key] = outcome_month.get((month, key), 0)
            row["total"] = sum(row[k] for k, _l in OUTCOMES)
            held_rows.append(row)
        source_rows = []
        for key, label in SOURCES:
            row = {"source": str(label), **{o: source_outcome.get((key, o), 0) for o, _l in OUTCOMES}}
            row["total"] = sum(row[o] for o, _l in OUTCOMES)
            if row["total"]:
                source_rows.append(row)

        labels = [r["month"] for r in month_rows]
        outcome_columns = [Column(key, str(label), COUNT) for key, label in OUTCOMES]
        kpis = [
            Kpi(
                _("Part des auto-relèves"),
                _pct(totals["SELF"], total_readings),
                PERCENT,
                _("Relevés saisis par les clients, sur tous les relevés retenus"),
                key="self-share",
            ),
            Kpi(
                _("Part des factures estimées"),
                _pct(totals["estimated"], totals["bills"]),
                PERCENT,
                _("Factures de consommation émises sur un index estimé"),
                key="estimated-share",
            ),
            Kpi(_("Relevés mis en attente"), held_total, COUNT, _("Passés par la vérification"), key="held"),
            Kpi(_("Relevés retenus"), total_readings, COUNT, key="readings"),
            Kpi(_("Auto-relèves"), totals["SELF"], COUNT, key="self"),
            Kpi(_("Factures estimées"), totals["estimated"], COUNT, key="estimated"),
            Kpi(_("En attente de décision"), outcome_total["PENDING"], COUNT, key="held-pending"),
            Kpi(
                _("Validés après vérification"),
                _pct(outcome_total["ACCEPTED"], closed),
                PERCENT,
                _("Part des relevés vérifiés et validés, sur ceux dont la vérification est close"),
                key="held-accepted-share",
            ),
            Kpi(
                _("Délai moyen de décision"),
                (decision_days / decided).quantize(Decimal("0.1")) if decided else None,
                DAYS,
                _("De la saisie du relevé à la décision, en jours"),
                key="decision-days",
            ),
        ]
        charts = [
            Chart(
                "readings-by-source",
                _("Relevés par origine"),
                labels,
                [Series(str(label), [r[key] for r in month_rows]) for key, label in SOURCES],
                kind=COUNT,
            ),
            Chart(
                "shares",
                _("Part des auto-relèves et des factures estimées"),
                labels,
                [
                    Series(_("Auto-relèves"), [r["self_share"] for r in month_rows]),
                    Series(_("Factures estimées"), [r["estimated_share"] for r in month_rows]),
                ],
                kind=PERCENT,
            ),
            Chart(
                "held-outcome",
                _("Relevés mis en attente et leur issue"),
                labels,
                [Series(str(label), [r[key] for r in held_rows]) for key, label in OUTCOMES],
                kind=COUNT,
            ),
        ]
        tables = [
            Table(
                "by-month",
                _("Relevés et factures par mois"),
                [
                    Column("month", _("Mois")),
                    *(Column(key, str(label), COUNT) for key, label in SOURCES),
                    Column("total", _("Relevés"), COUNT),
                    Column("self_share", _("Part des auto-relèves"), PERCENT),
                    Column("bills", _("Factures de consommation"), COUNT),
                    Column("estimated", _("Factures estimées"), COUNT),
                    Column("estimated_share", _("Part estimée"), PERCENT),
                ],
                month_rows,
                totals={
                    "month": _("Total"),
                    **{key: totals[key] for key, _l in SOURCES},
                    "total": total_readings,
                    "self_share": _pct(totals["SELF"], total_readings),
                    "bills": totals["bills"],
                    "estimated": totals["estimated"],
                    "estimated_share": _pct(totals["estimated"], totals["bills"]),
                },
            ),
            Table(
                "held",
                _("Relevés mis en attente par mois et issue"),
                [Column("month", _("Mois du relevé")), *outcome_columns, Column("total", _("Total"), COUNT)],
                held_rows,
                totals={
                    "month": _("Total"),
                    **{key: outcome_total[key] for key, _l in OUTCOMES},
                    "total": held_total,
                },
            ),
            Table(
                "held-by-source",
                _("Relevés mis en attente par origine"),
                [Column("source", _("Origine")), *outcome_columns, Column("total", _("Total"), COUNT)],
                source_rows,
            ),
        ]
        notes = [
            _(
                "Relevés retenus : relevés datés du mois, hors relevés rejetés ou retirés. Un relevé mis en "
                "attente est compté au mois de sa date de relève ; « corrigé par le client » : une "
                "auto-relève mise en attente puis corrigée ou retirée par le client avant toute décision."
            )
        ]
        return ReportResult(
            kpis=kpis,
            charts=charts,
            tables=tables,
            notes=notes,
            data_as_of=matviews_freshness(self.matviews),
        )

    def headline(self, filters: ReportFilters, *, now: datetime.datetime) -> list[Kpi]:
        return self.build(filters, now=now).kpis[:3]
