"""The installable web app's settings for the templates (issue 13): ``{% load rak_pwa %}`` then
``{% pwa_settings as pwa %}`` gives the Web Push public key (rak_base.push.vapid_public_key: empty
unless settings.WEBPUSH_VAPID_PUBLIC_KEY is set and matches the private key) and the mobile app's
store links (settings.MOBILE_PLAY_STORE_URL, MOBILE_APP_STORE_URL, from rak.conf [mobile])."""

from __future__ import annotations

from django import template
from django.conf import settings

from rak_base.push import vapid_public_key

register = template.Library()


@register.simple_tag
def pwa_settings() -> dict:
    return {
        "vapid_public_key": vapid_public_key(),
        "play_store_url": getattr(settings, "MOBILE_PLAY_STORE_URL", ""),
        "app_store_url": getattr(settings, "MOBILE_APP_STORE_URL", ""),
    }
