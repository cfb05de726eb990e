"""Back office of the linked codes clients (issue 13, rak_customer.links).

- ``CustomerLinkInline``: on a customer's page, the accounts that linked this code client (who can
  read its bills and act for it), active ones first, read only; wired in rak_customer.admin's
  ``CustomerAdmin.inlines``.
- ``CustomerLinkAdmin``: every link, searchable by either code client; « Détacher » ends the
  selected links (rak_customer.links.customer_link_unlink, by this staff member). Nothing else is
  editable: a link is made only by its account, with the code received by SMS.

Back-office text: French only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from rak_base import clock
from rak_base.errors import RakError
from rak_customer.link_models import CustomerLink
from rak_customer.links import customer_link_unlink


def _account_display(link: CustomerLink) -> str:
    """The account that linked: its login and its own code client (a link to its customer page)."""
    account = getattr(link.user, "portal_account", None)
    if account is None:
        return link.user.username
    url = reverse("admin:rak_customer_customer_change", args=[account.customer_id])
    return format_html('<a href="{}">{}</a>', url, str(account.customer))


class CustomerLinkInline(TabularInline):
    model = CustomerLink
    fk_name = "customer"
    fields = ("account", "label", "linked_at", "proved_phone", "unlinked_at", "unlinked_by")
    readonly_fields = fields
    verbose_name = _("compte ayant rattaché ce code client")
    verbose_name_plural = _("comptes ayant rattaché ce code client")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    tab = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user__portal_account__customer", "unlinked_by")
            .order_by(F("unlinked_at").desc(nulls_first=True), "-linked_at")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description=_("compte"))
    def account(self, obj: CustomerLink) -> str:
        return _account_display(obj)


class ActiveFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "actif"

    def lookups(self, request, model_admin):
        return (("1", _("Actif")), ("0", _("Détaché")))

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(unlinked_at__isnull=True)
        if self.value() == "0":
            return queryset.filter(unlinked_at__isnull=False)
        return queryset


@admin.register(CustomerLink)
class CustomerLinkAdmin(ModelAdmin):
    list_display = ("account", "customer_display", "label", "linked_at", "unlinked_at", "unlinked_by")
    list_select_related = ("user__portal_account__customer", "customer", "unlinked_by")
    list_filter = (ActiveFilter,)
    search_fields = ("customer__code", "user__portal_account__customer__code", "user__username")
    search_help_text = _("Code client rattaché, ou code client / identifiant du compte qui l'a rattaché.")
    show_full_result_count = False
    list_per_page = 50
    actions = ("unlink_selected",)
    fields = ("account", "customer_display", "label", "proved_phone", "linked_at", "unlinked_at", "unlinked_by")
    readonly_fields = fields
    ordering = ("-linked_at",)

    def has_add_permission(self, request) -> bool:
        return False  # made by the account itself, with the code received by SMS

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # « Détacher » keeps the history

    def has_unlink_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("rak_customer.change_portalaccount")

    @display(description=_("compte"))
    def account(self, obj: CustomerLink) -> str:
        return _account_display(obj)

    @display(description=_("code client rattaché"))
    def customer_display(self, obj: CustomerLink) -> str:
        url = reverse("admin:rak_customer_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.customer))

    @action(description=_("Détacher"), permissions=["unlink"], icon="link_off")
    def unlink_selected(self, request, queryset):
        done = 0
        for link_id in queryset.filter(unlinked_at__isnull=True).values_list("pk", flat=True):
            try:
                customer_link_unlink(link_id=link_id, by=request.user, now=clock.now())
            except RakError as exc:
                messages.error(request, exc.message)
            else:
                done += 1
        messages.success(request, _("%(count)d rattachement(s) détaché(s).") % {"count": done})
