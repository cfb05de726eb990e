"""config.settings_scaleout.apply (issue 15): nothing configured leaves the single-server settings
as they are; [redis] url, [storage] backend = s3 and [database] replica_url each change only their
part; production refuses s3 without a bucket or keys."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import settings_scaleout
from config.conf import Config

BASE = {
    "RAK_MODE": "production",
    "MIDDLEWARE": ["django.contrib.sessions.middleware.SessionMiddleware"],
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    },
    "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "rak", "CONN_MAX_AGE": 60}},
}


def applied(environ: dict[str, str], **base) -> dict:
    namespace = copy.deepcopy({**BASE, **base})
    settings_scaleout.apply(namespace, Config.load(None, environ=environ))
    return namespace


def test_nothing_configured_changes_nothing(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    namespace = applied({})
    assert "CACHES" not in namespace and "SESSION_ENGINE" not in namespace
    assert namespace["MIDDLEWARE"] == BASE["MIDDLEWARE"]
    assert namespace["STORAGES"] == BASE["STORAGES"]
    assert list(namespace["DATABASES"]) == ["default"] and namespace["REPORTS_DATABASE"] == "default"
    assert namespace["REDIS_URL"] == "" and namespace["REDIS_KEY_PREFIX"] == "rak"


def test_redis_cache_sessions_throttles(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    namespace = applied({"RAK_REDIS_URL": "redis://10.0.0.5:6379/1", "RAK_REDIS_KEY_PREFIX": "agence"})
    cache = namespace["CACHES"]["default"]
    assert cache["BACKEND"] == "rak_base.redis_cache.ResilientRedisCache"
    assert cache["LOCATION"] == "redis://10.0.0.5:6379/1" and cache["KEY_PREFIX"] == "agence-gw3"
    # Django's cached_db (same keys in Redis: sessions survive the switch), with a strict logout
    assert namespace["SESSION_ENGINE"] == "rak_base.redis_sessions_cached_db"
    from django.contrib.sessions.backends import cached_db

    from rak_base.redis_sessions_cached_db import SessionStore

    assert issubclass(SessionStore, cached_db.SessionStore) and SessionStore.cache_key_prefix == cached_db.KEY_PREFIX
    assert namespace["MIDDLEWARE"][-1] == "rak_base.throttle.ThrottleUnavailableMiddleware"
    only_cache = applied({"RAK_REDIS_URL": "redis://10.0.0.5:6379/1", "RAK_REDIS_SESSIONS": "cache"})
    assert only_cache["SESSION_ENGINE"] == "rak_base.redis_sessions"


def test_s3_storage_and_its_production_check():
    keys = {"RAK_STORAGE_ACCESS_KEY_ID": "AK", "RAK_STORAGE_SECRET_ACCESS_KEY": "SK"}
    s3 = {"RAK_STORAGE_BACKEND": "s3", "RAK_STORAGE_BUCKET": "rak-prive", "RAK_STORAGE_PREFIX": "/agence/", **keys}
    namespace = applied({**s3, "RAK_STORAGE_ENDPOINT_URL": "https://s3.example.ma"})
    default = namespace["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert options["bucket_name"] == "rak-prive" and options["location"] == "agence"
    assert options["endpoint_url"] == "https://s3.example.ma" and options["default_acl"] is None
    assert not options["file_overwrite"]
    assert namespace["STORAGES"]["staticfiles"] == BASE["STORAGES"]["staticfiles"]  # static files untouched

    with pytest.raises(ImproperlyConfigured, match=r"\[storage\] access_key_id et secret_access_key requis"):
        applied({"RAK_STORAGE_BACKEND": "s3", "RAK_STORAGE_BUCKET": "rak-prive"})
    with pytest.raises(ImproperlyConfigured, match=r"\[storage\] bucket manquant"):
        applied({"RAK_STORAGE_BACKEND": "s3", **keys})
    # outside production the keys may come from the machine's role / environment
    assert applied({"RAK_STORAGE_BACKEND": "s3", "RAK_STORAGE_BUCKET": "b"}, RAK_MODE="development")


def test_replica():
    namespace = applied({"DATABASE_REPLICA_URL": "postgres://reader@10.0.0.6:5432/rak"})
    replica = namespace["DATABASES"]["replica"]
    assert replica["HOST"] == "10.0.0.6" and replica["USER"] == "reader"
    assert replica["TEST"] == {"MIRROR": "default"}
    assert namespace["REPORTS_DATABASE"] == "replica"
    assert namespace["DATABASE_ROUTERS"] == ["rak_base.db_router.ReplicaRouter"]
    assert applied({"RAK_DATABASE_REPLICA_URL": "postgres://r@h/rak"})["DATABASES"]["replica"]["HOST"] == "h"


def test_redis_keeps_the_fragments_cache_in_memory(monkeypatch):
    """The portal menu's links (template fragments, the same for everyone) stay in each process's
    memory when the default cache moves to Redis: no round trip for them, nothing to invalidate."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    fragments = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rak-fragments"}
    namespace = applied(
        {"RAK_REDIS_URL": "redis://10.0.0.5:6379/1"},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "fragments": fragments},
    )
    assert namespace["CACHES"]["default"]["BACKEND"] == "rak_base.redis_cache.ResilientRedisCache"
    assert namespace["CACHES"]["fragments"] == fragments
