"""Switchboard settings: one complete, environment-driven base. `test.py` overrides a few lines."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from core.deployment import DEV_SECRET_KEY
from core.static_headers import add_static_headers

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _read_services_env() -> dict[str, str]:
    """URLs of the embedded servers, written by scripts/devstack.py while they run."""
    path = BASE_DIR / "var" / "services.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


_services = _read_services_env()


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or _services.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
if not DATABASE_URL or not REDIS_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL and REDIS_URL are not set and the embedded servers are not running. "
        "Start everything with `make run`, or only the servers with `.venv/bin/python scripts/devstack.py services`."
    )

# Without SECRET_KEY the published development key is used: fine on a laptop, refused by config.settings.production.
# `make run` gives each checkout random SECRET_KEY and AI_ENCRYPTION_KEYS of its own (var/dev-secrets.env).
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
# Off unless asked for: `make run` (scripts/devstack.py) turns it on for the developer.
DEBUG = env_bool("DEBUG", False)

# Every workspace lives on <slug>.<BASE_DOMAIN>; the public site on BASE_DOMAIN itself.
SWITCHBOARD_BASE_DOMAIN = env("SWITCHBOARD_BASE_DOMAIN", "localhost")
SWITCHBOARD_PUBLIC_HOSTS = env_list("SWITCHBOARD_PUBLIC_HOSTS", f"{SWITCHBOARD_BASE_DOMAIN},127.0.0.1")
# Set when websockets are served on a port of their own (make run: daphne beside gunicorn); pages connect there.
LIVE_SOCKET_PORT = env("LIVE_SOCKET_PORT", "")
# Ports of the pages whose websockets this server takes besides its own port (make run: PORT, where gunicorn serves
# pages; daphne is on LIVE_SOCKET_PORT). A socket's Origin must be its own host on one of these or on its own port.
LIVE_SOCKET_ORIGIN_PORTS = env_list("LIVE_SOCKET_ORIGIN_PORTS")
ALLOWED_HOSTS = [f".{SWITCHBOARD_BASE_DOMAIN}", *SWITCHBOARD_PUBLIC_HOSTS, *env_list("ALLOWED_HOSTS")]
# Links that leave the product (emails) are built from these, never from a request's Host header
# (core.urls.workspace_url / public_site_url). `make run` sets http and its port.
SWITCHBOARD_URL_SCHEME = env("SWITCHBOARD_URL_SCHEME", "https")
SWITCHBOARD_URL_PORT = env("SWITCHBOARD_URL_PORT", "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Apps: django-tenants splits them into the public schema and every tenant schema -------------

SHARED_APPS = [
    "django_tenants",
    "daphne",
    "tenants",
    "core",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "channels",
    "django_celery_beat",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework.authtoken",
    "customers",
    "ai",
    "helpdesk",
    "inbox",
    "leads",
    "quotes",
    "insights",
    "automation",
    "notifications",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from this migrated, empty schema instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
# A reserved workspace whose set-up task has not started after this long is given up (tenants_provisioning_sweep);
# one whose set-up started is given up as soon as the process doing it is gone.
TENANT_PROVISIONING_STALE_SECONDS = int(env("TENANT_PROVISIONING_STALE_SECONDS", "1800"))
TENANT_CREATION_FAKES_MIGRATIONS = True
# New workspace schemas are made by replaying pg_dump's script of the template (tenants/schema_replay.py): the
# pg_dump that makes the script (by default the embedded server's, else one on PATH), or "off" to clone instead.
TENANT_SCHEMA_PG_DUMP = env("TENANT_SCHEMA_PG_DUMP")
# `SET search_path` once per connection and schema change, not on every cursor.
TENANT_LIMIT_SET_CALLS = True
# migrate_schemas skips schemas that are already current (a no-op run over 200 workspaces: seconds, not minutes).
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
PUBLIC_SCHEMA_URLCONF = "config.urls.public"
ROOT_URLCONF = "config.urls.tenant"

DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")))}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Lets several checkouts or test runs share one server without sharing a test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME", f"test_{DATABASES['default']['NAME']}")}
# Processes that run requests on threads of their own (the ASGI web process: asgiref gives each request a
# thread) take connections from psycopg's pool: a persistent connection per thread piled up unused, and opening
# one per request forked a PostgreSQL backend each time. Workers (fixed threads) keep persistent connections.
if env_bool("DB_POOL"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": int(env("DB_POOL_MAX_SIZE", "10")),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MIDDLEWARE = [
    # First: every response carries the policy, including pages answered before a view (unknown host, 413).
    "core.csp.ContentSecurityPolicyMiddleware",
    # Compresses text responses on their way out, after every other middleware wrote them (core/compression.py).
    "core.compression.GZipTextMiddleware",
    "tenants.middleware.TenantMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.htmx.HtmxResponseMiddleware",
]

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
                "core.context_processors.workspace",
                "csp.context_processors.nonce",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "name"]},  # our User has `name`, not first_name/last_name
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# --- django-allauth -----------------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Teammates join by invitation only; self sign-up happens on the public site as "create a workspace".
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Failed logins are rate limited per IP and per account (allauth's limiter stores its counters in
# the tenant-aware cache, so one workspace's lockouts never affect another's).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
}
# Stored confirmations (not HMAC keys): an HMAC key only names a row id, which would also be valid in another
# workspace's schema; a stored random key exists only in the schema that issued it.
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
# One address per person (it is their sign-in); changing it needs the new address confirmed first.
ACCOUNT_CHANGE_EMAIL = True
# Security notices (password changed, 2FA turned off, ...) go to the account's address.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = None  # the adapter prefixes the workspace's name
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SWITCHBOARD_URL_SCHEME
ACCOUNT_SESSION_REMEMBER = None  # offer "Remember me"
# --- Client address (one policy: core.client_ip) -------------------------------------------------
# Behind reverse proxies every client would share the proxy's address (and its rate limits): set this to the
# number of proxies in front of the app; the client is then the N-th X-Forwarded-For entry from the right.
# 0 (no proxy): X-Forwarded-For is ignored everywhere. Login lockout, sign-up, help center and API throttling
# all read it through core.client_ip; ALLAUTH_TRUSTED_PROXY_COUNT is the older name, still read.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", env("ALLAUTH_TRUSTED_PROXY_COUNT", "0")))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Switchboard"

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Switchboard <no-reply@switchboard.test>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")

# --- Cache, sessions, Celery, Channels: all on Redis --------------------------------------------
# A hung or unreachable Redis must not refuse requests (core.breaker): a Redis call on a request's path that takes
# longer than REDIS_TIMEOUT_SECONDS counts as Redis being down; the process then skips Redis (cache from the
# database, live pushes dropped, tasks kept in the outbox) until a background ping, every
# REDIS_BREAKER_COOLDOWN_SECONDS, finds it answering again.
REDIS_TIMEOUT_SECONDS = float(env("REDIS_TIMEOUT_SECONDS", "1"))
REDIS_BREAKER_COOLDOWN_SECONDS = float(env("REDIS_BREAKER_COOLDOWN_SECONDS", "5"))
CACHES = {
    "default": {
        # Redis, falling through to a database table while Redis is unreachable (core.cache_fallback).
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        # Every key starts with the current schema: one tenant can never read another's entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
    }
}

# /healthz reports "starting" (200), not 503, while no worker has answered yet or beat has not run once, for this long
# after the web process started (core/health.py).
HEALTH_STARTUP_GRACE_SECONDS = float(env("HEALTH_STARTUP_GRACE_SECONDS", "120"))

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues by urgency, each served by its own worker in `make run` (scripts/devstack.py), so a sign-up or a new ticket
# never waits behind indexing, model training or a fan-out to every workspace:
#   interactive  somebody is waiting: a sign-up's provisioning, a new ticket's intake, an AI draft and its follow-up;
#   default      short periodic and per-item work: heartbeats, SLA sweeps, the outbox relay, ticket analysis, mail;
#   bulk         long or many: (re)indexing, model training, risk refreshes, their fan-outs to every workspace.
# Every task is routed here by name (config/tests/test_celery_routes.py fails for one that is not).
TASK_QUEUES = ("interactive", "default", "bulk")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in TASK_QUEUES]
CELERY_TASK_ROUTES = {
    name: {"queue": queue}
    for queue, names in {
        "interactive": [
            "tenants.tasks.tenant_provision_task",
            "helpdesk.tasks.tickets.ticket_intake_task",
            "ai.tasks.ai_generate_task",
            "inbox.tasks.sms.sms_inbound_process_task",
            "inbox.tasks.sms.sms_send_task",
            "inbox.tasks.outbound.outbound_email_send_task",
            # A rule's evaluation of one event: its changes should be on the ticket the agent is looking at.
            "automation.tasks.automation_event_task",
            # A notice's fan-out and sends: people are told now (notifications/tasks.py).
            "notifications.tasks.dispatch_fan_out_task",
            "notifications.tasks.deliveries_send_task",
        ],
        "default": [
            "tenants.tasks.tenants_heartbeat_fanout_task",
            "tenants.tasks.tenant_heartbeat_task",
            "tenants.tasks.tenants_provisioning_sweep_task",
            "core.tasks.outbox_relay_task",
            "core.tasks.cache_fallback_drain_task",
            "helpdesk.tasks.sla.sla_sweep_fanout_task",
            "helpdesk.tasks.sla.sla_sweep_task",
            "helpdesk.tasks.ticket_ai.analyze_ticket_task",
            "ai.tasks.ai_budget_exhausted_notify_task",
            "inbox.tasks.inbound.inbound_process_task",
            "inbox.tasks.inbound.inbound_process_batch_task",
            "inbox.tasks.inbound.inbound_process_pending_task",
            "inbox.tasks.outbound.outbound_email_retry_task",
            "inbox.tasks.outbound.outbound_email_retry_fanout_task",
            "inbox.tasks.mailboxes.mailboxes_poll_fanout_task",
            "inbox.tasks.mailboxes.mailboxes_poll_task",
            "inbox.tasks.mailboxes.mailbox_poll_task",
            "inbox.tasks.cloudmail.cloud_mailboxes_poll_fanout_task",
            "inbox.tasks.cloudmail.cloud_mailboxes_poll_task",
            "inbox.tasks.cloudmail.cloud_mailbox_poll_task",
            "inbox.tasks.inbound.inbound_retry_stuck_task",
            "inbox.tasks.inbound.inbound_retry_stuck_fanout_task",
            "inbox.tasks.webhooks.webhook_deliver_task",
            "inbox.tasks.webhooks.webhook_retry_due_task",
            "inbox.tasks.webhooks.webhook_retry_due_fanout_task",
            "inbox.tasks.api_channel.idempotency_keys_purge_task",
            "inbox.tasks.api_channel.idempotency_keys_purge_fanout_task",
            "customers.tasks.task_reminders_send_task",
            "customers.tasks.task_reminders_fanout_task",
            "customers.tasks.customer_health_refresh_task",
            "leads.tasks.activity_reminders_send_task",
            "leads.tasks.activity_reminders_fanout_task",
            "quotes.tasks.quotes_expire_task",
            "quotes.tasks.quotes_expire_fanout_task",
            "quotes.tasks.expiry_reminders_send_task",
            "quotes.tasks.expiry_reminders_fanout_task",
            # Rollup upkeep per event: a few milliseconds, many of them (insights/rollups.py).
            "insights.tasks.rollups_refresh_task",
            "insights.tasks.dashboards_live_push_task",
            # "Send now" on the report schedules page: somebody is waiting for the email.
            "insights.tasks.report_schedule_send_now_task",
            "automation.tasks.time_rules_check_task",
            "automation.tasks.time_rules_check_fanout_task",
            "automation.tasks.rule_runs_prune_task",
            "automation.tasks.rule_runs_prune_fanout_task",
            "notifications.tasks.deliveries_due_send_task",
            "notifications.tasks.deliveries_due_send_fanout_task",
            "notifications.tasks.digests_send_task",
            "notifications.tasks.digests_send_fanout_task",
        ],
        "bulk": [
            "insights.tasks.rollups_repair_task",
            "insights.tasks.rollups_repair_fanout_task",
            "helpdesk.tasks.kb.article_index_task",
            "ai.tasks.model_version_train_task",
            "helpdesk.tasks.kb.kb_reindex_task",
            "helpdesk.tasks.kb.kb_reindex_fanout_task",
            "helpdesk.tasks.ticket_ai.solved_ticket_index_task",
            "helpdesk.tasks.ticket_ai.solved_tickets_index_all_task",
            "helpdesk.tasks.ticket_ai.ticket_ai_maintenance_task",
            "helpdesk.tasks.ticket_ai.ticket_ai_maintenance_fanout_task",
            "helpdesk.tasks.sla.sla_risk_refresh_task",
            "helpdesk.tasks.sla.sla_risk_refresh_fanout_task",
            "helpdesk.tasks.sla.sla_risk_model_train_task",
            "helpdesk.tasks.sla.sla_risk_model_train_fanout_task",
            "customers.tasks.customers_health_refresh_task",
            "customers.tasks.customers_health_refresh_fanout_task",
            "customers.tasks.daily_summaries_task",
            "customers.tasks.daily_summaries_fanout_task",
            "customers.tasks.health_digests_task",
            "customers.tasks.health_digests_fanout_task",
            "insights.tasks.trends_detect_task",
            "insights.tasks.trends_detect_fanout_task",
            "insights.tasks.trend_report_send_task",
            "insights.tasks.trend_report_send_fanout_task",
            "insights.tasks.report_schedules_send_task",
            "insights.tasks.report_schedules_send_fanout_task",
        ],
    }.items()
    for name in names
}
# Insights keeps its rollups from the apps' change events (insights/receivers.py); off, only the nightly repair does.
INSIGHTS_ROLLUPS_ON_EVENTS = True
CELERY_BEAT_SCHEDULE = {
    # Automation: time rules ("pending for 3 days") every minute, the run log pruned nightly (automation/timers.py).
    "automation-time-rules": {"task": "automation.tasks.time_rules_check_fanout_task", "schedule": 60.0},
    "automation-runs-prune": {
        "task": "automation.tasks.rule_runs_prune_fanout_task",
        "schedule": crontab(hour=3, minute=29),
    },
    "tenants-heartbeat": {"task": "tenants.tasks.tenants_heartbeat_fanout_task", "schedule": 30.0},
    # Workspaces whose set-up failed or died half-way are removed, schema and row, so their address is free again.
    "tenants-provisioning-sweep": {"task": "tenants.tasks.tenants_provisioning_sweep_task", "schedule": 120.0},
    # After a Redis outage: tasks waiting in the outbox are sent, cache entries written to the database go back.
    "core-outbox-relay": {"task": "core.tasks.outbox_relay_task", "schedule": 10.0},
    "core-cache-fallback-drain": {"task": "core.tasks.cache_fallback_drain_task", "schedule": 60.0},
    # Knowledge-base embeddings missed at save time (broker down, bulk-loaded articles) are caught up.
    "helpdesk-kb-reindex": {"task": "helpdesk.tasks.kb.kb_reindex_fanout_task", "schedule": 600.0},
    # Ticket AI: re-queue analyses left pending (broker was down) or failed; retrain the category model when due.
    "helpdesk-ticket-ai": {"task": "helpdesk.tasks.ticket_ai.ticket_ai_maintenance_fanout_task", "schedule": 300.0},
    # SLA: warnings and breaches every minute, risk of open tickets every 10 minutes, the risk model nightly.
    "helpdesk-sla-sweep": {"task": "helpdesk.tasks.sla.sla_sweep_fanout_task", "schedule": 60.0},
    # Outbound webhooks: deliveries whose retry is due are sent again.
    "inbox-webhook-retries": {"task": "inbox.tasks.webhooks.webhook_retry_due_fanout_task", "schedule": 30.0},
    # API channel: stored Idempotency-Key answers expire after a day.
    "inbox-idempotency-purge": {
        "task": "inbox.tasks.api_channel.idempotency_keys_purge_fanout_task",
        "schedule": 3600.0,
    },
    "helpdesk-sla-risk": {"task": "helpdesk.tasks.sla.sla_risk_refresh_fanout_task", "schedule": 600.0},
    # Outbound email: deferred mail retried when due (exponential backoff, for a day), lost sends queued again.
    "inbox-outbound-retry": {"task": "inbox.tasks.outbound.outbound_email_retry_fanout_task", "schedule": 30.0},
    # Microsoft 365 and Gmail mailboxes: what arrived since the last poll (delta link / history id).
    "inbox-cloud-mailboxes-poll": {
        "task": "inbox.tasks.cloudmail.cloud_mailboxes_poll_fanout_task",
        "schedule": float(env("CLOUDMAIL_POLL_SECONDS", "60")),
    },
    # Received mail a dead worker left unprocessed is queued again (at most 5 attempts, then FAILED for admins).
    "inbox-retry-stuck": {"task": "inbox.tasks.inbound.inbound_retry_stuck_fanout_task", "schedule": 300.0},
    "helpdesk-sla-model": {
        "task": "helpdesk.tasks.sla.sla_risk_model_train_fanout_task",
        "schedule": crontab(hour=3, minute=17),
    },
    # Customer health: every company rescored (and today's snapshot upserted) every 4 hours; events rescore one sooner.
    "customers-health": {
        "task": "customers.tasks.customers_health_refresh_fanout_task",
        "schedule": crontab(minute=41, hour="*/4"),
    },
    # Every active IMAP mailbox of every workspace, one task each (inbox.tasks.mailboxes).
    "inbox-mailboxes-poll": {"task": "inbox.tasks.mailboxes.mailboxes_poll_fanout_task", "schedule": 60.0},
    # Customers: task reminders whose time has passed are emailed to their owners, once each.
    "customers-task-reminders": {"task": "customers.tasks.task_reminders_fanout_task", "schedule": 60.0},
    # Leads: activity reminders likewise, to the lead's owner (leads/reminders.py).
    "leads-activity-reminders": {"task": "leads.tasks.activity_reminders_fanout_task", "schedule": 60.0},
    # Insights: the last days' rollups recomputed from the apps' data, replacing what events kept (insights/rollups.py).
    "insights-rollups-repair": {
        "task": "insights.tasks.rollups_repair_fanout_task",
        "schedule": crontab(hour=2, minute=47),
    },
    # Quotes: sent quotes past their validity date expire, and owners hear QUOTE_EXPIRY_REMINDER_DAYS before (hourly:
    # validity is a date, so an hour late is on time; quotes/tasks.py).
    "quotes-expire": {"task": "quotes.tasks.quotes_expire_fanout_task", "schedule": crontab(minute=5)},
    "quotes-expiry-reminders": {"task": "quotes.tasks.expiry_reminders_fanout_task", "schedule": crontab(minute=35)},
    # Insights: spiking ticket clusters and key accounts' health drops every hour (alerted once per trend), and the
    # trend report on Monday morning (insights/tasks.py).
    "insights-trends": {"task": "insights.tasks.trends_detect_fanout_task", "schedule": crontab(minute=23)},
    "insights-trend-report": {
        "task": "insights.tasks.trend_report_send_fanout_task",
        "schedule": crontab(hour=7, minute=13, day_of_week=1),
    },
    # Scheduled dashboard reports: every quarter of an hour, those due (07:00 local, daily, Mondays or the 1st) are
    # sent, each once per period (insights/report_email.py).
    "insights-report-schedules": {
        "task": "insights.tasks.report_schedules_send_fanout_task",
        "schedule": crontab(minute="*/15"),
    },
    # Digests (customers/digests.py): yesterday's summary of every active company just after midnight, and the
    # weekly health digest to account owners on Monday morning (each owner once a week).
    "customers-daily-summaries": {
        "task": "customers.tasks.daily_summaries_fanout_task",
        "schedule": crontab(hour=0, minute=23),
    },
    # Notifications: quiet hours that ended and retries that are due, every minute; digests every hour.
    "notifications-due": {"task": "notifications.tasks.deliveries_due_send_fanout_task", "schedule": 60.0},
    "notifications-digests": {"task": "notifications.tasks.digests_send_fanout_task", "schedule": crontab(minute=0)},
    "customers-health-digests": {
        "task": "customers.tasks.health_digests_fanout_task",
        "schedule": crontab(hour=7, minute=13, day_of_week="mon"),
    },
}
# Celery keeps Django's LOGGING, so worker and beat lines carry the schema like every other line.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times socket reads out after 5 s, exactly channels_redis's blocking wait: idle sockets died.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
    }
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated call then gets 401 with `WWW-Authenticate: Token`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsWorkspaceMember"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.TenantUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"tenant_user": env("API_THROTTLE_RATE", "600/min")},
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # The schema is the contract (core/api/schema.py); JSON bodies only, unless an endpoint takes files.
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Per-workspace REST API. Authenticate with a session or `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.permissions.IsWorkspaceMember"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own: a file field is a binary upload there, not the URL it reads as.
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers every endpoint shares, documented once (core/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_error_responses",
    ],
    # Choice sets that share a field name (status) or appear under two names (tier) get one explicit name each.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "helpdesk.models.tickets.Ticket.Status",
        "ArticleStatusEnum": "helpdesk.models.kb.Article.Status",
        "CustomerTierEnum": "customers.models.CustomerTier",
        "QuoteStatusEnum": "quotes.models.QuoteStatus",
        "QuoteLineKindEnum": "quotes.models.LineKind",
        # Two "source" fields: a lead's (where it came from) and a copilot suggestion's (how it was found).
        "LeadSourceEnum": "leads.models.LeadSource",
        "SuggestionSourceEnum": "quotes.api.serializers.SUGGESTION_SOURCES",
        # The name the ticket message kind had before quote lines brought a second "kind".
        "KindEnum": "helpdesk.models.tickets.TicketMessage.Kind",
    },
}

# --- Static and uploads -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# Versioned vendor files (static/vendor/<name>-<version>/) are cached for a year; core/static_headers.py says why.
WHITENOISE_ADD_HEADERS_FUNCTION = add_static_headers
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Uploads of a workspace live under MEDIA_ROOT/<schema>/: a path can never reach another workspace's files.
# They are served only through views that check access (never straight from MEDIA_URL).
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Bigger request bodies are refused with 413 by core.middleware.RequestSizeLimitMiddleware.
MAX_REQUEST_BYTES = int(env("MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
CSV_IMPORT_MAX_BYTES = MAX_REQUEST_BYTES
HELPDESK_ATTACHMENT_MAX_BYTES = int(env("HELPDESK_ATTACHMENT_MAX_BYTES", str(4 * 1024 * 1024)))
HELPDESK_ATTACHMENTS_PER_MESSAGE = 5
# A help-center request's status link (emailed to the requester) stops working this many days after it was sent.
HELP_CENTER_LINK_MAX_AGE_DAYS = int(env("HELP_CENTER_LINK_MAX_AGE_DAYS", "90"))
# A quote's public link (quotes/public.py) works this long after it was sent, and never past the quote's validity
# date plus the grace days (the customer sees "expired" instead).
QUOTE_LINK_MAX_AGE_DAYS = int(env("QUOTE_LINK_MAX_AGE_DAYS", "120"))
QUOTE_LINK_GRACE_DAYS = int(env("QUOTE_LINK_GRACE_DAYS", "0"))
# Days before a sent quote's validity date its owner is reminded to follow up (quotes/reminders.py).
QUOTE_EXPIRY_REMINDER_DAYS = int(env("QUOTE_EXPIRY_REMINDER_DAYS", "3"))
# Insights alerts and the weekly trend report go to the people of these roles who hold `insights.view`; a health
# drop of at least INSIGHTS_HEALTH_DROP_POINTS in two weeks alerts for companies of the key-account tiers.
INSIGHTS_ALERT_ROLES = [role.strip() for role in env("INSIGHTS_ALERT_ROLES", "owner,admin").split(",") if role.strip()]
INSIGHTS_KEY_ACCOUNT_TIERS = [
    tier.strip() for tier in env("INSIGHTS_KEY_ACCOUNT_TIERS", "enterprise,professional").split(",") if tier.strip()
]
INSIGHTS_HEALTH_DROP_POINTS = int(env("INSIGHTS_HEALTH_DROP_POINTS", "15"))
# A received email bigger than this is rejected (its headers kept, with the reason shown to admins). 25 MB of
# attachments is about 34 MB once base64-encoded.
INBOX_MAX_MESSAGE_BYTES = int(env("INBOX_MAX_MESSAGE_BYTES", str(40 * 1024 * 1024)))
# Twilio's REST API, for SMS replies and credential checks (tests point it at a local fake).
INBOX_TWILIO_API_URL = env("INBOX_TWILIO_API_URL", "https://api.twilio.com")
# Microsoft 365 (Graph, app-only msal tokens) and Gmail (OAuth consent, Gmail API) mailboxes (inbox/fetchers/).
# The base URLs are the real services; tests point them at local fakes.
MICROSOFT_LOGIN_BASE_URL = env("MICROSOFT_LOGIN_BASE_URL", "https://login.microsoftonline.com")
MICROSOFT_GRAPH_BASE_URL = env("MICROSOFT_GRAPH_BASE_URL", "https://graph.microsoft.com")
GOOGLE_OAUTH_CLIENT_ID = env("GOOGLE_OAUTH_CLIENT_ID", "")
GOOGLE_OAUTH_CLIENT_SECRET = env("GOOGLE_OAUTH_CLIENT_SECRET", "")
GOOGLE_OAUTH_AUTH_URL = env("GOOGLE_OAUTH_AUTH_URL", "https://accounts.google.com/o/oauth2/auth")
GOOGLE_OAUTH_TOKEN_URL = env("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
GMAIL_API_BASE_URL = env("GMAIL_API_BASE_URL", "https://gmail.googleapis.com/")
MICROSOFT365_INITIAL_DAYS = float(env("MICROSOFT365_INITIAL_DAYS", "7"))  # how far back a new mailbox imports
GMAIL_INITIAL_IMPORT = int(env("GMAIL_INITIAL_IMPORT", "100"))  # newest inbox messages taken when first connected
CLOUDMAIL_MESSAGES_PER_POLL = int(env("CLOUDMAIL_MESSAGES_PER_POLL", "200"))  # the rest waits for the next poll
CLOUDMAIL_MAX_WAIT_SECONDS = float(env("CLOUDMAIL_MAX_WAIT_SECONDS", "10"))  # longer Retry-After: the next poll

# Messages one IMAP poll fetches at most (one at a time); the next poll carries on where it stopped.
INBOX_IMAP_BATCH = int(env("INBOX_IMAP_BATCH", "200"))
# A certificate authority trusted for IMAP besides the system's (a company's own CA; the test suite's server).
INBOX_IMAP_CA_FILE = env("INBOX_IMAP_CA_FILE", "")
# Workspaces that keep their mail provider forward to <workspace>-<mailbox>@ this domain (its MX is the platform's).
INBOX_FORWARD_DOMAIN = env("INBOX_FORWARD_DOMAIN", "inbound.switchboard.test")
# A chat visitor's session (the token in their browser) expires after this many days without a visit or a message.
CHAT_VISITOR_TOKEN_DAYS = int(env("CHAT_VISITOR_TOKEN_DAYS", "30"))
# Where `manage.py inbox_smtp_receiver` listens for that domain's mail (production: 0.0.0.0 and 25, behind the MX).
INBOX_SMTP_HOST = env("INBOX_SMTP_HOST", "127.0.0.1")
INBOX_SMTP_PORT = int(env("INBOX_SMTP_PORT", "2525"))

# Paths whose views read the body in a bounded way and answer 413 with their own limit (core.middleware): raw mail.
REQUEST_SIZE_CHECKED_BY_VIEW = ("/inbox/mail/inbound/",)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# A refused form gets the styled 403 page with what to do (the API: its JSON error body).
CSRF_FAILURE_VIEW = "core.error_views.csrf_failure"

# --- Content-Security-Policy (django-csp; core.csp adds each page's websocket origin to connect-src) ------------
# No inline script and no eval: behaviour lives in static/js, driven by data- attributes (htmx runs with
# allowEval off). The nonce is for the inline blocks a third-party page brings (Swagger UI at /api/v1/docs/).
# Inline style *attributes* stay allowed (style-src-attr only): about a hundred templates set widths, heights and
# progress-bar values with them, some computed per row; a style attribute cannot run script, and <style> elements
# and stylesheets still need 'self' or the nonce. Images may come from https (knowledge-base articles link them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "style-src-attr": [csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:", "https:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
        # Forms may lead to the public site or a workspace (finding your workspace redirects there).
        "form-action": [csp.SELF, f"{SWITCHBOARD_BASE_DOMAIN}:*", f"*.{SWITCHBOARD_BASE_DOMAIN}:*"],
    }
}

# --- Logging: the schema is on every line -------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant_context": {"()": "core.logging.TenantContextFilter"}},
    "formatters": {
        "tenant": {"format": "%(asctime)s %(levelname)s [%(schema_name)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["tenant_context"], "formatter": "tenant"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

DEMO_PASSWORD = env("DEMO_PASSWORD", "switchboard-demo")

# Keys that encrypt workspaces' AI provider API keys at rest, newest first. Empty: derived from SECRET_KEY, unless
# that is the published development key (ai.crypto then refuses to encrypt); production requires them.
AI_ENCRYPTION_KEYS = env_list("AI_ENCRYPTION_KEYS")

# --- Outbound connections: the egress guard (core/egress.py) every outbound request goes through ---------
# https only; never loopback, private, link-local or metadata addresses (checked after DNS, on every connection).
EGRESS_REQUIRE_HTTPS = env_bool("EGRESS_REQUIRE_HTTPS", True)
# Loopback (an Ollama on this machine): on in the tests and `make run`, off by default.
EGRESS_ALLOW_LOOPBACK = env_bool("EGRESS_ALLOW_LOOPBACK", False)
# Private networks the operator opens on purpose, e.g. "10.20.0.7/32" for an on-premises LLM gateway: keep them narrow,
# every workspace owner can reach what is listed. Cloud metadata addresses stay closed whatever is listed.
EGRESS_ALLOWED_NETWORKS = env_list("EGRESS_ALLOWED_NETWORKS")
# A PEM file of extra certificate authorities to trust for outbound TLS (a corporate CA); the operator's choice only.
EGRESS_CA_BUNDLE = env("EGRESS_CA_BUNDLE", "")
