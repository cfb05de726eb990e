"""API routes: customers (see rak_api.urls)."""

urlpatterns: list = []
