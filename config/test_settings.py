"""Settings for the test suite: the real settings, with test-safe defaults for what a clean
clone has no rak.conf for. The database comes from DATABASE_URL (PostgreSQL in CI)."""

import os

os.environ.setdefault("RAK_CONF", "/nonexistent/rak.conf")
os.environ.setdefault("RAK_SERVER_MODE", "test")
os.environ.setdefault("RAK_SERVER_DEBUG", "false")
os.environ.setdefault("RAK_SERVER_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("RAK_SERVER_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("RAK_SMS_DEV_FILE", "var/test-sms.log")
os.environ.setdefault("RAK_MAIL_BACKEND", "locmem")
os.environ.setdefault("RAK_HEALTH_PUBLIC_CACHE_SECONDS", "0")  # each test sees its own checks' outcome

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; prod keeps PBKDF2

# The reports' read replica (rak_base.db_router): in the tests an alias of the test database
# (Django's TEST MIRROR, no second server), read only where REPORTS_DATABASE = "replica" says so
# (tests/integration/test_report_replica.py; DATABASE_REPLICA_URL configures it for the whole run).
DATABASES.setdefault("replica", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})  # noqa: F405
