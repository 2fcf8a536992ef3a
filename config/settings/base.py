"""Settings for every environment, read from the environment in one place.

Development needs no configuration beyond DJANGO_DEBUG=true (the Makefile's
`run` target sets it). With DEBUG off, the secrets and hosts have no defaults:
the process refuses to start without them.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _required(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")


SECRET_KEY = _required("DJANGO_SECRET_KEY", "django-insecure-development-only")
ALLOWED_HOSTS = _required("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    # Before rest_framework and drf_spectacular, whose templates it overrides.
    "api",
    "accounts.apps.ThrottledAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_guid",
    "accounts",
    "tasks",
]

MIDDLEWARE = [
    # First: every response, redirects and refusals included, is measured
    # and carries X-Request-ID.
    "api.middleware.RequestContextMiddleware",
    "django_guid.middleware.guid_middleware",
    # Next, so that every response (a 413 or a redirect included) carries
    # the CORS headers a browser needs to let the calling page read it.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

# An SQLite file beside manage.py unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: WAL lets readers run beside
    # the writer, writers wait (busy timeout) instead of failing, and IMMEDIATE
    # transactions take the write lock up front, so a read-then-write
    # transaction never fails to upgrade its lock ("database is locked").
    # synchronous=NORMAL is durable against application crashes; a power loss
    # may lose the last transactions, never corrupt the file.
    # recursive_triggers makes INSERT OR REPLACE fire the delete trigger of
    # the row it replaces, which keeps the task tally exact (tasks/triggers.py).
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-init-command
    # https://www.sqlite.org/lang_conflict.html (REPLACE)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=5000;"
            "PRAGMA recursive_triggers=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 5,
    }
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # An unreachable server fails fast (503, see api/outages.py) instead of
    # holding a worker until gunicorn's timeout kills it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
# Tables kept by database triggers stay out of dumpdata and loaddata.
DATABASE_ROUTERS = ["tasks.routers.DerivedTablesRouter"]

# Gunicorn's sync workers serve one request at a time, so one persistent
# connection per worker is all the pooling they need (and SQLite is spared
# reopening the file and its PRAGMAs on every request); the health check
# replaces a connection the server has closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Shared by every worker process, so the failed-login throttle holds across
# workers. Its table comes from a migration (api/migrations), like every other.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cache",
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# WhiteNoise serves the collected files from the app itself, compressed and
# with content hashes in their names so they can be cached forever.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Production runs behind a TLS-terminating reverse proxy on the same host,
# which sets X-Forwarded-Proto (and must overwrite any value a client sent).
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes may speak plain HTTP to the port directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Everything the admin and the browsable API load comes from this host. Their
# templates use style attributes, never inline scripts or style blocks (our
# rest_framework/api.html drops the one DRF adds).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/tasks"

# The SPEC's 1 MiB body limit, enforced by RequestBodyLimitMiddleware for
# every body (DRF's parsers read the stream directly and skip Django's check).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.problems.ProblemJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.PreferredRendererNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.exceptions.problem_exception_handler",
    # The number of trusted reverse proxies in front of the service; the
    # failed-login limit identifies clients by the address that proxy saw.
    # 0 means REMOTE_ADDR; never trust a client-supplied X-Forwarded-For.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DATETIME_FORMAT": "iso-8601",
    "DEFAULT_SCHEMA_CLASS": "api.openapi.ProblemAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tasks API",
    "DESCRIPTION": "Personal task lists. Errors are RFC 9457 problem documents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are documented as JSON only: the form parsers stay for the
    # browsable API's HTML forms, which are not part of the contract.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files:
    # no CDN, so the docs work offline and under a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayOperationId": False},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.openapi.canonical_paths",
        "api.openapi.forbid_unknown_request_fields",
        "api.openapi.request_defaults_in_words",
        "api.openapi.empty_query_values_allowed",
        "api.openapi.enum_varnames",
        "tasks.schema.describe_task_fields_fully",
    ],
}

# Failed logins allowed per client address (an IPv6 one by its /64) and per
# username within a window; counted in the accounts_loginfailurecount table.
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=10)
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=10)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=60)

# Browser apps on other origins call the API with bearer tokens, never with
# cookies. https://github.com/adamchainz/django-cors-headers#configuration
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["authorization", "content-type", "if-match", "if-none-match", "idempotency-key"]
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Link", "Retry-After", "X-Request-ID"]

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(seconds=env.int("TOKEN_TTL_SECONDS", default=10 * 60 * 60)),
}

# X-Request-ID: RequestContextMiddleware drops an incoming id that is not
# sane, so django-guid keeps any id it sees and makes one when there is none.
# CORS (when configured) exposes the header, not django-guid.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "EXPOSE_HEADER": False,
}

LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "api.logs.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "api.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # django-guid says at INFO, for every request, whether the id was sent.
    "loggers": {"django_guid": {"level": "WARNING"}},
}

# How long GET /tasks/changes remembers deleted task ids (manage.py purge_sync_log
# forgets older ones); a client that has not synced for longer starts again.
SYNC_RETENTION_DAYS = env.int("SYNC_RETENTION_DAYS", default=30)
