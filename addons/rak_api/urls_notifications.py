"""API routes: notifications (see rak_api.urls): preferences and Web Push subscriptions (H7); the
notification list (H5) adds its own."""

from django.urls import path

from rak_api.views.preferences import NotificationPreferencesView, PushSubscriptionsView

urlpatterns: list = [
    path("notification-preferences/", NotificationPreferencesView.as_view(), name="notification_preferences"),
    path("push-subscriptions/", PushSubscriptionsView.as_view(), name="push_subscriptions"),
]
