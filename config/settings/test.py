"""Test settings: chosen in pyproject.toml so they apply before pytest-django loads Django."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import AI_ENCRYPTION_KEYS, CACHES, CHANNEL_LAYERS, DATABASES, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
DEBUG = False

# Unit tests run tasks in-process; the integration tests start a real worker against Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Insights' rollup upkeep would run eagerly after every captured commit of every app's tests and count in their
# query assertions; insights' own tests turn it on (insights/tests/test_rollups.py).
INSIGHTS_ROLLUPS_ON_EVENTS = False

# Unit tests use the in-memory layer; integration tests switch to the Redis one explicitly.
REDIS_CHANNEL_LAYERS = CHANNEL_LAYERS
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"tenant_user": "10000/min"}}

# Rate-limit and throttle counters of different test databases (parallel checkouts) never meet in Redis.
CACHES = {"default": CACHES["default"] | {"KEY_PREFIX": DATABASES["default"]["TEST"]["NAME"]}}

# Uploads of the test run go to a throwaway folder, one per test database (parallel checkouts never meet).
MEDIA_ROOT = Path(tempfile.gettempdir()) / "switchboard-media" / DATABASES["default"]["TEST"]["NAME"]

# ai.crypto never encrypts with the published development SECRET_KEY: tests bring a key of their own.
AI_ENCRYPTION_KEYS = AI_ENCRYPTION_KEYS or ["test-only-ai-encryption-key-0123456789abcdefghij"]
# Test hosts are served over plain http on the default port (alpha.localhost).
SWITCHBOARD_URL_SCHEME = ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
SWITCHBOARD_URL_PORT = ""
# The fake AI vendors and test servers listen on 127.0.0.1 over plain http (core.egress).
EGRESS_ALLOW_LOOPBACK = True
EGRESS_REQUIRE_HTTPS = False
# Twilio's API unless a test points it at its fake: a closed local port, so nothing reaches the internet.
INBOX_TWILIO_API_URL = "https://127.0.0.1:9"
# WhiteNoise looks a static file up when it is asked for (as in development), rather than listing every file each
# time its middleware is built: the test client builds a middleware chain per test, and the listing (a StaticFile
# with its stat calls for each of ~240 files) cost more than many tests themselves. Headers are made the same way.
WHITENOISE_AUTOREFRESH = True
