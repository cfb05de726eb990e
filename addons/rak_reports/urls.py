from django.contrib import admin
from django.urls import path

from rak_reports import views

app_name = "reports"

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("<slug:slug>/", admin.site.admin_view(views.report_view), name="report"),
    path("<slug:slug>/xlsx/", admin.site.admin_view(views.report_view), {"fmt": "xlsx"}, name="report_xlsx"),
    path("<slug:slug>/pdf/", admin.site.admin_view(views.report_view), {"fmt": "pdf"}, name="report_pdf"),
]
