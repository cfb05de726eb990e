"""« Créances et impayés »: what customers owe, aged by days past the due date (0–30, 31–60,
61–90, more than 90), by district and by customer type, and the 20 largest debtors.

Open amount of a bill, as the ledger counts it: ``total_ttc`` minus its allocations (payments and
credit notes; a reversed payment's negative allocations re-open it), for the bills not settled,
credit notes aside (a credit note reduces the bill it was allocated to; a credit left unallocated
is the customer's credit, not a negative receivable). A bill is overdue from the day after its due
date (``bill_is_exigible``).

Aggregates (no period: ageing is as of today, computed at read time from aggregated due dates):
``rak_rpt_receivables_due`` (due date × dimensions) and ``rak_rpt_receivables_debtors`` (customer
× district × service × due date, for the top debtors and the number of debtors)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.money import round_money
from rak_billing.models import Bill, PaymentAllocation
from rak_customer.models import Agency, Customer, Dossier, Premises
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    DATE,
    MONEY,
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

ZERO = Decimal("0.00")
BILL = Bill._meta.db_table
ALLOCATION = PaymentAllocation._meta.db_table
CUSTOMER = Customer._meta.db_table
DOSSIER = Dossier._meta.db_table
PREMISES = Premises._meta.db_table
DIMS = ("district", "agency_id", "service", "customer_kind")
TOP = 20

_OPEN_BILLS = f"""
WITH open_bills AS MATERIALIZED (
    SELECT b.id, b.customer_id, b.dossier_id, b.due_date,
           b.total_ttc - COALESCE((SELECT SUM(a.amount) FROM {ALLOCATION} a WHERE a.bill_id = b.id), 0) AS open_amount
      FROM {BILL} b
     WHERE b.settled_at IS NULL AND b.kind <> 'CREDIT_NOTE'
)"""  # noqa: S608 - table names from code

DUE = matview_register(
    MatView(
        name="receivables_due",
        label="créances ouvertes par date d'échéance",
        sql=f"""{_OPEN_BILLS}
SELECT o.due_date,
       COALESCE(p.district, '') AS district,
       COALESCE(c.agency_id, 0) AS agency_id,
       COALESCE(d.service, '') AS service,
       c.kind AS customer_kind,
       SUM(o.open_amount)::numeric(16, 2) AS open_amount,
       COUNT(*) AS bills
  FROM open_bills o
  JOIN {CUSTOMER} c ON c.id = o.customer_id
  LEFT JOIN {DOSSIER} d ON d.id = o.dossier_id
  LEFT JOIN {PREMISES} p ON p.id = d.premises_id
 WHERE o.open_amount > 0
 GROUP BY 1, 2, 3, 4, 5
""",  # noqa: S608 - table names from code
        unique=("due_date", "district", "agency_id", "service", "customer_kind"),
        indexes=(("due_date",),),
    )
)

DEBTORS = matview_register(
    MatView(
        name="receivables_debtors",
        label="créances ouvertes par client et date d'échéance (principaux débiteurs)",
        sql=f"""{_OPEN_BILLS}
SELECT o.customer_id,
       COALESCE(p.district, '') AS district,
       COALESCE(d.service, '') AS service,
       o.due_date,
       COALESCE(c.agency_id, 0) AS agency_id,
       c.kind AS customer_kind,
       SUM(o.open_amount)::numeric(16, 2) AS open_amount,
       COUNT(*) AS bills
  FROM open_bills o
  JOIN {CUSTOMER} c ON c.id = o.customer_id
  LEFT JOIN {DOSSIER} d ON d.id = o.dossier_id
  LEFT JOIN {PREMISES} p ON p.id = d.premises_id
 WHERE o.open_amount > 0
 GROUP BY 1, 2, 3, 4, 5, 6
""",  # noqa: S608 - table names from code
        unique=("customer_id", "district", "service", "due_date"),
        indexes=(("due_date",), ("customer_id",), ("district", "due_date")),
    )
)

CUSTOMERS = matview_register(
    MatView(
        name="receivables_customers",
        label="créances ouvertes par client (total, plus ancienne échéance)",
        sql=f"""{_OPEN_BILLS}
SELECT o.customer_id,
       COALESCE(c.agency_id, 0) AS agency_id,
       c.kind AS customer_kind,
       SUM(o.open_amount)::numeric(16, 2) AS open_total,
       MIN(o.due_date) AS oldest_due
  FROM open_bills o
  JOIN {CUSTOMER} c ON c.id = o.customer_id
 WHERE o.open_amount > 0
 GROUP BY 1, 2, 3
""",  # noqa: S608 - table names from code
        unique=("customer_id",),
        indexes=(("open_total", "customer_id"), ("oldest_due",)),
    )
)

# (key, label, days overdue from, to — both included; None: no bound)
BUCKETS = (
    ("d0_30", gettext_lazy("0–30 jours"), 1, 30),
    ("d31_60", gettext_lazy("31–60 jours"), 31, 60),
    ("d61_90", gettext_lazy("61–90 jours"), 61, 90),
    ("d90", gettext_lazy("Plus de 90 jours"), 91, None),
)


def _bucket_sql(today: datetime.date) -> tuple[str, list]:
    """SUM(open_amount) per bucket and « not yet due », as SQL with bound dates."""
    parts = ["COALESCE(SUM(open_amount) FILTER (WHERE due_date >= %s), 0) AS not_due"]
    params: list = [today]
    for key, _label, low, high in BUCKETS:
        # overdue by d days: due_date = today − d
        if high is None:
            parts.append(f"COALESCE(SUM(open_amount) FILTER (WHERE due_date <= %s), 0) AS {key}")
            params.append(today - datetime.timedelta(days=low))
        else:
            parts.append(f"COALESCE(SUM(open_amount) FILTER (WHERE due_date <= %s AND due_date >= %s), 0) AS {key}")
            params += [today - datetime.timedelta(days=low), today - datetime.timedelta(days=high)]
    return ", ".join(parts), params


def ageing(filters: ReportFilters, *, today: datetime.date) -> tuple[dict, list[dict], list[dict]]:
    """Open amounts per bucket: the total, per district and per customer type, in one scan of the
    due-date aggregate (GROUPING SETS)."""
    buckets, bucket_params = _bucket_sql(today)
    sql, params = where(filters, month=None, dims=DIMS)
    found = rows(
        f"SELECT district, customer_kind, GROUPING(district) AS g_district, GROUPING(customer_kind) AS g_kind, "  # noqa: S608 - names from code
        f"{buckets}, COALESCE(SUM(open_amount), 0) AS open_total "
        f"FROM {DUE.table} WHERE {sql} GROUP BY GROUPING SETS ((), (district), (customer_kind))",
        bucket_params + params,
    )
    for row in found:
        for key in ("not_due", *(b[0] for b in BUCKETS), "open_total"):
            row[key] = round_money(row[key])
        row["overdue"] = sum((row[b[0]] for b in BUCKETS), ZERO)
    total = next(r for r in found if r["g_district"] and r["g_kind"])
    by_district = sorted((r for r in found if not r["g_district"]), key=lambda r: r["district"])
    by_kind = sorted((r for r in found if not r["g_kind"]), key=lambda r: r["customer_kind"])
    for row in by_district:
        row["grp"] = row["district"]
    for row in by_kind:
        row["grp"] = row["customer_kind"]
    return total, by_district, by_kind


BATCH = 500
MAX_BATCHES = 40


def _overdue_of(customer_ids: list[int], filters: ReportFilters, *, today: datetime.date) -> list[dict]:
    sql, params = where(filters, month=None, dims=DIMS)
    return rows(
        f"""SELECT customer_id,
                   SUM(open_amount) FILTER (WHERE due_date < %s) AS overdue,
                   COALESCE(SUM(open_amount) FILTER (WHERE due_date <= %s), 0) AS over_90,
                   SUM(open_amount) AS open_total,
                   MIN(due_date) AS oldest_due,
                   SUM(bills) FILTER (WHERE due_date < %s) AS bills
              FROM {DEBTORS.table}
             WHERE customer_id = ANY(%s) AND {sql}
             GROUP BY customer_id
            HAVING SUM(open_amount) FILTER (WHERE due_date < %s) > 0""",  # noqa: S608 - names from code
        [today, today - datetime.timedelta(days=91), today, customer_ids, *params, today],
    )


def _top_rows(filters: ReportFilters, *, today: datetime.date, limit: int) -> list[dict]:
    """The ``limit`` largest overdue amounts, exactly, without grouping every open bill: customers
    are read by decreasing open total (``receivables_customers``, indexed), an upper bound of what
    they owe overdue under any filter; a batch's overdue amounts are summed on the per-customer
    index of ``receivables_debtors``; reading stops once the ``limit``-th amount found is at least
    the next customer's open total."""
    best: list[dict] = []
    bound = None
    # a district or a service: the customers' open totals (all districts, all services) bound the
    # overdue amounts too loosely and the batches do not converge (bench: 100 queries, 1.2 s); one
    # grouped query on the filtered rows answers in ~130 ms at 6.6 M bills
    batches = 0 if (filters.district or filters.service) else MAX_BATCHES
    customer_sql, customer_params = where(filters, month=None, dims=("agency_id", "customer_kind"))
    for _batch in range(batches):
        page = rows(
            f"SELECT customer_id, open_total FROM {CUSTOMERS.table} "  # noqa: S608 - names from code
            f"WHERE oldest_due < %s AND {customer_sql} "
            + ("AND (open_total, customer_id) < (%s, %s) " if bound else "")
            + "ORDER BY open_total DESC, customer_id DESC LIMIT %s",
            [today, *customer_params, *(bound or ()), BATCH],
        )
        if not page:
            return best
        best = sorted(
            best + _overdue_of([r["customer_id"] for r in page], filters, today=today),
            key=lambda r: (-r["overdue"], r["customer_id"]),
        )[:limit]
        bound = (page[-1]["open_total"], page[-1]["customer_id"])
        if len(page) < BATCH or (len(best) == limit and best[-1]["overdue"] > bound[0]):
            return best
    # not converged (many customers owing far more than is overdue), or filtered on a district or a
    # service: group the overdue rows, exactly
    sql, params = where(filters, month=None, dims=DIMS)
    ids = [
        r["customer_id"]
        for r in rows(
            f"SELECT customer_id FROM {DEBTORS.table} WHERE due_date < %s AND {sql} "  # noqa: S608
            f"GROUP BY customer_id ORDER BY SUM(open_amount) DESC, customer_id LIMIT %s",
            [today, *params, limit],
        )
    ]
    return sorted(_overdue_of(ids, filters, today=today), key=lambda r: (-r["overdue"], r["customer_id"]))


def debtors_count(filters: ReportFilters, *, today: datetime.date) -> int:
    """How many customers owe something overdue (under the page's filters)."""
    if filters.district or filters.service:
        sql, params = where(filters, month=None, dims=DIMS)
        return rows(
            f"SELECT COUNT(DISTINCT customer_id) AS n FROM {DEBTORS.table} WHERE due_date < %s AND {sql}",  # noqa: S608
            [today, *params],
        )[0]["n"]
    sql, params = where(filters, month=None, dims=("agency_id", "customer_kind"))
    return rows(
        f"SELECT COUNT(*) AS n FROM {CUSTOMERS.table} WHERE oldest_due < %s AND {sql}",  # noqa: S608
        [today, *params],
    )[0]["n"]


def top_debtors(filters: ReportFilters, *, today: datetime.date, limit: int = TOP) -> list[dict]:
    """The ``limit`` customers owing the most overdue money (ties: customer id), as table rows."""
    found = _top_rows(filters, today=today, limit=limit)
    customers = Customer.objects.in_bulk([r["customer_id"] for r in found])
    agencies: dict[int | None, str] = dict(Agency.objects.values_list("id", "name"))
    out = []
    for rank, row in enumerate(found, start=1):
        customer = customers.get(row["customer_id"])
        out.append(
            {
                "rank": rank,
                "customer": {
                    "text": str(customer) if customer else str(row["customer_id"]),
                    "url": reverse("admin:rak_customer_customer_change", args=[row["customer_id"]]),
                },
                "kind": customer.get_kind_display() if customer else "",
                "agency": agencies.get(customer.agency_id, "") if customer else "",
                "overdue": round_money(row["overdue"]),
                "over_90": round_money(row["over_90"]),
                "open_total": round_money(row["open_total"]),
                "oldest_due": row["oldest_due"],
                "days": (today - row["oldest_due"]).days,
                "bills": row["bills"],
            }
        )
    return out


def _bucket_columns() -> list[Column]:
    return [
        Column("not_due", _("Non échu"), MONEY),
        *(Column(key, str(label), MONEY) for key, label, _low, _high in BUCKETS),
        Column("overdue", _("Total échu"), MONEY),
    ]


def _totals(found: list[dict], first: str, label: str) -> dict:
    keys = ("not_due", *(b[0] for b in BUCKETS), "overdue")
    return {first: label, **{k: sum((r[k] for r in found), ZERO) for k in keys}}


@report_register
class ReceivablesReport(Report):
    slug = "creances"
    title = gettext_lazy("Créances et impayés")
    description = gettext_lazy(
        "Montants restant dus aujourd'hui sur les factures non soldées (total TTC moins paiements et "
        "avoirs affectés ; un paiement annulé rouvre la facture), classés par ancienneté du retard "
        "depuis la date d'échéance. Le filtre de période ne s'applique pas : l'ancienneté est calculée "
        "à la date du jour."
    )
    filters = ("district", "agency", "service", "customer_kind")
    matviews = (DUE.name, DEBTORS.name, CUSTOMERS.name)

    def headline(self, filters: ReportFilters, *, now: datetime.datetime) -> list[Kpi]:
        """The dashboard's three figures, without the top debtors."""
        today = timezone.localdate(now)
        total = ageing(filters, today=today)[0]
        return self._kpis(total, debtors_count(filters, today=today), today)[:3]

    def _kpis(self, total: dict, debtor_count: int, today: datetime.date) -> list[Kpi]:
        return [
            Kpi(
                _("Créances échues"),
                total["overdue"],
                MONEY,
                _("Au %(day)s") % {"day": f"{today:%d/%m/%Y}"},
                key="overdue",
            ),
            Kpi(_("Dont plus de 90 jours"), total["d90"], MONEY, key="over-90"),
            Kpi(_("Clients débiteurs"), debtor_count, COUNT, _("Au moins une facture échue impayée"), key="debtors"),
            Kpi(
                _("Part de plus de 90 jours"),
                (total["d90"] * 100 / total["overdue"]).quantize(Decimal("0.1")) if total["overdue"] else None,
                PERCENT,
                key="over-90-share",
            ),
            Kpi(_("Non échu"), total["not_due"], MONEY, _("Factures ouvertes pas encore échues"), key="not-due"),
            Kpi(_("Total restant dû"), total["open_total"], MONEY, key="open-total"),
        ]

    def build(self, filters: ReportFilters, *, now: datetime.datetime) -> ReportResult:
        today = timezone.localdate(now)
        total, by_district, by_kind = ageing(filters, today=today)
        debtors = top_debtors(filters, today=today)
        debtor_count = debtors_count(filters, today=today)
        kinds = dict(Customer.Kind.choices)
        for row in by_district:
            row["label"] = row["grp"] or _("(factures sans dossier)")
        for row in by_kind:
            row["label"] = str(kinds.get(row["grp"], row["grp"]))
        bucket_labels = [str(b[1]) for b in BUCKETS]
        kpis = self._kpis(total, debtor_count, today)
        charts = [
            Chart(
                "ageing",
                _("Ancienneté des créances échues"),
                bucket_labels,
                [Series(row["label"], [row[b[0]] for b in BUCKETS]) for row in by_kind]
                or [Series(_("Créances échues"), [ZERO for _b in BUCKETS])],
                kind=MONEY,
                desc=_("Par tranche de retard, une barre par type de client."),
            ),
            Chart(
                "districts",
                _("Créances échues par quartier"),
                [row["label"] for row in by_district],
                [Series(_("Créances échues"), [row["overdue"] for row in by_district])],
                kind=MONEY,
                horizontal=True,
            ),
        ]
        tables = [
            Table(
                "districts",
                _("Par quartier"),
                [Column("label", _("Quartier")), *_bucket_columns()],
                by_district,
                totals=_totals(by_district, "label", _("Total")),
            ),
            Table(
                "kinds",
                _("Par type de client"),
                [Column("label", _("Type de client")), *_bucket_columns()],
                by_kind,
                totals=_totals(by_kind, "label", _("Total")),
            ),
            Table(
                "debtors",
                _("Principaux débiteurs"),
                [
                    Column("rank", _("Rang"), COUNT),
                    Column("customer", _("Client")),
                    Column("kind", _("Type")),
                    Column("agency", _("Agence")),
                    Column("overdue", _("Échu"), MONEY),
                    Column("over_90", _("Dont > 90 jours"), MONEY),
                    Column("open_total", _("Total restant dû"), MONEY),
                    Column("oldest_due", _("Plus ancienne échéance"), DATE),
                    Column("days", _("Jours de retard"), COUNT),
                    Column("bills", _("Factures échues"), COUNT),
                ],
                debtors,
                link_key="customer",
                note=_("Les %(n)s clients qui doivent le plus en montant échu (filtres de la page appliqués).")
                % {"n": TOP},
            ),
        ]
        return ReportResult(kpis=kpis, charts=charts, tables=tables, data_as_of=matviews_freshness(self.matviews))
