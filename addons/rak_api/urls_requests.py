"""API routes: requests (see rak_api.urls and rak_api.views.requests)."""

from django.urls import path

from rak_api.views import requests as v

urlpatterns = [
    path("request-types/", v.RequestTypeListView.as_view(), name="request_types"),
    path("request-types/<slug:slug>/", v.RequestTypeDetailView.as_view(), name="request_type"),
    path("request-types/<slug:slug>/draft/person/", v.DraftPersonView.as_view(), name="request_draft_person"),
    path("request-types/<slug:slug>/draft/otp/", v.DraftOtpView.as_view(), name="request_draft_otp"),
    path("request-types/<slug:slug>/draft/info/", v.DraftInfoView.as_view(), name="request_draft_info"),
    path("request-types/<slug:slug>/draft/documents/", v.DraftDocumentsView.as_view(), name="request_draft_documents"),
    path("request-types/<slug:slug>/draft/submit/", v.DraftSubmitView.as_view(), name="request_draft_submit"),
    path("request-types/<slug:slug>/requests/", v.KindFileView.as_view(), name="request_kind_file"),
    path("request-types/<slug:slug>/requests/confirm/", v.KindConfirmView.as_view(), name="request_kind_confirm"),
    path("requests/", v.RequestListView.as_view(), name="requests"),
    path("requests/attachments/<int:pk>/", v.RequestAttachmentView.as_view(), name="request_attachment"),
    path("requests/<str:number>/", v.RequestDetailView.as_view(), name="request"),
    path("requests/<str:number>/receipt/", v.RequestReceiptView.as_view(), name="request_receipt"),
    path("requests/<str:number>/complement/", v.RequestComplementView.as_view(), name="request_complement"),
    path("requests/<str:number>/cancel/", v.RequestCancelView.as_view(), name="request_cancel"),
    path("requests/<str:number>/final-index/", v.RequestFinalIndexView.as_view(), name="request_final_index"),
    path("requests/<str:number>/pay/", v.RequestPayView.as_view(), name="request_pay"),
    path("requests/<str:number>/call/", v.RequestCallView.as_view(), name="request_call"),
    path("contracts/<int:pk>/sign/", v.ContractSignView.as_view(), name="contract_sign"),
    path("contracts/<int:pk>/pdf/", v.ContractPdfView.as_view(), name="contract_pdf"),
    path("quotes/", v.QuoteListView.as_view(), name="quotes"),
    path("quotes/<int:pk>/", v.QuoteDetailView.as_view(), name="quote"),
    path("quotes/<int:pk>/pdf/", v.QuotePdfView.as_view(), name="quote_pdf"),
    path("quotes/<int:pk>/accept/", v.QuoteAcceptView.as_view(), name="quote_accept"),
    path("attestations/", v.AttestationListView.as_view(), name="attestations"),
    path("attestations/<str:number>/pdf/", v.AttestationPdfView.as_view(), name="attestation_pdf"),
]
