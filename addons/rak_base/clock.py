"""The one place that reads the clock. Domain functions receive ``now`` instead."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
