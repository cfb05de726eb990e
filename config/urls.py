from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "RAK — Back office"
admin.site.site_title = "RAK Back office"

urlpatterns = [
    path("backoffice/", admin.site.urls),
    path("", include("rak_portal.urls")),
]
