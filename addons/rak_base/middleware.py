"""Session lifetime: the idle timeout is SESSION_COOKIE_AGE (30 minutes), slid forward by
``SessionLifetimeMiddleware`` at most once a ``SESSION_REFRESH_SECONDS`` (a minute) instead of a
session write on every request (``SESSION_SAVE_EVERY_REQUEST`` is off); the same middleware
enforces the absolute limit (12 hours after login by default)."""

from __future__ import annotations

import codecs

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext

from rak_base import clock
from rak_base.throttle import ThrottleUnavailable, throttle_unavailable_response
from rak_base.uploads import size_label

SESSION_STARTED_KEY = "rak_login_at"
#: when the session's expiry was last moved forward (epoch seconds): the session is saved again —
#: its row's ``expire_date`` and the cookie's max-age moved to now + SESSION_COOKIE_AGE — only when
#: this is older than ``settings.SESSION_REFRESH_SECONDS`` (or when something else changed it)
SESSION_REFRESHED_KEY = "rak_seen_at"


BACKOFFICE_PREFIX = "/backoffice/"


class BackOfficeLanguageMiddleware:
    """The back office stays French whatever the browser or the language cookie asks (issue 12):
    placed right after LocaleMiddleware, which has activated the visitor's language for the portal."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(BACKOFFICE_PREFIX):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return self.get_response(request)


def session_refreshed_at_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: the new session's absolute and idle limits run from now (saved with the
    login, so that the first page after it has nothing to write)."""
    session = getattr(request, "session", None)
    if session is not None:
        now_ts = clock.now().timestamp()
        session[SESSION_STARTED_KEY] = now_ts
        session[SESSION_REFRESHED_KEY] = now_ts


class SessionLifetimeMiddleware:
    """The session's two limits without a session write on every request:

    - idle (``SESSION_COOKIE_AGE``, 30 minutes): a request on a session whose expiry was last moved
      more than ``SESSION_REFRESH_SECONDS`` ago (a minute) stores the time under
      ``SESSION_REFRESHED_KEY``, which makes Django save the session (``expire_date`` and the
      cookie's max-age then run from now); any other request changes nothing, so a page read is
      one session SELECT and no UPDATE. A session therefore ends between ``SESSION_COOKIE_AGE -
      SESSION_REFRESH_SECONDS`` and ``SESSION_COOKIE_AGE`` after the last request;
    - absolute (``SESSION_ABSOLUTE_SECONDS``, 12 hours after login): logged out, back to the login page.

    Requests without a session cookie (CMI's callback, static files, a first visit) never touch
    the session store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is None:
            return self.get_response(request)
        now_ts = clock.now().timestamp()
        user = getattr(request, "user", None)
        # no session cookie: no session to load (the user is anonymous), none to limit
        if session.session_key is not None and user is not None and user.is_authenticated:
            started = session.get(SESSION_STARTED_KEY)
            if started is None:
                session[SESSION_STARTED_KEY] = now_ts
            elif now_ts - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                is_staff_area = request.path.startswith("/backoffice/")
                try:
                    logout(request)
                except ThrottleUnavailable as exc:  # the sessions' Redis cannot forget it: told, not a 500
                    return throttle_unavailable_response(request, exc)
                messages.info(request, gettext("Votre session a expiré, veuillez vous reconnecter."))
                return redirect("admin:login" if is_staff_area else settings.LOGIN_URL)
        response = self.get_response(request)
        self._slide(request, now_ts)
        return response

    @staticmethod
    def _slide(request, now_ts: float) -> None:
        """After the view (a login or logout has replaced the session by then): move the idle
        expiry forward when the last move is older than the refresh interval."""
        session = request.session
        if session.session_key is None:  # none, or ended (logout, expired): nothing to slide
            return
        if session.modified:
            session[SESSION_REFRESHED_KEY] = now_ts  # saved anyway (a login, a form step): expiry moved now
            return
        seen = session.get(SESSION_REFRESHED_KEY, 0)
        if session.session_key is None:  # the cookie named no live session: none is created here
            return
        try:
            seen = float(seen)
        except (TypeError, ValueError):
            seen = 0.0
        if not 0 <= now_ts - seen < settings.SESSION_REFRESH_SECONDS:
            session[SESSION_REFRESHED_KEY] = now_ts


def _has_nul(pairs) -> bool:
    return any("\x00" in name or "\x00" in value for name, values in pairs for value in values)


def accepts_nul_bytes(view):
    """Mark a view that stores hostile input itself (CMI's callback keeps the raw message): the
    NUL-byte check of ``HostileInputMiddleware`` leaves its query and form to it."""
    view.accepts_nul_bytes = True
    return view


def _admin_object_id_check(view_func, view_kwargs) -> None:
    """A back-office page of an object whose id is not one (/backoffice/…/x/change/): 404. Django's
    own lookup tolerates it, but the pages' action buttons (unfold) ask their permission checks with
    the raw id first, and a query on ``pk="x"`` raised (a 500)."""
    model_admin = getattr(view_func, "model_admin", None)  # set by ModelAdmin.get_urls on its views
    object_id = view_kwargs.get("object_id")
    if model_admin is None or object_id is None:
        return
    from django.contrib.admin.utils import unquote
    from django.core.exceptions import ValidationError
    from django.http import Http404

    try:
        model_admin.model._meta.pk.to_python(unquote(object_id))
    except (ValidationError, ValueError) as exc:
        raise Http404("Identifiant invalide") from exc


API_PREFIX = "/api/"


def _api_error(code: str, message: str, status: int):
    """The mobile API's error body (rak_api.errors) for answers given before its views run."""
    from django.http import JsonResponse

    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


class HostileInputMiddleware:
    """Answer 400 (the French « Requête invalide » page) before any view runs when the path, the
    query string or a form field holds a NUL byte (PostgreSQL text cannot store one, so it would
    otherwise end in a 500), and 413 when a request body announces more than
    ``settings.REQUEST_MAX_BYTES`` (``BACKOFFICE_REQUEST_MAX_BYTES`` under /backoffice/) — refused
    from its Content-Length, before the body is read (a chunked body without length is bounded by
    the front server: nginx ``client_max_body_size``, docs/OPERATIONS.md). A 405 (a GET on a form's
    target) gets the French page "405.html" instead of Django's empty body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return self._bad_request(request)
        if request.META.get("HTTP_X_RAK_BODY_TOO_LARGE") == "1":
            # nginx refused the body (client_max_body_size) and asks for this page in the visitor's
            # language instead of its own English one (deploy/nginx/rak.conf: error_page 413 @too_large,
            # a GET without body); a client sending the header itself only gets the page
            return self._too_large(request, self._limit(request))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self._limit(request):
            return self._too_large(request, self._limit(request))
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "streaming", False) and not response.content:
            return self._not_allowed(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "accepts_nul_bytes", False):
            return None
        _admin_object_id_check(view_func, view_kwargs)
        if _has_nul(request.GET.lists()) or any("\x00" in str(value) for value in view_kwargs.values()):
            return self._bad_request(request)
        # the API's bodies (JSON, multipart) are parsed by its own parsers, which refuse NUL bytes
        api = request.path_info.startswith(API_PREFIX)
        if request.method == "POST" and not api and _has_nul(request.POST.lists()):
            return self._bad_request(request)
        return None

    @staticmethod
    def _bad_request(request):
        from django.views.defaults import bad_request

        if request.path_info.startswith(API_PREFIX):
            return _api_error("bad_request", gettext("Requête invalide (caractère nul)."), 400)
        return bad_request(request, SuspiciousOperation("NUL byte in the request"))

    @staticmethod
    def _limit(request) -> int:
        if request.path_info.startswith("/backoffice/"):  # reading and payment files (30 Mo)
            return settings.BACKOFFICE_REQUEST_MAX_BYTES
        return settings.REQUEST_MAX_BYTES

    @staticmethod
    def _not_allowed(request, response):
        """A GET on a form's target (a bookmarked or typed address): Django's 405 has no body; the
        French page says what to do instead ("405.html"), the Allow header kept."""
        from django.shortcuts import render

        page = render(request, "405.html", status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page

    @staticmethod
    def _too_large(request, limit: int):
        from django.shortcuts import render

        if request.path_info.startswith(API_PREFIX):
            message = gettext("Envoi trop volumineux : %(limit)s au plus.") % {"limit": size_label(limit)}
            return _api_error("too_large", message, 413)

        # "413.html": the site's French error page (next to 400.html, 404.html, 500.html)
        # (no "Connection: close" header: hop-by-hop headers are the server's, PEP 3333)
        return render(request, "413.html", {"limit": size_label(limit)}, status=413)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def charset_is_utf8(charset: str) -> bool:
    """Whether a Content-Type's ``charset`` names UTF-8 (« UTF-8 », « utf8 », « utf_8 »…)."""
    try:
        return codecs.lookup(charset).name == "utf-8"
    except (LookupError, ValueError):  # unknown, or not a codec name at all
        return False


def body_charset_refused(content_type: str, params: dict) -> bool:
    """A form, multipart or JSON body announced in a charset other than UTF-8 (« utf-16 »,
    « rot13 », « base64 », an unknown name): the portal's forms and the API read UTF-8 only."""
    charset = params.get("charset")
    if charset is None:
        return False
    body_type = content_type in FORM_TYPES or content_type == "application/json" or content_type.endswith("+json")
    return body_type and not charset_is_utf8(charset)


class RequestCharsetMiddleware:
    """Outermost but for the security headers: a form, multipart or JSON body in a charset other
    than UTF-8 is refused with a 400 (the French « Requête invalide » page, the API's
    ``parse_error``) before anything reads it. Django refuses such a form each time ``request.POST``
    is read (BadRequest « must be UTF-8 encoded »), or fails in its codec (rot13, base64): with a
    csrftoken cookie, each middleware that reads the form re-raised it, and so did the error page
    itself (its CSRF check reads the form) — a bare 500 without the French page or the security
    headers. A UTF-8 charset spelled otherwise (« utf8 ») is read as UTF-8."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
        if body_charset_refused(content_type, params):
            # the form is never read: the error page's CSRF check finds it empty
            request._mark_post_parse_error()  # noqa: SLF001 - Django's own way to say « unreadable form »
            if request.path_info.startswith(API_PREFIX):
                return _api_error("parse_error", gettext("Requête invalide : le corps doit être encodé en UTF-8."), 400)
            from django.views.defaults import bad_request

            return bad_request(request, SuspiciousOperation("request body not in UTF-8"))
        if "charset" in params and request.encoding not in (None, "utf-8") and charset_is_utf8(params["charset"]):
            request.encoding = "utf-8"  # « utf8 »: Django's form parser accepts the exact name only
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response: the portal's policy
    (``settings.CONTENT_SECURITY_POLICY``, no 'unsafe-inline') everywhere except under
    /backoffice/, which gets ``CONTENT_SECURITY_POLICY_BACKOFFICE`` (unfold renders inline scripts
    and its Alpine.js evaluates expressions: 'unsafe-inline' and 'unsafe-eval' there only)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/backoffice/"):
            policy = settings.CONTENT_SECURITY_POLICY_BACKOFFICE
        else:
            policy = settings.CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


# Arabic-Indic (٠١٢…) and Eastern Arabic-Indic / Persian (۰۱۲…) digits to ASCII: an Arabic phone
# keyboard types them by default.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ARABIC_DIGIT_CHARS = frozenset("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")


class ArabicDigitsMiddleware:
    """A customer on an Arabic keyboard types « ١٢٦٣ » for an index, a code client, a phone, an OTP or
    a captcha answer: the portal's forms receive ASCII digits, as Moroccan bills, codes and the
    database write them (``\\d`` in a validator would otherwise let Arabic-Indic digits into stored
    codes, and a number field would refuse them). Passwords are left exactly as typed; the back
    office (French, staff keyboards) is not touched. Placed after HostileInputMiddleware: the form
    is parsed by then (CSRF)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.path_info.startswith(BACKOFFICE_PREFIX):
            return None
        post = request.POST
        if not any(_ARABIC_DIGIT_CHARS.intersection(value) for key, values in post.lists() for value in values):
            return None
        normalised = post.copy()
        for key, values in post.lists():
            if "password" not in key:
                normalised.setlist(key, [value.translate(ARABIC_DIGITS) for value in values])
        normalised._mutable = False
        request.POST = normalised
        return None
