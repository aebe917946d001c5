"""Production settings: the base, plus HTTPS, HSTS and secure cookies on by default; refuses to start unsafe.

Chosen with DJANGO_SETTINGS_MODULE=config.settings.production, which manage.py, config/asgi.py, config/wsgi.py and
config/celery.py all honour. It stops with one sentence naming the variable when DEBUG is on, SECRET_KEY is
missing, the published development key, or weak, or AI_ENCRYPTION_KEYS is missing or weak (core.deployment).
Every switch below is read from the environment; the defaults are the safe choice.
"""

import os

from core.deployment import refuse_unsafe_production

from .base import *  # noqa: F403
from .base import DEBUG, env, env_bool, env_list


def _secret_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


# Secrets come from the process environment only, never from files a development launcher left in var/.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Old keys still accepted for signatures (sessions, links) while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = _secret_list("SECRET_KEY_FALLBACKS")
AI_ENCRYPTION_KEYS = _secret_list("AI_ENCRYPTION_KEYS")

refuse_unsafe_production(
    debug=DEBUG,
    secret_key=SECRET_KEY or None,
    secret_key_fallbacks=SECRET_KEY_FALLBACKS,
    ai_encryption_keys=AI_ENCRYPTION_KEYS,
)


def _proxy_ssl_header(value: str | None) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` or `X-Forwarded-Proto=https` -> ("HTTP_X_FORWARDED_PROTO", "https")."""
    if not value:
        return None
    name, _, expected = value.partition("=")
    meta_name = name.strip().upper().replace("-", "_")
    if not meta_name.startswith("HTTP_"):
        meta_name = f"HTTP_{meta_name}"
    return meta_name, expected.strip() or "https"


# --- HTTPS ------------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers probe /healthz over plain http inside the network: it answers there instead of redirecting.
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", r"^healthz$")
# Only behind a proxy that sets this header on every request (and strips it from clients): trusting it
# otherwise would let any client claim https.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env("SECURE_PROXY_SSL_HEADER"))
# One year, workspaces (subdomains) included, eligible for browsers' preload lists.
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- Cookies ----------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
# Unset, each workspace's cookies stay on its own host (what isolation wants); set it only to share them.
SESSION_COOKIE_DOMAIN = env("SESSION_COOKIE_DOMAIN")
CSRF_COOKIE_DOMAIN = env("CSRF_COOKIE_DOMAIN")
