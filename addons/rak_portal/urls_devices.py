"""Portal routes: devices (issue 13; included by rak_portal.urls)."""

urlpatterns: list = []
