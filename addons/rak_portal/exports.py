"""Files the customer downloads from the e-facture table: Excel workbooks (openpyxl), a CSV file
and the PDF of the filtered table (WeasyPrint). Pure builders: rows in, bytes out; the portal and
the mobile API (rak_api) both call them."""

from __future__ import annotations

import csv
from io import BytesIO, StringIO
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rak_billing.models import Payment
from rak_billing.selectors import Statistics, billing_month_of
from rak_customer.models import Service

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
QUANTITY_FORMAT = "#,##0.###"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="0B5FA5")

EFACTURE_COLUMNS: list[tuple[StrOrPromise, int]] = [
    (gettext_lazy("N° client"), 14),
    (gettext_lazy("N° dossier"), 14),
    (gettext_lazy("Échéance"), 11),
    (gettext_lazy("Date limite de paiement"), 14),
    (gettext_lazy("Type"), 26),
    (gettext_lazy("Montant HT (DH)"), 16),
    (gettext_lazy("TVA (DH)"), 12),
    (gettext_lazy("Montant TTC (DH)"), 16),
    (gettext_lazy("Reste à payer (DH)"), 16),
    (gettext_lazy("N° facture"), 18),
]


def _sheet(workbook: Workbook, title: StrOrPromise, columns: list[tuple[StrOrPromise, int]], *, first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append([str(name) for name, _width in columns])
    for index, (_name, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _formats(sheet, formats: dict[int, str]) -> None:
    for row in sheet.iter_rows(min_row=2):
        for column, number_format in formats.items():
            row[column - 1].number_format = number_format


def _bytes(workbook: Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def efacture_xlsx(bills, *, customer) -> bytes:
    """The e-facture table as filtered on screen: one row per bill (all the customer's)."""
    workbook = Workbook()
    sheet = _sheet(workbook, _("Factures"), EFACTURE_COLUMNS, first=True)
    for bill in bills:
        month = billing_month_of(bill)
        sheet.append(
            [
                customer.code,
                bill.dossier.number if bill.dossier else "",
                f"{month:%m/%Y}",
                bill.due_date,
                bill.get_kind_display(),
                bill.total_ht,
                bill.total_tva,
                bill.total_ttc,
                bill.open_amount,
                bill.number,
            ]
        )
    _formats(sheet, {4: "DD/MM/YYYY", 6: MONEY_FORMAT, 7: MONEY_FORMAT, 8: MONEY_FORMAT, 9: MONEY_FORMAT})
    return _bytes(workbook)


def statistics_xlsx(stats: Statistics, *, customer) -> bytes:
    """« Télécharger les statistiques globales »: per month, per dossier, per dossier and month,
    payments."""
    services = dict(Service.choices)
    workbook = Workbook()
    sheet = _sheet(
        workbook,
        _("Par mois"),
        [
            (_("Mois"), 10),
            (_("Factures"), 10),
            (_("Montant HT (DH)"), 16),
            (_("TVA (DH)"), 12),
            (_("Montant TTC (DH)"), 16),
            (_("Paiements reçus (DH)"), 18),
        ],
        first=True,
    )
    for row in stats.months:
        sheet.append(
            [
                f"{row['month']:%m/%Y}",
                row["bills"],
                row["total_ht"],
                row["total_tva"],
                row["total_ttc"],
                row["payments"],
            ]
        )
    if stats.months:
        sheet.append(
            [
                _("Total"),
                sum(r["bills"] for r in stats.months),
                sum(r["total_ht"] for r in stats.months),
                sum(r["total_tva"] for r in stats.months),
                sum(r["total_ttc"] for r in stats.months),
                sum(r["payments"] for r in stats.months),
            ]
        )
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    _formats(sheet, {3: MONEY_FORMAT, 4: MONEY_FORMAT, 5: MONEY_FORMAT, 6: MONEY_FORMAT})

    sheet = _sheet(
        workbook,
        _("Par dossier"),
        [
            (_("N° dossier"), 14),
            (_("Métier"), 16),
            (_("Mois facturés"), 12),
            (_("Consommation"), 14),
            (_("Unité"), 8),
            (_("Montant HT (DH)"), 16),
            (_("Montant TTC (DH)"), 16),
            (_("Reste à payer (DH)"), 16),
        ],
    )
    for row in stats.dossiers:
        sheet.append(
            [
                row["dossier"],
                str(services.get(row["service"], row["service"])),
                row["months"],
                row["consumption"],
                row["unit"],
                row["total_ht"],
                row["total_ttc"],
                row["open_amount"],
            ]
        )
    _formats(sheet, {4: QUANTITY_FORMAT, 6: MONEY_FORMAT, 7: MONEY_FORMAT, 8: MONEY_FORMAT})

    sheet = _sheet(
        workbook,
        _("Par dossier et mois"),
        [
            (_("N° dossier"), 14),
            (_("Mois"), 10),
            (_("Consommation"), 14),
            (_("Unité"), 8),
            (_("Montant HT (DH)"), 16),
            (_("Montant TTC (DH)"), 16),
        ],
    )
    for row in stats.dossier_months:
        sheet.append(
            [
                row["dossier__number"],
                f"{row['month']:%m/%Y}",
                row["consumption"],
                row["unit"],
                row["total_ht"],
                row["total_ttc"],
            ]
        )
    _formats(sheet, {3: QUANTITY_FORMAT, 5: MONEY_FORMAT, 6: MONEY_FORMAT})

    methods = {value: str(label) for value, label in Payment.Method.choices}
    sheet = _sheet(
        workbook, _("Paiements"), [(_("Date"), 12), (_("Montant (DH)"), 14), (_("Mode"), 30), (_("Référence"), 20)]
    )
    for row in stats.payments:
        sheet.append(
            [
                timezone.localtime(row["paid_at"]).date(),
                row["amount"],
                methods.get(row["method"], row["method"]),
                row["reference"],
            ]
        )
    _formats(sheet, {1: "DD/MM/YYYY", 2: MONEY_FORMAT})
    workbook.properties.title = _("Statistiques globales — client %(code)s") % {"code": customer.code}
    return _bytes(workbook)


def efacture_csv(bills, *, customer) -> bytes:
    """The e-facture table as a CSV file (the columns of ``efacture_xlsx``): UTF-8 with a byte
    order mark and semicolons, as a French spreadsheet opens it; amounts with a decimal point."""
    buffer = StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(name) for name, _width in EFACTURE_COLUMNS])
    for bill in bills:
        month = billing_month_of(bill)
        writer.writerow(
            [
                customer.code,
                bill.dossier.number if bill.dossier else "",
                f"{month:%m/%Y}",
                f"{bill.due_date:%d/%m/%Y}",
                bill.get_kind_display(),
                bill.total_ht,
                bill.total_tva,
                bill.total_ttc,
                bill.open_amount,
                bill.number,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def efacture_pdf(bills, *, customer, form, printed_at) -> bytes:
    """The e-facture table as filtered (``form``: the bound EFactureFilterForm, named in the
    heading) in an A4 landscape PDF."""
    html = render_to_string(
        "rak_portal/bills/efacture_pdf.html",
        {"customer": customer, "rows": bills, "form": form, "printed_at": printed_at},
    )
    return html_to_pdf(html)


def html_to_pdf(html: str) -> bytes:
    """A PDF of a self-contained HTML page (no external resource is fetched)."""
    from rak_base.pdf import pdf_render

    def refuse(url: str, *args, **kwargs):
        raise ValueError(f"ressource externe refusée : {url}")  # i18n: not for customers

    return pdf_render(html, base_url=None, url_fetcher=refuse)
