"""Devices signed in to the mobile API (« appareils connectés »): one row per phone or tablet.

Tokens are opaque random strings; only their SHA-256 is stored. The access token lives minutes, the
refresh token weeks and is replaced at each refresh (the previous one is kept to spot a stolen copy
being replayed: the device is then revoked). Revocation (by the customer in « Mon profil » or by
staff on the customer's page) is immediate: every API call looks its device up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    class Platform(models.TextChoices):
        ANDROID = "ANDROID", _("Android")
        IOS = "IOS", _("iOS")
        WEB = "WEB", _("Navigateur")
        OTHER = "OTHER", _("Autre")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"), on_delete=models.CASCADE, related_name="devices"
    )
    name = models.CharField(_("appareil"), max_length=80)
    platform = models.CharField(_("système"), max_length=8, choices=Platform.choices, default=Platform.OTHER)
    access_hash = models.CharField(max_length=64, unique=True, editable=False)
    access_expires_at = models.DateTimeField(_("accès valable jusqu'au"), editable=False)
    refresh_hash = models.CharField(max_length=64, unique=True, editable=False)
    previous_refresh_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    refresh_expires_at = models.DateTimeField(_("session valable jusqu'au"), editable=False)
    created_at = models.DateTimeField(_("connecté le"), editable=False)
    last_seen_at = models.DateTimeField(_("dernière activité"), editable=False)
    last_ip = models.GenericIPAddressField(_("dernière adresse IP"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("déconnecté le"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déconnecté par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    revoked_reason = models.CharField(_("motif de la déconnexion"), max_length=120, blank=True, editable=False)

    class Meta:
        verbose_name = _("appareil connecté")
        verbose_name_plural = _("appareils connectés")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-last_seen_at"], name="device_user_active", condition=Q(revoked_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(platform__in=["ANDROID", "IOS", "WEB", "OTHER"]), name="device_platform_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
