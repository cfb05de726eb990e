"""Sessions in the cache only (``[redis] sessions = cache``, config/settings_scaleout.py).

Django's cache session store tries up to 10,000 new keys when the cache's ``add`` answers « not
added »: right for a key collision, but with ``rak_base.redis_cache`` a Redis that does not answer
also answers « not added » (a miss, never an error), so every try fails. Measured here (5 Dec 2026,
load 12): 12.9 s and 20,000 warning lines with their traceback for one login or first session, then
a 500; a Redis that does not answer at all (0.5 s timeouts) would hold the web thread for hours.
Here a few tries, then ``SessionUnavailable`` — a ``ThrottleUnavailable``: in a view (a login
cycles the session key) ``ThrottleUnavailableMiddleware`` answers the French 503, as for the
throttles (fail closed).

A visitor's new session is usually created later, when the answer leaves: Django's
``SessionMiddleware`` saves it after the view (the language switch, quick pay's steps, a form's
state), outside every other middleware. ``SessionMiddleware`` here (config/settings.py, in Django's
place) answers the same 503 there instead of a 500.

It also reads the session cookie only when it can be a session key (``session_key_valid``): a
quoted cookie's octal escape (``sessionid="abcdefgh\\000xyz12345"``) is decoded into a NUL, which
PostgreSQL refuses in a query — every URL answered 500 to such a cookie (security probe). Any other
value is no session: the visitor is anonymous, a new session gets a new key, the cookie is deleted."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.crypto import get_random_string

from rak_base.redis_cache import UNAVAILABLE
from rak_base.throttle import ThrottleUnavailable, throttle_unavailable_response

logger = logging.getLogger(__name__)

CREATE_TRIES = 3  # a collision of two random 32-character keys twice in a row does not happen

#: what a session key can be: Django's stores make 32 characters of ``VALID_KEY_CHARS`` (a-z, 0-9);
#: tolerant of any length from Django's own minimum (8) to what its table stores (40)
SESSION_KEY_MIN, SESSION_KEY_MAX = 8, 40
_KEY_CHARS = frozenset(VALID_KEY_CHARS)


def session_key_valid(key: str | None) -> bool:
    """A cookie's value that a session store can have made: the key alphabet only (no NUL, no
    quote, no upper case, no non-ASCII), 8 to 40 characters."""
    return key is not None and SESSION_KEY_MIN <= len(key) <= SESSION_KEY_MAX and _KEY_CHARS.issuperset(key)


class SessionUnavailable(ThrottleUnavailable):
    """The sessions' Redis does not answer: no session can be created."""


def cache_copy_delete(store) -> None:
    """Before a session is flushed (a logout): delete its Redis entry, or raise
    ``SessionUnavailable`` when Redis does not answer. The resilient cache skips a failed delete
    (« nothing deleted »): the portal said « déconnecté » and, once Redis answered again, the
    session was alive in it — the only copy with ``sessions = cache``, the read copy trusted without
    the database with ``cached_db`` — so a copied cookie still opened the account. A logout that
    cannot be done is told (the French 503) and is done at the next try."""
    key = store.session_key or getattr(store, "unreadable_key", None)
    if key is None:
        return
    strict = getattr(store._cache, "delete_strict", None)
    if strict is None:  # another cache backend: its own delete raises when it fails
        return
    try:
        strict(store.cache_key_prefix + key)
    except UNAVAILABLE as exc:
        raise SessionUnavailable() from exc
    store.unreadable_key = None


class SessionStore(CacheSessionStore):
    #: the cookie's key when Redis did not answer its read (the visitor is anonymous for this
    #: request, a write makes a new session as for an unknown key): a logout must still delete
    #: it, and the answer must not delete the browser's cookie (``SessionMiddleware``)
    unreadable_key: str | None = None

    def load(self) -> dict:
        """Django's, but « not known » (Redis does not answer) is told from « not there »: the
        cookie's key is kept in ``unreadable_key`` — a logout would otherwise find no key to
        delete and say « déconnecté » while the session lives on in Redis."""
        strict = getattr(getattr(self, "_cache", None), "get_strict", None)
        if strict is None:
            return super().load()
        try:
            session_data = strict(self.cache_key)
        except UNAVAILABLE:
            # never the key itself in the log: it is the session's secret
            logger.warning("sessions: Redis unavailable, the session read as empty", exc_info=True)
            self.unreadable_key, self._session_key = self._session_key, None
            return {}
        except Exception:  # noqa: BLE001 - Django's own: an unreadable entry is no session (#17810)
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    def flush(self) -> None:
        cache_copy_delete(self)
        super().flush()

    def create(self) -> None:
        for _try in range(CREATE_TRIES):
            # a new random key (Django's own check that it is free is the ``add`` below: one round trip)
            self._session_key = get_random_string(32, VALID_KEY_CHARS)
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        self._session_key = None
        raise SessionUnavailable()


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, but a session that cannot be created when the answer leaves (the sessions' Redis
    does not answer) is the French 503 — not a 500, and no cookie naming a session that was never
    stored. The view has run: like Django's own « session interrupted » answer, the page is replaced.

    A cookie that is not a session key is no session (``session_key_valid``), whatever the store
    (db, cached_db, cache): never sent to PostgreSQL or Redis."""

    def process_request(self, request) -> None:
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        request.session = self.SessionStore(session_key if session_key_valid(session_key) else None)

    def process_response(self, request, response) -> HttpResponse:
        session = getattr(request, "session", None)
        if getattr(session, "unreadable_key", None) and session is not None and not session.modified:
            # Redis did not answer its read: the session is not empty, only unknown for now — the
            # cookie stays (Django would delete it: signed out for good, the session orphaned)
            patch_vary_headers(response, ("Cookie",))
            return response
        try:
            return super().process_response(request, response)
        except SessionUnavailable as exc:
            return throttle_unavailable_response(request, exc)
