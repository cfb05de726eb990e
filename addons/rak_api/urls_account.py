"""API routes: account (see rak_api.urls)."""

urlpatterns: list = []
