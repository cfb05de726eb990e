from django.urls import path

from rak_portal.urls_complaints import urlpatterns as complaint_urlpatterns
from rak_portal.urls_customers import urlpatterns as customer_urlpatterns
from rak_portal.urls_devices import urlpatterns as device_urlpatterns
from rak_portal.urls_lifecycle import urlpatterns as lifecycle_urlpatterns
from rak_portal.urls_mobile import urlpatterns as mobile_urlpatterns
from rak_portal.urls_notifications import urlpatterns as notification_urlpatterns
from rak_portal.urls_outages import urlpatterns as outage_urlpatterns
from rak_portal.views import account, auth, bills, language, payments, public, readings, simulator, subscription, verify
from rak_portal.views import attestations as attestation_views
from rak_portal.views import direct_debit as direct_debit_views
from rak_portal.views import kind_services as kind_service_views
from rak_portal.views import provisions as provision_views
from rak_portal.views import refunds as refund_views
from rak_portal.views import requests as request_views
from rak_portal.views import termination as termination_views

app_name = "portal"
# réclamations and avis de coupure (issue 11) first: « services/<slug>/ » below is a catch-all
urlpatterns = complaint_urlpatterns + outage_urlpatterns
# the mobile channel (issue 13): web app (manifest, service worker, offline page), notification
# preferences and Web Push, linked codes clients, connected devices
urlpatterns += mobile_urlpatterns + notification_urlpatterns + customer_urlpatterns + device_urlpatterns
urlpatterns += [
    path("", auth.home, name="home"),
    path("connexion/", auth.login_view, name="login"),
    path("langue/", language.set_language, name="set_language"),
    path("deconnexion/", auth.logout_view, name="logout"),
    path("creer-mon-compte/", auth.register_start, name="register_start"),
    path("creer-mon-compte/code-otp/", auth.register_new_phone, name="register_new_phone"),
    path("creer-mon-compte/informations/", auth.register_prospect, name="register_prospect"),
    path("mot-de-passe-envoye/", auth.password_sent, name="password_sent"),
    path("mot-de-passe-oublie/", auth.forgot_password, name="forgot_password"),
    path("mot-de-passe/nouveau/", auth.password_first_change, name="password_first_change"),
    path("contact/", public.contact, name="contact"),
    path("contacter-la-rak/", public.contact_page, name="contact_page"),
    path("agences/", public.agencies, name="agencies"),
    path("services/simulation/", simulator.simulator, name="simulator"),
    path("verifier-document/", verify.verify, name="verify"),
    path("payer-mes-factures/", payments.quickpay, name="quickpay"),
    path("payer-mes-factures/factures/", payments.quickpay_bills, name="quickpay_bills"),
    path("payer-mes-factures/recapitulatif/", payments.quickpay_recap, name="quickpay_recap"),
    path("paiement-en-ligne/conditions-generales/", payments.payment_terms, name="payment_terms"),
    path("conditions-d-utilisation/", public.terms, name="terms"),
    path("paiement-en-ligne/commande/<str:oid>/", payments.payment_pending, name="payment_pending"),
    path("recu-de-paiement/<str:oid>/", payments.payment_receipt, name="payment_receipt"),
    path("recu-de-paiement/<str:oid>/pdf/", payments.payment_receipt_pdf_view, name="payment_receipt_pdf"),
    path("services/demande-abonnement/", subscription.subscription, name="subscription"),
    path("services/demande-branchement/", subscription.connection, name="connection"),
    path("services/demande-<str:kind>/etape-<int:step>/", subscription.request_step, name="request_step"),
    path("services/demande/<str:number>/recu/", subscription.request_receipt, name="request_receipt"),
    path("services/demande/<str:number>/recu/pdf/", subscription.request_receipt_pdf, name="request_receipt_pdf"),
    path(
        "services/compteurs-collectifs/<slug:which>.pdf",
        provision_views.collective_meter_template,
        name="collective_meter_template",
    ),
    path("services/<slug:slug>/", public.coming_soon, name="service"),
    path("email/confirmer/<str:token>/", account.email_confirm, name="email_confirm"),
    path("espace/", account.dashboard, name="dashboard"),
    path("espace/profil/", account.profile, name="profile"),
    path("espace/profil/mot-de-passe/", account.profile_password, name="profile_password"),
    path("espace/profil/telephone/", account.profile_phone, name="profile_phone"),
    path("espace/profil/telephone/annuler/", account.profile_phone_cancel, name="profile_phone_cancel"),
    path("espace/profil/telephone/confirmer/", account.profile_phone_confirm, name="profile_phone_confirm"),
    path("espace/profil/email/", account.profile_email, name="profile_email"),
    path("espace/profil/modification/", account.profile_change_request, name="profile_change_request"),
    path("espace/profil/avis/", account.profile_notices, name="profile_notices"),
    path("espace/notifications/", account.notifications, name="notifications"),
    path("espace/notifications/tout-lu/", account.notifications_read_all, name="notifications_read_all"),
    path("espace/releve/", readings.self_reading, name="self_reading"),
    path("espace/releve/<str:number>/", readings.self_reading_dossier, name="self_reading_dossier"),
    path("espace/releves/", readings.history, name="reading_history"),
    path("espace/releves/<int:pk>/contester/", readings.contest, name="reading_contest"),
    path("espace/releves/<int:pk>/corriger/", readings.correct, name="reading_correct"),
    path("espace/releves/<int:pk>/photo/", readings.photo, name="reading_photo"),
    path("espace/releves/<int:pk>/contestation/photo/", readings.contest_photo, name="reading_contest_photo"),
    path("espace/consommations/", bills.consumptions, name="consumptions"),
    path("espace/factures/<int:pk>/", bills.bill_detail, name="bill_detail"),
    path("espace/factures/<int:pk>/pdf/", bills.bill_pdf, name="bill_pdf"),
    path("espace/impayes/", bills.unpaid, name="unpaid"),
    path("espace/autres-factures/", bills.other_bills, name="other_bills"),
    path("espace/paiement/", payments.pay_online, name="pay_online"),
    path("espace/paiement/recapitulatif/", payments.pay_recap, name="pay_recap"),
    path("espace/avances/", payments.advance, name="advance"),
    path("espace/provisions/", provision_views.provisions, name="provisions"),
    path("espace/devis/", subscription.quotes, name="quotes"),
    path("espace/devis/<int:pk>/pdf/", subscription.quote_pdf, name="quote_pdf"),
    path("espace/devis/<int:pk>/accepter/", subscription.quote_accept_view, name="quote_accept"),
    path("espace/demandes/<str:number>/payer-les-travaux/", subscription.works_pay, name="works_pay"),
    path("espace/attestations/", attestation_views.attestations, name="attestations"),
    path("espace/attestations/<str:number>/pdf/", attestation_views.attestation_pdf, name="attestation_pdf"),
    path("espace/abonnements/", attestation_views.my_dossiers, name="my_dossiers"),
    path("espace/abonnements/<str:number>/", attestation_views.my_dossier, name="my_dossier"),
    path("espace/remboursements/demande/", refund_views.refund_request, name="refund_request"),
    path("espace/mes-remboursements/", refund_views.my_refunds, name="my_refunds"),
    path("espace/mes-remboursements/<int:pk>/recu/", refund_views.refund_receipt, name="refund_receipt"),
    path("espace/e-facture/", bills.efacture, name="efacture"),
    path("espace/e-facture/factures.xlsx", bills.efacture_xlsx, name="efacture_xlsx"),
    path("espace/e-facture/factures.pdf", bills.efacture_pdf, name="efacture_pdf"),
    path("espace/e-facture/statistiques.xlsx", bills.statistics_xlsx, name="statistics_xlsx"),
    path(
        "espace/services/domiciliation-bancaire/formulaire.pdf",
        direct_debit_views.form_pdf,
        name="direct_debit_form_pdf",
    ),
    path("espace/services/", kind_service_views.services_index, name="customer_services"),
    path("espace/services/<slug:slug>/", kind_service_views.kind_service, name="kind_service"),
    path("espace/demandes/", request_views.request_list, name="requests"),
    path("espace/demandes/pieces/<int:pk>/", request_views.request_attachment, name="request_attachment"),
    path("espace/demandes/<str:number>/", request_views.request_detail_view, name="request_detail"),
    path("espace/demandes/<str:number>/repondre/", request_views.request_answer, name="request_answer"),
    path("espace/demandes/<str:number>/annuler/", request_views.request_cancel_view, name="request_cancel"),
    path("espace/demandes/<str:number>/index-final/", termination_views.final_index, name="request_final_index"),
]
urlpatterns += lifecycle_urlpatterns  # « Appeler », signature, fees, signed contract (rak_portal.urls_lifecycle)
