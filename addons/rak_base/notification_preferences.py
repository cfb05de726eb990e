"""Customers' notification preferences (issue 13): read them as a matrix category × channel and
change them. The outbox reads the rows itself (``rak_base.outbox``). The cell held by the
customer's own flag (« Coupures et travaux × SMS » = ``Customer.sms_service_notices``) is not
stored here: ``rak_customer.notification_preferences`` composes the two."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError
from rak_base.models import NotificationPreference
from rak_base.notification_kinds import CATEGORIES, CUSTOMER_FLAG_CELL, Channel, can_turn_off, customer_categories


class NotificationPreferenceLocked(RakError):
    code = "preference_locked"
    default_message = _("Ces messages sont toujours envoyés : ils ne peuvent pas être désactivés.")


class NotificationPreferenceUnknown(RakError):
    code = "preference_unknown"
    default_message = _("Cette catégorie ou ce canal de notification n'existe pas.")


def notification_preferences_of(user) -> dict[tuple[str, str], bool]:
    """Every cell (category, channel) of the customers' page: True unless turned off (one query)."""
    off = set(NotificationPreference.objects.filter(user=user, enabled=False).values_list("category", "channel"))
    return {
        (spec.code, channel): spec.always or (spec.code, channel) not in off
        for spec in customer_categories()
        for channel in Channel.values
    }


def cell_check(category: str, channel: str, enabled: bool) -> None:
    """NotificationPreferenceUnknown / NotificationPreferenceLocked for a cell that cannot take
    this value (turning a « toujours envoyé » one on is accepted: it is on)."""
    spec = CATEGORIES.get(category)
    if spec is None or not spec.customer_only or channel not in Channel.values:
        raise NotificationPreferenceUnknown()
    if not enabled and not can_turn_off(category, channel):
        raise NotificationPreferenceLocked()


@transaction.atomic
def notification_preferences_set(*, user, choices: Mapping[tuple[str, str], bool], now: datetime) -> int:
    """Store the customer's choices (cells not given are unchanged; the « toujours envoyé » ones
    cannot be turned off; the customer-flag cell is left to the caller). Returns the cells changed."""
    current = notification_preferences_of(user)
    rows = []
    for (category, channel), enabled in choices.items():
        cell_check(category, channel, bool(enabled))
        if (category, channel) == CUSTOMER_FLAG_CELL or not can_turn_off(category, channel):
            continue
        if current.get((category, channel)) != bool(enabled):
            rows.append(
                NotificationPreference(
                    user=user, category=category, channel=channel, enabled=bool(enabled), updated_at=now
                )
            )
    if rows:
        NotificationPreference.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "category", "channel"],
            update_fields=["enabled", "updated_at"],
        )
    return len(rows)
