"""Several codes clients in one account (issue 13): a landlord, a family. The account's user links
another customer by proving it (code client + a code sent by SMS to that customer's phone) and then
acts for it in the portal and the API (rak_customer.selectors.customer_acting_for)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CustomerLink(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="customer_links"
    )
    customer = models.ForeignKey(
        "rak_customer.Customer", verbose_name=_("client rattaché"), on_delete=models.CASCADE, related_name="links"
    )
    label = models.CharField(
        _("libellé"), max_length=60, blank=True, help_text=_("Un nom pour s'y retrouver (« Appartement Mehdia »).")
    )
    proved_phone = models.CharField(_("téléphone vérifié"), max_length=20, blank=True, editable=False)
    linked_at = models.DateTimeField(_("rattaché le"), editable=False)
    unlinked_at = models.DateTimeField(_("détaché le"), null=True, blank=True, editable=False)
    unlinked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("détaché par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("code client rattaché")
        verbose_name_plural = _("codes clients rattachés")
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "customer"], condition=Q(unlinked_at__isnull=True), name="customerlink_active_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["user"], name="customerlink_user_active", condition=Q(unlinked_at__isnull=True)),
            models.Index(
                fields=["customer"], name="customerlink_customer_active", condition=Q(unlinked_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.customer_id}"
