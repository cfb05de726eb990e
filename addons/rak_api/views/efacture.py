"""« Facture électronique » in the API: GET the choice (with its history), PUT it
(rak_customer.efacture, the same service as the portal's page)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from rak_api.base import CustomerAPIView
from rak_api.parsers import JSONParser
from rak_api.serializers_complaints import EInvoiceInputSerializer, EInvoiceSerializer
from rak_base import clock
from rak_customer.efacture import EXPLANATION, efacture_history, efacture_set, efacture_state

TAGS = ["Facture électronique"]  # i18n: not for customers (the API documentation)


def _body(customer) -> dict:
    state = efacture_state(customer)
    return EInvoiceSerializer(
        {
            "enabled": state.enabled,
            "since": state.since,
            "explanation": str(EXPLANATION),
            "history": [
                {"at": change.at, "enabled": change.enabled, "by_staff": change.by_staff, "reason": change.reason}
                for change in efacture_history(customer)
            ],
        }
    ).data


class EInvoiceView(CustomerAPIView):
    parser_classes = [JSONParser]  # a form post would read a missing « enabled » as false

    @extend_schema(responses={200: EInvoiceSerializer}, operation_id="e_invoice_retrieve", tags=TAGS)
    def get(self, request):
        return Response(_body(request.customer))

    @extend_schema(
        request=EInvoiceInputSerializer,
        responses={200: EInvoiceSerializer},
        operation_id="e_invoice_update",
        tags=TAGS,
        description="enabled=true : plus de facture papier (les factures restent dans « Mes factures », "
        "annoncées par SMS / e-mail) ; false : retour à la facture papier.",
    )
    def put(self, request):
        data = EInvoiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = efacture_set(
            customer_id=request.customer.pk, enabled=data.validated_data["enabled"], by=request.user, now=clock.now()
        )
        return Response(_body(customer))
