"""Settings of the sandbox: the demo site and the project the test suite runs against.

Embedded by default (SQLite, the django-q2 ORM broker, a local-memory cache); set
``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/postgres``) and/or ``REDIS_URL``
(e.g. ``redis://127.0.0.1:6379/0``) to run the same project on PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "sandbox-insecure-secret-key-do-not-use-in-production"
)
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() in {"1", "true", "yes", "on"}
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    # Before wagtail.users and wagtail.admin: it may override their templates.
    "wagtail_2fa_sessions",
    "sandbox.demo",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_email",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware, so a user it logs out is told why.
    "wagtail_2fa_sessions.middleware.SessionTrackingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under sandbox/ unless DATABASE_URL is set.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # runserver, the qcluster workers and its ORM broker share the file: take the
            # write lock when a transaction starts and wait for it rather than fail.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
    # A file rather than Django's in-memory test database, so that another process (a real
    # qcluster, a "revoke from another process" test) can open it: hand it over with
    # DATABASE_URL=sqlite:///<connection.settings_dict["NAME"]>. One file per test run, so
    # two runs in one checkout never share it.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", Path(tempfile.gettempdir()) / f"wagtail-2fa-sessions-test-{os.getpid()}.sqlite3"
    )
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # Wagtail's search backend on PostgreSQL needs it (system check postgres.E005).
    INSTALLED_APPS.append("django.contrib.postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: local memory unless REDIS_URL is set (the `cache` session engine then runs on Redis).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "wagtail-2fa-sessions-sandbox",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-q2: the ORM broker on the default database unless REDIS_URL is set.
Q_CLUSTER = {
    "name": "wagtail-2fa-sessions",
    "workers": 2,
    "timeout": 600,
    "retry": 660,
    "catch_up": False,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django_otp's login view (username, password and a token) at /accounts/login/.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/admin/"

LANGUAGE_CODE = "en-us"
# Not UTC on purpose: "expiring today" must follow the site's time zone.
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "wagtail-2fa-sessions sandbox <noreply@example.com>"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "wagtail_2fa_sessions": {
            "handlers": ["console"],
            "level": os.environ.get("WAGTAIL_2FA_SESSIONS_LOG_LEVEL", "INFO"),
        },
    },
}

WAGTAIL_SITE_NAME = "wagtail-2fa-sessions sandbox"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
