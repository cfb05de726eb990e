"""API routes: customers (see rak_api.urls): the account's codes clients and linking another one."""

from django.urls import path

from rak_api.views.customers import CustomerListView, LinkConfirmView, LinkDetailView, LinkResendView, LinkStartView

urlpatterns: list = [
    path("customers/", CustomerListView.as_view(), name="customers"),
    path("customers/links/", LinkStartView.as_view(), name="customer_links"),
    path("customers/links/confirm/", LinkConfirmView.as_view(), name="customer_links_confirm"),
    path("customers/links/resend/", LinkResendView.as_view(), name="customer_links_resend"),
    path("customers/links/<int:link_id>/", LinkDetailView.as_view(), name="customer_link"),
]
