"""API routes: payments (see rak_api.urls)."""

urlpatterns: list = []
