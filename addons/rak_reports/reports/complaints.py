"""« Réclamations »: the complaints (rak_requests Complaint) filed in the period, by category and by
agency: how many, still open, the time to the first answer (``first_answered_at``: the first reply
or the closure) and to the closure (filing to the current closure, reopenings included), those
closed after their deadline, the reopen rate (reopened at least once, among those closed at least
once) and the customers' ratings (average and distribution, 1 to 5).

One aggregate, ``complaints_monthly``: month (of filing) × district (the complaint's) × agency ×
service (the dossier's, else the category's) × customer type (the complainant's customer, blank
when not a known customer) × category × status, with counts and sums only — averages and rates
are computed when the page is read, for any filter."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_customer.models import Agency
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    DAYS,
    DECIMAL,
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
from rak_requests.complaint_models import ComplaintCategory

STARS = (1, 2, 3, 4, 5)

MONTHLY = matview_register(
    MatView(
        name="complaints_monthly",
        sql=f"""
            WITH base AS (
                SELECT c.category_id, c.status, c.filed_at, c.first_answered_at, c.closed_at, c.due_at,
                       c.reopen_count, c.rating,
                       date_trunc('month', c.filed_at AT TIME ZONE '{settings.TIME_ZONE}')::date AS month,
                       c.district,
                       COALESCE(c.agency_id, 0) AS agency_id,
                       COALESCE(NULLIF(d.service, ''), NULLIF(cat.service, ''), '') AS service,
                       COALESCE(cu.kind, '') AS customer_kind
                  FROM rak_requests_complaint c
                  JOIN rak_requests_complaintcategory cat ON cat.id = c.category_id
                  LEFT JOIN rak_customer_dossier d ON d.id = c.dossier_id
                  LEFT JOIN rak_customer_customer cu ON cu.id = c.customer_id
            )
            SELECT month, district, agency_id, service, customer_kind, category_id, status,
                   count(*)::int AS complaints,
                   count(first_answered_at)::int AS answered,
                   COALESCE(sum(extract(epoch FROM first_answered_at - filed_at) / 3600.0), 0)::numeric(18, 6)
                       AS answer_hours,
                   count(*) FILTER (WHERE status = 'CLOSED')::int AS closed,
                   COALESCE(sum(extract(epoch FROM closed_at - filed_at) / 86400.0)
                       FILTER (WHERE status = 'CLOSED'), 0)::numeric(18, 6) AS closure_days,
                   count(*) FILTER (WHERE status = 'CLOSED' AND closed_at > due_at)::int AS closed_late,
                   count(*) FILTER (WHERE status = 'CLOSED' OR reopen_count > 0)::int AS ever_closed,
                   count(*) FILTER (WHERE reopen_count > 0)::int AS reopened,
                   COALESCE(sum(reopen_count), 0)::int AS reopenings,
                   count(rating)::int AS rated,
                   COALESCE(sum(rating), 0)::int AS rating_sum,
                   count(*) FILTER (WHERE rating = 1)::int AS rated_1,
                   count(*) FILTER (WHERE rating = 2)::int AS rated_2,
                   count(*) FILTER (WHERE rating = 3)::int AS rated_3,
                   count(*) FILTER (WHERE rating = 4)::int AS rated_4,
                   count(*) FILTER (WHERE rating = 5)::int AS rated_5
              FROM base
             GROUP BY month, district, agency_id, service, customer_kind, category_id, status
        """,  # noqa: S608 - SQL from code, the time zone from the settings
        unique=("month", "district", "agency_id", "service", "customer_kind", "category_id", "status"),
        indexes=(("month",),),
        label="réclamations par mois, catégorie, statut et agence",
    )
)

SUMS = (
    "complaints",
    "answered",
    "answer_hours",
    "closed",
    "closure_days",
    "closed_late",
    "ever_closed",
    "reopened",
    "reopenings",
    "rated",
    "rating_sum",
    *(f"rated_{n}" for n in STARS),
)


def _ratio(total, count, places: str = "0.1") -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal(places), ROUND_HALF_UP) if count else None


def _share(part, whole) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


def _figures(s: dict) -> dict:
    """The page's figures of one group of summed rows."""
    return {
        "filed": s["complaints"],
        "open": s["complaints"] - s["closed"],
        "closed": s["closed"],
        "answer_hours": _ratio(s["answer_hours"], s["answered"]),
        "closure_days": _ratio(s["closure_days"], s["closed"]),
        "closed_late": s["closed_late"],
        "reopened": s["reopened"],
        "reopen_rate": _share(s["reopened"], s["ever_closed"]),
        "rated": s["rated"],
        "rating_avg": _ratio(s["rating_sum"], s["rated"], "0.01"),
    }


@report_register
class ComplaintsReport(Report):
    slug = "reclamations"
    title = gettext_lazy("Réclamations")
    description = gettext_lazy(
        "Réclamations déposées dans la période : par catégorie et par agence, délais de première réponse "
        "et de clôture, taux de réouverture, appréciations des clients."
    )
    filters = ("period", "district", "agency", "service", "customer_kind")
    matviews = ("complaints_monthly",)

    def _grouped(self, filters: ReportFilters) -> list[dict]:
        sql, params = where(filters)
        sums = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
        return rows(
            f"""
            SELECT GROUPING(category_id) AS g_category, GROUPING(agency_id) AS g_agency, GROUPING(month) AS g_month,
                   category_id, agency_id, month, {sums}
              FROM {MONTHLY.table}
             WHERE {sql}
             GROUP BY GROUPING SETS ((category_id), (agency_id), (month), ())
            """,  # noqa: S608 - names from code, values bound
            params,
        )

    def build(self, filters: ReportFilters, *, now: datetime) -> ReportResult:
        found = self._grouped(filters)
        for r in found:
            for c in SUMS:
                r[c] = r[c] or 0
        total = next((r for r in found if r["g_category"] and r["g_agency"] and r["g_month"]), dict.fromkeys(SUMS, 0))
        categories = {c.pk: c for c in ComplaintCategory.objects.all()}
        by_category = [r for r in found if not r["g_category"]]
        by_category.sort(
            key=lambda r: (
                (categories[r["category_id"]].position, categories[r["category_id"]].name)
                if r["category_id"] in categories
                else (999, "")
            )
        )
        category_rows = [
            {"name": categories[r["category_id"]].name if r["category_id"] in categories else "—", **_figures(r)}
            for r in by_category
        ]
        by_agency = [r for r in found if not r["g_agency"]]
        names = dict(
            Agency.objects.filter(pk__in=[r["agency_id"] for r in by_agency if r["agency_id"]]).values_list(
                "pk", "name"
            )
        )
        agency_rows = [
            {
                "name": names.get(r["agency_id"], _("(sans agence)")) if r["agency_id"] else _("(sans agence)"),
                **_figures(r),
            }
            for r in by_agency
        ]
        agency_rows.sort(key=lambda r: (-r["filed"], str(r["name"])))
        months = {r["month"]: r["complaints"] for r in found if not r["g_month"]}
        month_list = filters.months()
        overall = _figures(total)
        star_counts = [total[f"rated_{n}"] for n in STARS]
        rating_rows: list[dict[str, Any]] = [
            {"stars": f"{n}/5", "count": c, "share": _share(c, total["rated"])}
            for n, c in zip(STARS, star_counts, strict=True)
        ]

        columns = [
            Column("filed", _("Déposées"), COUNT),
            Column("open", _("En cours"), COUNT),
            Column("closed", _("Clôturées"), COUNT),
            Column("answer_hours", _("1re réponse : délai moyen (heures)"), DECIMAL),
            Column("closure_days", _("Clôture : délai moyen (jours)"), DAYS),
            Column("closed_late", _("Clôturées hors délai"), COUNT),
            Column("reopen_rate", _("Taux de réouverture"), PERCENT),
            Column("rating_avg", _("Note moyenne (sur 5)"), DECIMAL),
            Column("rated", _("Notes reçues"), COUNT),
        ]
        totals = {"name": _("Total"), **overall}
        kpis = [
            Kpi(_("Réclamations déposées"), overall["filed"], COUNT, key="filed"),
            Kpi(
                _("Réclamations en cours"),
                overall["open"],
                COUNT,
                hint=_("Déposées dans la période, non clôturées"),
                key="open",
            ),
            Kpi(
                _("Délai moyen de première réponse"),
                overall["answer_hours"],
                DECIMAL,
                hint=_("En heures, du dépôt à la première réponse d'un agent"),
                key="answer_hours",
            ),
            Kpi(
                _("Délai moyen de clôture"),
                overall["closure_days"],
                DAYS,
                hint=_("En jours, du dépôt à la clôture (réouvertures comprises)"),
                key="closure_days",
            ),
            Kpi(
                _("Taux de réouverture"),
                overall["reopen_rate"],
                PERCENT,
                hint=_("Rouvertes au moins une fois, parmi les réclamations clôturées au moins une fois"),
                key="reopen_rate",
            ),
            Kpi(
                _("Note moyenne des clients"),
                overall["rating_avg"],
                DECIMAL,
                hint=_("Sur 5, %(count)s note(s)") % {"count": overall["rated"]},
                key="rating_avg",
            ),
        ]
        category_labels = [r["name"] for r in category_rows]
        charts = [
            Chart(
                "by_category",
                _("Réclamations par catégorie"),
                category_labels,
                [
                    Series(_("Déposées"), [r["filed"] for r in category_rows]),
                    Series(_("Clôturées"), [r["closed"] for r in category_rows]),
                    Series(_("Rouvertes"), [r["reopened"] for r in category_rows]),
                ],
                kind=COUNT,
                horizontal=True,
            ),
            Chart(
                "closure_days",
                _("Délai moyen de clôture par catégorie (jours)"),
                category_labels,
                [Series(_("Clôture (jours)"), [r["closure_days"] for r in category_rows])],
                kind=DAYS,
                horizontal=True,
            ),
            Chart(
                "ratings",
                _("Appréciations des clients"),
                [r["stars"] for r in rating_rows],
                [Series(_("Notes"), star_counts)],
                kind=COUNT,
                desc=_("Nombre de réclamations clôturées notées 1 à 5 par le client"),
            ),
            Chart(
                "by_month",
                _("Réclamations déposées par mois"),
                [f"{m:%m/%Y}" for m in month_list],
                [Series(_("Déposées"), [months.get(m, 0) for m in month_list])],
                kind=COUNT,
            ),
        ]
        tables = [
            Table(
                "by_category",
                _("Par catégorie"),
                [Column("name", _("Catégorie"), TEXT), *columns],
                category_rows,
                totals=totals,
            ),
            Table(
                "by_agency", _("Par agence"), [Column("name", _("Agence"), TEXT), *columns], agency_rows, totals=totals
            ),
            Table(
                "ratings",
                _("Répartition des notes"),
                [
                    Column("stars", _("Note"), TEXT),
                    Column("count", _("Réclamations"), COUNT),
                    Column("share", _("Part"), PERCENT),
                ],
                rating_rows,
                totals={
                    "stars": _("Total"),
                    "count": total["rated"],
                    "share": Decimal("100.0") if total["rated"] else None,
                },
            ),
        ]
        return ReportResult(
            kpis=kpis,
            charts=charts,
            tables=tables,
            notes=[
                _(
                    "Réclamations déposées dans la période, dans leur état à la date des données ; une "
                    "réclamation rouverte n'est plus notée jusqu'à sa nouvelle clôture."
                )
            ],
            data_as_of=matviews_freshness(self.matviews),
        )
