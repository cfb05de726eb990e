"""« Demandes »: the requests (rak_requests ServiceRequest) filed in the period, by type and status,
those open now by phase, the time spent in each phase (from the phase history: the request's
events that start a phase), SLA breaches (the engine's notion: an open request whose phase
deadline ``phase_due_at`` is past, ``rak_requests.services.overdue_filter``), by agency (the
customer's) and by agent (the staff member the request is assigned to).

Four aggregates, all at month (of filing) × district × agency × customer type grain:

- ``requests_monthly``: × type × status: requests, and for those decided (accepted or rejected)
  the days from filing to decision; ``requests_agents``: the same × agent (assigned staff);
- ``requests_open``: the open requests × type × phase × status × agent × phase deadline (the
  deadline is kept so that « en retard » is computed when the page is read, against its own
  ``now``, exactly as the engine does — no clock in the view's SQL);
- ``requests_phase_times``: the phase passages that ended (next phase started, or the request
  closed) × type × phase × whole days spent: a histogram, so that the median of any filtered set
  is read from the aggregate; the sum of exact durations gives the average; passages ended after
  their deadline (start + the phase's SLA days, ``rak_requests.engine.phase_deadline``) are
  counted as late.

The district is the request's premises' (else the premises of a dossier it names); the service
filter does not apply (a request may be about several services, or none yet)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_customer.models import Agency
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    DAYS,
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
from rak_requests.models import Phase, RequestType

DIMS = ("district", "agency_id", "customer_kind")
OPEN = ("EN_COURS", "COMPLEMENT_DEMANDE")
DECIDED = ("ACCEPTEE", "REJETEE")

# one row per request with the dimensions the pages filter on (SQL from code, no user value)
_BASE = f"""
    SELECT sr.id, sr.request_type_id, sr.phase_id, sr.status, sr.filed_at, sr.processed_at,
           sr.phase_due_at, COALESCE(sr.assigned_to_id, 0) AS agent_id,
           date_trunc('month', sr.filed_at AT TIME ZONE '{settings.TIME_ZONE}')::date AS month,
           COALESCE(
               p.district,
               (SELECT min(dp.district)
                  FROM rak_requests_servicerequest_dossiers sd
                  JOIN rak_customer_dossier d ON d.id = sd.dossier_id
                  JOIN rak_customer_premises dp ON dp.id = d.premises_id
                 WHERE sd.servicerequest_id = sr.id),
               ''
           ) AS district,
           COALESCE(c.agency_id, 0) AS agency_id,
           c.kind AS customer_kind
      FROM rak_requests_servicerequest sr
      JOIN rak_customer_customer c ON c.id = sr.customer_id
      LEFT JOIN rak_customer_premises p ON p.id = sr.premises_id
"""  # noqa: S608 - the time zone comes from the settings

MONTHLY = matview_register(
    MatView(
        name="requests_monthly",
        sql=f"""
            WITH base AS ({_BASE})
            SELECT month, district, agency_id, customer_kind, request_type_id, status,
                   count(*)::int AS requests,
                   count(*) FILTER (WHERE status IN ('ACCEPTEE', 'REJETEE') AND processed_at IS NOT NULL)::int
                       AS decided,
                   COALESCE(sum(extract(epoch FROM processed_at - filed_at) / 86400.0)
                       FILTER (WHERE status IN ('ACCEPTEE', 'REJETEE') AND processed_at IS NOT NULL), 0)::numeric(18, 6)
                       AS decided_days
              FROM base
             GROUP BY month, district, agency_id, customer_kind, request_type_id, status
        """,  # noqa: S608
        unique=("month", "district", "agency_id", "customer_kind", "request_type_id", "status"),
        indexes=(("month",),),
        label="demandes déposées par mois, type, statut et agence",
    )
)

AGENTS = matview_register(
    MatView(
        name="requests_agents",
        sql=f"""
            WITH base AS ({_BASE})
            SELECT month, district, agency_id, customer_kind, agent_id,
                   count(*)::int AS requests,
                   count(*) FILTER (WHERE status IN ('ACCEPTEE', 'REJETEE') AND processed_at IS NOT NULL)::int
                       AS decided,
                   COALESCE(sum(extract(epoch FROM processed_at - filed_at) / 86400.0)
                       FILTER (WHERE status IN ('ACCEPTEE', 'REJETEE') AND processed_at IS NOT NULL), 0)::numeric(18, 6)
                       AS decided_days
              FROM base
             GROUP BY month, district, agency_id, customer_kind, agent_id
        """,  # noqa: S608
        unique=("month", "district", "agency_id", "customer_kind", "agent_id"),
        indexes=(("month",),),
        label="demandes déposées par mois et agent affecté",
    )
)

OPEN_NOW = matview_register(
    MatView(
        name="requests_open",
        sql=f"""
            WITH base AS ({_BASE})
            SELECT month, district, agency_id, customer_kind, request_type_id, COALESCE(phase_id, 0) AS phase_id,
                   status, agent_id, COALESCE(phase_due_at, 'infinity'::timestamptz) AS phase_due_at,
                   count(*)::int AS requests
              FROM base
             WHERE status IN ('EN_COURS', 'COMPLEMENT_DEMANDE')
             GROUP BY month, district, agency_id, customer_kind, request_type_id, COALESCE(phase_id, 0), status,
                      agent_id, COALESCE(phase_due_at, 'infinity'::timestamptz)
        """,  # noqa: S608
        unique=(
            "month",
            "district",
            "agency_id",
            "customer_kind",
            "request_type_id",
            "phase_id",
            "status",
            "agent_id",
            "phase_due_at",
        ),
        indexes=(("month",),),
        label="demandes en cours par phase, agent et échéance de la phase",
    )
)

PHASE_TIMES = matview_register(
    MatView(
        name="requests_phase_times",
        sql=f"""
            WITH base AS ({_BASE}),
            starts AS (
                SELECT e.request_id, e.to_phase_id AS phase_id, e.at, e.id,
                       lag(e.to_phase_id) OVER (PARTITION BY e.request_id ORDER BY e.at, e.id) AS previous_phase
                  FROM rak_requests_requestevent e
                 WHERE e.to_phase_id IS NOT NULL
            ),
            passages AS (
                SELECT request_id, phase_id, at AS started_at,
                       lead(at) OVER (PARTITION BY request_id ORDER BY at, id) AS next_at
                  FROM starts
                 WHERE previous_phase IS DISTINCT FROM phase_id
            ),
            ended AS (
                SELECT b.month, b.district, b.agency_id, b.customer_kind, b.request_type_id, ps.phase_id,
                       ps.started_at, COALESCE(ps.next_at, b.processed_at) AS ended_at, ph.sla_days
                  FROM passages ps
                  JOIN base b ON b.id = ps.request_id
                  JOIN rak_requests_phase ph ON ph.id = ps.phase_id
            )
            SELECT month, district, agency_id, customer_kind, request_type_id, phase_id,
                   floor(extract(epoch FROM ended_at - started_at) / 86400)::int AS days,
                   count(*)::int AS passages,
                   sum(extract(epoch FROM ended_at - started_at) / 86400.0)::numeric(18, 6) AS total_days,
                   count(*) FILTER (WHERE ended_at > started_at + make_interval(days => sla_days))::int AS late
              FROM ended
             WHERE ended_at IS NOT NULL
             GROUP BY month, district, agency_id, customer_kind, request_type_id, phase_id,
                      floor(extract(epoch FROM ended_at - started_at) / 86400)::int
        """,  # noqa: S608
        unique=("month", "district", "agency_id", "customer_kind", "request_type_id", "phase_id", "days"),
        indexes=(("month",),),
        label="durées des phases terminées (histogramme en jours)",
    )
)


def median_of_histogram(counts: dict[int, int]) -> Decimal | None:
    """The median of values given as ``{value: how many}`` (the mean of the two middle values when
    their number is even)."""
    total = sum(counts.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based ranks of the middle value(s)
    found, seen = [], 0
    for value in sorted(counts):
        n = counts[value]
        for rank in wanted:
            if seen <= rank < seen + n:
                found.append(value)
        seen += n
    return Decimal(sum(found)) / len(found)


def _avg(total, count) -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal("0.1"), ROUND_HALF_UP) if count else None


def _share(part, whole) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


@report_register
class RequestsReport(Report):
    slug = "demandes"
    title = gettext_lazy("Demandes")
    description = gettext_lazy(
        "Demandes déposées dans la période : par type et statut, en cours par phase, temps passé dans "
        "chaque phase, dépassements de délai (SLA), par agence et par agent."
    )
    filters = ("period", "district", "agency", "customer_kind")
    matviews = ("requests_monthly", "requests_agents", "requests_open", "requests_phase_times")

    # --- reads -----------------------------------------------------------------------------------

    def _monthly(self, filters: ReportFilters) -> list[dict]:
        """By type and status, by agency, by month (one aggregate), and by agent (its own)."""
        sql, params = where(filters, dims=DIMS)
        return rows(
            f"""
            SELECT GROUPING(request_type_id, status) AS g_type, GROUPING(agency_id) AS g_agency,
                   1 AS g_agent, GROUPING(month) AS g_month,
                   request_type_id, status, agency_id, NULL::int AS agent_id, month,
                   sum(requests)::int AS requests, sum(decided)::int AS decided,
                   sum(decided_days) AS decided_days
              FROM {MONTHLY.table}
             WHERE {sql}
             GROUP BY GROUPING SETS ((request_type_id, status), (agency_id), (month))
            UNION ALL
            SELECT 1, 1, 0, 1, NULL, NULL, NULL, agent_id, NULL,
                   sum(requests)::int, sum(decided)::int, sum(decided_days)
              FROM {AGENTS.table}
             WHERE {sql}
             GROUP BY agent_id
            """,  # noqa: S608 - tables from code, values bound
            [*params, *params],
        )

    def _open(self, filters: ReportFilters, now: datetime) -> list[dict]:
        sql, params = where(filters, dims=DIMS)
        return rows(
            f"""
            SELECT GROUPING(request_type_id, phase_id) AS g_phase, GROUPING(agency_id) AS g_agency,
                   GROUPING(agent_id) AS g_agent,
                   request_type_id, phase_id, agency_id, agent_id,
                   sum(requests)::int AS requests,
                   COALESCE(sum(requests) FILTER (WHERE status = 'COMPLEMENT_DEMANDE'), 0)::int AS complement,
                   COALESCE(sum(requests) FILTER (WHERE phase_due_at < %s), 0)::int AS overdue
              FROM {OPEN_NOW.table}
             WHERE {sql}
             GROUP BY GROUPING SETS ((request_type_id, phase_id), (agency_id), (agent_id))
            """,  # noqa: S608
            [now, *params],
        )

    def _phase_times(self, filters: ReportFilters) -> list[dict]:
        sql, params = where(filters, dims=DIMS)
        return rows(
            f"""
            SELECT request_type_id, phase_id, days, sum(passages)::int AS passages,
                   sum(total_days) AS total_days, sum(late)::int AS late
              FROM {PHASE_TIMES.table}
             WHERE {sql}
             GROUP BY request_type_id, phase_id, days
            """,  # noqa: S608
            params,
        )

    # --- the result ------------------------------------------------------------------------------

    def build(self, filters: ReportFilters, *, now: datetime) -> ReportResult:
        monthly = self._monthly(filters)
        open_rows = self._open(filters, now)
        phase_rows = self._phase_times(filters)
        types = {t.pk: t for t in RequestType.objects.all()}
        phases = {p.pk: p for p in Phase.objects.all()}

        # by type and status
        by_type: dict[int, dict] = {}
        for r in monthly:
            if r["g_type"] == 0:
                entry = by_type.setdefault(r["request_type_id"], {"statuses": {}, "decided": 0, "decided_days": 0})
                entry["statuses"][r["status"]] = r["requests"]
                entry["decided"] += r["decided"]
                entry["decided_days"] += r["decided_days"] or 0
        open_by_phase = {(r["request_type_id"], r["phase_id"]): r for r in open_rows if r["g_phase"] == 0}
        open_by_type: dict[int, dict] = {}
        for (type_id, _phase_id), r in open_by_phase.items():
            entry = open_by_type.setdefault(type_id, {"requests": 0, "overdue": 0})
            entry["requests"] += r["requests"]
            entry["overdue"] += r["overdue"]

        def type_order(type_id):
            t = types.get(type_id)
            return (t.position, t.name) if t else (999, str(type_id))

        type_ids = sorted(set(by_type) | set(open_by_type), key=type_order)
        type_rows = []
        for type_id in type_ids:
            entry = by_type.get(type_id, {"statuses": {}, "decided": 0, "decided_days": 0})
            statuses = entry["statuses"]
            type_rows.append(
                {
                    "type": types[type_id].name if type_id in types else str(type_id),
                    "filed": sum(statuses.values()),
                    "accepted": statuses.get("ACCEPTEE", 0),
                    "rejected": statuses.get("REJETEE", 0),
                    "cancelled": statuses.get("ANNULEE", 0),
                    "open": open_by_type.get(type_id, {}).get("requests", 0),
                    "overdue": open_by_type.get(type_id, {}).get("overdue", 0),
                    "decided_days": _avg(entry["decided_days"], entry["decided"]),
                }
            )
        filed = sum(r["filed"] for r in type_rows)
        open_total = sum(r["open"] for r in type_rows)
        overdue_total = sum(r["overdue"] for r in type_rows)
        decided = sum(e["decided"] for e in by_type.values())
        decided_days = sum(e["decided_days"] for e in by_type.values())
        accepted = sum(r["accepted"] for r in type_rows)

        # phases: open now and the time spent (histograms merged over the filtered groups)
        histograms: dict[tuple[int, int], dict] = {}
        for r in phase_rows:
            h = histograms.setdefault(
                (r["request_type_id"], r["phase_id"]), {"counts": {}, "passages": 0, "total": 0, "late": 0}
            )
            h["counts"][r["days"]] = h["counts"].get(r["days"], 0) + r["passages"]
            h["passages"] += r["passages"]
            h["total"] += r["total_days"] or 0
            h["late"] += r["late"]

        def phase_order(key):
            type_id, phase_id = key
            phase = phases.get(phase_id)
            return (*type_order(type_id), phase.position if phase else 999)

        phase_keys = sorted(set(open_by_phase) | set(histograms), key=phase_order)
        phase_table = []
        for key in phase_keys:
            type_id, phase_id = key
            phase = phases.get(phase_id)
            now_open = open_by_phase.get(key, {})
            h = histograms.get(key, {"counts": {}, "passages": 0, "total": 0, "late": 0})
            median = median_of_histogram(h["counts"])
            phase_table.append(
                {
                    "type": types[type_id].name if type_id in types else str(type_id),
                    "phase": phase.name if phase else _("(sans phase)"),
                    "sla_days": phase.sla_days if phase else None,
                    "open": now_open.get("requests", 0),
                    "complement": now_open.get("complement", 0),
                    "overdue": now_open.get("overdue", 0),
                    "passages": h["passages"],
                    "avg_days": _avg(h["total"], h["passages"]),
                    "median_days": median.quantize(Decimal("0.1"), ROUND_HALF_UP) if median is not None else None,
                    "late": h["late"],
                    "late_share": _share(h["late"], h["passages"]),
                }
            )

        # agencies and agents
        agency_stats: dict[int, dict] = {}
        agent_stats: dict[int, dict] = {}
        for r in monthly:
            if r["g_agency"] == 0:
                s = agency_stats.setdefault(r["agency_id"], _blank())
            elif r["g_agent"] == 0:
                s = agent_stats.setdefault(r["agent_id"], _blank())
            else:
                continue
            s["filed"] += r["requests"]
            s["decided"] += r["decided"]
            s["decided_days"] += r["decided_days"] or 0
        for r in open_rows:
            if r["g_agency"] == 0:
                s = agency_stats.setdefault(r["agency_id"], _blank())
            elif r["g_agent"] == 0:
                s = agent_stats.setdefault(r["agent_id"], _blank())
            else:
                continue
            s["open"] += r["requests"]
            s["overdue"] += r["overdue"]
        agency_names = dict(Agency.objects.filter(pk__in=[k for k in agency_stats if k]).values_list("pk", "name"))
        users = get_user_model().objects.filter(pk__in=[k for k in agent_stats if k])
        agent_names = {
            u.pk: u.get_full_name() or u.username for u in users.only("pk", "first_name", "last_name", "username")
        }
        agency_rows = _people_rows(agency_stats, agency_names, _("(sans agence)"))
        agent_rows = _people_rows(agent_stats, agent_names, _("(non affectées)"))

        # months
        months = {r["month"]: r["requests"] for r in monthly if r["g_month"] == 0}
        month_list = filters.months()

        count_cols = [
            Column("filed", _("Déposées"), COUNT),
            Column("open", _("En cours"), COUNT),
            Column("overdue", _("En retard"), COUNT),
            Column("decided", _("Traitées"), COUNT),
            Column("decided_days", _("Délai moyen de traitement (jours)"), DAYS),
        ]
        kpis = [
            Kpi(_("Demandes déposées"), filed, COUNT, key="filed"),
            Kpi(
                _("Demandes en cours"), open_total, COUNT, hint=_("Déposées dans la période, non clôturées"), key="open"
            ),
            Kpi(
                _("En dépassement de délai"),
                overdue_total,
                COUNT,
                hint=_("Demandes en cours dont l'échéance de la phase est dépassée"),
                key="overdue",
            ),
            Kpi(
                _("Part en retard"),
                _share(overdue_total, open_total),
                PERCENT,
                hint=_("des demandes en cours"),
                key="overdue_share",
            ),
            Kpi(
                _("Délai moyen de traitement"),
                _avg(decided_days, decided),
                DAYS,
                hint=_("Jours du dépôt à la décision (acceptées ou rejetées)"),
                key="decided_days",
            ),
            Kpi(
                _("Taux d'acceptation"),
                _share(accepted, decided),
                PERCENT,
                hint=_("des demandes traitées"),
                key="accepted_share",
            ),
        ]
        phase_labels = [f"{r['type']} — {r['phase']}" for r in phase_table]
        charts = [
            Chart(
                "by_type",
                _("Demandes par type"),
                [r["type"] for r in type_rows],
                [
                    Series(_("Déposées"), [r["filed"] for r in type_rows]),
                    Series(_("En cours"), [r["open"] for r in type_rows]),
                    Series(_("En retard"), [r["overdue"] for r in type_rows]),
                ],
                kind=COUNT,
                horizontal=True,
            ),
            Chart(
                "open_by_phase",
                _("Demandes en cours par phase"),
                phase_labels,
                [
                    Series(_("En cours"), [r["open"] for r in phase_table]),
                    Series(_("En retard"), [r["overdue"] for r in phase_table]),
                ],
                kind=COUNT,
                horizontal=True,
            ),
            Chart(
                "phase_days",
                _("Temps passé dans chaque phase (jours)"),
                phase_labels,
                [
                    Series(_("Moyenne"), [r["avg_days"] for r in phase_table]),
                    Series(_("Médiane"), [r["median_days"] for r in phase_table]),
                ],
                kind=DAYS,
                horizontal=True,
                desc=_("Phases terminées des demandes déposées dans la période"),
            ),
            Chart(
                "by_month",
                _("Demandes déposées par mois"),
                [f"{m:%m/%Y}" for m in month_list],
                [Series(_("Déposées"), [months.get(m, 0) for m in month_list])],
                kind=COUNT,
            ),
        ]
        tables = [
            Table(
                "by_type",
                _("Par type de demande"),
                [
                    Column("type", _("Type"), TEXT),
                    Column("filed", _("Déposées"), COUNT),
                    Column("accepted", _("Acceptées"), COUNT),
                    Column("rejected", _("Rejetées"), COUNT),
                    Column("cancelled", _("Annulées"), COUNT),
                    Column("open", _("En cours"), COUNT),
                    Column("overdue", _("En retard"), COUNT),
                    Column("decided_days", _("Délai moyen de traitement (jours)"), DAYS),
                ],
                type_rows,
                totals={
                    "type": _("Total"),
                    "filed": filed,
                    "accepted": accepted,
                    "rejected": sum(r["rejected"] for r in type_rows),
                    "cancelled": sum(r["cancelled"] for r in type_rows),
                    "open": open_total,
                    "overdue": overdue_total,
                    "decided_days": _avg(decided_days, decided),
                },
            ),
            Table(
                "by_phase",
                _("Par phase : en cours et temps passé"),
                [
                    Column("type", _("Type"), TEXT),
                    Column("phase", _("Phase"), TEXT),
                    Column("sla_days", _("Délai (jours)"), COUNT),
                    Column("open", _("En cours"), COUNT),
                    Column("complement", _("Complément demandé"), COUNT),
                    Column("overdue", _("En retard"), COUNT),
                    Column("passages", _("Phases terminées"), COUNT),
                    Column("avg_days", _("Durée moyenne (jours)"), DAYS),
                    Column("median_days", _("Durée médiane (jours entiers)"), DAYS),
                    Column("late", _("Terminées hors délai"), COUNT),
                    Column("late_share", _("Part hors délai"), PERCENT),
                ],
                phase_table,
                note=_(
                    "Temps passé : de l'entrée dans la phase à l'entrée dans la suivante ou à la clôture de "
                    "la demande ; la médiane est calculée en jours entiers."
                ),
            ),
            Table("by_agency", _("Par agence"), [Column("name", _("Agence"), TEXT), *count_cols], agency_rows),
            Table(
                "by_agent",
                _("Par agent (demandes affectées)"),
                [Column("name", _("Agent"), TEXT), *count_cols],
                agent_rows,
            ),
        ]
        return ReportResult(
            kpis=kpis,
            charts=charts,
            tables=tables,
            notes=[
                _(
                    "Toutes les demandes déposées dans la période ; « en cours » et « en retard » : leur "
                    "état à la date des données, l'échéance de la phase étant comparée à l'heure de la page."
                )
            ],
            data_as_of=matviews_freshness(self.matviews),
        )


def _blank() -> dict:
    return {"filed": 0, "open": 0, "overdue": 0, "decided": 0, "decided_days": 0}


def _people_rows(stats: dict[int, dict], names: dict[int, str], nobody: str) -> list[dict]:
    out = []
    for key, s in stats.items():
        out.append(
            {
                "name": names.get(key, nobody) if key else nobody,
                "filed": s["filed"],
                "open": s["open"],
                "overdue": s["overdue"],
                "decided": s["decided"],
                "decided_days": _avg(s["decided_days"], s["decided"]),
            }
        )
    out.sort(key=lambda r: (-r["filed"], r["name"]))
    return out
