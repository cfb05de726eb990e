"""Django's Redis cache, where a Redis that does not answer (down, restarting, network cut) is a
miss rather than an error page (issue 15, ``[redis] url``).

Everything this project keeps in the cache can be rebuilt: the portal's small lookups, the
« account active today » marks of the usage counters, and the sessions' read copy (``cached_db``:
PostgreSQL holds the sessions, Redis serves their reads). So a failed read answers the default, a
failed write is skipped, each logged as a warning; the page is served from the database. The
connection and socket timeouts (``config.settings_scaleout.REDIS_TIMEOUT_SECONDS``) bound what a
dead Redis costs a request. The throttles do not go through here (``rak_base.throttle``: they
fail closed).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


class ResilientRedisCacheClient(RedisCacheClient):
    def _unavailable(self, action: str) -> None:
        logger.warning("Redis cache unavailable (%s): served without it", action, exc_info=True)

    def add(self, key, value, timeout) -> bool:
        try:
            return super().add(key, value, timeout)
        except UNAVAILABLE:
            self._unavailable("add")
            return False

    def get(self, key, default) -> Any:
        try:
            return super().get(key, default)
        except UNAVAILABLE:
            self._unavailable("get")
            return default

    def set(self, key, value, timeout) -> None:
        try:
            super().set(key, value, timeout)
        except UNAVAILABLE:
            self._unavailable("set")

    def touch(self, key, timeout) -> bool:
        try:
            return super().touch(key, timeout)
        except UNAVAILABLE:
            self._unavailable("touch")
            return False

    def delete(self, key) -> bool:
        try:
            return super().delete(key)
        except UNAVAILABLE:
            self._unavailable("delete")
            return False

    def get_many(self, keys) -> dict:
        try:
            return super().get_many(keys)
        except UNAVAILABLE:
            self._unavailable("get_many")
            return {}

    def has_key(self, key) -> bool:
        try:
            return super().has_key(key)
        except UNAVAILABLE:
            self._unavailable("has_key")
            return False

    def set_many(self, data, timeout) -> None:
        try:
            super().set_many(data, timeout)
        except UNAVAILABLE:
            self._unavailable("set_many")

    def delete_many(self, keys) -> None:
        try:
            super().delete_many(keys)
        except UNAVAILABLE:
            self._unavailable("delete_many")


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient

    def get_strict(self, key, default=None, version=None) -> Any:
        """``get``, but a Redis that does not answer raises (``UNAVAILABLE``) instead of answering
        a miss: for a reader that must tell « not there » from « not known » (a session's key)."""
        key = self.make_and_validate_key(key, version=version)
        return RedisCacheClient.get(self._cache, key, default)

    def delete_strict(self, key, version=None) -> bool:
        """``delete``, but a Redis that does not answer raises (``UNAVAILABLE``) instead of
        answering « nothing deleted »: for a delete that must not be skipped (a logged-out
        session, ``rak_base.redis_sessions``)."""
        key = self.make_and_validate_key(key, version=version)
        return RedisCacheClient.delete(self._cache, key)

    def clear(self) -> bool:  # type: ignore[override]  # Django's RedisCache.clear returns FLUSHDB's bool (stubs: None)
        """Delete this site's keys (its ``KEY_PREFIX``) only, not the whole Redis database (Django's
        FLUSHDB) another site, or another test worker, shares."""
        if not self.key_prefix:
            return super().clear()  # type: ignore[return-value]  # a bool (see above)
        try:
            client = self._cache.get_client(None, write=True)
            batch = []
            for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        except UNAVAILABLE:
            logger.warning("Redis cache unavailable (clear)", exc_info=True)
            return False
        return True
