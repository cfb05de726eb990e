"""API routes: billing (see rak_api.urls)."""

urlpatterns: list = []
