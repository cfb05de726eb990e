"""Outage and works notices on the portal (issue 11)."""

urlpatterns: list = []
