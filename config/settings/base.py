"""Settings shared by every environment, read from the environment.

Defaults make `make demo` work on a machine with nothing set up: an embedded SQLite
database, DEBUG on, a generated secret, the console e-mail backend. Production
(`config.settings.production`) refuses to start without the real values.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from kombu.entity import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for developers; the environment always wins.
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# Where the demo keeps the secret it generated (git-ignored); production demands SECRET_KEY.
SECRET_KEY_FILE = Path(env.str("SECRET_KEY_FILE", default=str(BASE_DIR / ".secret_key")))


def _secret_key_from_file(path: Path) -> str:
    """The key stored in `path`, generated there on first use.

    Every process of one installation (web workers, Celery) reads the same file, so sessions and
    signed values stay valid whichever worker answers; a fresh key per process logged users out.
    The file is created exclusively: of two processes starting at once, one writes, both read it.
    """
    try:
        with path.open("x", encoding="ascii") as new_file:
            path.chmod(0o600)
            new_file.write(secrets.token_urlsafe(50))
    except FileExistsError:
        pass
    key = path.read_text(encoding="ascii").strip()
    if not key:  # another process has created the file but not written it yet
        time.sleep(0.2)
        key = path.read_text(encoding="ascii").strip()
    return key


SECRET_KEY = env.str("SECRET_KEY", default="") or _secret_key_from_file(SECRET_KEY_FILE)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public base URL used in links sent by e-mail and webhooks.
# Where checked CSV uploads wait for their confirmation (apps.web.csv_upload), outside the session row.
MESHVALUE_UPLOAD_DIR = env.str("MESHVALUE_UPLOAD_DIR", default=str(Path(tempfile.gettempdir()) / "meshvalue-uploads"))
# Links in e-mails and the demo's printed URLs; the demo's port follows PORT (README, "Running it").
MESHVALUE_BASE_URL = env.str(
    "MESHVALUE_BASE_URL", default=f"http://{env.str('HOST', default='127.0.0.1')}:{env.int('PORT', default=8000)}"
).rstrip("/")
# The domain of notification e-mails' Message-IDs; empty: the host of MESHVALUE_BASE_URL when it is a name.
MESHVALUE_MESSAGE_ID_DOMAIN = env.str("MESHVALUE_MESSAGE_ID_DOMAIN", default="")
MESHVALUE_CURRENCY = env.str("MESHVALUE_CURRENCY", default="EUR").upper()
# Upper bound of rows in one bulk request or CSV file (all-or-nothing ingestion).
MESHVALUE_MAX_IMPORT_ROWS = env.int("MESHVALUE_MAX_IMPORT_ROWS", default=10_000)
# Where uploaded billing files wait for the worker (web and worker must share it); emptied after each import.
MESHVALUE_COST_IMPORT_DIR = env.str("MESHVALUE_COST_IMPORT_DIR", default=str(BASE_DIR / "var" / "cost-imports"))
# Products per chunk when the evaluation of a large portfolio is split across workers.
MESHVALUE_EVALUATION_CHUNK_SIZE = env.int("MESHVALUE_EVALUATION_CHUNK_SIZE", default=2_000)
# PostgreSQL: a pass sums its KPIs on a second connection while its first reads the rest (one more
# connection per running pass, for under a second); false keeps every read on one connection.
MESHVALUE_EVALUATION_SUMS_ASIDE = env.bool("MESHVALUE_EVALUATION_SUMS_ASIDE", default=True)
# How long a chunk waits for another evaluation of the same products (PostgreSQL lock_timeout);
# below the soft time limit, so a stuck lock is a retried error, not a task killed by its limit.
MESHVALUE_EVALUATION_LOCK_TIMEOUT = env.str("MESHVALUE_EVALUATION_LOCK_TIMEOUT", default="5s")
# How long a KPI pull waits for another pull of the same KPI before it is retried.
MESHVALUE_SOURCES_LOCK_TIMEOUT = env.str("MESHVALUE_SOURCES_LOCK_TIMEOUT", default="5s")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "simple_history",
    "axes",
    "apps.accounts",
    "apps.core",
    "apps.catalog",
    "apps.kpis",
    "apps.sources",
    "apps.costs",
    "apps.bets",
    "apps.usage",
    "apps.valuation",
    "apps.governance",
    "apps.notifications",
    "apps.interchange",
    "apps.web",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # JSON for unknown /api/ paths and server errors; 503 with Retry-After when the database is down.
    "apps.core.middleware.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The audit trail's "who" for every save made while serving a request (apps.core.audit).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a lockout signalled during authentication into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"

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
                "apps.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server, worker and beat share one SQLite file: writers wait their turn (WAL,
    # a lock taken at the start of each transaction, a generous timeout) instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out user and address before any password is checked.
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Plotly's JavaScript comes from the plotly pip package (apps.web.staticfiles), never from a CDN.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "apps.web.staticfiles.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # Serve straight from the apps and packages in development: no collectstatic needed.
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# E-mail: django-environ's URL form, e.g. smtp+tls://user:password@host:587.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="meshvalue <meshvalue@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds an SMTP operation may take; below the send task's soft time limit, so a server that
# hangs is a timeout retried later, not a killed task (checked by apps.notifications).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Notifications (apps.notifications) -------------------------------------------------
# Webhooks may not target loopback, link-local or private addresses unless this is set.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
# Together below the send task's soft time limit (checked by apps.notifications).
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
# A delivery is marked failed after this many attempts; retries back off exponentially with jitter.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
NOTIFICATION_RETRY_BASE_SECONDS = env.float("NOTIFICATION_RETRY_BASE_SECONDS", default=30.0)
# Retries due sooner than a Celery countdown may run (apps.core.task_budget) are published with
# a countdown; later ones wait in the outbox for the every-minute sweep.
NOTIFICATION_RETRY_MAX_SECONDS = env.float("NOTIFICATION_RETRY_MAX_SECONDS", default=15 * 60.0)
# How long one send may hold a delivery; longer than the send task's hard time limit.
NOTIFICATION_SEND_LEASE_SECONDS = env.int("NOTIFICATION_SEND_LEASE_SECONDS", default=120)
# The sweep re-sends a pending delivery whose Celery message is this late (lost, e.g. Redis was down).
NOTIFICATION_SWEEP_GRACE_SECONDS = env.int("NOTIFICATION_SWEEP_GRACE_SECONDS", default=300)
# Governance digest: alerts unresolved longer than this are "awaiting a decision".
NOTIFICATION_DECISION_OVERDUE_DAYS = env.int("NOTIFICATION_DECISION_OVERDUE_DAYS", default=14)
# Governance digest: sunsets within this many days are "upcoming".
NOTIFICATION_SUNSET_HORIZON_DAYS = env.int("NOTIFICATION_SUNSET_HORIZON_DAYS", default=30)
# Consumers of a product being retired get a reminder this many days before its sunset.
NOTIFICATION_SUNSET_REMINDER_DAYS = env.int("NOTIFICATION_SUNSET_REMINDER_DAYS", default=7)

# --- Content-Security-Policy (django-csp 4; README, "Content Security Policy") ----------
# Only this site's own files: no inline script, no inline style attribute, no eval, no other host.
# The one nonce is for the empty <style id="plotly.js-style-global"> the chart pages carry: Plotly
# adds its rules to that sheet through the CSSOM instead of injecting a <style> of its own, which
# 'self' alone would refuse (apps/web/templates/web/partials/chart_scripts.html). The Swagger UI
# page relaxes this on that view only (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# --- Cache: DRF throttles count here, shared by every process --------------------------
# Redis when REDIS_URL is set; otherwise a database table (created by apps.core's migration),
# never the per-process LocMem, which let each gunicorn worker count token attempts on its own.
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "meshvalue",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "meshvalue_cache"}}

# Trusted reverse proxies in front of the app: a client address is read from X-Forwarded-For
# only that many hops deep. 0 (the default) uses the connection's address and ignores the header,
# so a client cannot choose its own address to escape a throttle or a lockout.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Login lockout (django-axes) -------------------------------------------------------
# A username and address pair is locked after AXES_FAILURE_LIMIT wrong passwords, on the web
# login, the admin and POST /api/v1/auth/token/ alike, until the cool-off passes or an admin
# deletes its access attempt in the admin ("Axes" section). Failures are counted in the database,
# which every process shares, and each failure and lockout is logged (without the password).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.accounts.lockout.client_ip_address"
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
# The log names the username and address of each failure and lockout (OWASP ASVS V16.3); axes masks
# both by default. The password is always masked.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only: a write declaring form and multipart too makes generated clients send
    # multipart. The file imports set their own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # `?format=` must name a format the view offers (an empty or unknown one is a 400).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.api.negotiation.ApiContentNegotiation",
    # Strict versions of django-filter's backend and DRF's ordering: what they cannot use is a 400.
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.api.filters.ApiFilterBackend",
        "apps.core.api.filters.ApiOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_TOKEN_THROTTLE", default="10/minute")},
    "COERCE_DECIMAL_TO_STRING": True,
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "meshvalue API",
    "DESCRIPTION": "Value tracking for data products: goals, KPIs, outcomes, costs, evaluations and alerts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI would otherwise show a badge fetched from validator.swagger.io: nothing leaves this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Alert kinds appear on alerts and on webhook subscriptions: one schema component for both.
    # Several components have a field named "format" with different choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "AlertKindEnum": "apps.governance.models.AlertKind",
        "CostImportStatusEnum": "apps.costs.models.CostImportStatus",
        "WebhookFormatEnum": "apps.notifications.models.WebhookFormat",
        "CatalogFileFormatEnum": "apps.interchange.lifecycle.FORMATS",
    },
}

# --- Celery ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# With no REDIS_URL (the demo), kombu's filesystem transport is the broker: messages are files in
# a git-ignored folder, so a real worker and beat run with nothing installed (README, "Running it").
# Not for production: one machine only, and a message is only as durable as the folder.
CELERY_EMBEDDED_FOLDER = Path(env.str("CELERY_EMBEDDED_FOLDER", default=str(BASE_DIR / ".demo" / "broker")))
CELERY_EMBEDDED_BROKER = not REDIS_URL
# Every task is short (an evaluation chunk of 2,000 products takes well under a second), so the
# whole project runs on a tight time budget (README, "Celery and reliability"). Redis hands a
# message out again once it has been unacknowledged for CELERY_VISIBILITY_TIMEOUT seconds,
# counted from its delivery to a worker: a task's countdown plus its run must stay below it
# (apps.core.checks enforces it for every registered task; apps.core.task_budget caps retry
# countdowns). A whole worker killed mid-task has its task back within that timeout plus the
# restore interval.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=15)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=20)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=30)
_REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # kombu 5.7: how often a live worker sweeps for messages unacknowledged for longer than the
    # visibility timeout (those of a worker that died) and puts them back on the queue. The throttle
    # makes only every Nth sweep scan Redis (default 10): 1 makes the interval the only control.
    "unacked_restore_interval": env.float("CELERY_UNACKED_RESTORE_INTERVAL", default=2.0),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=1),
    # The sweep holds a Redis lock for milliseconds; a worker killed while holding it would block
    # every other worker's sweep for kombu's default 300 s, far longer than the visibility timeout.
    "unacked_mutex_expire": 10,
}
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = REDIS_URL or f"file://{CELERY_EMBEDDED_FOLDER / 'results'}"
CELERY_BROKER_TRANSPORT_OPTIONS = dict(_REDIS_TRANSPORT_OPTIONS)
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = dict(_REDIS_TRANSPORT_OPTIONS)
if CELERY_EMBEDDED_BROKER:
    # One folder for messages in and out (every process reads and writes the same queue). The
    # Redis options stay alongside: the filesystem transport ignores them, the budget check reads them.
    _messages = str(CELERY_EMBEDDED_FOLDER / "messages")
    for _folder in ("messages", "processed", "results", "control"):
        (CELERY_EMBEDDED_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=_messages,
        data_folder_out=_messages,
        processed_folder=str(CELERY_EMBEDDED_FOLDER / "processed"),
        # Exchange and broadcast state too, or kombu writes a control/ folder into the working directory.
        control_folder=str(CELERY_EMBEDDED_FOLDER / "control"),
    )
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = dict(CELERY_BROKER_TRANSPORT_OPTIONS)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = False

# Queues: evaluations, imports and pulls, notifications each have their own, so 2,000 notification
# sends never hold up an evaluation (README, "Celery and reliability"). Routes are task-name globs,
# first match wins, so tasks of apps still to come (cost imports, KPI pulls, data sources) land in
# their queue on arrival. A worker started without -Q consumes every queue below (the demo, make
# worker, the tests); docker-compose.yml runs one worker per queue group.
CELERY_TASK_DEFAULT_QUEUE = "default"
# Each queue has its own routing key: without one Celery binds every queue to the default key, and a
# message sent to one queue would be copied into all four.
CELERY_TASK_QUEUES = tuple(
    Queue(name, routing_key=name) for name in ("default", "evaluations", "imports", "notifications")
)
CELERY_TASK_ROUTES = {
    "apps.valuation.tasks.*": {"queue": "evaluations"},
    "apps.costs.tasks.*": {"queue": "imports"},
    "apps.kpis.tasks.pull*": {"queue": "imports"},
    "apps.sources.*": {"queue": "imports"},
    "apps.notifications.tasks.*": {"queue": "notifications"},
}


def _crontab_from_env(name: str, default: str) -> crontab:
    """Parse a five-field cron line ("minute hour day month weekday") from the environment."""
    minute, hour, day_of_month, month_of_year, day_of_week = env.str(name, default=default).split()
    return crontab(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
    )


# Each entry's time can be changed from the environment; `expires` is shorter than the period
# so a backlog after an outage does not run the same daily job many times.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "evaluate-portfolio-daily": {
        "task": "apps.valuation.tasks.portfolio_evaluate_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_EVALUATE", "15 2 * * *"),
        "options": {"expires": 20 * 60 * 60},
    },
    # Runs that never reached a worker (broker down when queued) or lost theirs are sent again.
    "requeue-evaluation-runs": {
        "task": "apps.valuation.tasks.evaluation_runs_requeue_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_REQUEUE_EVALUATIONS", "*/5 * * * *"),
        "options": {"expires": 4 * 60},
    },
    # Notifications: the outbox sweep re-sends lost messages and due retries.
    "notifications-sweep": {
        "task": "apps.notifications.tasks.deliveries_sweep",
        "schedule": _crontab_from_env("SCHEDULE_NOTIFICATION_SWEEP", "* * * * *"),
        "options": {"expires": 50},
    },
    "notifications-weekly-digests": {
        "task": "apps.notifications.tasks.weekly_digests_send",
        "schedule": _crontab_from_env("SCHEDULE_WEEKLY_DIGEST", "0 7 * * 1"),
        "options": {"expires": 12 * 60 * 60},
    },
    "notifications-sunset-reminders": {
        "task": "apps.notifications.tasks.sunset_reminders_send",
        "schedule": _crontab_from_env("SCHEDULE_SUNSET_REMINDERS", "0 8 * * *"),
        "options": {"expires": 20 * 60 * 60},
    },
    # KPI pulls from their data sources (apps.sources), before the evaluation of 02:15 so that it opens
    # or resolves `source_failing` the same night: weekly KPIs on Monday, monthly on the 2nd,
    # quarterly on the 2nd of January, April, July and October.
    "pull-weekly-kpis": {
        "task": "apps.sources.tasks.kpis_pull_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_PULL_WEEKLY_KPIS", "45 1 * * 1"),
        "args": ("weekly",),
        "options": {"expires": 20 * 60 * 60},
    },
    "pull-monthly-kpis": {
        "task": "apps.sources.tasks.kpis_pull_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_PULL_MONTHLY_KPIS", "45 1 2 * *"),
        "args": ("monthly",),
        "options": {"expires": 20 * 60 * 60},
    },
    "pull-quarterly-kpis": {
        "task": "apps.sources.tasks.kpis_pull_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_PULL_QUARTERLY_KPIS", "45 1 2 1,4,7,10 *"),
        "args": ("quarterly",),
        "options": {"expires": 20 * 60 * 60},
    },
    "retire-due-products-daily": {
        "task": "apps.catalog.tasks.data_products_retire_due_scheduled",
        "schedule": _crontab_from_env("SCHEDULE_RETIRE_DUE", "5 0 * * *"),
        "options": {"expires": 20 * 60 * 60},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
