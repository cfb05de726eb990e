"""/api/v1/: the schema, its docs, and one module of routes per area (each owned by one team)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from rak_api.views.session import RefreshView, SessionView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar (served here, no CDN), its script in a file (CSP)
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="rak_api/swagger_ui.html"),
        name="docs",
    ),
    path("session/", SessionView.as_view(), name="session"),
    path("session/refresh/", RefreshView.as_view(), name="session_refresh"),
    path("", include("rak_api.urls_account")),
    path("", include("rak_api.urls_billing")),
    path("", include("rak_api.urls_payments")),
    path("", include("rak_api.urls_requests")),
    path("", include("rak_api.urls_complaints")),
    path("", include("rak_api.urls_notifications")),
    path("", include("rak_api.urls_customers")),
]
