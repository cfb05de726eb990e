"""Back office (issue 13): what a customer chose to hear (« Mes notifications ») and the browsers
subscribed to Web Push. French only.

- ``notification_preferences_summary(user)``: the channels the customer turned off, per category,
  and their push browsers, as staff read it on the customer's page. The customer admin shows it
  through ``CustomerNotificationPreferencesMixin`` (a read-only field ``notification_preferences``
  to add to its fieldsets; the cell « Coupures et travaux × SMS » is the customer's own field
  « recevoir par SMS les avis de coupure », already on that page).
- ``NotificationPreferenceInline`` / ``PushSubscriptionInline``: read-only, on the user's page.
- « Abonnements push »: the list (search by code client), deletable (a browser given away).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from rak_base.models import NotificationPreference, PushSubscription
from rak_base.notification_kinds import CATEGORIES, Channel


def notification_preferences_summary(user) -> str:
    """« Tout est activé » or the list of what is off, then the push browsers (two queries)."""
    if user is None:
        return "—"
    off = list(
        NotificationPreference.objects.filter(user=user, enabled=False)
        .order_by("category", "channel")
        .values_list("category", "channel")
    )
    channels = dict(Channel.choices)
    by_category: dict[str, list[str]] = {}
    for category, channel in off:
        by_category.setdefault(category, []).append(str(channels.get(channel, channel)))
    browsers = PushSubscription.objects.filter(user=user).count()
    if by_category:
        lines = format_html_join(
            "",
            "<li>{} : {} désactivé(s)</li>",
            ((CATEGORIES[c].label if c in CATEGORIES else c, ", ".join(names)) for c, names in by_category.items()),
        )
        head = format_html("<ul>{}</ul>", lines)
    else:
        head = format_html("<p>{}</p>", "Tout est activé (choix par défaut).")
    return format_html("{}<p>Notifications sur l'appareil (Web Push) : {} navigateur(s) abonné(s).</p>", head, browsers)


class CustomerNotificationPreferencesMixin:
    """For CustomerAdmin: add ``"notification_preferences"`` to ``readonly_fields`` and to a fieldset."""

    @display(description=_("notifications choisies par le client"))
    def notification_preferences(self, obj) -> str:
        # the theme asks a read-only field for its contents several times per page: compute once
        cached = obj.__dict__.get("_notification_preferences_summary")
        if cached is None:
            account = getattr(obj, "portal_account", None)
            cached = notification_preferences_summary(getattr(account, "user", None))
            obj.__dict__["_notification_preferences_summary"] = cached
        return cached


class NotificationPreferenceInline(TabularInline):
    model = NotificationPreference
    fields = ("category", "channel", "enabled", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("préférences de notification (modifiées par le client)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PushSubscriptionInline(TabularInline):
    model = PushSubscription
    fields = ("user_agent", "created_at", "last_success_at", "failures")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ModelAdmin):
    list_display = ("created_at", "user", "browser", "last_success_at", "failures")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    search_help_text = _("Code client, saisi en entier.")
    ordering = ("-created_at",)
    fields = ("user", "user_agent", "endpoint", "created_at", "last_success_at", "failures")
    readonly_fields = fields

    @display(description=_("navigateur"))
    def browser(self, obj: PushSubscription) -> str:
        return obj.user_agent[:80] or "—"

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(user__username=term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
