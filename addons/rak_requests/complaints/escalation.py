"""SLA escalation of complaints through the scheduler (issue 11; filled by its owner)."""


def jobs_register() -> None:
    """Register the complaint jobs with rak_base.scheduler (called from RakRequestsConfig.ready)."""
