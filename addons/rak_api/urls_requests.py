"""API routes: requests (see rak_api.urls)."""

urlpatterns: list = []
