"""Settings, all read from the environment (django-environ).

With no environment at all the project runs on a laptop: SQLite in ``var/``, e-mail to
the console, Celery over a folder on disk (no Redis). Set ``DEBUG=0`` for production; it
then refuses to start without ``SECRET_KEY`` and ``ALLOWED_HOSTS`` and turns on the
HTTPS-only settings that ``manage.py check --deploy`` asks for.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-laptop-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set (and not the laptop default) when DEBUG=0.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public address of the site, for links in e-mails sent from Celery tasks (no request there).
# `make run HOST=… PORT=…` passes SITE_URL=http://HOST:PORT to the server and the worker.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "makeup",
    "programmes",
    "bookings",
    "credits",
    "makeups",
    "franchise",
    "portal",
    "api",
    "ninja",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sees every response after the views and the middleware below it.
    "makeup.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "makeup.middleware.TenancyMiddleware",
    "makeup.middleware.RateLimitMiddleware",
    # django-axes wants to be last: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "makeup.context_processors.tenancy",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker share one file: wait for locks instead of
    # failing, and take the write lock at BEGIN so two writers never deadlock.
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Persistent connections: reconnecting on every request made a database page 3x
    # slower on this kind of machine (158 vs 487 req/s).
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    _db["CONN_HEALTH_CHECKS"] = True
    # Prepared statements: the values travel apart from the SQL (server-side binding), and a
    # statement run DATABASE_PREPARE_THRESHOLD times on a connection is kept parsed and
    # planned by PostgreSQL. Planning was most of the database's work on the portal's pages:
    # its CPU per home page fell from about 11 ms to 2 ms (docs/performance.md). Set it to
    # "off" behind a pooler that can't keep prepared statements (PgBouncer in transaction
    # mode before 1.21, or without max_prepared_statements).
    _prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
    _db.setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": None if _prepare in {"", "off", "none"} else int(_prepare),
        }
    )

# How many statements a PostgreSQL connection keeps prepared (makeup.dbplans): psycopg's 100
# was fewer than the shapes one worker runs, so busy queries kept being dropped and planned
# again. About 75 KB of the database server's memory each.
DATABASE_PREPARED_MAX = env.int("DATABASE_PREPARED_MAX", default=500)
# Keep them when a transaction is rolled back (a refused write): psycopg forgets them all
# then, and re-planning the wide reads cost the next bookings 10-20 ms each (makeup.dbplans).
DATABASE_KEEP_PREPARED_ON_ROLLBACK = env.bool("DATABASE_KEEP_PREPARED_ON_ROLLBACK", default=True)

_db.setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    _db["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when configured) ------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis being down is a cache miss, not an error page (makeup/cache.py).
            "BACKEND": "makeup.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Sessions are read from Redis and written through to the database: one database query
    # less on every logged-in page, and nobody is logged out if Redis restarts.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How far a long task (the CSV import) has got, read by the page that follows it: shared by
# the web processes and the workers (Redis, else files on this machine), see makeup/progress.py.
if REDIS_URL:
    CACHES["progress"] = {**CACHES["default"], "KEY_PREFIX": "progress"}
else:
    CACHES["progress"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "progress"),
    }

# Days a partner-company invitation link works (FRN-1).
FRANCHISE_INVITE_MAX_AGE_DAYS = env.int("FRANCHISE_INVITE_MAX_AGE_DAYS", default=14)

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "makeup.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
# Sign-up confirmation links stay valid this long.
EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)

# Login rate limiting (django-axes): N failures for one e-mail from one client address lock
# that pair out for the cool-off time; a success resets the count. Locking the pair, not the
# e-mail alone, means failures from a stranger never lock the owner out of their own account
# from their own address (docs/operations.md#security). Password spraying (one address,
# many e-mails) is paused by LOGIN_FAILURES_PER_IP below.
AUTHENTICATION_BACKENDS = [
    "makeup.auth.LoginPauseBackend",
    *AUTHENTICATION_BACKENDS,
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form posts the e-mail in the field "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "makeup.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind reverse proxies the client's address is read from X-Forwarded-For: with N proxies,
# the Nth entry from the right (makeup/clientip.py). Login lockout and rate limits use it.
PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "makeup.clientip.client_ip"
AXES_VERBOSE = False

# --- Rate limits (makeup/ratelimit.py), counted in the cache per window --------------------
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMIT_WINDOW = timedelta(minutes=env.int("RATE_LIMIT_WINDOW_MINUTES", default=60))
# E-mails one address can be sent by one kind of request (sign-up, password reset, new
# confirmation link, invitation) per window.
RATE_LIMIT_PER_ADDRESS = env.int("RATE_LIMIT_PER_ADDRESS", default=3)
# Sign-ups, password resets and confirmation links one client address can ask for per window.
RATE_LIMIT_PER_IP = env.int("RATE_LIMIT_PER_IP", default=20)
# Invitations (parents, partner companies) staff at one client address can send per window.
RATE_LIMIT_INVITES_PER_IP = env.int("RATE_LIMIT_INVITES_PER_IP", default=200)
# Failed log-ins from one client address, whatever the e-mail, per window (password spraying).
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
# API-5: requests one API key may make per window (429 with Retry-After past it).
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=600)
API_RATE_WINDOW_SECONDS = env.int("API_RATE_WINDOW_SECONDS", default=60)
# API-4: webhooks go to https:// addresses; plain http only to this machine (127.0.0.1,
# localhost), and only when this is on — by default on a laptop (DEBUG), never in production.
WEBHOOK_ALLOW_LOCAL_HTTP = env.bool("WEBHOOK_ALLOW_LOCAL_HTTP", default=DEBUG)
# API-4: delivered and failed webhook messages are deleted after this many days.
WEBHOOK_KEEP_DAYS = env.int("WEBHOOK_KEEP_DAYS", default=30)
# Cache key prefix (tests give each test its own).
RATE_LIMIT_PREFIX = "rl"

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("cs", "Čeština")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"  # TEN-3: stored in UTC, shown in each company's own time zone.
USE_I18N = True
USE_TZ = True
# DAY-4: named date formats per language ("DAY_FORMAT", "WEEKDAY_TIME_FORMAT"…).
FORMAT_MODULE_PATH = ["makeup.locale_formats"]

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The CSV import's confirm step posts the previewed file back (signed): up to 5 MB of CSV.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail --------------------------------------------------------------------------------
# EMAIL_URL as django-environ reads it (smtp://user:pass@host:587/?tls=True, consolemail://,
# filemail:///path), turned into Django 6.1's MAILERS setting. On a laptop (DEBUG, no
# EMAIL_URL) e-mails are kept in var/mail/ and read at /manage/dev/mail/ (makeup.devmail).
_email = env.email_url(
    "EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}" if DEBUG else "consolemail://"
)
_email_options: dict = {}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _email_options = {
        "host": _email.get("EMAIL_HOST") or "localhost",
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER") or "",
        "password": _email.get("EMAIL_HOST_PASSWORD") or "",
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": env.int("EMAIL_TIMEOUT", default=10),
    }
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # filemail:///var/mail/makeup means the absolute path /var/mail/makeup.
    _email_options = {"file_path": "/" + _email["EMAIL_FILE_PATH"].lstrip("/")}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Make-up sessions <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ----------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    # No Redis on a laptop: a folder on disk is the broker, so a worker and beat still run.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    _queue_dir = VAR_DIR / "celery" / "queue"
    _control_dir = VAR_DIR / "celery" / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
    }
    if CELERY_BROKER_URL == "filesystem://":
        for _folder in (_queue_dir, _control_dir):
            _folder.mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request never waits long on a broker that is down (the write has committed already).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TIMEZONE = "UTC"
# An outbox message handed to the broker but not done after this many seconds is handed
# over again (a restarted Redis keeps no queue); delivery stays once per message.
OUTBOX_REDELIVER_AFTER = env.int("OUTBOX_REDELIVER_AFTER", default=600)
# Days a sent outbox message (the record of what was e-mailed to whom) is kept.
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=90)
# Notifications (NTF-1): each company connects its own Twilio account on Settings → Text
# messages; its auth token is stored encrypted with this Fernet key (44 url-safe base64
# characters, `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"`).
# Empty: a key derived from SECRET_KEY (changing SECRET_KEY then means reconnecting Twilio).
NOTIFICATIONS_SECRET_KEY = env.str("NOTIFICATIONS_SECRET_KEY", default="")
# Another address for Twilio's API than https://api.twilio.com (a test fake, a proxy).
TWILIO_API_URL = env.str("TWILIO_API_URL", default="")
# Days log-in records (django-axes: e-mail, IP address, browser) are kept.
LOGIN_RECORDS_KEEP_DAYS = env.int("LOGIN_RECORDS_KEEP_DAYS", default=30)
CELERY_BEAT_SCHEDULE = {
    # The outbox relay (makeup.outbox): e-mails that could not be queued at once, e.g.
    # while Redis was down, go out within half a minute of its return.
    "outbox-relay": {"task": "makeup.outbox.relay_outbox", "schedule": 30.0},
    # API-4: webhook deliveries whose wait after a failure is over are tried again.
    "webhooks-send-due": {"task": "api.tasks.send_due_webhooks", "schedule": 60.0},
    "webhooks-prune": {
        "task": "api.tasks.prune_webhook_deliveries",
        "schedule": crontab(hour=3, minute=47),
    },
    "credits-expire": {"task": "credits.tasks.expire_credits", "schedule": crontab(minute="*/15")},
    # WAL-4: unused credits of ended terms move to the next term, then the expiry sweep runs.
    # Daily (UTC); until it runs, the sweep leaves the credits it will move alone.
    "credits-carry-over": {
        "task": "credits.tasks.carry_over_credits",
        "schedule": crontab(hour=0, minute=35),
    },
    "credits-expiry-reminders": {
        "task": "credits.tasks.send_expiry_reminders",
        "schedule": crontab(minute=5),
    },
    # WAL-5: offers of freed places not accepted in time pass to the next watcher.
    "watch-offers-expire": {
        "task": "makeups.tasks.expire_watch_offers",
        "schedule": crontab(minute="*/5"),
    },
    "lesson-reminders": {
        "task": "credits.tasks.send_lesson_reminders",
        "schedule": crontab(minute=20),
    },
    "family-imports-purge": {
        "task": "bookings.tasks.purge_family_imports",
        "schedule": crontab(minute=40),
    },
    "housekeeping-nightly": {
        "task": "makeup.tasks.housekeeping",
        "schedule": crontab(hour=3, minute=17),
    },
}

# --- Payments in the portal (BAL-5) --------------------------------------------------------
# "stripe" uses Stripe Checkout; "test" pays at once on a page of this site and takes no
# money (demo, laptops: the default only with DEBUG on); empty: no online payments. In
# production the test provider must be asked for twice (PAYMENT_PROVIDER=test and
# ALLOW_TEST_PAYMENTS=1), is marked on every payment page, and `check --deploy` warns.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test" if DEBUG else "")
ALLOW_TEST_PAYMENTS = env.bool("ALLOW_TEST_PAYMENTS", default=DEBUG)
if PAYMENT_PROVIDER not in {"", "test", "stripe"}:
    raise ImproperlyConfigured("PAYMENT_PROVIDER is 'stripe', 'test' or empty (no payments).")
if PAYMENT_PROVIDER == "test" and not ALLOW_TEST_PAYMENTS:
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=test takes no money: with DEBUG=0 it also needs ALLOW_TEST_PAYMENTS=1."
    )
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where the stripe library sends its API calls; empty: Stripe's own API. The tests point it at
# a local fake of Stripe's HTTP API (a local stripe-mock would do too).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
if PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
    )

# --- Security ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

ADMINS = [("Admin", a) for a in env.list("ADMIN_EMAILS", default=[])]

# Every record is printed once, by the root's handler. Django's own default gives the "django"
# logger a console handler too (DEBUG only), which printed each 403/404 warning twice: here
# that logger keeps only the e-mail to ADMINS on errors (as Django's default, DEBUG=0 only)
# and passes everything up to the root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # runserver's request lines, as Django's default prints them.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # The filesystem broker (no Redis on a laptop) has no host name; kombu warns each time.
        "kombu.connection": {"level": "ERROR"},
    },
}
