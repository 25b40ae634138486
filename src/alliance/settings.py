"""Alliance settings: one file, typed environment variables, safe local defaults.

Every variable is documented in docs/configuration.md (a test keeps the two in step).
Production mode (``ALLIANCE_ENV=production``) refuses to start without the secrets it needs
and names the missing variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from alliance.core.env import (
    default_data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    is_stateless,
    local_secret,
    private_dir,
)

BASE_DIR = Path(__file__).resolve().parent
ENV = env_str("ALLIANCE_ENV", "development")
if ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"ALLIANCE_ENV must be development, production or test, not {ENV!r}."
    )
PRODUCTION = ENV == "production"
DEBUG = env_bool("ALLIANCE_DEBUG", False) and not PRODUCTION

# Local state (generated secrets, the SQLite file) lives in the data directory: one per
# installation, so the web server, the worker and every command find the same database.
DATA_DIR = Path(env_str("ALLIANCE_DATA_DIR", "") or default_data_dir()).resolve()
# Commands that need no database (`alliance score`, ...) write nothing: no secrets, no folders.
STATELESS = is_stateless()


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set in production mode (ALLIANCE_ENV=production). "
            "See docs/configuration.md."
        )
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
    FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
    if not FIELD_ENCRYPTION_KEYS:
        _required("FIELD_ENCRYPTION_KEYS")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        _required("ALLOWED_HOSTS")
    _required("DATABASE_URL")
else:
    if not STATELESS:
        private_dir(DATA_DIR)
    SECRET_KEY = env_str("SECRET_KEY", "") or local_secret(
        DATA_DIR, "secret_key", "django", create=not STATELESS
    )
    FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", []) or [
        local_secret(DATA_DIR, "field_encryption_key", "fernet", create=not STATELESS)
    ]
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute address of this site, for links in emails sent by the worker (no request there).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "sesame",
    "csp",
    "django_htmx",
    "ninja",
    # Before django_tasks_db: Django takes a management command from the first app that has it,
    # so `alliance db_worker` is core's resilient worker (same flags).
    "alliance.core",
    "django_tasks",
    "django_tasks_db",
    "alliance.accounts",
    "alliance.clients",
    "alliance.alerts",
    "alliance.measures",
    "alliance.monitoring",
    "alliance.goals",
    "alliance.checkins",
    "alliance.transcripts",
    "alliance.supervision",
    "alliance.reports",
    "alliance.exports",
    # Last: the `alliance demo` command reads every app (top of the app graph). No other app has
    # a `demo` command, so its place does not change which command runs.
    "alliance.demo",
]

MIDDLEWARE = [
    # First: the liveness probe is answered before host checks, HTTPS redirect and sessions.
    "alliance.core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Accept-Language for anonymous pages; after sessions, before CommonMiddleware as Django asks.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in person reads pages in their own chosen language.
    "alliance.core.languages.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "alliance.core.middleware.InactivityLogoutMiddleware",
    "alliance.core.timezones.ViewerTimeZoneMiddleware",
    "alliance.core.middleware.NoStoreMiddleware",
    "alliance.accounts.middleware.StaffMFARequiredMiddleware",
    "alliance.core.access.DenyByDefaultMiddleware",
    # Axes must be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

# The app uses no device or payment features: deny them to every script (Permissions-Policy
# header, django-permissions-policy). Only features Chromium recognises, so no console noise.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"
ASGI_APPLICATION = "alliance.asgi.application"

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
                "csp.context_processors.nonce",
                "alliance.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'alliance.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_sqlite))}
except ValueError:
    # The URL is not repeated: it may carry a password.
    raise ImproperlyConfigured(
        "DATABASE_URL is not a database URL Alliance understands: use "
        "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:////absolute/path.sqlite3."
    ) from None
_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PostgreSQL connections: opening one costs more application CPU than the page it serves
# (benchmarks/bench_connections.py; figures in docs/configuration.md). In production they are
# kept open for DB_CONN_MAX_AGE seconds, one per web thread and per worker, checked before
# reuse; DB_POOL="MIN:MAX" uses psycopg's pool per process instead (then no max age).
DB_POOL = env_str("DB_POOL", "")
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 600 if PRODUCTION and _POSTGRES and not DB_POOL else 0)
if DB_POOL:
    try:
        _pool_min, _pool_max = (int(part) for part in DB_POOL.split(":"))
    except ValueError:
        raise ImproperlyConfigured(
            f"DB_POOL must be MIN:MAX connections per process, like 2:8, not {DB_POOL!r}."
        ) from None
    if not _POSTGRES:
        raise ImproperlyConfigured("DB_POOL needs PostgreSQL (a postgres:// DATABASE_URL).")
    if DB_CONN_MAX_AGE:
        raise ImproperlyConfigured(
            "DB_POOL and DB_CONN_MAX_AGE cannot be used together: unset one."
        )
    if not 0 <= _pool_min <= _pool_max or _pool_max < 1:
        raise ImproperlyConfigured(
            f"DB_POOL must have 0 <= MIN <= MAX and MAX >= 1, not {DB_POOL!r}."
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": _pool_min,
        "max_size": _pool_max,
        # A request waits this long for a free connection, then fails (not forever).
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }
DATABASES["default"]["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
# A kept connection is checked once per request before use, so a restarted or failed-over
# database costs one failed check, not an error page.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DB_CONN_MAX_AGE > 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, creating the database file (and so its -wal and -shm) 0600.
    DATABASES["default"]["ENGINE"] = "alliance.core.sqlite"
    # WAL lets readers and one writer work at once; the embedded default must not lock up
    # when the worker and the web process write together.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": env_str("ALLIANCE_TEST_SQLITE", "") or None}
# A PostgreSQL read replica for report pages (docs/scaling.md): only reads inside
# ``alliance.core.db_routers.replica_reads`` go there; every write and every other read stays
# on the primary. In tests the replica mirrors the test database.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["alliance.core.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared cache: TOTP replay protection, lockouts and rate limits must hold across processes.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "alliance_cache",
        }
    }

# --- Background work ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A RUNNING task whose worker has sent no heartbeat for this long is put back in the queue.
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 300)
# How often workers and the scheduler record their heartbeat; 0 picks 5 s on PostgreSQL and
# 30 s on SQLite, where every write takes the one database-wide write lock.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 0)
# /ready/ wants a worker and a scheduler heartbeat at most this many seconds old.
READY_WORKER_MAX_AGE = env_int("READY_WORKER_MAX_AGE", 120)
for _name in ("TASK_LEASE_SECONDS", "READY_WORKER_MAX_AGE"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1 second.")
if WORKER_HEARTBEAT_SECONDS < 0:
    raise ImproperlyConfigured("WORKER_HEARTBEAT_SECONDS must be 0 (automatic) or more.")

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any other backend sees them.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "sesame.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "alliance.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# Per-IP throttling by allauth; per-account lockout (persistent, resettable) by django-axes.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,20/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "alliance.accounts.adapters.MFAAdapter"
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Alliance")
# Accept the previous and next 30-second code: phones drift, and people type slowly.
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODE_COUNT = 10

# Lockout after repeated failures (django-axes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# Per-IP limits come from allauth's rate limits above; an IP lockout would lock out a whole
# clinic behind one NAT address, so axes locks per account only.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "alliance.accounts.adapters.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "errors/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# Client sign-in by emailed single-use link (django-sesame).
CLIENT_LINK_MINUTES = env_int("CLIENT_LINK_MINUTES", 15)
SESAME_MAX_AGE = CLIENT_LINK_MINUTES * 60
SESAME_ONE_TIME = True
SESAME_TOKEN_NAME = "t"
# A link is voided by a new email address as well as by a new password or a sign-in; a
# deliberate sign-out voids every unused link too (User.end_every_sign_in).
SESAME_INVALIDATE_ON_EMAIL_CHANGE = True

# Automatic logoff after inactivity (HIPAA 164.312(a)(2)(iii)).
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 15)
CLIENT_IDLE_MINUTES = env_int("CLIENT_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = max(STAFF_IDLE_MINUTES, CLIENT_IDLE_MINUTES) * 60
# A page view saves the session only when it changed: InactivityLogoutMiddleware rewrites the
# last-activity time (and renews the session's expiry) at most once a minute, so reading pages
# writes nothing to the database the rest of the time.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Break-glass emergency access.
BREAK_GLASS_MINUTES = env_int("BREAK_GLASS_MINUTES", 60)

# --- Security headers -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script needs the cookie: htmx sends the token the page carries (hx-headers in base.html).
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer probes these on plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    _proxy_header = env_str("SECURE_PROXY_SSL_HEADER", "")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")

# A strict policy: no inline script or style anywhere, every asset from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Web server (`alliance serve`, gunicorn; docs/deploy.md) ---------------------------------
WEB_WORKERS = env_int("WEB_WORKERS", 0)  # 0: one per CPU core available
WEB_THREADS = env_int("WEB_THREADS", 8)
WEB_TIMEOUT = env_int("WEB_TIMEOUT", 30)
WEB_MAX_REQUESTS = env_int("WEB_MAX_REQUESTS", 2000)
WEB_BACKLOG = env_int("WEB_BACKLOG", 64)
WEB_MAX_QUEUE_SECONDS = env_int("WEB_MAX_QUEUE_SECONDS", 5)
for _name, _least in (
    ("WEB_WORKERS", 0),
    ("WEB_THREADS", 1),
    ("WEB_TIMEOUT", 1),
    ("WEB_MAX_REQUESTS", 0),
    ("WEB_BACKLOG", 1),
    ("WEB_MAX_QUEUE_SECONDS", 1),
):
    if globals()[_name] < _least:
        raise ImproperlyConfigured(f"{_name} must be at least {_least}, not {globals()[_name]}.")

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Alliance <no-reply@alliance.invalid>")

# --- SMS (django-sms; immediate safety notices, switched on per clinic) ---------------------
SMS_BACKEND = env_str("SMS_BACKEND", "sms.backends.console.SmsBackend")
DEFAULT_FROM_SMS = env_str("DEFAULT_FROM_SMS", "")
# For alliance.core.sms.TwilioCompatibleBackend: any provider speaking Twilio's Messages API.
SMS_API_URL = env_str("SMS_API_URL", "https://api.twilio.com").rstrip("/")
SMS_ACCOUNT_SID = env_str("SMS_ACCOUNT_SID", "")
SMS_AUTH_TOKEN = env_str("SMS_AUTH_TOKEN", "")

# --- Static files, i18n ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION and not STATELESS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# --- Languages ------------------------------------------------------------------------------
# English is the default and the fallback for anything unsupported. A client's language is on
# their record (ClientRecord.language), a staff member's on their account (User.language);
# alliance.core.languages activates it for each request and for every email to them.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging: never client text or identifiers ----------------------------------------------
# One handler, on the root, with the redaction filter (alliance.core.logging). Every logger
# reaches it by propagation and none keeps a handler of its own: Django's defaults gave
# runserver's request lines (django.server) their own unfiltered handler and made the
# "django" logger print and mail outside the filter. tests/foundation/test_log_redaction.py
# fails when any handler lacks the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "alliance.core.logging.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.server": {
            "handlers": [],
            "propagate": True,
            "level": "WARNING" if ENV == "test" else "INFO",
        },
        "axes": {"level": "WARNING"},
        # Its debug lines name the person a link belongs to.
        "sesame": {"level": "INFO"},
    },
}
