from django.urls import path

from rak_portal.views import account, auth, public, simulator

app_name = "portal"
urlpatterns = [
    path("", auth.home, name="home"),
    path("connexion/", auth.login_view, name="login"),
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
    path("espace/notifications/", account.notifications, name="notifications"),
    path("espace/notifications/tout-lu/", account.notifications_read_all, name="notifications_read_all"),
]
