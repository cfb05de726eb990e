"""API routes: notifications (see rak_api.urls)."""

urlpatterns: list = []
