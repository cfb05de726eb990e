"""API routes of complaints, outage notices, the bell (notifications), the public endpoints
(agencies, simulator, document verification, contact) and « facture électronique » (see rak_api.urls)."""

from django.urls import path, re_path

from rak_api.views import complaints, efacture, notifications, public
from rak_api.views.complaints import NUMBER_PATTERN

urlpatterns: list = [
    path("complaint-categories/", complaints.ComplaintCategoryListView.as_view(), name="complaint_categories"),
    path("complaints/", complaints.ComplaintListView.as_view(), name="complaints"),
    path(
        "complaints/attachments/<int:pk>/",
        complaints.ComplaintAttachmentView.as_view(),
        name="complaint_attachment",
    ),
    re_path(rf"^complaints/(?P<number>{NUMBER_PATTERN})/$", complaints.ComplaintDetailView.as_view(), name="complaint"),
    re_path(
        rf"^complaints/(?P<number>{NUMBER_PATTERN})/messages/$",
        complaints.ComplaintAddInfoView.as_view(),
        name="complaint_messages",
    ),
    re_path(
        rf"^complaints/(?P<number>{NUMBER_PATTERN})/reopen/$",
        complaints.ComplaintReopenView.as_view(),
        name="complaint_reopen",
    ),
    re_path(
        rf"^complaints/(?P<number>{NUMBER_PATTERN})/rating/$",
        complaints.ComplaintRateView.as_view(),
        name="complaint_rating",
    ),
    path("incidents/", complaints.IncidentView.as_view(), name="incidents"),
    path("outages/", complaints.CustomerOutageListView.as_view(), name="outages_mine"),
    path("outages/current/", complaints.CurrentOutageListView.as_view(), name="outages_current"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/unread-count/",
        notifications.NotificationUnreadCountView.as_view(),
        name="notifications_unread_count",
    ),
    path("notifications/read-all/", notifications.NotificationReadAllView.as_view(), name="notifications_read_all"),
    path("notifications/<int:pk>/read/", notifications.NotificationReadView.as_view(), name="notification_read"),
    path("agencies/", public.AgencyListView.as_view(), name="agencies"),
    path("simulator/", public.SimulatorView.as_view(), name="simulator"),
    path("documents/verify/", public.DocumentVerifyView.as_view(), name="document_verify"),
    path("contact/", public.ContactView.as_view(), name="contact"),
    path("e-invoice/", efacture.EInvoiceView.as_view(), name="e_invoice"),
]
