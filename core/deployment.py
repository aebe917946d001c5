"""The rules a production deployment's secrets and switches must meet; `config.settings.production` enforces them.

Pure Python on purpose: settings modules import it before Django is set up.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

# The development SECRET_KEY of config/settings/base.py. It is in the public source, so anything signed or
# encrypted with it (sessions, help-center links, AI provider keys) can be forged or read by anyone.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"

# Django's own bar (check --deploy, security.W009), so a key accepted here never draws that warning.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
# AI_ENCRYPTION_KEYS are stretched with HKDF; 32 random characters carry well over 128 bits.
AI_KEY_MIN_LENGTH = 32
GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"


class UnsafeSettings(ImproperlyConfigured):
    """Production settings that must not start; the message is one sentence naming the variable."""


def is_published_secret(value: str) -> bool:
    return value.strip() == DEV_SECRET_KEY


def secret_problem(name: str, value: str | None, *, min_length: int) -> str | None:
    """Why `value` is not a usable secret for the variable `name`, or None when it is."""
    if not value or not value.strip():
        return f"{name} is not set; {GENERATE_HINT}"
    if is_published_secret(value):
        return f"{name} is the development key published in the source; {GENERATE_HINT}"
    if value.startswith("django-insecure-"):
        return f"{name} is a key Django marked insecure; {GENERATE_HINT}"
    if len(value) < min_length or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"{name} is too short or too repetitive (at least {min_length} varied characters); {GENERATE_HINT}"
    return None


def production_problems(
    *,
    debug: bool,
    secret_key: str | None,
    secret_key_fallbacks: Iterable[str],
    ai_encryption_keys: Iterable[str],
) -> list[str]:
    """Everything that makes these production settings unsafe, most important first (empty: safe to start).

    `secret_key` is the configured value, None when unset (the base settings then fall back to the development key,
    which production must never run on).
    """
    problems: list[str] = []
    if debug:
        problems.append("DEBUG is on; production shows no debug pages: unset DEBUG or set DEBUG=false")
    problem = secret_problem("SECRET_KEY", secret_key, min_length=SECRET_KEY_MIN_LENGTH)
    if problem:
        problems.append(problem)
    for fallback in secret_key_fallbacks:
        problem = secret_problem("SECRET_KEY_FALLBACKS", fallback, min_length=SECRET_KEY_MIN_LENGTH)
        if problem:
            problems.append(problem)
    keys = [key for key in ai_encryption_keys if key]
    if not keys:
        problems.append(
            "AI_ENCRYPTION_KEYS is not set; it encrypts workspaces' AI provider keys at rest, "
            f"independently of SECRET_KEY; {GENERATE_HINT}"
        )
    for key in keys:
        problem = secret_problem("AI_ENCRYPTION_KEYS", key, min_length=AI_KEY_MIN_LENGTH)
        if problem:
            problems.append(problem)
    return problems


def refuse_unsafe_production(
    *, debug: bool, secret_key: str | None, secret_key_fallbacks: Iterable[str], ai_encryption_keys: Iterable[str]
) -> None:
    """Raises UnsafeSettings with the first of `production_problems`."""
    problems = production_problems(
        debug=debug,
        secret_key=secret_key,
        secret_key_fallbacks=secret_key_fallbacks,
        ai_encryption_keys=ai_encryption_keys,
    )
    if problems:
        raise UnsafeSettings(f"Switchboard will not start in production: {problems[0]}.")
