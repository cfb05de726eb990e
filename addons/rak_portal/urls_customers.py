"""Portal routes: customers (issue 13; included by rak_portal.urls): « Mes codes clients » and the
header's switch between the account's own code client and the ones it linked."""

from django.urls import path

from rak_portal.views import customers

urlpatterns: list = [
    path("mes-codes-clients/", customers.customer_links, name="customer_links"),
    path("mes-codes-clients/ajouter/", customers.customer_link_start, name="customer_link_start"),
    path("mes-codes-clients/confirmer/", customers.customer_link_confirm, name="customer_link_confirm"),
    path("mes-codes-clients/annuler/", customers.customer_link_cancel, name="customer_link_cancel"),
    path("mes-codes-clients/<int:link_id>/retirer/", customers.customer_link_remove, name="customer_link_remove"),
    path("mes-codes-clients/<int:link_id>/libelle/", customers.customer_link_label, name="customer_link_label"),
    path("mes-codes-clients/afficher/", customers.customer_switch, name="customer_switch"),
]
