"""« Facturé et encaissé »: what was billed and what was collected, month by month and by channel,
the online payment share, and the day's card payments against the CMI settlement file.

Definitions (also told on the page):

- **Facturé net** of a month: the bills issued that month (``Bill.total_ttc`` by ``issue_date``,
  every kind but credit notes) minus the credit notes (avoirs) issued that month. A bill's
  district and service are its dossier's (a bill without dossier: none).
- **Encaissé net** of a month: the payments received that month (``Payment.paid_at``, Casablanca
  time) minus the payments reversed that month (``PaymentReversal.reversed_at``: a returned cheque
  counts against the month it was returned, as the ledger's REVERSAL entry does). Refunds paid
  back to customers are not subtracted (they pay out credit, not a collection).
- A payment has no district nor service of its own: it is split by its allocations to bills
  (the part that paid a bill takes that bill's district and service), the part not allocated
  (an advance, a credit) has none (« non affecté »). Filtering by district or service therefore
  keeps only what paid bills of that district / service. Customer type and agency are the
  customer's.

Aggregates: ``rak_rpt_finance_billed`` (month × dimensions) and ``rak_rpt_finance_collected``
(month × dimensions × channel). The day's CMI figures are live queries on small indexed ranges
(the paid orders of the day on ``cmi_order_status_created``, the settlement files covering the
day and their lines by file)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.money import money_format, round_money
from rak_billing.models import Bill, Payment, PaymentAllocation, PaymentReversal
from rak_customer.models import Customer, Dossier, Premises
from rak_payment_cmi.models import PaymentOrder, SettlementImport, SettlementLine
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    MONEY,
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

ZERO = Decimal("0.00")
ZONE = settings.TIME_ZONE  # from code, never from a request: safe in the views' SQL

BILL = Bill._meta.db_table
PAYMENT = Payment._meta.db_table
ALLOCATION = PaymentAllocation._meta.db_table
REVERSAL = PaymentReversal._meta.db_table
CUSTOMER = Customer._meta.db_table
DOSSIER = Dossier._meta.db_table
PREMISES = Premises._meta.db_table

DIMS = ("district", "agency_id", "service", "customer_kind")

BILLED = matview_register(
    MatView(
        name="finance_billed",
        label="facturé par mois (factures et avoirs émis)",
        sql=f"""
SELECT date_trunc('month', b.issue_date)::date AS month,
       COALESCE(p.district, '') AS district,
       COALESCE(c.agency_id, 0) AS agency_id,
       COALESCE(d.service, '') AS service,
       c.kind AS customer_kind,
       COALESCE(SUM(b.total_ttc) FILTER (WHERE b.kind <> 'CREDIT_NOTE'), 0)::numeric(16, 2) AS billed,
       COALESCE(SUM(b.total_ttc) FILTER (WHERE b.kind = 'CREDIT_NOTE'), 0)::numeric(16, 2) AS credited,
       COUNT(*) FILTER (WHERE b.kind <> 'CREDIT_NOTE') AS bills,
       COUNT(*) FILTER (WHERE b.kind = 'CREDIT_NOTE') AS credit_notes
  FROM {BILL} b
  JOIN {CUSTOMER} c ON c.id = b.customer_id
  LEFT JOIN {DOSSIER} d ON d.id = b.dossier_id
  LEFT JOIN {PREMISES} p ON p.id = d.premises_id
 GROUP BY 1, 2, 3, 4, 5
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "service", "customer_kind"),
        indexes=(("month",),),
    )
)

# One payment = its allocations to bills (each with the bill's district and service) + what it
# did not allocate (no district, no service); a reversal repeats that split, negated, in the
# month of the reversal.
COLLECTED = matview_register(
    MatView(
        name="finance_collected",
        label="encaissé par mois et par canal (paiements, annulations)",
        sql=f"""
WITH alloc_total AS (
    SELECT payment_id, SUM(amount) AS amount
      FROM {ALLOCATION}
     WHERE payment_id IS NOT NULL AND reversal_id IS NULL
     GROUP BY 1
), allocated AS (
    -- what each payment paid, by the district and service of the bills it paid, in its month
    SELECT date_trunc('month', pay.paid_at AT TIME ZONE '{ZONE}')::date AS month,
           COALESCE(p.district, '') AS district, COALESCE(c.agency_id, 0) AS agency_id,
           COALESCE(d.service, '') AS service, c.kind AS customer_kind, pay.method,
           SUM(a.amount) AS gross, 0::numeric AS reversed
      FROM {ALLOCATION} a
      JOIN {PAYMENT} pay ON pay.id = a.payment_id
      JOIN {CUSTOMER} c ON c.id = pay.customer_id
      JOIN {BILL} b ON b.id = a.bill_id
      LEFT JOIN {DOSSIER} d ON d.id = b.dossier_id
      LEFT JOIN {PREMISES} p ON p.id = d.premises_id
     WHERE a.payment_id IS NOT NULL AND a.reversal_id IS NULL
     GROUP BY 1, 2, 3, 4, 5, 6
), unallocated AS (
    -- the part of a payment no bill took (advance, credit): no district, no service
    SELECT date_trunc('month', pay.paid_at AT TIME ZONE '{ZONE}')::date, '', COALESCE(c.agency_id, 0), '',
           c.kind, pay.method, SUM(pay.amount - COALESCE(t.amount, 0)), 0::numeric
      FROM {PAYMENT} pay
      JOIN {CUSTOMER} c ON c.id = pay.customer_id
      LEFT JOIN alloc_total t ON t.payment_id = pay.id
     WHERE pay.amount - COALESCE(t.amount, 0) <> 0
     GROUP BY 1, 2, 3, 4, 5, 6
), reversed_allocated AS (
    -- a reversed payment (few): the same split, taken back in the month of the reversal
    SELECT date_trunc('month', r.reversed_at AT TIME ZONE '{ZONE}')::date, COALESCE(p.district, ''),
           COALESCE(c.agency_id, 0), COALESCE(d.service, ''), c.kind, pay.method, 0::numeric, SUM(a.amount)
      FROM {REVERSAL} r
      JOIN {PAYMENT} pay ON pay.id = r.payment_id
      JOIN {CUSTOMER} c ON c.id = pay.customer_id
      JOIN {ALLOCATION} a ON a.payment_id = pay.id AND a.reversal_id IS NULL
      JOIN {BILL} b ON b.id = a.bill_id
      LEFT JOIN {DOSSIER} d ON d.id = b.dossier_id
      LEFT JOIN {PREMISES} p ON p.id = d.premises_id
     GROUP BY 1, 2, 3, 4, 5, 6
), reversed_unallocated AS (
    SELECT date_trunc('month', r.reversed_at AT TIME ZONE '{ZONE}')::date, '', COALESCE(c.agency_id, 0), '',
           c.kind, pay.method, 0::numeric, SUM(pay.amount - COALESCE(t.amount, 0))
      FROM {REVERSAL} r
      JOIN {PAYMENT} pay ON pay.id = r.payment_id
      JOIN {CUSTOMER} c ON c.id = pay.customer_id
      LEFT JOIN alloc_total t ON t.payment_id = pay.id
     WHERE pay.amount - COALESCE(t.amount, 0) <> 0
     GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT month, district, agency_id, service, customer_kind, method,
       SUM(gross)::numeric(16, 2) AS gross,
       SUM(reversed)::numeric(16, 2) AS reversed,
       SUM(gross - reversed)::numeric(16, 2) AS collected
  FROM (SELECT * FROM allocated
        UNION ALL SELECT * FROM unallocated
        UNION ALL SELECT * FROM reversed_allocated
        UNION ALL SELECT * FROM reversed_unallocated) AS moves
 GROUP BY 1, 2, 3, 4, 5, 6
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "service", "customer_kind", "method"),
        indexes=(("month",),),
    )
)

# the channels of the report, in this order (Payment.Method grouped as the direction reads them)
CHANNELS = (
    ("CARD_CMI", gettext_lazy("Carte bancaire (CMI, en ligne)"), ("CARD_CMI",)),
    ("COUNTER", gettext_lazy("Guichet (espèces, chèques)"), ("CASH", "CHEQUE")),
    ("AGENT_NETWORK", gettext_lazy("Réseaux d'agents"), ("AGENT_NETWORK",)),
    ("DIRECT_DEBIT", gettext_lazy("Prélèvement"), ("DIRECT_DEBIT",)),
    ("TRANSFER", gettext_lazy("Virement"), ("TRANSFER",)),
)
CHANNEL_OF = {method: key for key, _label, methods in CHANNELS for method in methods}


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


def billed_by_month(filters: ReportFilters) -> dict[datetime.date, dict]:
    sql, params = where(filters, dims=DIMS)
    found = rows(
        f"SELECT month, SUM(billed) AS billed, SUM(credited) AS credited, SUM(bills) AS bills "  # noqa: S608 - names from code
        f"FROM {BILLED.table} WHERE {sql} GROUP BY month",
        params,
    )
    return {r["month"]: r for r in found}


def collected_by_month_method(filters: ReportFilters) -> list[dict]:
    sql, params = where(filters, dims=DIMS)
    return rows(
        f"SELECT month, method, SUM(gross) AS gross, SUM(reversed) AS reversed, SUM(collected) AS collected "  # noqa: S608
        f"FROM {COLLECTED.table} WHERE {sql} GROUP BY month, method",
        params,
    )


def _by_district(filters: ReportFilters) -> list[dict]:
    sql, params = where(filters, dims=DIMS)
    billed = rows(
        f"SELECT district, SUM(billed - credited) AS billed FROM {BILLED.table} WHERE {sql} GROUP BY district",  # noqa: S608
        params,
    )
    collected = rows(
        f"SELECT district, SUM(collected) AS collected FROM {COLLECTED.table} WHERE {sql} GROUP BY district",  # noqa: S608
        params,
    )
    out: dict[str, dict] = {}
    for r in billed:
        out.setdefault(r["district"], {"billed": ZERO, "collected": ZERO})["billed"] = round_money(r["billed"])
    for r in collected:
        out.setdefault(r["district"], {"billed": ZERO, "collected": ZERO})["collected"] = round_money(r["collected"])
    result = []
    for district in sorted(out, key=lambda d: (d == "", d)):
        values = out[district]
        result.append(
            {
                "district": district or _("(sans quartier : non affecté, factures sans dossier)"),
                "billed": values["billed"],
                "collected": values["collected"],
                "rate": _pct(values["collected"], values["billed"]),
            }
        )
    return result


# --- the day's card payments against the CMI settlement file -------------------------------------


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


def cmi_day(day: datetime.date) -> dict:
    """The day's card payments recorded here (orders PAID that day, fee included, as the
    settlement summary of rak_payment_cmi counts them) and the total accepted on the settlement
    file(s) covering that day (a transaction in two files is counted once: the latest file's).
    ``file_total`` is None when no file covers the day yet."""
    start, end = _day_bounds(day)
    # orders are paid within minutes of their creation: the (status, created_at) index, two days back
    recorded = PaymentOrder.objects.filter(
        status=PaymentOrder.Status.PAID,
        created_at__gte=start - datetime.timedelta(days=2),
        created_at__lt=end,
        paid_at__gte=start,
        paid_at__lt=end,
    ).aggregate(total=Sum("amount_total"), n=Count("id"))
    files = list(
        SettlementImport.objects.filter(period_start__lt=end, period_end__gte=start).values_list("id", flat=True)
    )
    out = {
        "recorded": round_money(recorded["total"] or ZERO),
        "recorded_count": recorded["n"] or 0,
        "file_total": None,
        "file_count": 0,
        "to_check": 0,
        "files": len(files),
    }
    if files:
        line = SettlementLine._meta.db_table
        imp = SettlementImport._meta.db_table
        found = rows(
            f"""SELECT COALESCE(SUM(amount), 0) AS total, COUNT(*) AS n FROM (
                  SELECT DISTINCT ON (COALESCE(NULLIF(l.trans_id, ''), l.oid)) l.amount
                    FROM {line} l JOIN {imp} i ON i.id = l.settlement_id
                   WHERE l.settlement_id = ANY(%s) AND l.gateway_status = 'ACCEPTED'
                     AND l.transaction_at >= %s AND l.transaction_at < %s
                   ORDER BY COALESCE(NULLIF(l.trans_id, ''), l.oid), i.created_at DESC, l.id
                ) x""",  # noqa: S608 - table names from code
            [files, start, end],
        )[0]
        to_check = (
            SettlementLine.objects.filter(settlement_id__in=files, resolution="")
            .exclude(check_result__in=[SettlementLine.Check.MATCHED, SettlementLine.Check.NO_MONEY])
            .filter(transaction_at__gte=start, transaction_at__lt=end)
            .count()
        )
        out.update(file_total=round_money(found["total"]), file_count=found["n"], to_check=to_check)
    return out


@report_register
class FinanceReport(Report):
    slug = "encaissements"
    title = gettext_lazy("Facturé et encaissé")
    description = gettext_lazy(
        "Facturé net : factures émises dans le mois (TTC, par date d'émission) moins les avoirs émis "
        "dans le mois. Encaissé net : paiements reçus dans le mois moins les paiements annulés dans le "
        "mois (chèque impayé, erreur d'imputation), par canal. Un paiement est réparti selon les factures "
        "qu'il a réglées (quartier et métier de leur dossier) ; sa part non affectée (avance, crédit) "
        "n'a ni quartier ni métier. Le taux d'encaissement rapporte l'encaissé au facturé de la même "
        "période (comptabilité de caisse, pas par génération de factures)."
    )
    matviews = (BILLED.name, COLLECTED.name)

    def headline(self, filters: ReportFilters, *, now: datetime.datetime) -> list[Kpi]:
        """The dashboard's three figures, from the two aggregates only (no CMI, no district table)."""
        billed = billed_by_month(filters).values()
        net = sum((round_money(r["billed"]) - round_money(r["credited"]) for r in billed), ZERO)
        collected = sum((r["collected"] for r in collected_by_month_method(filters)), ZERO)
        collected = round_money(collected)
        return [
            Kpi(_("Facturé net"), net, MONEY, _("Factures émises moins avoirs, TTC"), key="billed"),
            Kpi(_("Encaissé net"), collected, MONEY, _("Paiements moins annulations"), key="collected"),
            Kpi(_("Taux d'encaissement"), _pct(collected, net), PERCENT, key="collection-rate"),
        ]

    def build(self, filters: ReportFilters, *, now: datetime.datetime) -> ReportResult:
        months = filters.months()
        billed = billed_by_month(filters)
        collected = collected_by_month_method(filters)

        per_month: defaultdict[Any, Decimal] = defaultdict(lambda: ZERO)
        per_channel = {key: {"gross": ZERO, "reversed": ZERO, "collected": ZERO} for key, _l, _m in CHANNELS}
        channel_month: defaultdict[Any, Decimal] = defaultdict(lambda: ZERO)
        for r in collected:
            key = CHANNEL_OF.get(r["method"], "TRANSFER")
            per_month[r["month"]] += r["collected"]
            channel_month[(key, r["month"])] += r["collected"]
            for field in ("gross", "reversed", "collected"):
                per_channel[key][field] += r[field]

        month_rows: list[dict[str, Any]] = []
        for month in months:
            b = billed.get(month, {})
            gross = round_money(b.get("billed") or ZERO)
            credited = round_money(b.get("credited") or ZERO)
            net = gross - credited
            cash = round_money(per_month[month])
            month_rows.append(
                {
                    "month": _month_label(month),
                    "billed": gross,
                    "credited": credited,
                    "billed_net": net,
                    "collected": cash,
                    "online": round_money(channel_month[("CARD_CMI", month)]),
                    "rate": _pct(cash, net),
                }
            )
        total_billed = sum((r["billed"] for r in month_rows), ZERO)
        total_credited = sum((r["credited"] for r in month_rows), ZERO)
        total_net = total_billed - total_credited
        total_collected = sum((r["collected"] for r in month_rows), ZERO)
        total_online = round_money(per_channel["CARD_CMI"]["collected"])

        channel_rows: list[dict[str, Any]] = [
            {
                "channel": str(label),
                "gross": round_money(per_channel[key]["gross"]),
                "reversed": round_money(per_channel[key]["reversed"]),
                "collected": round_money(per_channel[key]["collected"]),
                "share": _pct(per_channel[key]["collected"], total_collected),
            }
            for key, label, _methods in CHANNELS
        ]

        today = timezone.localdate(now)
        cmi = cmi_day(today)
        difference = None if cmi["file_total"] is None else cmi["file_total"] - cmi["recorded"]
        notes = []
        if cmi["file_total"] is None:
            notes.append(
                _(
                    "Aucun relevé CMI importé pour le %(day)s : %(amount)s encaissés par carte aujourd'hui "
                    "(%(count)s paiement(s)) seront rapprochés à l'import du relevé (Paiement en ligne › "
                    "Rapprochements CMI)."
                )
                % {"day": f"{today:%d/%m/%Y}", "amount": money_format(cmi["recorded"]), "count": cmi["recorded_count"]}
            )
        elif difference:
            notes.append(
                _(
                    "Écart de %(diff)s entre le relevé CMI du %(day)s et les paiements par carte enregistrés : "
                    "%(lines)s ligne(s) de rapprochement à traiter."
                )
                % {"diff": money_format(difference), "day": f"{today:%d/%m/%Y}", "lines": cmi["to_check"]}
            )
        if filters.district or filters.service:
            notes.append(
                _(
                    "Filtre par quartier ou métier : l'encaissé ne compte que les paiements affectés aux "
                    "factures de ce quartier / métier (la part non affectée des paiements en est exclue)."
                )
            )

        kpis = [
            Kpi(_("Facturé net"), total_net, MONEY, _("Factures émises moins avoirs, TTC"), key="billed"),
            Kpi(_("Encaissé net"), total_collected, MONEY, _("Paiements moins annulations"), key="collected"),
            Kpi(_("Taux d'encaissement"), _pct(total_collected, total_net), PERCENT, key="collection-rate"),
            Kpi(
                _("Part du paiement en ligne"),
                _pct(total_online, total_collected),
                PERCENT,
                _("Carte bancaire (CMI) / encaissé net"),
                key="online-share",
            ),
            Kpi(
                _("Carte (CMI) aujourd'hui, enregistré"),
                cmi["recorded"],
                MONEY,
                _("%(n)s ordre(s) payé(s) le %(day)s, tous clients")
                % {"n": cmi["recorded_count"], "day": f"{today:%d/%m/%Y}"},
                key="cmi-today",
            ),
            Kpi(
                _("Relevé CMI du jour"),
                cmi["file_total"] if cmi["file_total"] is not None else _("pas encore de relevé"),
                MONEY if cmi["file_total"] is not None else TEXT,
                _("Transactions acceptées au relevé") if cmi["file_total"] is not None else "",
                key="cmi-file",
            ),
            Kpi(
                _("Écart relevé − enregistré"),
                difference if difference is not None else "—",
                MONEY if difference is not None else TEXT,
                key="cmi-difference",
            ),
        ]
        labels = [r["month"] for r in month_rows]
        charts = [
            Chart(
                "billed-collected",
                _("Facturé et encaissé par mois"),
                labels,
                [
                    Series(_("Facturé net"), [r["billed_net"] for r in month_rows]),
                    Series(_("Encaissé net"), [r["collected"] for r in month_rows]),
                ],
                kind=MONEY,
                desc=_("Barres groupées : facturé net et encaissé net de chaque mois de la période."),
            ),
            Chart(
                "channels",
                _("Encaissé par canal"),
                [r["channel"] for r in channel_rows],
                [Series(_("Encaissé net"), [r["collected"] for r in channel_rows])],
                kind=MONEY,
                horizontal=True,
            ),
        ]
        tables = [
            Table(
                "months",
                _("Par mois"),
                [
                    Column("month", _("Mois")),
                    Column("billed", _("Facturé (TTC)"), MONEY),
                    Column("credited", _("Avoirs"), MONEY),
                    Column("billed_net", _("Facturé net"), MONEY),
                    Column("collected", _("Encaissé net"), MONEY),
                    Column("online", _("Dont carte (CMI)"), MONEY),
                    Column("rate", _("Taux d'encaissement (%)"), PERCENT),
                ],
                month_rows,
                totals={
                    "month": _("Total"),
                    "billed": total_billed,
                    "credited": total_credited,
                    "billed_net": total_net,
                    "collected": total_collected,
                    "online": total_online,
                    "rate": _pct(total_collected, total_net),
                },
            ),
            Table(
                "channels",
                _("Par canal"),
                [
                    Column("channel", _("Canal")),
                    Column("gross", _("Paiements reçus"), MONEY),
                    Column("reversed", _("Annulations"), MONEY),
                    Column("collected", _("Encaissé net"), MONEY),
                    Column("share", _("Part (%)"), PERCENT),
                ],
                channel_rows,
                totals={
                    "channel": _("Total"),
                    "gross": sum((r["gross"] for r in channel_rows), ZERO),
                    "reversed": sum((r["reversed"] for r in channel_rows), ZERO),
                    "collected": total_collected,
                    "share": Decimal("100.0") if total_collected else None,
                },
                note=_(
                    "Guichet : espèces et chèques en agence. Annulations : paiements annulés dans la période. "
                    "Les remboursements versés aux clients ne sont pas déduits."
                ),
            ),
            Table(
                "districts",
                _("Par quartier"),
                [
                    Column("district", _("Quartier")),
                    Column("billed", _("Facturé net"), MONEY),
                    Column("collected", _("Encaissé net"), MONEY),
                    Column("rate", _("Taux d'encaissement (%)"), PERCENT),
                ],
                _by_district(filters),
            ),
            Table(
                "cmi-day",
                _("Carte bancaire du jour et relevé CMI"),
                [
                    Column("label", _("Montant")),
                    Column("amount", _("Total"), MONEY),
                    Column("count", _("Transactions")),
                ],
                [
                    {
                        "label": _("Enregistré ici (ordres payés)"),
                        "amount": cmi["recorded"],
                        "count": cmi["recorded_count"],
                    },
                    {
                        "label": _("Accepté au relevé CMI"),
                        "amount": cmi["file_total"],
                        "count": cmi["file_count"] if cmi["files"] else "",
                    },
                    {"label": _("Écart"), "amount": difference, "count": ""},
                ],
                note=_("Journée du %(day)s (heure de Casablanca), tous clients, sans les filtres de la page.")
                % {"day": f"{today:%d/%m/%Y}"},
            ),
        ]
        return ReportResult(
            kpis=kpis,
            charts=charts,
            tables=tables,
            notes=notes,
            data_as_of=matviews_freshness(self.matviews),
        )
