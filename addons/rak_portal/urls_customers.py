"""Portal routes: customers (issue 13; included by rak_portal.urls)."""

urlpatterns: list = []
