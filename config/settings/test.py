"""Settings for the test suite: production settings, made fast and self-contained.

Every variable base.py reads is pinned here, so a developer's shell never
changes a result; only DATABASE_URL passes through, to pick the database the
suite runs on. tests/test_settings.py fails when base.py reads a variable
this list does not pin.
"""

import os

PINNED_ENVIRONMENT = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-secret-key",
    "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "DATABASE_CONN_MAX_AGE": "60",
    "DJANGO_STATIC_ROOT": "staticfiles",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "",
    "LOGIN_FAILURES_PER_ADDRESS": "10",
    "LOGIN_FAILURES_PER_USERNAME": "10",
    "LOGIN_FAILURE_WINDOW_SECONDS": "60",
    "DJANGO_CORS_ALLOWED_ORIGINS": "",
    "NUM_PROXIES": "0",
    "TOKEN_TTL_SECONDS": "36000",
    "DJANGO_LOG_LEVEL": "INFO",
    "DJANGO_LOG_FORMAT": "plain",
    "DATABASE_CONNECT_TIMEOUT": "5",
    "SYNC_RETENTION_DAYS": "30",
}
os.environ.update(PINNED_ENVIRONMENT)
# prometheus-client switches to files shared by gunicorn's workers whenever
# this is set, even empty; the suite's metrics stay in its own process.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests render pages without running collectstatic first.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
