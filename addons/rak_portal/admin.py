"""Back-office screens of rak_portal: « Les actualités de la RAK » shown in the dashboard slider."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from rak_base import clock
from rak_portal.models import NewsItem


class NewsOnlineFilter(admin.SimpleListFilter):
    title = _("en ligne")
    parameter_name = "en_ligne"

    def lookups(self, request, model_admin):
        return [("oui", _("Visible dans l'espace client")), ("non", _("Non visible"))]

    def queryset(self, request, queryset):
        if self.value() not in ("oui", "non"):
            return queryset
        now = clock.now()
        online = queryset.filter(is_active=True, published_at__lte=now).exclude(expires_at__lte=now)
        return online if self.value() == "oui" else queryset.exclude(pk__in=online.values("pk"))


@admin.register(NewsItem)
class NewsItemAdmin(ModelAdmin):
    list_display = ("title", "online", "published_at", "expires_at", "position", "is_active")
    list_display_links = ("title",)
    list_editable = ("position", "is_active")
    list_filter = (NewsOnlineFilter, "is_active")
    search_fields = ("title",)
    ordering = ("position", "-published_at")
    date_hierarchy = "published_at"
    fieldsets = (
        (None, {"fields": ("title", "summary", "link")}),
        (
            _("Publication"),
            {
                "fields": ("published_at", "expires_at", "position", "is_active"),
                "description": _(
                    "L'actualité apparaît dans le carrousel du tableau de bord client entre ces deux dates, "
                    "dans l'ordre croissant du champ « ordre »."
                ),
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "link":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("published_at", timezone.localtime(clock.now()).replace(second=0, microsecond=0))
        return initial

    @display(description=_("en ligne"), boolean=True)
    def online(self, obj: NewsItem) -> bool:
        now = clock.now()
        return obj.is_active and obj.published_at <= now and (obj.expires_at is None or obj.expires_at > now)
