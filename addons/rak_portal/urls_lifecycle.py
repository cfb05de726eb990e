"""Routes of the subscription lifecycle pages (rak_portal.views.lifecycle), in the ``portal``
namespace (added to rak_portal.urls)."""

from django.urls import path

from rak_portal.views import lifecycle

urlpatterns = [
    path("espace/demandes/<str:number>/appeler/", lifecycle.call, name="lifecycle_call"),
    path("espace/demandes/<str:number>/signer/", lifecycle.sign, name="lifecycle_sign"),
    path("espace/demandes/<str:number>/payer-les-frais/", lifecycle.pay, name="lifecycle_pay"),
    path("espace/contrats/<int:pk>/pdf/", lifecycle.contract_pdf, name="lifecycle_contract_pdf"),
    path("espace/contrats/<int:pk>/signature/", lifecycle.signature_image, name="lifecycle_signature"),
]
