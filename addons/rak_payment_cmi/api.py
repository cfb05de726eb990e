"""What other addons (the portal's payment pages, receipts, requests, reconciliation) may call.

Paying:
- ``payment_order_create(customer=, bills=, email=, now=, purpose=, fee_amount=, fee_vat=,
  card_type=, lang=, bill_to_name=, tel=)`` -> ``PaymentOrder`` (amounts from the database);
- ``order_checkout_form(order, now=)`` -> ``(gateway_url, fields)``: render them as hidden inputs
  of a form posting to ``gateway_url`` — ``{% include "rak_payment_cmi/checkout_form.html" %}``
  (a « Payer » button; ``auto_submit=True`` posts at once) or the whole page
  ``rak_payment_cmi/checkout_redirect.html``, context ``gateway_url`` and ``fields``;
- the browser comes back to ``cmi:order_return`` (``/paiement/commande/<oid>/``), which waits for
  the callback; once paid it links to ``portal:payment_receipt`` (kwargs ``oid``) when that URL
  exists; refused or failed, it gives the reason (``order_failure_reason``). Its layout, « Réessayer »
  and the way back are asked of the site with ``hook_collect(HOOK_ORDER_RETURN_PAGE, request=, order=)``.

Paying from the portal (``rak_payment_cmi.paying``; amounts always from the database):
- ``order_create_for_bills(customer=, bills=, email=, now=, purpose=, card_type=, lang=, tel=)``
  -> ``PaymentOrder`` with the back office's online-service fee (``PaymentSettings``); for
  ``purpose=BILLS`` every exigible bill of the customer must be among ``bills``. The requests
  addon pays a request's fees with ``purpose=PaymentOrder.Purpose.REQUEST_FEE`` and the request's
  invoice as the only bill, then ``order_checkout_form``;
- ``advance_order_create(customer=, dossier=, amount=, email=, now=)``: advance invoice + order;
- ``payable_bills``, ``selection_compute``, ``fee_for``, ``payment_settings_get``;
- ``receipt_token(oid)``: the signed link to a receipt (``portal:payment_receipt?t=``).

One order at a time for the same bills: ``payment_order_create`` (and so
``order_create_for_bills``) raises ``OrderPending`` (``exc.order``: the order awaiting the gateway)
— show that order only to its owner (``portal:payment_pending``, kwargs ``oid``: resume or
abandon), a neutral message to anyone else; ``payment_order_abandon(order=, customer=, now=)``.
``HOOK_ORDER_CANCELLED`` (``order_id=``) fires when an approved payment was not captured because
its bills were already settled (the customer is told by this addon).

After payment: subscribe to ``HOOK_ORDER_PAID`` (``order_id=``, and from the callback also
``order=`` and ``lines=``, the objects just written: accept ``**kwargs``) in ``AppConfig.ready()``; it fires
inside the transaction that marks the order PAID (queue e-mails/PDFs there, they run after
commit). Read with ``order_by_oid``, ``order_bills`` (amounts frozen per bill),
``orders_for_customer``, ``order_public_status``; ``order.payment`` is the ledger payment.
"""

from rak_payment_cmi.after_payment import receipt_token, receipt_token_oid
from rak_payment_cmi.hashing import amount_format, hash_compute, hash_verify
from rak_payment_cmi.models import CmiCallback, PaymentOrder, PaymentOrderBill, PaymentOrderEvent
from rak_payment_cmi.paying import (
    AdvanceRefused,
    ExigibleBillRequired,
    advance_order_create,
    fee_for,
    order_create_for_bills,
    payable_bills,
    payment_settings_get,
    selection_compute,
)
from rak_payment_cmi.selectors import (
    HOOK_ORDER_RETURN_PAGE,
    STATUS_MESSAGES,
    order_bills,
    order_by_oid,
    order_is_awaiting_gateway,
    order_is_pending,
    order_payment_reversal,
    order_public_status,
    order_receipt_url,
    orders_for_customer,
)
from rak_payment_cmi.services import (
    HOOK_ORDER_CANCELLED,
    HOOK_ORDER_PAID,
    GatewayNotConfigured,
    NothingToPay,
    OrderNotPayable,
    OrderPending,
    PaymentOrderError,
    order_checkout_form,
    order_pending_for_bills,
    payment_order_abandon,
    payment_order_create,
    payment_orders_expire,
)

__all__ = [
    "HOOK_ORDER_CANCELLED",
    "HOOK_ORDER_PAID",
    "HOOK_ORDER_RETURN_PAGE",
    "OrderPending",
    "order_is_awaiting_gateway",
    "order_pending_for_bills",
    "payment_order_abandon",
    "AdvanceRefused",
    "ExigibleBillRequired",
    "advance_order_create",
    "fee_for",
    "order_create_for_bills",
    "payable_bills",
    "payment_settings_get",
    "receipt_token",
    "receipt_token_oid",
    "selection_compute",
    "STATUS_MESSAGES",
    "CmiCallback",
    "GatewayNotConfigured",
    "NothingToPay",
    "OrderNotPayable",
    "PaymentOrder",
    "PaymentOrderBill",
    "PaymentOrderError",
    "PaymentOrderEvent",
    "amount_format",
    "hash_compute",
    "hash_verify",
    "order_bills",
    "order_by_oid",
    "order_payment_reversal",
    "order_checkout_form",
    "order_is_pending",
    "order_public_status",
    "order_receipt_url",
    "orders_for_customer",
    "payment_order_create",
    "payment_orders_expire",
]
