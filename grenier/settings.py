"""Grenier's settings: one file, read from the environment (see docs/OPERATIONS.md)."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from grenier.env import database_from_url, env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("GRENIER_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("GRENIER_DEBUG", False)
_DEV_SECRET = "grenier-development-secret-not-for-production"  # noqa: S105 - refused below when not in debug
SECRET_KEY = env_str("GRENIER_SECRET_KEY", _DEV_SECRET)
# Earlier keys, still accepted after a rotation: sessions and signed links, and the sealed counts and receipts of
# secret votes still open (docs/decisions/0002-secret-ballots.md). Keep the old key here until those votes close.
SECRET_KEY_FALLBACKS = env_list("GRENIER_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("GRENIER_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("GRENIER_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "ninja",
    "grenier.core",
    "grenier.ledger",
    "grenier.fund",
    "grenier.governance",
    "grenier.supply",
    "grenier.baskets",
    "grenier.orders",
    "grenier.waste",
    "grenier.activities",
    "grenier.network",
    "grenier.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "grenier.core.middleware.ApiGuardMiddleware",  # after the locale: its problems speak the caller's language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "grenier.core.middleware.PageErrorMiddleware",  # a service's refusal a page's view lets through: its error page
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "grenier.urls"
WSGI_APPLICATION = "grenier.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "grenier.core.context_processors.shell",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'grenier.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Wait for a concurrent writer instead of failing at once; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(env_str("GRENIER_DB_CONN_MAX_AGE", "60"))
    # A kept connection is checked (a cheap query) before a request's first use of it, and reopened if the
    # server went away meanwhile (a restart, a failover): without it, that request answers 500.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The API token's statement is prepared once per PostgreSQL connection (core.bearer); 0 behind a pooler in
# transaction mode (PgBouncer), where the next transaction may run on a server connection that never prepared it.
GRENIER_DB_PREPARED_STATEMENTS = env_bool("GRENIER_DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["grenier.core.auth.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the shell's stylesheet, icon and scripts, shared by every app
STATIC_ROOT = Path(env_str("GRENIER_STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env_str("GRENIER_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("GRENIER_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("GRENIER_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("GRENIER_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("GRENIER_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("GRENIER_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("GRENIER_FROM_EMAIL", "Grenier <grenier@localhost>")
GRENIER_BASE_URL = env_str("GRENIER_BASE_URL", "http://127.0.0.1:8000")  # links in e-mails

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("GRENIER_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GRENIER_LOG_LEVEL", "WARNING")},
}

if not DEBUG and SECRET_KEY == _DEV_SECRET and not env_bool("GRENIER_ALLOW_DEV_SECRET", False):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Set GRENIER_SECRET_KEY (or GRENIER_SECRET_KEY_FILE) in production, or GRENIER_DEBUG=1 for development."
    )
