"""The installable web app's settings for the templates (issue 13): ``{% load rak_pwa %}`` then
``{% pwa_settings as pwa %}`` gives the Web Push public key and the mobile app's store links
(settings.WEBPUSH_VAPID_PUBLIC_KEY, MOBILE_PLAY_STORE_URL, MOBILE_APP_STORE_URL, from rak.conf)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def pwa_settings() -> dict:
    return {
        "vapid_public_key": getattr(settings, "WEBPUSH_VAPID_PUBLIC_KEY", ""),
        "play_store_url": getattr(settings, "MOBILE_PLAY_STORE_URL", ""),
        "app_store_url": getattr(settings, "MOBILE_APP_STORE_URL", ""),
    }
