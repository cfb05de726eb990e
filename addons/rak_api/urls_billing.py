"""API routes: billing — dashboard, dossiers, bills, consumption, readings (see rak_api.urls)."""

from django.urls import path

from rak_api.views import billing, readings

urlpatterns: list = [
    path("dashboard/", billing.DashboardView.as_view(), name="dashboard"),
    path("dossiers/", billing.DossierListView.as_view(), name="dossiers"),
    path("dossiers/<str:number>/", billing.DossierDetailView.as_view(), name="dossier"),
    path("dossiers/<str:number>/consumption/", billing.DossierConsumptionView.as_view(), name="dossier_consumption"),
    path("dossiers/<str:number>/readings/", readings.ReadingHistoryView.as_view(), name="dossier_readings"),
    path("dossiers/<str:number>/self_reading/", readings.SelfReadingSubmitView.as_view(), name="self_reading_submit"),
    path("bills/", billing.BillListView.as_view(), name="bills"),
    path("bills/amounts/", billing.BilledAmountsView.as_view(), name="bills_amounts"),
    path("bills/export/xlsx/", billing.BillExportXlsxView.as_view(), name="bills_export_xlsx"),
    path("bills/export/csv/", billing.BillExportCsvView.as_view(), name="bills_export_csv"),
    path("bills/export/pdf/", billing.BillExportPdfView.as_view(), name="bills_export_pdf"),
    path("bills/statistics/xlsx/", billing.StatisticsXlsxView.as_view(), name="bills_statistics_xlsx"),
    path("bills/<int:pk>/", billing.BillDetailView.as_view(), name="bill"),
    path("bills/<int:pk>/pdf/", billing.BillPdfView.as_view(), name="bill_pdf"),
    path("self_reading/", readings.SelfReadingView.as_view(), name="self_reading"),
    path("readings/<int:pk>/correction/", readings.ReadingCorrectionView.as_view(), name="reading_correction"),
    path("readings/<int:pk>/cancel/", readings.ReadingCancelView.as_view(), name="reading_cancel"),
    path("readings/<int:pk>/contest/", readings.ReadingContestView.as_view(), name="reading_contest"),
    path("readings/<int:pk>/photo/", readings.ReadingPhotoView.as_view(), name="reading_photo"),
    path("readings/<int:pk>/contest_photo/", readings.ReadingContestPhotoView.as_view(), name="reading_contest_photo"),
]
