"""API routes: payments — bills to pay and card orders, receipts, advance top-ups, provisions,
refunds, direct debit (see rak_api.urls and rak_api.views.payments)."""

from django.urls import path

from rak_api.views import payments as views

urlpatterns: list = [
    path("payments/bills/", views.PayableBillsView.as_view(), name="payment_bills"),
    path("payments/orders/", views.OrdersView.as_view(), name="payment_orders"),
    path("payments/orders/<str:oid>/", views.OrderView.as_view(), name="payment_order"),
    path("payments/orders/<str:oid>/checkout/", views.OrderCheckoutView.as_view(), name="payment_order_checkout"),
    path("payments/orders/<str:oid>/abandon/", views.OrderAbandonView.as_view(), name="payment_order_abandon"),
    path("payments/receipts/", views.ReceiptsView.as_view(), name="payment_receipts"),
    path("payments/receipts/<int:pk>/pdf/", views.ReceiptPdfView.as_view(), name="payment_receipt_pdf"),
    path("payments/advance/", views.AdvanceView.as_view(), name="payment_advance"),
    path("provisions/", views.ProvisionsView.as_view(), name="provisions"),
    path("refunds/", views.RefundsView.as_view(), name="refunds"),
    path("refunds/requests/", views.RefundRequestsView.as_view(), name="refund_requests"),
    path("refunds/paid/", views.RefundsPaidView.as_view(), name="refunds_paid"),
    path("refunds/<int:pk>/receipt/", views.RefundReceiptView.as_view(), name="refund_receipt"),
    path("direct-debit/", views.DirectDebitView.as_view(), name="direct_debit"),
    path("direct-debit/form/", views.DirectDebitFormView.as_view(), name="direct_debit_form"),
    path("direct-debit/requests/", views.DirectDebitRequestsView.as_view(), name="direct_debit_requests"),
]
