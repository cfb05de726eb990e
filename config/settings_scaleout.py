"""Settings for a web tier on several hosts (issue 15): Redis for sessions and throttles, an
S3-compatible storage for private files and PDFs, a read replica for the reports. Applied at the
end of config/settings.py: ``apply(namespace, conf)`` reads its own rak.conf sections; with none of
them configured the single-server defaults above stay as they are.

- ``[redis] url``: the cache (``rak_base.redis_cache.ResilientRedisCache``: a Redis that does not
  answer is a cache miss, never an error page), sessions (``[redis] sessions``, default
  ``cached_db``: read from Redis, written through to PostgreSQL, so a Redis restart logs nobody
  out) and the throttles (``rak_base.throttle``: sorted sets, check-and-count in one Lua script).
  django-axes stays in PostgreSQL (its own model, one row per locked username).
- ``[storage] backend = s3``: ``STORAGES["default"]`` (every FileField: uploads, generated PDFs,
  imports, the request forms' staged uploads) on an S3-compatible bucket through django-storages;
  files are always private (no ACL, no public URL): the access-checked views stream them.
- ``[database] replica_url`` (or ``DATABASE_REPLICA_URL``): ``DATABASES["replica"]``; the reports
  read there (``rak_base.db_router``), everything else stays on the primary.
"""

from __future__ import annotations

import os
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.conf import Config

REDIS_TIMEOUT_SECONDS = 0.5  # a Redis that does not answer must not hold a web worker
SESSION_ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    # Django's cached_db, but a logout that cannot delete the Redis copy is refused (rak_base)
    "cached_db": "rak_base.redis_sessions_cached_db",
    # Django's cache store, but a dead Redis is a quick 503, not 10,000 tries (rak_base.redis_sessions)
    "cache": "rak_base.redis_sessions",
}


def _redis(namespace: dict[str, Any], conf: Config) -> None:
    url = conf.str("redis", "url", "")
    prefix = conf.str("redis", "key_prefix", "rak")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:  # parallel test workers share one Redis database: each its own keys
        prefix = f"{prefix}-{worker}"
    namespace["REDIS_URL"] = url
    namespace["REDIS_KEY_PREFIX"] = prefix
    namespace["REDIS_TIMEOUT_SECONDS"] = REDIS_TIMEOUT_SECONDS
    sessions = conf.choice("redis", "sessions", tuple(SESSION_ENGINES), "cached_db")
    if not url:
        return
    namespace["CACHES"] = {
        **namespace.get("CACHES", {}),  # « fragments » stays in the process's memory
        "default": {
            "BACKEND": "rak_base.redis_cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        },
    }
    namespace["SESSION_ENGINE"] = SESSION_ENGINES[sessions]
    # a throttle that cannot count refuses with a French page (503) instead of a server error
    namespace["MIDDLEWARE"] = [*namespace["MIDDLEWARE"], "rak_base.throttle.ThrottleUnavailableMiddleware"]


def _storage(namespace: dict[str, Any], conf: Config) -> list[str]:
    backend = conf.choice("storage", "backend", ("filesystem", "s3"), "filesystem")
    namespace["PRIVATE_STORAGE_BACKEND"] = backend
    if backend == "filesystem":
        return []
    options = {
        "bucket_name": conf.str("storage", "bucket", ""),
        "endpoint_url": conf.str("storage", "endpoint_url", "") or None,
        "region_name": conf.str("storage", "region", "") or None,
        "access_key": conf.str("storage", "access_key_id", ""),
        "secret_key": conf.str("storage", "secret_access_key", ""),
        "location": conf.str("storage", "prefix", "").strip("/"),
        # private files: no ACL sent (the bucket's own, private), no public or signed URL handed
        # out (the views check access and stream), never overwrite a name already taken
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        "addressing_style": conf.choice("storage", "addressing_style", ("path", "virtual", "auto"), "path"),
        "signature_version": "s3v4",
    }
    namespace["STORAGES"] = {
        **namespace["STORAGES"],
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    problems = []
    if not options["bucket_name"]:
        problems.append("[storage] bucket manquant (backend = s3)")
    if namespace.get("RAK_MODE") == "production" and not (options["access_key"] and options["secret_key"]):
        problems.append(
            "[storage] access_key_id et secret_access_key requis avec backend = s3 en production "
            "(RAK_STORAGE_ACCESS_KEY_ID / RAK_STORAGE_SECRET_ACCESS_KEY)"
        )
    return problems


def _replica(namespace: dict[str, Any], conf: Config) -> None:
    url = conf.environ.get("DATABASE_REPLICA_URL") or conf.str("database", "replica_url", "")
    namespace["REPORTS_DATABASE"] = "default"
    # always installed: it routes nothing unless REPORTS_DATABASE names another alias
    namespace["DATABASE_ROUTERS"] = [*namespace.get("DATABASE_ROUTERS", []), "rak_base.db_router.ReplicaRouter"]
    if not url:
        return
    primary = namespace["DATABASES"]["default"]
    replica = dj_database_url.parse(url, conn_max_age=primary.get("CONN_MAX_AGE", 60))
    replica["OPTIONS"] = {**primary.get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    replica["ENGINE"] = primary["ENGINE"]  # the same backend (its batches bounded) as the primary
    # the test run has no second server: the alias reads the test database (Django's mirror)
    replica["TEST"] = {"MIRROR": "default"}
    namespace["DATABASES"]["replica"] = replica
    namespace["REPORTS_DATABASE"] = "replica"


def apply(namespace: dict[str, Any], conf: Config) -> None:
    """Set the scale-out settings in ``namespace`` (the settings module's globals)."""
    _redis(namespace, conf)
    problems = _storage(namespace, conf)
    _replica(namespace, conf)
    if problems:
        raise ImproperlyConfigured("Configuration RAK: " + "; ".join(problems))
