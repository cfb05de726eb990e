from django.urls import path

from rak_payment_cmi import views

app_name = "cmi"
urlpatterns = [
    path("cmi/callback/", views.callback, name="callback"),
    path("cmi/ok/", views.ok_return, name="ok"),
    path("cmi/echec/", views.fail_return, name="fail"),
    path("commande/<str:oid>/", views.order_return, name="order_return"),
    path("commande/<str:oid>/statut/", views.order_status, name="order_status"),
    path("commande/<str:oid>/quitte/", views.order_left, name="order_left"),
]
