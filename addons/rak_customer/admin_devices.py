"""Back office: the « appareils connectés » of a customer's portal account (issue 13).

- On the customer « 360 » (CustomerAdmin.change_view): a card listing the devices of the
  customer's portal account (active first, then the latest signed out, with who and why), each
  active one with « Déconnecter ».
- « Déconnecter » opens a small form asking the reason, then calls ``device_revoke`` with
  ``by=`` the staff member: the device's tokens are refused on its next call.
- « Appareils connectés » (DeviceAdmin) lists every device, read only, searchable by code client.

Who: staff who may read portal accounts see the devices; those who may change them (« Renvoyer un
mot de passe »: accueil, superviseur) sign a device out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from rak_base import clock
from rak_base.errors import RakError
from rak_customer.device_models import Device
from rak_customer.devices import device_revoke, devices_of_user
from rak_customer.models import PortalAccount

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

VIEW_PERMISSION = "rak_customer.view_portalaccount"
REVOKE_PERMISSION = "rak_customer.change_portalaccount"
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"


def can_view_devices(user) -> bool:
    return user.has_perm(VIEW_PERMISSION) or user.has_perm("rak_customer.view_device")


def can_revoke_devices(user) -> bool:
    return user.has_perm(REVOKE_PERMISSION) or user.has_perm("rak_customer.change_device")


def _when(value) -> str:
    return date_format(localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


def customer_devices_panel(request, customer_id: int) -> dict | None:
    """The customer 360's « Appareils connectés » card (the format of HOOK_CUSTOMER_360_PANELS);
    None when the staff member may not see it or the customer has no portal account."""
    if not can_view_devices(request.user):
        return None
    user_id = PortalAccount.objects.filter(customer_id=customer_id).values_list("user_id", flat=True).first()
    if user_id is None:
        return None
    may_revoke = can_revoke_devices(request.user)
    rows = []
    for device in devices_of_user(user_id):
        if device.revoked_at is None:
            state: StrOrPromise = _("connecté")
            if may_revoke:
                state = format_html(
                    '{} — <a href="{}" class="{}" data-testid="device-revoke">{}</a>',
                    state,
                    reverse("admin:rak_customer_device_revoke", args=[device.pk]),
                    LINK_CLASSES,
                    _("Déconnecter"),
                )
        else:
            who = device.revoked_by.get_username() if device.revoked_by else _("système")
            state = format_html(
                "{} {} ({}{})",
                _("déconnecté le"),
                _when(device.revoked_at),
                who,
                f" : {device.revoked_reason}" if device.revoked_reason else "",
            )
        rows.append(
            [
                device.name,
                device.get_platform_display(),
                _when(device.created_at),
                _when(device.last_seen_at),
                device.last_ip or "—",
                state,
            ]
        )
    return {
        "id": "customer-devices",
        "title": _("Appareils connectés (application mobile)"),
        "table": {
            "headers": [
                _("appareil"),
                _("système"),
                _("connecté le"),
                _("dernière activité"),
                _("dernière adresse IP"),
                _("état"),
            ],
            "rows": rows,
        },
        "empty": _("Aucun appareil ne s'est connecté à l'application mobile avec ce compte."),
        "actions": [],
    }


class DeviceRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la déconnexion"),
        max_length=100,
        help_text=_("Par ex. « téléphone perdu signalé au CRC ». Gardé avec l'appareil."),
    )


class ActiveFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("actif", _("connecté")), ("deconnecte", _("déconnecté"))]

    def queryset(self, request, queryset):
        if self.value() == "actif":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "deconnecte":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Device)
class DeviceAdmin(ModelAdmin):
    """Read only; « Déconnecter » is its own view (a reason is asked)."""

    list_display = ("name", "platform", "customer_code", "created_at", "last_seen_at", "state")
    list_filter = (ActiveFilter, ("platform", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("user__username",)
    search_help_text = _("Code client (identifiant du compte portail).")
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-last_seen_at",)
    fields = (
        "name",
        "platform",
        "customer_code",
        "created_at",
        "last_seen_at",
        "last_ip",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "revoked_by")

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(user__username=term), False  # exact, indexed

    def has_view_permission(self, request, obj=None) -> bool:
        return can_view_devices(request.user)

    def has_module_permission(self, request) -> bool:
        return can_view_devices(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "<int:device_id>/deconnecter/",
                self.admin_site.admin_view(self.revoke_view),
                name="rak_customer_device_revoke",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request, device_id: int):
        """« Déconnecter » an account's device, with the reason (kept on the device)."""
        if not can_revoke_devices(request.user):
            raise PermissionDenied
        device = get_object_or_404(Device.objects.select_related("user"), pk=device_id)
        account = PortalAccount.objects.filter(user_id=device.user_id).select_related("customer").first()
        if account is None:
            raise Http404
        back = reverse("admin:rak_customer_customer_change", args=[account.customer_id]) + "#customer-devices"
        form = DeviceRevokeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                device_revoke(
                    device_id=device.pk,
                    user=device.user,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    now=clock.now(),
                )
            except RakError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("%(code)s : l'appareil « %(name)s » est déconnecté.")
                    % {"code": account.customer.code, "name": device.name},
                )
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Déconnecter l'appareil « %(name)s » de %(code)s")
            % {"name": device.name, "code": account.customer.code},
            "device": device,
            "customer": account.customer,
            "form": form,
            "back": back,
        }
        return TemplateResponse(request, "admin/rak_customer/device_revoke.html", context)

    @display(description=_("code client"))
    def customer_code(self, obj: Device) -> str:
        return obj.user.get_username()

    @display(description=_("état"), label={"connecté": "success", "déconnecté": "info"})
    def state(self, obj: Device):
        return ("connecté", _("connecté")) if obj.revoked_at is None else ("déconnecté", _("déconnecté"))
