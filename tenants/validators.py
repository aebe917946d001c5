"""Rules for workspace slugs: they become a subdomain and a PostgreSQL schema name."""

import re

from django.core.exceptions import ValidationError

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")

# Subdomains the platform keeps for itself, or that would confuse people and mail filters.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "app",
        "public",
        "static",
        "media",
        "partners",
        "partner",
        "portal",
        "mail",
        "email",
        "smtp",
        "imap",
        "ftp",
        "help",
        "support",
        "status",
        "docs",
        "blog",
        "billing",
        "accounts",
        "auth",
        "login",
        "signup",
        "dashboard",
        "cdn",
        "assets",
        "ws",
        "wss",
        "internal",
        "system",
        "root",
        "switchboard",
        "tenant",
        "template",
        "demo",
        "test",
        "localhost",
    }
)


def validate_workspace_slug(value: str) -> None:
    if not SLUG_PATTERN.match(value):
        raise ValidationError(
            "Use 1–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit.",
            code="invalid_slug",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved. Please choose another address.", code="reserved_slug")


def schema_name_for_slug(slug: str) -> str:
    # Slugs never contain "_", so replacing "-" cannot make two slugs share a schema.
    return "t_" + slug.replace("-", "_")
