"""Reads of rak_portal's own data."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from rak_portal.models import NewsItem

NEWS_SHOWN = 6


def news_active(*, now: datetime, limit: int = NEWS_SHOWN) -> list[NewsItem]:
    """« Les actualités de la RAK » of the dashboard slider: active, published, not expired,
    in the back office's order."""
    return list(
        NewsItem.objects.filter(is_active=True, published_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("position", "-published_at")[:limit]
    )
