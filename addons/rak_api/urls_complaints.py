"""API routes: complaints (see rak_api.urls)."""

urlpatterns: list = []
