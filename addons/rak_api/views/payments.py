"""The payment side of the API (issue 13), through the portal's services:

- ``GET /payments/bills/``: « Payer mes factures » — the bills to pay, the fee, the selection's total;
- ``POST /payments/orders/``: « Payer » — a card payment order for chosen bills (the portal's guards:
  one order at a time for the same bills, exigible bills included, the total the app showed checked,
  the conditions accepted), answered with what opens CMI's page (URL, POST, the signed fields);
- ``GET /payments/orders/``, ``GET /payments/orders/{oid}/`` (poll), ``POST …/checkout/`` (resume),
  ``POST …/abandon/``;
- ``GET /payments/receipts/``, ``GET /payments/receipts/{id}/pdf/``;
- ``GET|POST /payments/advance/`` (« Alimentation des avances »), ``GET /provisions/``;
- ``GET /refunds/``, ``GET|POST /refunds/requests/``, ``GET /refunds/paid/``, ``GET /refunds/{id}/receipt/``;
- ``GET /direct-debit/``, ``GET /direct-debit/form/``, ``POST /direct-debit/requests/``.

Quick-pay without login (captcha) stays the portal's public page: the app's customer is signed in.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.response import Response

from rak_api import serializers_payments as s
from rak_api.base import CustomerAPIView, CustomerGenericView
from rak_api.pagination import RakPagination
from rak_api.throttles import Throttled
from rak_base import clock
from rak_base.private_files import private_file_response
from rak_base.sms_limits import SmsLimitReached, sms_request_allow
from rak_billing import selectors as billing_selectors
from rak_billing.api import (
    customer_refund,
    customer_refunds,
    customer_terminations,
    payment_receipt_pdf,
    receipt_number,
    refund_credit_available,
    refund_receipt_number,
    refundable_items,
)
from rak_billing.direct_debit import customer_mandates
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_payment_cmi import selectors as cmi_selectors
from rak_payment_cmi.models import PaymentOrder
from rak_payment_cmi.paying import (
    advance_dossiers,
    advance_order_create,
    bills_order_create,
    customer_address,
    fee_vat_rate_on,
    payable_bills,
    payment_email_default,
    payment_settings_get,
    selection_compute,
)
from rak_payment_cmi.services import order_checkout_form, payment_order_abandon
from rak_requests.flow import KindSubmission, kind_request_file, kind_request_type, kind_requests
from rak_requests.kinds import direct_debit as direct_debit_kind
from rak_requests.kinds.refund import customer_refund_requests, refund_request_file, refund_request_status
from rak_requests.models import ServiceRequest
from rak_requests.selectors import request_status_label

TAG_PAY = "Paiements"
TAG_REFUNDS = "Remboursements"
TAG_DEBIT = "Prélèvement automatique"  # i18n: not for customers (API docs tag)
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}
OID = OpenApiParameter("oid", OpenApiTypes.STR, OpenApiParameter.PATH, description="Identifiant de l'ordre.")
#: the portal's words (rak_portal.views.kind_services) when the profile lacks the phone or the e-mail
CONTACT_MISSING = gettext_lazy(
    "Dans l'absence de votre N° de téléphone ou d'adresse mail, Veuillez les renseigner avant de soumettre "
    "votre demande"
)


class ListView(CustomerGenericView):
    pagination_class = RakPagination


class PDFRenderer(renderers.BaseRenderer):
    """Lets ``Accept: application/pdf`` reach the PDF views; an error there is still JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


class PDFView(CustomerAPIView):
    renderer_classes = [renderers.JSONRenderer, PDFRenderer]


def _today():
    return timezone.localdate(clock.now())


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


def _choices(choices) -> list[dict]:
    return [{"value": value, "label": str(label)} for value, label in choices]


def _fee_config(current, vat_rate) -> dict:
    return {"mode": current.fee_mode, "fixed": current.fee_fixed, "percent": current.fee_percent, "vat_rate": vat_rate}


def _sms_allowed(request) -> None:
    """The portal's SMS limits (filing sends an acknowledgement SMS): over them, 429."""
    try:
        sms_request_allow(request, now=clock.now())
    except SmsLimitReached as exc:
        raise Throttled(exc.message) from None


# --- orders --------------------------------------------------------------------------------------------


def order_body(request, order: PaymentOrder, *, detail: bool = True) -> dict:
    payment = order.payment if order.payment_id else None
    reversed_payment = payment is not None and hasattr(payment, "reversal")
    public = cmi_selectors.order_public_status(order) if detail else None
    receipt = None
    if order.status == PaymentOrder.Status.PAID and payment is not None and not reversed_payment:
        receipt = {
            "payment_id": payment.pk,
            "number": receipt_number(payment.pk),
            "paid_at": payment.paid_at,
            "pdf_url": _absolute(request, reverse("api:payment_receipt_pdf", args=[payment.pk])),
            "trans_id": order.trans_id or "",
            "auth_code": order.auth_code,
            "masked_pan": order.masked_pan,
        }
    return {
        "oid": order.oid,
        "purpose": order.purpose,
        "state": cmi_selectors.order_state(order, reversed_payment=reversed_payment),
        "status": order.status,
        "message": public["message"]
        if public
        else str(cmi_selectors.STATUS_MESSAGES[PaymentOrder.Status(order.status)]),
        "failure_reason": cmi_selectors.order_failure_reason(order) if detail else "",
        "awaiting_gateway": cmi_selectors.order_is_awaiting_gateway(order, now=clock.now()),
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "amount_bills": order.amount_bills,
        "fee_amount": order.fee_amount,
        "fee_vat": order.fee_vat,
        "amount_total": order.amount_total,
        "currency": order.currency,
        "card_type": order.card_type,
        "email": order.email,
        "bills": list(cmi_selectors.order_bills(order)) if detail else list(order.order_bills.all()),
        "receipt": receipt,
        "return_url": _absolute(request, reverse("cmi:order_return", args=[order.oid])),
    }


def checkout_answer(request, order: PaymentOrder, *, status_code: int) -> Response:
    """The order and what opens CMI's page: the gateway URL, POST, every signed field (the same
    ``order_checkout_form`` as the portal's « Payer »: the order becomes SENT)."""
    gateway_url, fields = order_checkout_form(order, now=clock.now())
    fresh = cmi_selectors.customer_order(order.customer_id, order.oid) or order  # re-read: now SENT
    body = {
        "order": order_body(request, fresh),
        "checkout": {"url": gateway_url, "method": "POST", "fields": fields},
        # the portal's « Reprendre le paiement » page needs the browser session that made the order
        # (or a logged-in owner): a device has neither, so there is no page to open instead
        "portal_url": None,
    }
    return Response(s.CheckoutAnswerSerializer(body).data, status=status_code)


def _order_or_404(request, oid: str) -> PaymentOrder:
    order = cmi_selectors.customer_order(request.customer.pk, oid)
    if order is None:
        raise Http404
    return order


def _ids_param(request) -> list[int] | None:
    raw = request.query_params.getlist("bill_ids")
    if not raw:
        return None
    ids = []
    for chunk in raw:
        for part in chunk.split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit() and len(part) < 19):
                # « abc », « -1 », « 1e5 »: refused, never read as « no selection » (probe)
                raise serializers.ValidationError(
                    {"bill_ids": [gettext("Identifiants de factures attendus : des nombres séparés par des virgules.")]}
                )
            ids.append(int(part))
    return ids


class PayableBillsView(CustomerAPIView):
    """« Payer mes factures »: the customer's bills with something left to pay (all of them: the
    selection's total needs them; a customer has a handful), the online-service fee, and the total
    of the selection (``?bill_ids=1,2``; all the bills by default, exigible ones always in)."""

    @extend_schema(
        tags=[TAG_PAY],
        operation_id="payments_bills",
        parameters=[
            OpenApiParameter(
                "bill_ids",
                OpenApiTypes.STR,
                description="Factures choisies, séparées par des virgules (400 pour autre chose que des nombres).",
                required=False,
                pattern=r"^[0-9, ]*$",
            )
        ],
        responses={200: s.PayableBillsSerializer},
    )
    def get(self, request):
        customer = request.customer
        today = _today()
        payable = payable_bills(customer.pk, as_of=today)
        current = payment_settings_get()
        vat_rate = fee_vat_rate_on(today, current)
        ids = _ids_param(request)
        selection = selection_compute(
            payable, ids if ids is not None else [item.bill.pk for item in payable], current=current, vat_rate=vat_rate
        )
        pending = cmi_selectors.customer_order_awaiting(
            customer.pk, [item.bill.pk for item in payable], now=clock.now()
        )
        body = {
            "customer_code": customer.code,
            "customer_name": customer.display_name,
            "customer_address": customer_address(customer.pk),
            "bills": payable,
            "selection": selection,
            "fee": _fee_config(current, vat_rate),
            "email_default": payment_email_default(user=request.user, customer=customer),
            "card_types": _choices(PaymentOrder.CardType.choices),
            "terms_url": _absolute(request, reverse("portal:payment_terms")),
            "pending_order": order_body(request, pending) if pending else None,
        }
        return Response(s.PayableBillsSerializer(body).data)


class OrdersView(ListView):
    serializer_class = s.OrderSerializer

    @extend_schema(tags=[TAG_PAY], operation_id="payments_orders_list", responses={200: s.OrderSerializer(many=True)})
    def get(self, request):
        orders = cmi_selectors.customer_orders(request.customer.pk).prefetch_related("order_bills__bill")
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(
            s.OrderSerializer([order_body(request, order, detail=False) for order in page], many=True).data
        )

    @extend_schema(
        tags=[TAG_PAY],
        operation_id="payments_orders_create",
        request=s.OrderCreateSerializer,
        responses={201: s.CheckoutAnswerSerializer},
    )
    def post(self, request):
        data = s.OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        email = values.get("email") or payment_email_default(user=request.user, customer=request.customer)
        if not email:
            raise serializers.ValidationError({"email": [gettext("Saisissez l'e-mail de confirmation du paiement.")]})
        order = bills_order_create(
            customer=request.customer,
            bill_ids=values["bill_ids"],
            email=email,
            card_type=values["card_type"],
            now=clock.now(),
            strict=True,
            expected_total=values["expected_total"],
        )
        return checkout_answer(request, order, status_code=status.HTTP_201_CREATED)


class OrderView(CustomerAPIView):
    @extend_schema(tags=[TAG_PAY], operation_id="payments_order", parameters=[OID], responses={200: s.OrderSerializer})
    def get(self, request, oid: str):
        return Response(s.OrderSerializer(order_body(request, _order_or_404(request, oid))).data)


class OrderCheckoutView(CustomerAPIView):
    """« Reprendre le paiement »: the same order to CMI again (new signed fields)."""

    @extend_schema(
        tags=[TAG_PAY],
        operation_id="payments_order_checkout",
        parameters=[OID],
        request=None,
        responses={200: s.CheckoutAnswerSerializer},
    )
    def post(self, request, oid: str):
        return checkout_answer(request, _order_or_404(request, oid), status_code=status.HTTP_200_OK)


class OrderAbandonView(CustomerAPIView):
    """« Abandonner ce paiement »: the order is cancelled, its bills can be paid again."""

    @extend_schema(
        tags=[TAG_PAY],
        operation_id="payments_order_abandon",
        parameters=[OID],
        request=None,
        responses={200: s.OrderSerializer},
    )
    def post(self, request, oid: str):
        order = _order_or_404(request, oid)
        payment_order_abandon(order=order.oid, customer=request.customer, now=clock.now())
        return Response(s.OrderSerializer(order_body(request, _order_or_404(request, oid))).data)


# --- receipts ------------------------------------------------------------------------------------------


def _receipt_body(request, payment) -> dict:
    reversed_payment = hasattr(payment, "reversal")
    order = getattr(payment, "cmi_order", None) if hasattr(payment, "cmi_order") else None
    return {
        "payment_id": payment.pk,
        "number": receipt_number(payment.pk),
        "amount": payment.amount,
        "method": payment.method,
        "method_label": str(payment.get_method_display()),
        "paid_at": payment.paid_at,
        "reference": payment.reference,
        "oid": order.oid if order else None,
        "reversed": reversed_payment,
        "pdf_url": None
        if reversed_payment
        else _absolute(request, reverse("api:payment_receipt_pdf", args=[payment.pk])),
    }


class ReceiptsView(ListView):
    serializer_class = s.ReceiptSerializer

    @extend_schema(
        tags=[TAG_PAY], operation_id="payments_receipts_list", responses={200: s.ReceiptSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(cmi_selectors.customer_payment_receipts(request.customer.pk))
        return self.get_paginated_response(
            s.ReceiptSerializer([_receipt_body(request, p) for p in page], many=True).data
        )


class ReceiptPdfView(PDFView):
    """The receipt as the portal gives it (the same registered document, « Vérifier un document »)."""

    @extend_schema(tags=[TAG_PAY], operation_id="payments_receipt_pdf", responses=PDF)
    def get(self, request, pk: int):
        payment = cmi_selectors.customer_payment(request.customer.pk, pk)
        if payment is None or hasattr(payment, "reversal"):
            raise Http404
        document = payment_receipt_pdf(payment, language=get_language())
        return private_file_response(
            document.file, as_attachment=True, download_name=f"recu-{receipt_number(payment.pk)}.pdf"
        )


# --- advance top-ups, provisions -------------------------------------------------------------------------


class AdvanceView(CustomerAPIView):
    """« Alimentation des avances sur consommation »: dossiers billed by advance, the bounds, then
    the advance invoice and its order (one at a time per dossier)."""

    @extend_schema(tags=[TAG_PAY], operation_id="payments_advance_info", responses={200: s.AdvanceInfoSerializer})
    def get(self, request):
        current = payment_settings_get()
        body = {
            "dossiers": advance_dossiers(request.customer.pk),
            "amount_min": current.advance_min,
            "amount_max": current.advance_max,
            "fee": _fee_config(current, fee_vat_rate_on(_today(), current)),
            "email_default": payment_email_default(user=request.user, customer=request.customer),
            "card_types": _choices(PaymentOrder.CardType.choices),
        }
        return Response(s.AdvanceInfoSerializer(body).data)

    @extend_schema(
        tags=[TAG_PAY],
        operation_id="payments_advance_create",
        request=s.AdvanceCreateSerializer,
        responses={201: s.CheckoutAnswerSerializer},
    )
    def post(self, request):
        data = s.AdvanceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dossier = {d.number: d for d in advance_dossiers(request.customer.pk)}.get(values["dossier"].strip())
        if dossier is None:
            raise serializers.ValidationError({"dossier": [gettext("Ce dossier n'est pas facturé par avance.")]})
        email = values.get("email") or payment_email_default(user=request.user, customer=request.customer)
        if not email:
            raise serializers.ValidationError({"email": [gettext("Saisissez l'e-mail de confirmation du paiement.")]})
        order = advance_order_create(
            customer=request.customer,
            dossier=dossier,
            amount=values["amount"],
            email=email,
            card_type=values["card_type"],
            now=clock.now(),
            expected_total=values.get("expected_total"),
        )
        return checkout_answer(request, order, status_code=status.HTTP_201_CREATED)


class ProvisionsView(CustomerAPIView):
    """« Mes provisions »."""

    @extend_schema(tags=[TAG_PAY], operation_id="provisions", responses={200: s.ProvisionsSerializer})
    def get(self, request):
        return Response(s.ProvisionsSerializer(billing_selectors.customer_provisions(request.customer.pk)).data)


# --- refunds ---------------------------------------------------------------------------------------------


def _refund_body(request, refund) -> dict:
    cancelled = hasattr(refund, "cancellation")
    valid_receipt = refund.receipt_id is not None and not cancelled and refund.receipt.revoked_at is None
    return {
        "id": refund.pk,
        "amount": refund.amount,
        "method": refund.method,
        "method_label": str(refund.get_method_display()),
        "paid_at": refund.paid_at,
        "reference": refund.reference,
        "request_number": refund.request_ref,
        "receipt_number": refund_receipt_number(refund),
        "cancelled": cancelled,
        "receipt_url": _absolute(request, reverse("api:refund_receipt", args=[refund.pk])) if valid_receipt else None,
    }


def _refund_request_body(request, filed: ServiceRequest, refund) -> dict:
    data = filed.data or {}
    return {
        "number": filed.number,
        "filed_at": filed.filed_at,
        "status": filed.status,
        "status_label": refund_request_status(filed),
        "item": data.get("item", ""),
        "amount": data.get("amount") or None,
        "origin": data.get("origin", ""),
        "reference": data.get("reference", ""),
        "refund": _refund_body(request, refund) if refund else None,
    }


class RefundsView(CustomerAPIView):
    """« Demande de remboursement »: what the RAK owes the customer (each amount with its origin and
    the request already waiting for it), and « Mes résiliations »."""

    @extend_schema(tags=[TAG_REFUNDS], operation_id="refunds", responses={200: s.RefundsOverviewSerializer})
    def get(self, request):
        customer = request.customer
        waiting: dict[str | None, str] = {}  # refundable item key -> the number of the request filed for it
        for filed in customer_refund_requests(customer.pk):
            if filed.status in (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE):
                waiting.setdefault((filed.data or {}).get("item"), filed.number)
        items = [{**item.__dict__, "origin_label": item.origin_label} for item in refundable_items(customer)]
        for item in items:
            item["pending_request"] = waiting.get(item["key"])
        body = {
            "credit": refund_credit_available(customer),
            "items": items,
            "terminations": customer_terminations(customer.pk),
        }
        return Response(s.RefundsOverviewSerializer(body).data)


class RefundRequestsView(ListView):
    serializer_class = s.RefundRequestSerializer

    @extend_schema(
        tags=[TAG_REFUNDS],
        operation_id="refunds_requests_list",
        responses={200: s.RefundRequestSerializer(many=True)},
    )
    def get(self, request):
        filed = customer_refund_requests(request.customer.pk)
        by_request = {r.request_ref: r for r in customer_refunds(request.customer.pk)[:100] if r.request_ref}
        page = self.paginate_queryset(filed)
        return self.get_paginated_response(
            s.RefundRequestSerializer(
                [_refund_request_body(request, r, by_request.get(r.number)) for r in page], many=True
            ).data
        )

    @extend_schema(
        tags=[TAG_REFUNDS],
        operation_id="refunds_requests_create",
        request=s.RefundRequestCreateSerializer,
        responses={201: s.RefundRequestSerializer},
    )
    def post(self, request):
        data = s.RefundRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _sms_allowed(request)  # filing sends the acknowledgement SMS
        filed = refund_request_file(
            customer=request.customer, item=data.validated_data["item"].strip(), now=clock.now(), actor=request.user
        )
        return Response(
            s.RefundRequestSerializer(_refund_request_body(request, filed, None)).data, status=status.HTTP_201_CREATED
        )


class RefundsPaidView(ListView):
    serializer_class = s.RefundPaidSerializer

    @extend_schema(
        tags=[TAG_REFUNDS], operation_id="refunds_paid_list", responses={200: s.RefundPaidSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(customer_refunds(request.customer.pk))
        return self.get_paginated_response(
            s.RefundPaidSerializer([_refund_body(request, r) for r in page], many=True).data
        )


class RefundReceiptView(PDFView):
    @extend_schema(tags=[TAG_REFUNDS], operation_id="refunds_receipt_pdf", responses=PDF)
    def get(self, request, pk: int):
        refund = customer_refund(request.customer.pk, pk) if 0 < pk < 2**63 else None
        if refund is None or refund.receipt is None or refund.receipt.revoked_at is not None:
            raise Http404
        return private_file_response(
            refund.receipt.file, download_name=f"recu-remboursement-{refund_receipt_number(refund)}.pdf"
        )


# --- direct debit ----------------------------------------------------------------------------------------


def _mandate_body(mandate) -> dict | None:
    if mandate is None:
        return None
    return {
        "reference": mandate.reference,
        "bank_name": mandate.bank_name,
        "rib_masked": f"{mandate.rib[:3]} *** {'*' * 12}{mandate.rib[-6:]}",
        "signed_date": mandate.signed_date,
        "created_at": mandate.created_at,
    }


class DirectDebitView(CustomerAPIView):
    """« Domiciliation bancaire » (« prélèvement automatique »): per address, the dossiers and their
    active mandate; the customer's requests and their state; the documents a request needs."""

    @extend_schema(tags=[TAG_DEBIT], operation_id="direct_debit", responses={200: s.DirectDebitOverviewSerializer})
    def get(self, request):
        customer = request.customer
        dossiers = list(direct_debit_kind.customer_dossiers(customer.pk))
        mandates = customer_mandates([d.pk for d in dossiers])
        addresses: dict[int, dict] = {}
        for dossier in dossiers:
            premises = dossier.premises
            entry = addresses.setdefault(
                premises.pk,
                {
                    "premises": premises.reference,
                    "address": str(premises),
                    "dossiers": [],
                    "form_pdf_url": _absolute(
                        request, f"{reverse('api:direct_debit_form')}?premises={premises.reference}"
                    ),
                },
            )
            dossier.mandate = _mandate_body(mandates.get(dossier.pk))
            entry["dossiers"].append(dossier)
        request_type = kind_request_type(direct_debit_kind.KIND)
        rows = [
            {
                "number": r.number,
                "filed_at": r.filed_at,
                "status": r.status,
                "status_label": request_status_label(r),
                "address": (r.data or {}).get("address", ""),
                "dossiers": [d.number for d in r.dossiers.all()],
                "bank_name": (r.data or {}).get("bank_name", ""),
            }
            for r in kind_requests(customer_id=customer.pk, request_type=request_type)[:50]
        ]
        documents = [
            {"field": f"doc_{d.code}", "label": gettext(d.label), "required": d.required}
            for d in request_type.documents.order_by("position", "id")
        ]
        body = {"addresses": list(addresses.values()), "requests": rows, "documents": documents}
        return Response(s.DirectDebitOverviewSerializer(body).data)


class DirectDebitFormView(PDFView):
    """« Télécharger le formulaire de demande », pre-filled for one of the customer's addresses."""

    @extend_schema(
        tags=[TAG_DEBIT],
        operation_id="direct_debit_form_pdf",
        parameters=[OpenApiParameter("premises", OpenApiTypes.STR, required=True, description="Référence du local.")],
        responses=PDF,
    )
    def get(self, request):
        reference = (request.query_params.get("premises") or "").strip()[:40]
        premises = direct_debit_kind.premises_of_customer(request.customer.pk, reference) if reference else None
        if premises is None:
            raise Http404
        pdf, filename = direct_debit_kind.form_pdf(customer=request.customer, premises=premises, now=clock.now())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


class DirectDebitRequestsView(CustomerAPIView):
    """« Valider » the direct-debit request: the address, the RIB and the documents (multipart,
    one file per ``documents[].field``), filed through the portal's generic flow (same checks)."""

    @extend_schema(
        tags=[TAG_DEBIT],
        operation_id="direct_debit_request_create",
        request={
            "multipart/form-data": inline_serializer(
                "DirectDebitRequestUpload",
                fields={
                    "premises": serializers.CharField(max_length=40),
                    "rib": serializers.CharField(max_length=40),
                    "doc_formulaire_signe": serializers.FileField(required=False),
                    "doc_rib": serializers.FileField(required=False),
                    "doc_cin": serializers.FileField(required=False),
                },
            )
        },
        responses={201: s.FiledRequestSerializer},
    )
    def post(self, request):
        s.DirectDebitRequestCreateSerializer(data=request.data).is_valid(raise_exception=True)
        kind = direct_debit_kind.KIND
        request_type = kind_request_type(kind)
        staging: dict = {}
        submission = KindSubmission(
            kind=kind,
            request_type=request_type,
            customer=request.customer,
            staging=staging,
            data=request.data,
            files=request.FILES,
        )
        now = clock.now()
        if not submission.is_valid(now=now):
            errors = {
                ("non_field_errors" if name == "__all__" else name): [str(e) for e in errs]
                for name, errs in submission.form.errors.items()
            }
            for row in submission.rows:
                if row.error:
                    errors[row.field_name] = [row.error]
            raise serializers.ValidationError(errors)
        if kind.requires_contact and not (customer_sms_phone(request.customer) and customer_email(request.customer)):
            raise serializers.ValidationError(
                {"non_field_errors": [serializers.ErrorDetail(str(CONTACT_MISSING), code="contact_missing")]}
            )
        _sms_allowed(request)  # filing queues the acknowledgement SMS
        filed = kind_request_file(
            kind=kind,
            customer=request.customer,
            data=submission.valid_data,
            staged=staging.get("files", {}),
            staging_token=staging.get("token", ""),
            now=now,
            actor=request.user,
        )
        body = {
            "number": filed.number,
            "status": filed.status,
            "status_label": request_status_label(filed),
            "message": gettext(
                "Votre demande n° %(number)s a bien été envoyée. Un email sera envoyé contenant l'accusé de "
                "réception de votre demande."
            )
            % {"number": filed.number},
        }
        return Response(s.FiledRequestSerializer(body).data, status=status.HTTP_201_CREATED)
