"""config/settings_observability.apply(): defaults per mode, the middleware it puts first, and a
clear message for each malformed key (never a traceback about a float)."""

from __future__ import annotations

import configparser

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import settings_observability
from config.conf import Config


def applied(mode: str, **environ: str) -> dict:
    namespace = {"RAK_MODE": mode, "MIDDLEWARE": ["django.middleware.security.SecurityMiddleware", "x.Other"]}
    settings_observability.apply(namespace, Config(parser=configparser.ConfigParser(), environ=environ))
    return namespace


def test_production_defaults_json_request_lines_no_sentry():
    ns = applied("production")
    assert ns["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    assert ns["LOGGING"]["handlers"]["console"]["filters"] == ["request_id", "personal_data"]
    assert ns["LOG_REQUESTS"] is True and ns["SENTRY_ENABLED"] is False
    assert ns["MIDDLEWARE"][:3] == [
        "rak_base.health.HealthMiddleware",
        "rak_base.request_log.RequestLogMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]
    assert ns["SECURE_REDIRECT_EXEMPT"] == [r"^health/"]
    assert ns["HEALTH"]["fail_on"] == list(settings_observability.HEALTH_CHECKS)
    assert ns["HEALTH"]["worker_stale_seconds"] == 60 and ns["HEALTH"]["token"] == ""


def test_development_defaults_plain_and_overrides():
    ns = applied("development", RAK_LOG_FORMAT="json", RAK_HEALTH_FAIL_ON="database, migrations")
    assert ns["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    assert ns["LOG_REQUESTS"] is False and ns["HEALTH"]["fail_on"] == ["database", "migrations"]
    assert applied("development")["LOGGING"]["handlers"]["console"]["formatter"] == "plain"
    # applied twice (tests re-import settings): the middleware is not doubled
    ns = applied("test")
    settings_observability.apply(ns, Config(parser=configparser.ConfigParser(), environ={}))
    assert ns["MIDDLEWARE"].count("rak_base.health.HealthMiddleware") == 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RAK_LOG_FORMAT": "xml"}, "[log] format invalide"),
        ({"RAK_HEALTH_FAIL_ON": "database,foo"}, "[health] fail_on invalide"),
        ({"RAK_HEALTH_ALLOWED_IPS": "nope"}, "[health] allowed_ips invalide"),
        ({"RAK_HEALTH_WORKER_STALE_SECONDS": "soon"}, "[health] worker_stale_seconds invalide"),
        ({"RAK_SENTRY_TRACES_SAMPLE_RATE": "lots"}, "[sentry] traces_sample_rate invalide"),
        ({"RAK_SENTRY_TRACES_SAMPLE_RATE": "1.5"}, "[sentry] traces_sample_rate invalide"),
    ],
)
def test_malformed_keys_are_named(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("[", r"\[").replace("]", r"\]")):
        applied("production", **environ)
