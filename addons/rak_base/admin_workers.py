"""Back office « Workers »: one row per ``rak_worker`` process with its last heartbeat
(``rak_base.heartbeat``), read only — what /health/ready checks, for staff to see."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from rak_base import clock
from rak_base.models import WorkerHeartbeat


def heartbeat_state(row: WorkerHeartbeat, *, now) -> tuple[str, str]:
    if row.stopped_at is not None:
        return "stopped", str(_("Arrêté"))
    stale = getattr(settings, "HEALTH", {}).get("worker_stale_seconds", 60)
    if (now - row.beat_at).total_seconds() > stale:
        return "silent", str(_("Sans nouvelles"))
    return "alive", str(_("En marche"))


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ModelAdmin):
    list_display = ("name", "role", "state_display", "started_at", "beat_at", "stopped_at")
    list_filter = ("role",)
    ordering = ("-beat_at",)
    search_fields = ("name", "host")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("état"), label={"alive": "success", "silent": "danger", "stopped": "info"})
    def state_display(self, obj: WorkerHeartbeat):
        return heartbeat_state(obj, now=clock.now())
