"""« Agence en ligne »: how far the customers took up the online agency — portal accounts against
customers, accounts opened each month, accounts active each month (portal or mobile app), the
e-facture opt-ins, the pages most viewed and the devices of the mobile app.

Definitions (also told on the page):

- **Clients**: customers with status CLIENT (prospects left out); **comptes**: the portal accounts
  (``PortalAccount``) of those customers. Both, and the e-facture customers
  (``Customer.e_invoice_since`` set), are the situation at the date of the data (not the period).
- **Comptes créés** of a month: ``PortalAccount.created_at`` that month (Casablanca time), every
  account (a prospect's too). **Adhésions e-facture** of a month: ``e_invoice_since`` that month
  (customers still on e-facture: one who went back to paper is no longer counted).
- **Utilisateurs actifs** of a month: distinct portal accounts that used the portal or the app at
  least one day that month (``rak_reports.models.ActiveDay``, written by
  ``rak_reports.middleware.PortalUsageMiddleware``). Months do not add up (one account active in
  two months counts in both): the period shows the monthly average and the last month.
- A customer's district is the premises of their first active dossier (else their first dossier);
  agency and customer type are the customer's. Pages (``PageHit``) have no district nor customer:
  only the period applies to them. Devices are the app's connected devices not signed out
  (situation at the date of the data).

Aggregates: ``rak_rpt_adoption_customers`` (dimensions), ``rak_rpt_adoption_monthly`` (month ×
dimensions), ``rak_rpt_adoption_pages`` (month × route), ``rak_rpt_adoption_devices`` (dimensions
× platform)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_customer.device_models import Device
from rak_customer.models import Customer, Dossier, PortalAccount, Premises
from rak_reports.matviews import MatView, matview_register, matviews_freshness
from rak_reports.models import ActiveDay, PageHit
from rak_reports.query import ReportFilters, rows, where
from rak_reports.reports import (
    COUNT,
    DECIMAL,
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

ZONE = settings.TIME_ZONE  # from code, never from a request
CUSTOMER = Customer._meta.db_table
DOSSIER = Dossier._meta.db_table
PREMISES = Premises._meta.db_table
ACCOUNT = PortalAccount._meta.db_table
DEVICE = Device._meta.db_table
ACTIVE = ActiveDay._meta.db_table
HIT = PageHit._meta.db_table

DIMS = ("district", "agency_id", "customer_kind")
TOP_PAGES = 15

# one row per customer: the dimensions the adoption figures are cut by
_CUSTOMER_DIMS = f"""
main AS (
    SELECT DISTINCT ON (d.customer_id) d.customer_id, p.district
    FROM {DOSSIER} d JOIN {PREMISES} p ON p.id = d.premises_id
    ORDER BY d.customer_id, (d.status = 'ACTIVE') DESC, d.id
),
cust AS (
    SELECT c.id, c.status, c.e_invoice_since,
           COALESCE(m.district, '') AS district,
           COALESCE(c.agency_id, 0) AS agency_id,
           c.kind AS customer_kind
    FROM {CUSTOMER} c LEFT JOIN main m ON m.customer_id = c.id
)"""  # noqa: S608 - table names from code

CUSTOMERS = matview_register(
    MatView(
        name="adoption_customers",
        label="clients, comptes de l'agence en ligne et e-facture (situation)",
        sql=f"""
WITH {_CUSTOMER_DIMS}
SELECT cust.district, cust.agency_id, cust.customer_kind,
       COUNT(*) FILTER (WHERE cust.status = 'CLIENT') AS customers,
       COUNT(a.id) FILTER (WHERE cust.status = 'CLIENT') AS accounts,
       COUNT(*) FILTER (WHERE cust.status = 'CLIENT' AND cust.e_invoice_since IS NOT NULL) AS e_invoices
FROM cust LEFT JOIN {ACCOUNT} a ON a.customer_id = cust.id
GROUP BY 1, 2, 3
""",  # noqa: S608 - table names from code
        unique=("district", "agency_id", "customer_kind"),
    )
)

MONTHLY = matview_register(
    MatView(
        name="adoption_monthly",
        label="comptes créés, adhésions e-facture et utilisateurs actifs par mois",
        sql=f"""
WITH {_CUSTOMER_DIMS},
events AS (
    SELECT date_trunc('month', a.created_at AT TIME ZONE '{ZONE}')::date AS month, a.customer_id,
           1 AS created, 0 AS optin, NULL::bigint AS user_id, 0 AS days
    FROM {ACCOUNT} a
    UNION ALL
    SELECT date_trunc('month', c.e_invoice_since AT TIME ZONE '{ZONE}')::date, c.id, 0, 1, NULL, 0
    FROM {CUSTOMER} c WHERE c.e_invoice_since IS NOT NULL
    UNION ALL
    SELECT date_trunc('month', ad.day)::date, a.customer_id, 0, 0, ad.user_id, 1
    FROM {ACTIVE} ad JOIN {ACCOUNT} a ON a.user_id = ad.user_id
)
SELECT e.month, cust.district, cust.agency_id, cust.customer_kind,
       SUM(e.created) AS accounts_created,
       SUM(e.optin) AS e_invoice_optins,
       COUNT(DISTINCT e.user_id) AS active_users,
       SUM(e.days) AS active_days
FROM events e JOIN cust ON cust.id = e.customer_id
GROUP BY 1, 2, 3, 4
""",  # noqa: S608 - table names from code
        unique=("month", "district", "agency_id", "customer_kind"),
        indexes=(("month",),),
    )
)

PAGES = matview_register(
    MatView(
        name="adoption_pages",
        label="pages de l'agence en ligne et de l'application consultées par mois",
        sql=f"""
SELECT date_trunc('month', day)::date AS month, route, SUM(hits)::bigint AS hits
FROM {HIT} GROUP BY 1, 2
""",  # noqa: S608 - table names from code
        unique=("month", "route"),
    )
)

DEVICES = matview_register(
    MatView(
        name="adoption_devices",
        label="appareils connectés de l'application (situation)",
        sql=f"""
WITH {_CUSTOMER_DIMS}
SELECT cust.district, cust.agency_id, cust.customer_kind, dv.platform,
       COUNT(*) AS devices, COUNT(DISTINCT dv.user_id) AS users
FROM {DEVICE} dv
JOIN {ACCOUNT} a ON a.user_id = dv.user_id
JOIN cust ON cust.id = a.customer_id
WHERE dv.revoked_at IS NULL
GROUP BY 1, 2, 3, 4
""",  # noqa: S608 - table names from code
        unique=("district", "agency_id", "customer_kind", "platform"),
    )
)


# the portal's most visited pages in words (others are shown by their route name)
ROUTE_LABELS = {
    "portal:home": gettext_lazy("Accueil"),
    "portal:login": gettext_lazy("Connexion"),
    "portal:dashboard": gettext_lazy("Tableau de bord"),
    "portal:consumptions": gettext_lazy("Mes consommations et factures"),
    "portal:bill_detail": gettext_lazy("Détail d'une facture"),
    "portal:bill_pdf": gettext_lazy("Facture (PDF)"),
    "portal:unpaid": gettext_lazy("Factures à payer"),
    "portal:other_bills": gettext_lazy("Autres factures"),
    "portal:pay_online": gettext_lazy("Paiement en ligne"),
    "portal:pay_recap": gettext_lazy("Récapitulatif du paiement"),
    "portal:payment_receipt": gettext_lazy("Reçu de paiement"),
    "portal:quickpay": gettext_lazy("Payer mes factures (sans compte)"),
    "portal:self_reading": gettext_lazy("Relève de mon index"),
    "portal:reading_history": gettext_lazy("Historique des relevés"),
    "portal:requests": gettext_lazy("Mes demandes"),
    "portal:request_detail": gettext_lazy("Détail d'une demande"),
    "portal:complaints": gettext_lazy("Mes réclamations"),
    "portal:complaint_detail": gettext_lazy("Détail d'une réclamation"),
    "portal:notifications": gettext_lazy("Notifications"),
    "portal:profile": gettext_lazy("Mon profil"),
    "portal:efacture": gettext_lazy("Facture électronique"),
    "portal:e_invoice": gettext_lazy("Facture électronique"),
    "portal:outages": gettext_lazy("Coupures et travaux"),
    "portal:simulator": gettext_lazy("Simulateur de facture"),
    "portal:agencies": gettext_lazy("Agences"),
    "portal:attestations": gettext_lazy("Attestations"),
    "portal:my_dossiers": gettext_lazy("Mes dossiers"),
}


def route_label(route: str) -> str:
    label = ROUTE_LABELS.get(route)
    return f"{label} ({route})" if label else route


def route_channel(route: str) -> str:
    return str(_("Application mobile") if route.startswith("api:") else _("Portail"))


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


def customers_situation(filters: ReportFilters) -> dict:
    sql, params = where(filters, month=None, dims=DIMS)
    found = rows(
        f"SELECT COALESCE(SUM(customers), 0) AS customers, COALESCE(SUM(accounts), 0) AS accounts, "  # noqa: S608
        f"COALESCE(SUM(e_invoices), 0) AS e_invoices FROM {CUSTOMERS.table} WHERE {sql}",
        params,
    )[0]
    return {k: int(v) for k, v in found.items()}


def monthly(filters: ReportFilters) -> dict[datetime.date, dict]:
    sql, params = where(filters, dims=DIMS)
    found = rows(
        f"SELECT month, SUM(accounts_created) AS accounts_created, SUM(e_invoice_optins) AS e_invoice_optins, "  # noqa: S608
        f"SUM(active_users) AS active_users, SUM(active_days) AS active_days "
        f"FROM {MONTHLY.table} WHERE {sql} GROUP BY month",
        params,
    )
    return {r["month"]: {k: int(v) for k, v in r.items() if k != "month"} for r in found}


def top_pages(filters: ReportFilters, limit: int = TOP_PAGES) -> list[dict]:
    sql, params = where(filters, dims=())
    return rows(
        f"SELECT route, SUM(hits) AS hits FROM {PAGES.table} WHERE {sql} "  # noqa: S608
        f"GROUP BY route ORDER BY SUM(hits) DESC, route LIMIT %s",
        [*params, limit],
    )


def devices(filters: ReportFilters) -> dict[str, dict]:
    sql, params = where(filters, month=None, dims=DIMS)
    found = rows(
        f"SELECT platform, SUM(devices) AS devices, SUM(users) AS users FROM {DEVICES.table} "  # noqa: S608
        f"WHERE {sql} GROUP BY platform",
        params,
    )
    return {r["platform"]: {"devices": int(r["devices"]), "users": int(r["users"])} for r in found}


@report_register
class AdoptionReport(Report):
    slug = "agence-en-ligne"
    title = gettext_lazy("Agence en ligne")
    description = gettext_lazy(
        "Comptes de l'agence en ligne rapportés aux clients, comptes créés, utilisateurs actifs, "
        "adhésions à la facture électronique, pages les plus consultées, appareils de l'application."
    )
    filters = ("period", "district", "agency", "customer_kind")
    matviews = (CUSTOMERS.name, MONTHLY.name, PAGES.name, DEVICES.name)

    def build(self, filters: ReportFilters, *, now: datetime.datetime) -> ReportResult:
        months = filters.months()
        situation = customers_situation(filters)
        per_month = monthly(filters)
        pages = top_pages(filters)
        by_platform = devices(filters)

        month_rows: list[dict[str, Any]] = []
        totals: defaultdict[str, int] = defaultdict(int)
        for month in months:
            found = per_month.get(month, {})
            row = {
                "month": _month_label(month),
                "accounts_created": found.get("accounts_created", 0),
                "active_users": found.get("active_users", 0),
                "active_days": found.get("active_days", 0),
                "e_invoice_optins": found.get("e_invoice_optins", 0),
            }
            row["days_per_user"] = (
                (Decimal(row["active_days"]) / row["active_users"]).quantize(Decimal("0.01"))
                if row["active_users"]
                else None
            )
            for key in ("accounts_created", "active_users", "active_days", "e_invoice_optins"):
                totals[key] += row[key]
            month_rows.append(row)
        average_active = (Decimal(totals["active_users"]) / len(months)).quantize(Decimal("0.1")) if months else None
        last_active = month_rows[-1]["active_users"] if month_rows else 0
        labels = [r["month"] for r in month_rows]

        kpis = [
            Kpi(
                _("Part des clients ayant un compte"),
                _pct(situation["accounts"], situation["customers"]),
                PERCENT,
                _("Comptes de l'agence en ligne, sur les clients"),
                key="account-share",
            ),
            Kpi(_("Comptes créés"), totals["accounts_created"], COUNT, _("Sur la période"), key="accounts-created"),
            Kpi(
                _("Utilisateurs actifs (dernier mois)"),
                last_active,
                COUNT,
                _("Comptes ayant utilisé le portail ou l'application au mois de %(month)s")
                % {"month": labels[-1] if labels else ""},
                key="active-last",
            ),
            Kpi(_("Clients"), situation["customers"], COUNT, key="customers"),
            Kpi(_("Comptes de l'agence en ligne"), situation["accounts"], COUNT, key="accounts"),
            Kpi(_("Utilisateurs actifs par mois (moyenne)"), average_active, DECIMAL, key="active-average"),
            Kpi(_("Clients en facture électronique"), situation["e_invoices"], COUNT, key="e-invoices"),
            Kpi(
                _("Part des clients en facture électronique"),
                _pct(situation["e_invoices"], situation["customers"]),
                PERCENT,
                key="e-invoice-share",
            ),
            Kpi(
                _("Adhésions à la facture électronique"),
                totals["e_invoice_optins"],
                COUNT,
                _("Sur la période"),
                key="e-invoice-optins",
            ),
        ]
        charts = [
            Chart(
                "accounts-active",
                _("Comptes créés et utilisateurs actifs"),
                labels,
                [
                    Series(_("Comptes créés"), [r["accounts_created"] for r in month_rows]),
                    Series(_("Utilisateurs actifs"), [r["active_users"] for r in month_rows]),
                ],
                kind=COUNT,
            ),
            Chart(
                "e-invoice",
                _("Adhésions à la facture électronique"),
                labels,
                [Series(_("Adhésions"), [r["e_invoice_optins"] for r in month_rows])],
                kind=COUNT,
            ),
        ]
        if pages:
            charts.append(
                Chart(
                    "top-pages",
                    _("Pages les plus consultées"),
                    [route_label(r["route"]) for r in pages],
                    [Series(_("Vues"), [int(r["hits"]) for r in pages])],
                    kind=COUNT,
                    horizontal=True,
                )
            )
        platform_rows = [
            {"platform": str(label), "devices": by_platform[key]["devices"], "users": by_platform[key]["users"]}
            for key, label in Device.Platform.choices
            if key in by_platform
        ]
        tables = [
            Table(
                "by-month",
                _("Agence en ligne par mois"),
                [
                    Column("month", _("Mois")),
                    Column("accounts_created", _("Comptes créés"), COUNT),
                    Column("active_users", _("Utilisateurs actifs"), COUNT),
                    Column("active_days", _("Jours d'activité"), COUNT),
                    Column("days_per_user", _("Jours par utilisateur"), DECIMAL),
                    Column("e_invoice_optins", _("Adhésions e-facture"), COUNT),
                ],
                month_rows,
                totals={
                    "month": _("Total"),
                    "accounts_created": totals["accounts_created"],
                    "active_days": totals["active_days"],
                    "e_invoice_optins": totals["e_invoice_optins"],
                },
                note=_("Les utilisateurs actifs ne s'additionnent pas d'un mois à l'autre."),
            ),
            Table(
                "top-pages",
                _("Pages les plus consultées"),
                [Column("route", _("Page")), Column("channel", _("Canal")), Column("hits", _("Vues"), COUNT)],
                [
                    {"route": route_label(r["route"]), "channel": route_channel(r["route"]), "hits": int(r["hits"])}
                    for r in pages
                ],
                note=_("Toutes les pages, quels que soient le quartier, l'agence et le type de client."),
            ),
            Table(
                "devices",
                _("Appareils connectés de l'application"),
                [
                    Column("platform", _("Système")),
                    Column("devices", _("Appareils"), COUNT),
                    Column("users", _("Comptes"), COUNT),
                ],
                platform_rows,
                totals={"platform": _("Total"), "devices": sum(r["devices"] for r in platform_rows)},
            ),
        ]
        notes = [
            _(
                "Clients, comptes, facture électronique et appareils : situation à la date des données, "
                "quelle que soit la période. Un utilisateur actif a utilisé le portail ou l'application au "
                "moins un jour du mois. Les pages consultées ne suivent que la période."
            )
        ]
        return ReportResult(
            kpis=kpis, charts=charts, tables=tables, notes=notes, data_as_of=matviews_freshness(self.matviews)
        )
