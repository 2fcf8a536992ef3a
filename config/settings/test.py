"""Settings for the test suite: production settings, made fast and self-contained."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests render pages without running collectstatic first.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# The test client speaks plain HTTP; test_security.py covers the redirect.
SECURE_SSL_REDIRECT = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The failed-login limits, the proxy count and CORS as documented by default,
# whatever the developer's shell exports.
LOGIN_FAILURES_PER_ADDRESS = 10
LOGIN_FAILURES_PER_USERNAME = 10
LOGIN_FAILURE_WINDOW_SECONDS = 60
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": 0}  # noqa: F405
CORS_ALLOWED_ORIGINS = []
