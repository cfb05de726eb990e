"""Django settings, read from rak.conf (path in RAK_CONF, default ./rak.conf) and the environment."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _

from config import embedded_db
from config.conf import Config, ConfigError

BASE_DIR = Path(__file__).resolve().parent.parent
ADDONS_DIR = BASE_DIR / "addons"
if str(ADDONS_DIR) not in sys.path:
    sys.path.insert(0, str(ADDONS_DIR))

CONF_PATH = Path(os.environ.get("RAK_CONF", BASE_DIR / "rak.conf"))
try:
    conf = Config.load(CONF_PATH)

    RAK_MODE = conf.choice("server", "mode", ("development", "production", "test"), "development")
    # off unless asked for: the demo shows the portal's French error pages, not Django's technical ones
    DEBUG = conf.bool("server", "debug", False)
    SECRET_KEY = conf.str("server", "secret_key")
    ALLOWED_HOSTS = conf.list("server", "allowed_hosts", ["127.0.0.1", "localhost"])
    SITE_URL = conf.str("server", "site_url", "http://127.0.0.1:8000").rstrip("/")
    LOGIN_FAILURE_LIMIT = conf.int("server", "login_failure_limit", 5)
    LOGIN_IP_FAILURE_LIMIT = conf.int("server", "login_ip_failure_limit", 30)
    LOGIN_COOLOFF_MINUTES = conf.int("server", "login_cooloff_minutes", 15)
    # How many reverse proxies in front of the app append to X-Forwarded-For (rak_base.http.client_ip):
    # 0 = none, the header is ignored (anyone can forge it); 1 = nginx with $proxy_add_x_forwarded_for.
    TRUSTED_PROXIES = conf.int("server", "trusted_proxies", 0)
    # Private files sent by nginx after the app's access check (rak_base.x_accel): the URL prefix of
    # nginx's internal location aliasing MEDIA_ROOT (deploy/nginx/rak.conf: /_private/); empty = off.
    X_ACCEL_REDIRECT = conf.str("server", "x_accel_redirect", "")
    if X_ACCEL_REDIRECT and not (X_ACCEL_REDIRECT.startswith("/") and X_ACCEL_REDIRECT.endswith("/")):
        raise ConfigError(
            f"[server] x_accel_redirect invalide dans {conf.source}: {X_ACCEL_REDIRECT!r} "
            "(préfixe d'URL attendu, ex. /_private/, ou vide)"
        )

    # PostgreSQL only: an external server (DATABASE_URL / [database] url, production), else the
    # embedded server of config/embedded_db.py (data in [database] embedded_dir), started by bin/run.
    _db_url = conf.str("database", "url", "")
    if _db_url.startswith("sqlite"):
        raise ConfigError(
            f"[database] url invalide dans {conf.source} (ou DATABASE_URL): {_db_url!r} — SQLite n'est plus "
            "pris en charge; laisser la clé vide pour le PostgreSQL embarqué, ou postgres://… pour un serveur"
        )
    if _db_url and not _db_url.startswith(("postgres:", "postgresql:", "pgsql:")):
        raise ConfigError(f"[database] url invalide dans {conf.source}: {_db_url!r} (postgres://… attendu)")
    EMBEDDED_DATABASE = embedded_db.from_conf(conf, BASE_DIR)
    if EMBEDDED_DATABASE is not None:
        _db_url = EMBEDDED_DATABASE.url()

    SMS_BACKEND = conf.choice("sms", "backend", ("dev", "http"), "dev")
    SMS_SENDER = conf.str("sms", "sender", "RAK")
    SMS_DEV_FILE = BASE_DIR / conf.str("sms", "dev_file", "var/sms.log")
    SMS_HTTP = {
        "url": conf.str("sms", "http_url", ""),
        "method": conf.choice("sms", "http_method", ("POST", "GET"), "POST"),
        "user": conf.str("sms", "http_user", ""),
        "password": conf.str("sms", "http_password", ""),
        "timeout": conf.int("sms", "http_timeout_seconds", 10),
        "body_template": conf.str("sms", "http_body_template", '{"to": "{to}", "text": "{text}"}'),
        "content_type": conf.str("sms", "http_content_type", "application/json"),
    }
    # SMS pumping (rak_base.sms_limits): SMS-sending requests per browser session and per client
    # address an hour, and a global budget of SMS an hour past which anonymous requests are refused.
    SMS_PER_SESSION_HOURLY = conf.int("sms", "per_session_hourly", 5)
    SMS_PER_IP_HOURLY = conf.int("sms", "per_ip_hourly", 30)
    SMS_HOURLY_BUDGET = conf.int("sms", "hourly_budget", 500)
    if SMS_BACKEND == "http" and not SMS_HTTP["url"]:
        raise ConfigError("[sms] http_url manquant: obligatoire avec backend = http")

    MAIL_BACKEND = conf.choice("mail", "backend", ("console", "file", "smtp", "locmem"), "file")
    DEFAULT_FROM_EMAIL = conf.str("mail", "from", "RAK Agence en ligne <no-reply@rak.ma>")
    EMAIL_FILE_PATH = BASE_DIR / conf.str("mail", "file_path", "var/mail")
    EMAIL_HOST = conf.str("mail", "smtp_host", "localhost")
    EMAIL_PORT = conf.int("mail", "smtp_port", 587)
    EMAIL_HOST_USER = conf.str("mail", "smtp_user", "")
    EMAIL_HOST_PASSWORD = conf.str("mail", "smtp_password", "")
    EMAIL_USE_TLS = conf.bool("mail", "smtp_use_tls", True)
    EMAIL_TIMEOUT = conf.int("mail", "smtp_timeout_seconds", 10)

    OUTBOX_MAX_ATTEMPTS = conf.int("outbox", "max_attempts", 6)
    OUTBOX_RETRY_BASE_SECONDS = conf.int("outbox", "retry_base_seconds", 30)

    UPLOAD_MAX_BYTES = conf.int("uploads", "max_bytes", 2 * 1024 * 1024)
    # Whole request body (all files of one form together), refused from Content-Length before it is
    # read (rak_base.middleware.HostileInputMiddleware); the back office imports files up to 30 Mo.
    REQUEST_MAX_BYTES = conf.int("uploads", "max_request_bytes", 20 * 1024 * 1024)
    BACKOFFICE_REQUEST_MAX_BYTES = conf.int("uploads", "backoffice_max_request_bytes", 40 * 1024 * 1024)

    # Ceiling of one payment entered by staff (counter, network files), whole DH; above it the
    # entry is refused as a typing error (rak_billing.ledger.payment_bounds_check).
    PAYMENT_MAX_AMOUNT = Decimal(conf.int("payments", "max_amount", 1_000_000))
    # « Payer mes factures en ligne » without login: successful identifications (masked name, address
    # and open bills shown) per client address an hour (wrong codes: 10 per 15 minutes, fixed).
    QUICKPAY_FOUND_PER_IP_HOURLY = conf.int("payments", "quickpay_found_per_ip_hourly", 60)

    # Complaints (rak_requests.complaints): how long after closure the customer may reopen one, and
    # how many complaints one phone number / one client address may file (SMS « de prise en charge »).
    COMPLAINT_REOPEN_DAYS = conf.int("complaints", "reopen_days", 15)
    COMPLAINT_PER_PHONE_DAILY = conf.int("complaints", "per_phone_daily", 5)
    COMPLAINT_PER_IP_HOURLY = conf.int("complaints", "per_ip_hourly", 10)

    # The collections desk (rak_collections, issue 14): « frais de coupure » (DH HT, VAT « frais » on
    # top) when no reminder plan gives its own (a plan's « frais de coupure » field); payment plans:
    # minimum debt, most instalments, how many days an instalment may stay unpaid before the plan is
    # broken, latest first due date.
    COLLECTIONS_CUT_FEE = Decimal(conf.str("collections", "cut_fee", "100.00"))
    COLLECTIONS_PLAN_MIN_DEBT = Decimal(conf.str("collections", "plan_min_debt", "500.00"))
    COLLECTIONS_PLAN_MAX_INSTALMENTS = conf.int("collections", "plan_max_instalments", 24)
    COLLECTIONS_PLAN_BROKEN_AFTER_DAYS = conf.int("collections", "plan_broken_after_days", 15)
    COLLECTIONS_PLAN_FIRST_DUE_MAX_DAYS = conf.int("collections", "plan_first_due_max_days", 92)

    # The régie as every page, e-mail and document names it (rak_base.company): one legal name,
    # and the mandatory mentions of an invoice (CGI art. 145: ICE, identifiant fiscal, taxe
    # professionnelle), postal address and customer-service phone. The defaults are demo values,
    # refused in production.
    COMPANY_DEMO = {
        "address": "Adresse de démonstration, 14000 Kénitra",
        "phone": "05 00 00 00 00",
        "ice": "000000000000000",
        "if": "00000000",
        "tp": "00000000",
    }
    COMPANY_LEGAL_NAME = conf.str(
        "company",
        "legal_name",
        "Régie Autonome de Distribution d'Eau d'Electricité et d'Assainissement liquide de la province de Kénitra",
    )
    # the Arabic legal name (bilingual documents, Arabic pages, SMS and e-mails in Arabic)
    COMPANY_LEGAL_NAME_AR = conf.str(
        "company",
        "legal_name_ar",
        "الوكالة المستقلة لتوزيع الماء والكهرباء والتطهير السائل بإقليم القنيطرة",
    )
    COMPANY_SHORT_NAME = conf.str("company", "short_name", "RAK")
    COMPANY_ADDRESS = conf.str("company", "address", COMPANY_DEMO["address"])
    COMPANY_PHONE = conf.str("company", "phone", COMPANY_DEMO["phone"])
    COMPANY_EMAIL = conf.str("company", "email", "relationclient@rak.ma")
    COMPANY_FACEBOOK_URL = conf.str("company", "facebook_url", "")  # « Page Facebook de la RAK » (seed 000)
    COMPANY_ICE = conf.str("company", "ice", COMPANY_DEMO["ice"])
    COMPANY_IF = conf.str("company", "if", COMPANY_DEMO["if"])
    COMPANY_TP = conf.str("company", "tp", COMPANY_DEMO["tp"])
    if not (COMPANY_ICE.isdigit() and len(COMPANY_ICE) == 15):
        raise ConfigError(f"[company] ice invalide dans {conf.source}: {COMPANY_ICE!r} (15 chiffres attendus)")
    for _key, _value in (("if", COMPANY_IF), ("tp", COMPANY_TP)):
        if not (_value.isdigit() and 5 <= len(_value) <= 12):
            raise ConfigError(f"[company] {_key} invalide dans {conf.source}: {_value!r} (chiffres attendus)")

    # CMI card payments (rak_payment_cmi): which gateway "Payer" posts to, the merchant's
    # client id and store key (HASH ver3). "sandbox" is the local simulator (rak_cmi_sandbox).
    CMI_GATEWAY = conf.choice(
        "cmi", "gateway", ("sandbox", "test", "production"), "production" if RAK_MODE == "production" else "sandbox"
    )
    CMI_TEST_GATEWAY_URL = conf.str("cmi", "test_gateway_url", "https://testpayment.cmi.co.ma/fim/est3Dgate")
    CMI_PRODUCTION_GATEWAY_URL = conf.str("cmi", "production_gateway_url", "https://payment.cmi.co.ma/fim/est3Dgate")
    CMI_GATEWAY_URL = (
        conf.str("cmi", "gateway_url", "")
        or {
            "sandbox": f"{SITE_URL}/cmi-sandbox/fim/est3Dgate",
            "test": CMI_TEST_GATEWAY_URL,
            "production": CMI_PRODUCTION_GATEWAY_URL,
        }[CMI_GATEWAY]
    )
    CMI_SANDBOX_CLIENT_ID = "600000000"
    CMI_SANDBOX_STORE_KEY = "RAK-SANDBOX-STORE-KEY"  # noqa: S105 - the sandbox's public demo key
    # empty with the sandbox: its public demo credentials
    CMI_CLIENT_ID = conf.str("cmi", "client_id", "") or (CMI_SANDBOX_CLIENT_ID if CMI_GATEWAY == "sandbox" else "")
    CMI_STORE_KEY = conf.str("cmi", "store_key", "") or (CMI_SANDBOX_STORE_KEY if CMI_GATEWAY == "sandbox" else "")
    CMI_ORDER_EXPIRY_MINUTES = conf.int("cmi", "order_expiry_minutes", 120)
    CMI_SANDBOX_CALLBACK_TIMEOUT_SECONDS = conf.int("cmi", "sandbox_callback_timeout_seconds", 15)

    # The mobile channel (issue 13): API token lifetimes (rak_customer.devices), the store links of
    # seed 000 « Mobile » (home and login pages), Web Push's VAPID keys (empty: push not offered).
    API_ACCESS_TTL_SECONDS = conf.int("api", "access_token_minutes", 15) * 60
    API_REFRESH_TTL_SECONDS = conf.int("api", "refresh_token_days", 60) * 24 * 3600
    MOBILE_PLAY_STORE_URL = conf.str(
        "mobile", "play_store_url", "https://play.google.com/store/apps/details?id=ma.rak.agence"
    )
    MOBILE_APP_STORE_URL = conf.str("mobile", "app_store_url", "https://apps.apple.com/us/app/rak/id1500142604")
    WEBPUSH_VAPID_PUBLIC_KEY = conf.str("push", "vapid_public_key", "")
    WEBPUSH_VAPID_PRIVATE_KEY = conf.str("push", "vapid_private_key", "")
    WEBPUSH_VAPID_SUBJECT = conf.str("push", "vapid_subject", "mailto:relationclient@rak.ma")
    WEBPUSH_TIMEOUT_SECONDS = conf.int("push", "timeout_seconds", 10)
except ConfigError as exc:
    raise ImproperlyConfigured(f"Configuration RAK: {exc}") from exc

if RAK_MODE == "production":
    _problems = []
    if DEBUG:
        _problems.append("[server] debug doit être false en production")
    if SMS_BACKEND != "http":
        _problems.append("[sms] backend doit être http en production")
    if MAIL_BACKEND != "smtp":
        _problems.append("[mail] backend doit être smtp en production")
    if SECRET_KEY.startswith("change-me") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        # Django's own bar (check --deploy, security.W009): 50 characters, 5 different at least
        _problems.append("[server] secret_key doit être une valeur aléatoire d'au moins 50 caractères")
    if "*" in ALLOWED_HOSTS:
        _problems.append(
            "[server] allowed_hosts = * refusé en production : nommer le ou les noms du site (agence.rak.ma)"
        )
    if not SITE_URL.startswith("https://"):
        _problems.append(f"[server] site_url doit commencer par https:// en production ({SITE_URL!r})")
    if CMI_GATEWAY == "sandbox" or "/cmi-sandbox/" in CMI_GATEWAY_URL:
        _problems.append("[cmi] gateway = sandbox est réservé au développement (test ou production attendu)")
    if EMBEDDED_DATABASE is not None:
        _problems.append("[database] url manquant: le PostgreSQL embarqué est réservé au développement")
    if CMI_STORE_KEY == CMI_SANDBOX_STORE_KEY:
        _problems.append("[cmi] store_key de démonstration refusée en production (clé fournie par le CMI)")
    _company = {
        "address": COMPANY_ADDRESS,
        "phone": COMPANY_PHONE,
        "ice": COMPANY_ICE,
        "if": COMPANY_IF,
        "tp": COMPANY_TP,
    }
    for _key, _value in _company.items():
        if _value == COMPANY_DEMO[_key]:
            _problems.append(f"[company] {_key} de démonstration refusé en production (valeur réelle de la régie)")
    if _problems:
        raise ImproperlyConfigured("Configuration RAK: " + "; ".join(_problems))

# Persistent connections (60 s) checked before reuse: after a PostgreSQL restart or failover, a dead
# connection is replaced when a request (or a worker loop) starts instead of failing its first query
# (a 500 per gunicorn thread; bench/fault_run.py scenario c, tests/integration/test_db_reconnect.py).
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)}
# Django's PostgreSQL backend with bulk_create/bulk_update batches bounded to 65,535 parameters a
# statement (server-side binding, below): addons/rak_base/postgresql/base.py.
DATABASES["default"]["ENGINE"] = "rak_base.postgresql"
# No JIT compilation: our queries are short OLTP lookups, and at 6.6 M bills PostgreSQL's estimate of
# the allocations per bill made it JIT-compile « Mes impayés » (unpaid_bills: 4.5 ms without JIT,
# 210–290 ms with it; measured on the bench database, issue 14). Reports read small aggregates.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# A server that accepts the connection and never answers (hung PostgreSQL or pooler, packets dropped
# after the handshake): an OperationalError after 5 s instead of a thread held forever — libpq
# waits without limit, and statement_timeout (/health/ready's too) only starts once connected.
# DATABASE_URL's own ?connect_timeout= wins.
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# Statements bound on the server and prepared from their 6th execution on a connection (psycopg's
# prepare_threshold; Django's default never prepares): PostgreSQL then keeps their plan. Bills, lines
# and ledger entries are partitioned by month, and a query on a customer's bills cannot be pruned:
# planned each time, it cost 2–4 ms of the server's CPU over every partition for 0.1 ms of execution
# (the pages' database CPU divided by 2 to 5, docs/BENCHMARKS.md « Prepared statements »). Off for a
# transaction-mode pooler that cannot keep prepared statements (pgbouncer before 1.21, or without
# max_prepared_statements; docs/SCALING.md § 7).
PREPARED_STATEMENTS = conf.bool("database", "prepared_statements", True)
if PREPARED_STATEMENTS:
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "captcha",  # django-simple-captcha: quick-pay's self-hosted « code de vérification »
    "rest_framework",  # the mobile API (rak_api): Django REST framework + drf-spectacular (OpenAPI)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc served by the app itself (no CDN)
    "rak_base",
    "rak_customer",
    "rak_billing",
    "rak_collections",  # the collections desk (issue 14): reminders, cut-offs, payment plans, cash closing
    "rak_payment_cmi",
    "rak_requests",
    "rak_portal",
    "rak_api",
    "rak_reports",  # managers' reports (issue 14): read-only on the others, at the top
]
# The local CMI simulator (rak_cmi_sandbox) exists outside production only: never installed, never
# routed, no tables, when mode = production (tests/integration/test_cmi_sandbox.py proves it).
CMI_SANDBOX_ENABLED = RAK_MODE != "production"
if CMI_SANDBOX_ENABLED:
    INSTALLED_APPS.append("rak_cmi_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rak_base.middleware.SecurityHeadersMiddleware",
    # a form, multipart or JSON body not in UTF-8: the French 400 before anything reads it
    "rak_base.middleware.RequestCharsetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, with a French 503 when a new session cannot be stored (rak_base.redis_sessions)
    "rak_base.redis_sessions.SessionMiddleware",
    # answers read through the session or a bearer token: « private, no-store » (rak_base.cache_headers)
    "rak_base.cache_headers.PrivateNoStoreMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "rak_base.middleware.BackOfficeLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rak_base.middleware.SessionLifetimeMiddleware",
    "rak_portal.middleware.ForcePasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # last: NUL bytes -> 400, oversize bodies -> 413, once the session and user are known (French page)
    "rak_base.middleware.HostileInputMiddleware",
    # the portal's forms read ASCII digits whatever the keyboard (« ١٢٦٣ » -> « 1263 »), passwords aside
    "rak_base.middleware.ArabicDigitsMiddleware",
    # portal usage for the adoption report (issue 14): pages viewed per day, accounts active per day
    "rak_reports.middleware.PortalUsageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rak_base.context_processors.company",
                "rak_portal.context_processors.portal",
            ],
        },
    },
]

AUTH_USER_MODEL = "rak_base.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rak_customer.auth.PortalBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:home"
LOGIN_REDIRECT_URL = "portal:dashboard"

# Sessions: 30 minutes idle, 12 hours absolute (rak_base.middleware.SessionLifetimeMiddleware).
# The idle expiry slides without a write per request: the session is saved when it changes, or
# when its expiry was last moved more than SESSION_REFRESH_SECONDS ago.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_ABSOLUTE_SECONDS = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The mobile API (rak_api, docs/API.md): device tokens only (no session, so no CSRF), JSON only,
# one error format, pages of 20, the OpenAPI schema at /api/v1/schema/ with docs at /api/v1/docs/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rak_api.authentication.DeviceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rak_api.permissions.IsCustomer"],
    "DEFAULT_PARSER_CLASSES": ["rak_api.parsers.JSONParser", "rak_api.parsers.MultiPartParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rak_api.pagination.RakPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [],
    "EXCEPTION_HANDLER": "rak_api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "rak_api.schema.RakAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RAK — API de l'agence en ligne",
    "DESCRIPTION": "API v1 des applications mobiles de la RAK (docs/API.md : authentification, erreurs, pagination).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # one name per choice set shared by several fields (drf-spectacular would number them otherwise)
    "ENUM_NAME_OVERRIDES": {
        "BillKindEnum": "rak_billing.models.Bill.Kind",
        "BillStatusEnum": ["PAID", "UNPAID", "EXIGIBLE", "CREDIT"],
        "DossierStatusEnum": "rak_customer.models.Dossier.Status",
        "ComplaintStatusEnum": "rak_requests.complaint_models.Complaint.Status",
        "ServiceEnum": "rak_customer.models.Service",
        "MeteredServiceEnum": ["EAU", "ELECTRICITE"],
        "ReadingSourceEnum": "rak_billing.models.MeterReading.Source",
        "ReadingStatusEnum": "rak_billing.models.MeterReading.Status",
    },
}

CSRF_TRUSTED_ORIGINS = [SITE_URL]
CSRF_FAILURE_VIEW = "rak_portal.views.errors.csrf_failure"

# Quick-pay's « Code de vérification » (django-simple-captcha): an image drawn by the app itself,
# the answer kept server-side (CaptchaStore), single use, 5 minutes; no outside service.
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 5
CAPTCHA_FONT_SIZE = 30
CAPTCHA_IMAGE_SIZE = (150, 50)
CAPTCHA_LETTER_ROTATION = (-20, 20)
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (rak_base.middleware.SecurityHeadersMiddleware): the portal has no inline
# script, handler or style (tests/integration/test_security_headers.py walks every page); forms may
# post to the site and to the CMI gateway only. The back office gets its own policy: unfold renders
# inline <script> and Alpine.js evaluates x-data expressions ('unsafe-inline' 'unsafe-eval' there).
_gateway = urlsplit(CMI_GATEWAY_URL)
_form_targets = f"'self' {_gateway.scheme}://{_gateway.netloc}"
_CSP_COMMON = (
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
CONTENT_SECURITY_POLICY = f"{_CSP_COMMON}; script-src 'self'; style-src 'self'; form-action {_form_targets}"
CONTENT_SECURITY_POLICY_BACKOFFICE = (
    f"{_CSP_COMMON}; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()"
)
SECURE_REFERRER_POLICY = "same-origin"
if RAK_MODE == "production":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True  # an http:// request that reaches the app is sent to https://
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # the site's own subdomains: https only too
    SECURE_HSTS_PRELOAD = True  # the « preload » token; listing the domain is a separate, manual step

# django-axes: lock an account after N failures (per account); the per-IP limit is a separate,
# higher threshold checked by rak_customer.services (mobile operators put many people on one IP).
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "rak_customer.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "rak_portal.views.auth.lockout_response"
AXES_ENABLE_ADMIN = True
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # per-IP limit: rak_customer.services, higher threshold (CGNAT)
AXES_CLIENT_IP_CALLABLE = "rak_base.http.client_ip"

# French is the source language and the back office's only one (rak_base.middleware.
# BackOfficeLanguageMiddleware); the portal, SMS, e-mails and documents speak Arabic and English too.
# The names are autonyms, shown untranslated in the language switch. The visitor's choice is a cookie
# (and, once logged in, Customer.language); a first visit follows the browser's Accept-Language.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("ar", "العربية"), ("en", "English")]
LANGUAGE_COOKIE_NAME = "rak_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Static files are served by the app itself (WhiteNoise), compressed, with far-future caching
# of hashed names after collectstatic; outside production the finders serve them directly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if RAK_MODE == "production"
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = RAK_MODE != "production"
if RAK_MODE != "production":
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
MEDIA_ROOT = BASE_DIR / "var" / "private"  # never served directly: access-checked views only

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[MAIL_BACKEND]

DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 512 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

UNFOLD = {
    "SITE_TITLE": _("RAK — Back office"),
    "SITE_HEADER": _("RAK Back office"),
    "SITE_SYMBOL": "water_drop",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "rak_customer.admin.dashboard_callback",
    "COLORS": {
        "primary": {
            "50": "239 246 255",
            "100": "219 234 254",
            "200": "191 219 254",
            "300": "147 197 253",
            "400": "96 165 250",
            "500": "59 130 246",
            "600": "37 99 235",
            "700": "29 78 216",
            "800": "30 64 175",
            "900": "30 58 138",
            "950": "23 37 84",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Direction"),
                "items": [
                    {
                        "title": _("Rapports de direction"),
                        "icon": "monitoring",
                        "link": reverse_lazy("reports:dashboard"),
                        "permission": lambda request: request.user.has_perm("rak_reports.view_reports"),
                    },
                    {
                        "title": _("Agrégats des rapports"),
                        "icon": "database",
                        "link": reverse_lazy("admin:rak_reports_reportview_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_reports.view_reportview"),
                    },
                    {
                        "title": _("Rapports mensuels"),
                        "icon": "forward_to_inbox",
                        "link": reverse_lazy("admin:rak_reports_monthlyreport_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_reports.view_monthlyreport"),
                    },
                ],
            },
            {
                "title": _("Clientèle"),
                "items": [
                    {
                        "title": _("Clients"),
                        "icon": "person",
                        "link": reverse_lazy("admin:rak_customer_customer_changelist"),
                    },
                    {
                        "title": _("Dossiers"),
                        "icon": "folder",
                        "link": reverse_lazy("admin:rak_customer_dossier_changelist"),
                    },
                    {
                        "title": _("Locaux"),
                        "icon": "home",
                        "link": reverse_lazy("admin:rak_customer_premises_changelist"),
                    },
                    {
                        "title": _("Compteurs"),
                        "icon": "speed",
                        "link": reverse_lazy("admin:rak_customer_meter_changelist"),
                    },
                    {
                        "title": _("Comptes portail"),
                        "icon": "badge",
                        "link": reverse_lazy("admin:rak_customer_portalaccount_changelist"),
                    },
                    {
                        "title": _("Demandes de modification"),
                        "icon": "edit_note",
                        "link": reverse_lazy("admin:rak_customer_changerequest_changelist"),
                    },
                    {
                        "title": _("Messages « Contactez-nous »"),
                        "icon": "mail",
                        "link": reverse_lazy("admin:rak_customer_contactmessage_changelist"),
                    },
                    {
                        "title": _("Agences"),
                        "icon": "store",
                        "link": reverse_lazy("admin:rak_customer_agency_changelist"),
                    },
                ],
            },
            {
                "title": _("Demandes"),
                "items": [
                    {
                        "title": _("Files d'attente"),
                        "icon": "inbox",
                        "link": lambda request: reverse("admin:rak_requests_servicerequest_changelist") + "?open=1",
                        "permission": lambda request: request.user.has_perm("rak_requests.view_servicerequest"),
                    },
                    {
                        "title": _("Mes demandes"),
                        "icon": "assignment_ind",
                        "link": lambda request: (
                            reverse("admin:rak_requests_servicerequest_changelist") + "?open=1&mine=1"
                        ),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_servicerequest"),
                    },
                    {
                        "title": _("Dépassements de délai"),
                        "icon": "alarm",
                        "link": lambda request: reverse("admin:rak_requests_servicerequest_changelist") + "?overdue=1",
                        "permission": lambda request: request.user.has_perm("rak_requests.view_servicerequest"),
                    },
                    {
                        "title": _("Demandes d'appel (identité)"),
                        "icon": "phone_callback",
                        "link": reverse_lazy("admin:rak_requests_callrequest_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_callrequest"),
                    },
                    {
                        "title": _("Ordres de pose"),
                        "icon": "electric_meter",
                        "link": reverse_lazy("admin:rak_requests_installationorder_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_installationorder"),
                    },
                    {
                        "title": _("Types de demande, phases et pièces"),
                        "icon": "schema",
                        "link": reverse_lazy("admin:rak_requests_requesttype_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_requesttype"),
                    },
                ],
            },
            {
                "title": _("Réclamations et incidents"),
                "items": [
                    {
                        "title": _("Réclamations"),
                        "icon": "support_agent",
                        "link": lambda request: reverse("admin:rak_requests_complaint_changelist") + "?etat=ouvertes",
                        "permission": lambda request: request.user.has_perm("rak_requests.view_complaint"),
                    },
                    {
                        "title": _("Mes réclamations"),
                        "icon": "assignment_ind",
                        "link": lambda request: (
                            reverse("admin:rak_requests_complaint_changelist") + "?mine=1&etat=ouvertes"
                        ),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_complaint"),
                    },
                    {
                        "title": _("Réclamations en retard"),
                        "icon": "alarm",
                        "link": lambda request: reverse("admin:rak_requests_complaint_changelist") + "?delai=overdue",
                        "permission": lambda request: request.user.has_perm("rak_requests.view_complaint"),
                    },
                    {
                        "title": _("Ordres d'intervention"),
                        "icon": "engineering",
                        "link": reverse_lazy("admin:rak_requests_fieldintervention_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_fieldintervention"),
                    },
                    {
                        "title": _("Avis de coupure et de travaux"),
                        "icon": "campaign",
                        "link": reverse_lazy("admin:rak_requests_outagenotice_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_outagenotice"),
                    },
                    {
                        "title": _("Catégories de réclamation (délais)"),
                        "icon": "timer",
                        "link": reverse_lazy("admin:rak_requests_complaintcategory_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_requests.view_complaintcategory"),
                    },
                ],
            },
            {
                "title": _("Relevés d'index"),
                "items": [
                    {
                        "title": _("Relevés"),
                        "icon": "rule",
                        "link": reverse_lazy("admin:rak_billing_meterreading_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_meterreading"),
                    },
                    {
                        "title": _("Imports de relevés"),
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:rak_billing_readingimport_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_readingimport"),
                    },
                    {
                        "title": _("Tournées de relève"),
                        "icon": "route",
                        "link": reverse_lazy("admin:rak_billing_readinground_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_readinground"),
                    },
                ],
            },
            {
                "title": _("Factures et paiements"),
                "items": [
                    {
                        "title": _("Campagnes de facturation"),
                        "icon": "receipt_long",
                        "link": reverse_lazy("admin:rak_billing_billingrun_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_billingrun"),
                    },
                    {
                        "title": _("Factures"),
                        "icon": "request_quote",
                        "link": reverse_lazy("admin:rak_billing_bill_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_bill"),
                    },
                    {
                        "title": _("Paiements"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:rak_billing_payment_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_payment"),
                    },
                    {
                        "title": _("Compte client (écritures)"),
                        "icon": "account_balance_wallet",
                        "link": reverse_lazy("admin:rak_billing_ledgerentry_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_ledgerentry"),
                    },
                    {
                        "title": _("Documents émis"),
                        "icon": "verified",
                        "link": reverse_lazy("admin:rak_base_document_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_base.view_document"),
                    },
                ],
            },
            {
                "title": _("Prélèvements bancaires"),
                "items": [
                    {
                        "title": _("Mandats de prélèvement"),
                        "icon": "account_balance",
                        "link": reverse_lazy("admin:rak_billing_mandate_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_mandate"),
                    },
                    {
                        "title": _("Fichiers de prélèvements"),
                        "icon": "download",
                        "link": reverse_lazy("admin:rak_billing_debitbatch_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_debitbatch"),
                    },
                    {
                        "title": _("Ordres de prélèvement"),
                        "icon": "list_alt",
                        "link": reverse_lazy("admin:rak_billing_debitorder_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_debitorder"),
                    },
                    {
                        "title": _("Rejets de prélèvements (imports)"),
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:rak_billing_debitrejectimport_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_debitrejectimport"),
                    },
                ],
            },
            {
                "title": _("Paiement en ligne (CMI)"),
                "items": [
                    {
                        "title": _("Ordres de paiement en ligne"),
                        "icon": "credit_card",
                        "link": reverse_lazy("admin:rak_payment_cmi_paymentorder_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_payment_cmi.view_paymentorder"),
                    },
                    {
                        "title": _("Journal des messages CMI"),
                        "icon": "sync_alt",
                        "link": reverse_lazy("admin:rak_payment_cmi_cmicallback_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_payment_cmi.view_cmicallback"),
                    },
                    {
                        "title": _("Rapprochements (relevés CMI)"),
                        "icon": "rule",
                        "link": reverse_lazy("admin:rak_payment_cmi_settlementimport_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_payment_cmi.view_settlementimport"),
                    },
                    {
                        "title": _("Écarts de rapprochement"),
                        "icon": "report",
                        "link": reverse_lazy("admin:rak_payment_cmi_settlementline_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_payment_cmi.view_settlementline"),
                    },
                    {
                        "title": _("Paiements d'autres réseaux (imports)"),
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:rak_payment_cmi_networkpaymentimport_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "rak_payment_cmi.view_networkpaymentimport"
                        ),
                    },
                    {
                        "title": _("Frais du service en ligne"),
                        "icon": "tune",
                        "link": reverse_lazy("admin:rak_payment_cmi_paymentsettings_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_payment_cmi.view_paymentsettings"),
                    },
                ],
            },
            {
                "title": _("Tarifs"),
                "items": [
                    {
                        "title": _("Barèmes tarifaires"),
                        "icon": "price_change",
                        "link": reverse_lazy("admin:rak_billing_tariffschedule_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_tariffschedule"),
                    },
                    {
                        "title": _("Taux de TVA"),
                        "icon": "percent",
                        "link": reverse_lazy("admin:rak_billing_vatrate_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_billing.view_vatrate"),
                    },
                ],
            },
            {
                "title": _("Communication"),
                "items": [
                    {
                        "title": _("Boîte d'envoi (SMS, e-mails)"),
                        "icon": "outbox",
                        "link": reverse_lazy("admin:rak_base_message_changelist"),
                    },
                    {
                        "title": _("Codes OTP"),
                        "icon": "pin",
                        "link": reverse_lazy("admin:rak_base_onetimecode_changelist"),
                    },
                    {
                        "title": _("Modèles de messages"),
                        "icon": "edit_note",
                        "link": reverse_lazy("admin:rak_base_messagetemplate_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_base.view_messagetemplate"),
                    },
                ],
            },
            {
                "title": _("Recouvrement"),
                "items": [
                    {
                        "title": _("Dossiers de recouvrement"),
                        "icon": "gavel",
                        "link": reverse_lazy("admin:rak_collections_dunningcase_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_dunningcase"),
                    },
                    {
                        "title": _("Plans de relance"),
                        "icon": "campaign",
                        "link": reverse_lazy("admin:rak_collections_reminderplan_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_reminderplan"),
                    },
                    {
                        "title": _("Ordres de coupure"),
                        "icon": "power_off",
                        "link": reverse_lazy("admin:rak_collections_cutofforder_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_cutofforder"),
                    },
                    {
                        "title": _("Ordres de rétablissement"),
                        "icon": "power",
                        "link": reverse_lazy("admin:rak_collections_reconnectionorder_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_reconnectionorder"),
                    },
                    {
                        "title": _("Échéanciers"),
                        "icon": "event_repeat",
                        "link": reverse_lazy("admin:rak_collections_paymentplan_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_paymentplan"),
                    },
                    {
                        "title": _("Clôtures de caisse"),
                        "icon": "point_of_sale",
                        "link": reverse_lazy("admin:rak_collections_cashclosing_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_cashclosing"),
                    },
                    {
                        "title": _("Postes de guichet"),
                        "icon": "storefront",
                        "link": reverse_lazy("admin:rak_collections_counterpost_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_collections.view_counterpost"),
                    },
                ],
            },
            {
                "title": _("Administration"),
                "items": [
                    {
                        "title": _("Utilisateurs"),
                        "icon": "group",
                        "link": reverse_lazy("admin:rak_base_user_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_base.view_user"),
                    },
                    {
                        "title": _("Groupes"),
                        "icon": "shield_person",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": lambda request: request.user.has_perm("auth.view_group"),
                    },
                    {
                        "title": _("Tâches planifiées"),
                        "icon": "schedule",
                        "link": reverse_lazy("admin:rak_base_scheduledjob_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_base.view_scheduledjob"),
                    },
                    {
                        "title": _("Workers"),
                        "icon": "monitor_heart",
                        "link": reverse_lazy("admin:rak_base_workerheartbeat_changelist"),
                        "permission": lambda request: request.user.has_perm("rak_base.view_workerheartbeat"),
                    },
                    {
                        "title": _("Tentatives de connexion"),
                        "icon": "lock",
                        "link": reverse_lazy("admin:axes_accessattempt_changelist"),
                        "permission": lambda request: request.user.has_perm("axes.view_accessattempt"),
                    },
                ],
            },
        ],
    },
}

# The cache (in each process; Redis when [redis] url is set: config/settings_scaleout.py), and
# « fragments »: template fragments that are the same for every visitor (the portal's menu links, per
# language and page), always in the process's memory — nothing to share, nothing to invalidate but
# on a deploy, which restarts the processes.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "rak-fragments",
        # 3 languages × ~90 portal pages × 2 fragments of the menu (locmem's default 300 would cull)
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# Production and scale (issue 15): each part reads its own rak.conf sections in its own module.
from config import settings_observability, settings_scaleout  # noqa: E402

settings_observability.apply(globals(), conf)
settings_scaleout.apply(globals(), conf)
