"""Dashboard, dossiers, bills (list with the e-facture filters, detail, PDF, exports) and
consumption — through the portal's selectors (rak_billing.selectors, rak_portal.selectors) and the
same PDF and export builders. Every object is looked up through ``request.customer``: another
customer's dossier or bill is a 404."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rak_api.base import APIViewMixinBase, CustomerAPIView, CustomerGenericView
from rak_api.pagination import RakPagination
from rak_api.serializers_billing import (
    AmountPointSerializer,
    BillDetailSerializer,
    BilledAmountsSerializer,
    BillFilterSerializer,
    BillSerializer,
    ConsumptionSerializer,
    DashboardSerializer,
    DossierDetailSerializer,
    DossierSerializer,
    MonthPointSerializer,
    dashboard_data,
    dossier_detail_data,
)
from rak_base import clock
from rak_base.private_files import private_file_response
from rak_billing import api as billing_api
from rak_billing import selectors
from rak_billing.models import Bill
from rak_customer.api import customer_dossiers
from rak_customer.models import Dossier
from rak_portal import exports
from rak_portal import selectors as portal_selectors
from rak_portal.billing_forms import EFactureFilterForm

TAGS = ["Factures et consommations"]  # i18n: not for customers (the schema's section name)
CSV_TYPE = "text/csv"
PDF_TYPE = "application/pdf"


def _today():
    return timezone.localdate(clock.now())


class BinaryMixin(APIViewMixinBase):
    """Views answering a file: an ``Accept: application/pdf`` (or any type) must not turn their
    errors into a 406 — errors are JSON whatever the client accepts."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


UNKNOWN_PARAMETER = gettext_lazy("Paramètre inconnu.")
PAGES = frozenset({"page", "page_size"})
BILL_FILTERS = frozenset(BillFilterSerializer().fields)


class KnownQueryMixin(APIViewMixinBase):
    """Refuse (400) a query-string parameter the operation does not document, as the schema says
    (``additionalProperties: false``): a typo in a filter name must not silently list everything."""

    query_parameters: frozenset = frozenset()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.query_parameters)
        if unknown:
            raise ValidationError({name[:50]: [drf.ErrorDetail(str(UNKNOWN_PARAMETER), "unknown")] for name in unknown})


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- dashboard --------------------------------------------------------------------------------------

DOSSIER_PARAMETER = OpenApiParameter(
    "dossier", str, required=False, description="N° dossier du graphique de consommation (sinon le premier actif)."
)


class DashboardView(KnownQueryMixin, CustomerAPIView):
    """The portal's dashboard as data: balance, unpaid total, last bills, six months of
    consumption, dossiers, whether a self-reading is open, unread notifications, news."""

    query_parameters = frozenset({"dossier"})

    @extend_schema(
        parameters=[DOSSIER_PARAMETER],
        responses={200: DashboardSerializer},
        operation_id="dashboard_retrieve",
        tags=TAGS,
    )
    def get(self, request):
        details = portal_selectors.dashboard_details(
            request.customer.pk,
            user=request.user,
            dossier_number=request.query_params.get("dossier") or None,
            now=clock.now(),
        )
        return Response(dashboard_data(details, request.customer))


# --- dossiers ---------------------------------------------------------------------------------------


class DossierListView(KnownQueryMixin, CustomerGenericView):
    """« Mes abonnements »: active first, then suspended, then terminated."""

    query_parameters = PAGES
    serializer_class = DossierSerializer
    pagination_class = RakPagination

    @extend_schema(responses={200: DossierSerializer(many=True)}, operation_id="dossiers_list", tags=TAGS)
    def get(self, request):
        page = self.paginate_queryset(customer_dossiers(request.customer.pk))
        return self.get_paginated_response(DossierSerializer(page, many=True).data)


class DossierDetailView(CustomerAPIView):
    """The magnifier of « Mes abonnements »: the dossier and the operations on it."""

    @extend_schema(responses={200: DossierDetailSerializer}, operation_id="dossiers_retrieve", tags=TAGS)
    def get(self, request, number: str):
        overview = portal_selectors.dossier_overview(request.customer.pk, number)
        return Response(dossier_detail_data(overview))


class ConsumptionQuerySerializer(drf.Serializer):
    months = drf.IntegerField(required=False, default=6, min_value=1, max_value=36)


class DossierConsumptionView(KnownQueryMixin, CustomerAPIView):
    """The consumption behind the portal's histogram: per billed month, oldest first."""

    query_parameters = frozenset({"months"})

    @extend_schema(
        parameters=[ConsumptionQuerySerializer],
        responses={200: ConsumptionSerializer},
        operation_id="dossiers_consumption",
        tags=TAGS,
    )
    def get(self, request, number: str):
        query = ConsumptionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dossier = get_object_or_404(Dossier, number=number, customer=request.customer)
        points = selectors.dossier_monthly_consumption(dossier.pk, months=query.validated_data["months"])
        return Response(
            {
                "dossier": dossier.number,
                "service": dossier.service,
                "unit": selectors.service_unit(dossier.service),
                "months": MonthPointSerializer(points, many=True).data,
            }
        )


# --- bills ------------------------------------------------------------------------------------------

FORM_FIELDS = {"echeance": "period", "dossier": "dossier", "client": "client"}


def bill_filters(request) -> tuple[EFactureFilterForm, dict]:
    """The query string checked like the portal's e-facture filters (the same form: the month
    written MM/AAAA, a dossier of the customer's only), as ``efacture_bills`` arguments; a 400
    with the field's message otherwise."""
    query = BillFilterSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    form = EFactureFilterForm(
        {"echeance": data.get("period", ""), "dossier": data.get("dossier", "")},
        customer=request.customer,
        dossiers=selectors.customer_dossiers(request.customer.pk),
    )
    if not form.is_valid():
        raise ValidationError(
            {
                FORM_FIELDS.get(name, name): [
                    drf.ErrorDetail(message, code=error.code or "invalid")
                    for error in errors
                    for message in error.messages
                ]
                for name, errors in form.errors.as_data().items()
            }
        )
    filters = form.selector_filters()
    filters.update(
        service=data.get("service") or None, status=data.get("status") or None, kind=data.get("kind") or None
    )
    return form, filters


class BillListView(KnownQueryMixin, CustomerGenericView):
    """The customer's bills, newest first, with the e-facture filters (« échéance », dossier)
    and status, service and kind; 20 a page."""

    query_parameters = BILL_FILTERS | PAGES
    serializer_class = BillSerializer
    pagination_class = RakPagination

    @extend_schema(
        parameters=[BillFilterSerializer],
        responses={200: BillSerializer(many=True)},
        operation_id="bills_list",
        tags=TAGS,
    )
    def get(self, request):
        _form, filters = bill_filters(request)
        today = _today()
        page = self.paginate_queryset(selectors.efacture_bills(request.customer.pk, as_of=today, **filters))
        return self.get_paginated_response(BillSerializer(selectors.bills_status(page, as_of=today), many=True).data)


class BillDetailView(CustomerAPIView):
    """A bill with its lines (labels in the request's language), totals, what paid it."""

    @extend_schema(responses={200: BillDetailSerializer}, operation_id="bills_retrieve", tags=TAGS)
    def get(self, request, pk: int):
        try:
            bill = selectors.customer_bill(request.customer.pk, pk, as_of=_today())
        except Bill.DoesNotExist:
            raise Http404 from None
        context = {
            "settlements": selectors.bill_settlements(bill.pk),
            "open_complaint": portal_selectors.bill_open_complaint(request.customer.pk, bill),
        }
        return Response(BillDetailSerializer(bill, context=context).data)


class BillPdfView(BinaryMixin, CustomerAPIView):
    """The bill's PDF: the document the portal serves (rendered and registered once)."""

    @extend_schema(responses={(200, PDF_TYPE): OpenApiTypes.BINARY}, operation_id="bills_pdf", tags=TAGS)
    def get(self, request, pk: int):
        try:
            bill = selectors.customer_bill_only(request.customer.pk, pk)
        except Bill.DoesNotExist:
            raise Http404 from None
        document = billing_api.bill_pdf(bill)
        return private_file_response(document.file, as_attachment=True, download_name=f"facture-{bill.number}.pdf")


EXPORTS = {
    "xlsx": exports.XLSX_TYPE,
    "csv": CSV_TYPE,
    "pdf": PDF_TYPE,
}


class BillExportView(KnownQueryMixin, BinaryMixin, CustomerAPIView):
    """The e-facture exports with the list's filters (5,000 bills at most)."""

    query_parameters = BILL_FILTERS
    file_format = "xlsx"

    def export(self, request):
        form, filters = bill_filters(request)
        rows = selectors.efacture_export_rows(request.customer.pk, as_of=_today(), **filters)
        customer = request.customer
        if self.file_format == "pdf":
            content = exports.efacture_pdf(rows, customer=customer, form=form, printed_at=clock.now())
        elif self.file_format == "csv":
            content = exports.efacture_csv(rows, customer=customer)
        else:
            content = exports.efacture_xlsx(rows, customer=customer)
        return _download(content, f"factures-{customer.code}.{self.file_format}", EXPORTS[self.file_format])


class BillExportXlsxView(BillExportView):
    """The filtered bills as an Excel workbook (the portal's « Export : Excel »)."""

    file_format = "xlsx"

    @extend_schema(
        parameters=[BillFilterSerializer],
        responses={(200, exports.XLSX_TYPE): OpenApiTypes.BINARY},
        operation_id="bills_export_xlsx",
        tags=TAGS,
    )
    def get(self, request):
        return self.export(request)


class BillExportCsvView(BillExportView):
    """The filtered bills as a CSV file (UTF-8, semicolons)."""

    file_format = "csv"

    @extend_schema(
        parameters=[BillFilterSerializer],
        responses={(200, CSV_TYPE): OpenApiTypes.BINARY},
        operation_id="bills_export_csv",
        tags=TAGS,
    )
    def get(self, request):
        return self.export(request)


class BillExportPdfView(BillExportView):
    """The filtered bills as a PDF table (the portal's « Export : PDF »)."""

    file_format = "pdf"

    @extend_schema(
        parameters=[BillFilterSerializer],
        responses={(200, PDF_TYPE): OpenApiTypes.BINARY},
        operation_id="bills_export_pdf",
        tags=TAGS,
    )
    def get(self, request):
        return self.export(request)


class StatisticsXlsxView(BinaryMixin, CustomerAPIView):
    """« Télécharger les statistiques globales »: per month, per dossier, payments."""

    @extend_schema(
        responses={(200, exports.XLSX_TYPE): OpenApiTypes.BINARY}, operation_id="bills_statistics_xlsx", tags=TAGS
    )
    def get(self, request):
        stats = selectors.customer_statistics(request.customer.pk, as_of=_today())
        return _download(
            exports.statistics_xlsx(stats, customer=request.customer),
            f"statistiques-{request.customer.code}.xlsx",
            exports.XLSX_TYPE,
        )


class BilledAmountsView(CustomerAPIView):
    """« Evolution des montants facturés les 6 derniers mois en DH HT » (the e-facture chart)."""

    @extend_schema(responses={200: BilledAmountsSerializer}, operation_id="bills_amounts", tags=TAGS)
    def get(self, request):
        points = selectors.customer_monthly_billed(request.customer.pk, as_of=_today(), months=6)
        return Response({"months": AmountPointSerializer(points, many=True).data})
