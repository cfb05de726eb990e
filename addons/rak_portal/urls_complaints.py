"""« Envoyer une réclamation », « Mes réclamations », « Signaler une fuite ou une coupure » (issue 11).

Included before the « services/<slug>/ » catch-all of rak_portal.urls: « services/reclamation/ »
(the home page's tile) is the form, no longer « bientôt disponible »."""

from django.urls import path

from rak_portal.views import complaints, efacture

urlpatterns: list = [
    path("services/reclamation/", complaints.complaint_new, name="complaint_new"),
    path("services/reclamation/envoyee/", complaints.complaint_filed, name="complaint_filed"),
    path("services/signaler-fuite-ou-coupure/", complaints.incident_new, name="incident_new"),
    path("espace/reclamations/", complaints.my_complaints, name="complaints"),
    path("espace/reclamations/pieces/<int:pk>/", complaints.complaint_attachment, name="complaint_attachment"),
    path("espace/reclamations/<str:number>/", complaints.complaint_detail, name="complaint_detail"),
    path("espace/reclamations/<str:number>/ajouter/", complaints.complaint_add, name="complaint_add"),
    path("espace/reclamations/<str:number>/rouvrir/", complaints.complaint_reopen_view, name="complaint_reopen"),
    path("espace/reclamations/<str:number>/avis/", complaints.complaint_rate_view, name="complaint_rate"),
    # « Facture électronique » (issue 13): stop paper bills (reached from the bills page, « Mes factures »)
    path("espace/facture-electronique/", efacture.efacture_page, name="e_invoice"),
]
