"""Managers' reports (issue 14): the « Direction » dashboard and report pages of the back office,
read-only on the other addons; aggregates in materialised views refreshed by the worker."""
