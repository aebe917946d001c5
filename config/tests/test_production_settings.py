"""Production settings: `check --deploy` is clean with a realistic environment, and every unsafe case refuses to start
with one sentence naming the variable, whichever entry point (manage.py, ASGI, WSGI, Celery) loads them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from core.deployment import DEV_SECRET_KEY, production_problems
from core.testing.fixtures import _test_database_url
from core.testing.live import ROOT

STRONG = secrets.token_urlsafe(50)
AI_KEY = secrets.token_urlsafe(50)
# Variables of the developer's or CI's own environment that would change what production sees.
INHERITED = ("DEBUG", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "AI_ENCRYPTION_KEYS", "DJANGO_SETTINGS_MODULE")


def production_env(database_url: str, **overrides: str | None) -> dict[str, str]:
    """A realistic production environment on the test servers; an override of None removes that variable."""
    env = {key: value for key, value in os.environ.items() if key not in INHERITED and not key.startswith("SECURE_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": STRONG,
        "AI_ENCRYPTION_KEYS": AI_KEY,
        "SWITCHBOARD_BASE_DOMAIN": "switchboard.example.com",
        "ALLOWED_HOSTS": "switchboard.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://switchboard.example.com",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def database_url(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return _test_database_url()


def test_check_deploy_finds_nothing_to_fix(database_url):
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run(command, production_env(database_url))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_turns_on_https_hsts_and_secure_cookies_by_default(database_url):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG, s.SECURE_PROXY_SSL_HEADER, s.SECURE_REDIRECT_EXEMPT)"
    )
    result = run([sys.executable, "-c", code], production_env(database_url))

    expected = ["True", "31536000", "True", "True", "True", "True", "False", "None", "['^healthz$']"]
    assert result.stdout.split() == expected, result.stderr


def test_every_https_switch_is_read_from_the_environment(database_url):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_DOMAIN, "
        "'|'.join(s.SECURE_PROXY_SSL_HEADER), s.CSRF_TRUSTED_ORIGINS[0])"
    )
    env = production_env(
        database_url,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_PRELOAD="no",
        SESSION_COOKIE_DOMAIN=".switchboard.example.com",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto=https",
        CSRF_TRUSTED_ORIGINS="https://help.example.org",
    )
    result = run([sys.executable, "-c", code], env)

    assert result.stdout.split() == [
        "False",
        "600",
        "False",
        ".switchboard.example.com",
        "HTTP_X_FORWARDED_PROTO|https",
        "https://help.example.org",
    ], result.stderr


UNSAFE = {
    "debug on": ({"DEBUG": "true"}, "DEBUG is on"),
    "no secret key": ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    "the published development key": ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY is the development key published"),
    "a short secret key": ({"SECRET_KEY": "s3cr3t-but-far-too-short"}, "SECRET_KEY is too short or too repetitive"),
    "a low-entropy secret key": ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY is too short or too repetitive"),
    "a Django-insecure key": ({"SECRET_KEY": "django-insecure-" + STRONG}, "SECRET_KEY is a key Django marked"),
    "a weak fallback": ({"SECRET_KEY_FALLBACKS": DEV_SECRET_KEY}, "SECRET_KEY_FALLBACKS is the development key"),
    "no AI encryption key": ({"AI_ENCRYPTION_KEYS": None}, "AI_ENCRYPTION_KEYS is not set"),
    "a short AI encryption key": ({"AI_ENCRYPTION_KEYS": "tiny-key"}, "AI_ENCRYPTION_KEYS is too short"),
    "the development key as AI key": ({"AI_ENCRYPTION_KEYS": DEV_SECRET_KEY}, "AI_ENCRYPTION_KEYS is the development"),
}


def _problems(overrides: dict[str, str | None]) -> list[str]:
    env = {"SECRET_KEY": STRONG, "AI_ENCRYPTION_KEYS": AI_KEY, "DEBUG": "", "SECRET_KEY_FALLBACKS": ""}
    env |= {name: value or "" for name, value in overrides.items()}
    return production_problems(
        debug=env["DEBUG"] == "true",
        secret_key=env["SECRET_KEY"] or None,
        secret_key_fallbacks=[key for key in env["SECRET_KEY_FALLBACKS"].split(",") if key],
        ai_encryption_keys=[key for key in env["AI_ENCRYPTION_KEYS"].split(",") if key],
    )


def test_a_safe_environment_has_no_problems():
    assert _problems({}) == []


@pytest.mark.parametrize(("overrides", "message"), UNSAFE.values(), ids=UNSAFE.keys())
def test_each_unsafe_setting_is_named(overrides, message):
    assert [problem for problem in _problems(overrides) if message in problem], _problems(overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [UNSAFE["the published development key"], UNSAFE["no AI encryption key"], UNSAFE["debug on"]],
    ids=["dev key", "no AI key", "debug"],
)
def test_manage_py_refuses_to_start_with_one_sentence(database_url, overrides, message):
    result = run([sys.executable, "manage.py", "check"], production_env(database_url, **overrides))

    assert result.returncode != 0
    assert result.stderr.startswith("Switchboard will not start in production: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


ENTRY_POINTS = {
    "asgi": "import config.asgi",
    "wsgi": "import config.wsgi",
    # Celery reads Django's settings when its configuration is first used (as a worker does at start).
    "celery": "from config.celery import app; app.conf.broker_url",
}


@pytest.mark.parametrize("code", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_every_entry_point_loads_production_settings_and_refuses_debug(database_url, code):
    result = run([sys.executable, "-c", code], production_env(database_url, DEBUG="1"))

    assert result.returncode != 0
    assert "Switchboard will not start in production: DEBUG is on" in result.stderr.strip().splitlines()[-1]
