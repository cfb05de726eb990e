"""API routes: account — registration, passwords, profile, devices (see rak_api.urls)."""

from django.urls import path

from rak_api.views import account

urlpatterns: list = [
    path("account/register/", account.RegisterView.as_view(), name="account_register"),
    path("account/register/otp/resend/", account.RegisterOtpResendView.as_view(), name="account_register_otp_resend"),
    path("account/register/new-phone/", account.RegisterNewPhoneView.as_view(), name="account_register_new_phone"),
    path("account/register/prospect/", account.RegisterProspectView.as_view(), name="account_register_prospect"),
    path("account/password/forgot/", account.ForgotPasswordView.as_view(), name="account_password_forgot"),
    path("account/password/first/", account.FirstPasswordView.as_view(), name="account_password_first"),
    path("account/password/", account.PasswordView.as_view(), name="account_password"),
    path("account/profile/", account.ProfileView.as_view(), name="account_profile"),
    path("account/language/", account.LanguageView.as_view(), name="account_language"),
    path("account/notices/", account.NoticesView.as_view(), name="account_notices"),
    path("account/phone/", account.PhoneChangeView.as_view(), name="account_phone"),
    path("account/phone/resend/", account.PhoneChangeResendView.as_view(), name="account_phone_resend"),
    path("account/phone/confirm/", account.PhoneChangeConfirmView.as_view(), name="account_phone_confirm"),
    path("account/phone/verify/", account.PhoneVerifyView.as_view(), name="account_phone_verify"),
    path(
        "account/phone/verify/confirm/", account.PhoneVerifyConfirmView.as_view(), name="account_phone_verify_confirm"
    ),
    path("account/email/", account.EmailView.as_view(), name="account_email"),
    path("account/change-requests/", account.ChangeRequestsView.as_view(), name="account_change_requests"),
    path("devices/", account.DevicesView.as_view(), name="devices"),
    path("devices/<int:pk>/", account.DeviceView.as_view(), name="device"),
]
