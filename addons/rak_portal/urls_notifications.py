"""Portal routes: notifications (issue 13; included by rak_portal.urls): « Mes notifications »
(preferences) and the Web Push subscription endpoints of the web app's script."""

from django.urls import path

from rak_portal.views import notifications

urlpatterns = [
    path("profil/notifications/", notifications.notification_preferences, name="notification_preferences"),
    path("notifications/push/abonnement/", notifications.push_subscribe, name="push_subscribe"),
    path("notifications/push/desabonnement/", notifications.push_unsubscribe, name="push_unsubscribe"),
]
