"""Sessions in PostgreSQL with a read copy in Redis (``[redis] sessions = cached_db``, the default
with ``[redis] url``; config/settings_scaleout.py): Django's ``cached_db`` store, same keys, whose
logout (``flush``) deletes the Redis copy first or refuses with ``SessionUnavailable`` (the French
503) — a copy left in Redis is read without the database and would keep a logged-out session alive
(``rak_base.redis_sessions.cache_copy_delete``). Everything else is Django's: a Redis that does not
answer is read through to PostgreSQL, a login works without it."""

from __future__ import annotations

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

from rak_base.redis_sessions import cache_copy_delete


class SessionStore(CachedDbSessionStore):
    def flush(self) -> None:
        cache_copy_delete(self)
        super().flush()
