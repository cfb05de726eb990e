"""Observability settings (issue 15): structured logs without personal data, error reporting
(Sentry when a DSN is configured), health and readiness. Applied at the end of config/settings.py:
``apply(namespace, conf)`` reads its own rak.conf sections and sets the settings it owns.

- [log]: ``format`` json (production default) or plain, ``level``, ``requests`` (one line per
  request, logger ``rak.request``). Every handler masks personal data (``rak_base.redact``).
- [health]: thresholds and access of /health/live and /health/ready (``rak_base.health``), the
  worker heartbeat's period (``rak_base.heartbeat``).
- [sentry]: ``dsn`` (empty: Sentry is not initialised), ``environment``, ``release``,
  ``traces_sample_rate``; no personal data sent (``send_default_pii = False`` and every event
  scrubbed by ``sentry_before_send``)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import parse_qsl, urlencode

from config.conf import Config, ConfigError

HEALTH_CHECKS = ("database", "migrations", "worker", "scheduler", "outbox", "tasks")


def _float(conf: Config, section: str, key: str, default: float) -> float:
    raw = conf.str(section, key, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"[{section}] {key} invalide dans {conf.source}: {raw!r} (nombre attendu)") from exc


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    filters = ["request_id", "personal_data"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "personal_data": {"()": "rak_base.redact.PersonalDataFilter"},
            "request_id": {"()": "rak_base.request_log.RequestIdFilter"},
        },
        "formatters": {
            "json": {"()": "rak_base.logformat.RakJsonFormatter"},
            "plain": {
                "()": "rak_base.logformat.RakPlainFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": filters}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django's own handlers (runserver's line, mail_admins) replaced: everything goes through
            # the root's masked handler
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
        },
    }


def _scrub_query(query: Any) -> Any:
    """The parameters' names, every value replaced: a name, an address or a CIN has no pattern the
    masker could find (the request log keeps the names only too)."""
    from rak_base.redact import MASK

    if isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode([(key, MASK if value else "") for key, value in pairs])
    return MASK


def _scrub_data(data: Any) -> Any:
    """A posted form or JSON body: its fields' names, every value replaced (see ``_scrub_query``)."""
    from rak_base.redact import MASK

    if isinstance(data, dict):
        return {str(key)[:100]: MASK if value not in (None, "", [], {}) else value for key, value in data.items()}
    return MASK


def sentry_before_send(event: Any, hint: Any = None) -> Any:
    """The event without personal data: cookies, the request body's and query string's values
    (their names kept), the frames' local variables dropped; headers, messages, exception texts and
    extra data masked."""
    from rak_base.redact import MASK, mask_text, mask_value

    request = event.get("request")
    if isinstance(request, dict):
        if request.get("cookies"):
            request["cookies"] = MASK
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name in list(headers):
                if name.lower() in ("cookie", "authorization", "proxy-authorization", "x-health-token", "x-csrftoken"):
                    headers[name] = MASK
            request["headers"] = mask_value(headers)  # the others too: a Referer carries a query string
        if "query_string" in request:
            request["query_string"] = _scrub_query(request["query_string"])
        if "data" in request:
            request["data"] = _scrub_data(request["data"])
        if isinstance(request.get("url"), str):
            request["url"] = mask_text(request["url"])
        request.pop("env", None)  # REMOTE_ADDR, SERVER_NAME
    # spans (transactions, traces_sample_rate > 0): an outgoing call's URL and query (the SMS gateway:
    # phone and code), a query's text
    for key in ("extra", "breadcrumbs", "logentry", "contexts", "tags", "spans"):
        if key in event:
            event[key] = mask_value(event[key])
    if isinstance(event.get("message"), str):
        event["message"] = mask_text(event["message"])
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values", []) or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = mask_text(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames", []) or []:
            # never sent (include_local_variables=False): a customer object's repr is its name
            frame.pop("vars", None)
    return event


def sentry_before_breadcrumb(crumb: Any, hint: Any = None) -> Any:
    from rak_base.redact import mask_value

    return mask_value(crumb)


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start Sentry (Django and logging integrations); nothing without a DSN."""
    if not dsn:
        return False
    import logging

    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        # a frame's locals hold customers (their repr is their name), addresses, message texts:
        # nothing the masker's patterns find — not sent at all
        include_local_variables=False,
        max_request_body_size="small",
        before_send=sentry_before_send,
        before_send_transaction=sentry_before_send,
        before_breadcrumb=sentry_before_breadcrumb,
        integrations=[DjangoIntegration(), LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
    )
    return True


def apply(namespace: dict[str, Any], conf: Config) -> None:
    """Set the observability settings in ``namespace`` (the settings module's globals)."""
    mode = namespace["RAK_MODE"]
    try:
        log_format = conf.choice("log", "format", ("json", "plain"), "json" if mode == "production" else "plain")
        log_level = conf.choice("log", "level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
        namespace["LOG_REQUESTS"] = conf.bool("log", "requests", mode == "production")

        allowed_ips = conf.list("health", "allowed_ips", ["127.0.0.1", "::1"])
        for value in allowed_ips:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ConfigError(
                    f"[health] allowed_ips invalide dans {conf.source}: {value!r} (adresse ou réseau IP attendu)"
                ) from exc
        fail_on = conf.list("health", "fail_on", list(HEALTH_CHECKS))
        unknown = sorted(set(fail_on) - set(HEALTH_CHECKS))
        if unknown:
            raise ConfigError(
                f"[health] fail_on invalide dans {conf.source}: {', '.join(unknown)} "
                f"(valeurs possibles: {', '.join(HEALTH_CHECKS)})"
            )
        heartbeat_seconds = conf.int("health", "heartbeat_seconds", 15)
        namespace["HEALTH"] = {
            "token": conf.str("health", "token", ""),
            "allowed_ips": allowed_ips,
            "fail_on": fail_on,
            "heartbeat_seconds": heartbeat_seconds,
            "worker_stale_seconds": conf.int("health", "worker_stale_seconds", max(60, 3 * heartbeat_seconds)),
            "scheduler_lag_seconds": conf.int("health", "scheduler_lag_seconds", 600),
            "outbox_max_age_seconds": conf.int("health", "outbox_max_age_seconds", 900),
            "tasks_max_age_seconds": conf.int("health", "tasks_max_age_seconds", 900),
            "statement_timeout_ms": conf.int("health", "statement_timeout_ms", 2000),
            # a caller without the figures gets the outcome of the last run for this long (per process):
            # a flood of anonymous probes costs no query (0 = run the checks for every call)
            "public_cache_seconds": conf.int("health", "public_cache_seconds", 2),
        }

        sentry_dsn = conf.str("sentry", "dsn", "")
        sentry_environment = conf.str("sentry", "environment", mode)
        sentry_release = conf.str("sentry", "release", "")
        traces_sample_rate = _float(conf, "sentry", "traces_sample_rate", 0.0)
        if not 0.0 <= traces_sample_rate <= 1.0:
            raise ConfigError(f"[sentry] traces_sample_rate invalide dans {conf.source} (entre 0 et 1)")
    except ConfigError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"Configuration RAK: {exc}") from exc

    namespace["LOGGING"] = logging_config(fmt=log_format, level=log_level)
    # first: the probes answered before sessions, https redirect and host checks (rak_base.health);
    # then the request id and the request's log line, around everything else
    middleware = [m for m in namespace["MIDDLEWARE"] if m not in _OWN_MIDDLEWARE]
    namespace["MIDDLEWARE"] = [*_OWN_MIDDLEWARE, *middleware]
    # should HealthMiddleware ever move below SecurityMiddleware: no https redirect of the probes
    namespace["SECURE_REDIRECT_EXEMPT"] = [*namespace.get("SECURE_REDIRECT_EXEMPT", []), r"^health/"]
    namespace["SENTRY_ENABLED"] = sentry_init(
        dsn=sentry_dsn, environment=sentry_environment, release=sentry_release, traces_sample_rate=traces_sample_rate
    )


_OWN_MIDDLEWARE = ["rak_base.health.HealthMiddleware", "rak_base.request_log.RequestLogMiddleware"]
