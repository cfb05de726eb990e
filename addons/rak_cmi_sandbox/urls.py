from django.urls import path

from rak_cmi_sandbox import views

app_name = "cmi_sandbox"
urlpatterns = [
    path("fim/est3Dgate", views.gate, name="gate"),
    path("paiement/<str:token>/", views.card, name="card"),
    path("", views.index, name="index"),
    path("transactions/<int:pk>/rejouer/", views.replay, name="replay"),
]
