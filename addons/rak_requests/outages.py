"""Outage and works notices (issue 11; filled by its owner)."""


def register() -> None:
    """Registrations of the outage notices (message templates, jobs), called from RakRequestsConfig.ready."""
