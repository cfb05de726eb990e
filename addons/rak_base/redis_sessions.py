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
place) answers the same 503 there instead of a 500."""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpResponse
from django.utils.crypto import get_random_string

from rak_base.throttle import ThrottleUnavailable, throttle_unavailable_response

CREATE_TRIES = 3  # a collision of two random 32-character keys twice in a row does not happen


class SessionUnavailable(ThrottleUnavailable):
    """The sessions' Redis does not answer: no session can be created."""


class SessionStore(CacheSessionStore):
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
    stored. The view has run: like Django's own « session interrupted » answer, the page is replaced."""

    def process_response(self, request, response) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except SessionUnavailable as exc:
            return throttle_unavailable_response(request, exc)
