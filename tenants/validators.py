"""Rules for workspace slugs: they become a subdomain and a PostgreSQL schema name."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django_tenants.utils import get_public_schema_name

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
        # Names the platform itself uses: its own tenants' slugs (tenants.services.platform_bootstrap), schemas
        # (TENANT_BASE_SCHEMA, the public schema), paths of the public site, and hosts mail and DNS tools expect.
        "public-site",
        "workspace-template",
        "tenant-template",
        "templates",
        "healthz",
        "health",
        "signin",
        "settings",
        "postgres",
        "redis",
        "celery",
        "daphne",
        "mx",
        "ns1",
        "ns2",
        "webmail",
        "autoconfig",
        "autodiscover",
        "mta-sts",
        "postmaster",
        "hostmaster",
        "abuse",
        "security",
    }
)


def validate_workspace_slug(value: str) -> None:
    if not SLUG_PATTERN.match(value):
        raise ValidationError(
            "Use 1–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit.",
            code="invalid_slug",
        )
    if value[2:4] == "--":
        # IDNA keeps "--" in the third and fourth places for encoded names ("xn--"): browsers show such an address
        # in Unicode, where it can pass for another workspace's (xn--pple-43d shows as аpple, Cyrillic а).
        raise ValidationError(
            "Addresses with “--” in the third and fourth places are reserved for internationalised names. "
            "Please choose another address.",
            code="reserved_slug",
        )
    if is_reserved_slug(value):
        raise ValidationError(f"“{value}” is reserved. Please choose another address.", code="reserved_slug")


def is_reserved_slug(value: str) -> bool:
    """Reserved words, plus the slugs that spell the platform's own schema names (even if settings rename them)."""
    internal = {settings.TENANT_BASE_SCHEMA, get_public_schema_name()}
    return value in RESERVED_SLUGS or value in {name.replace("_", "-") for name in internal}


# Characters and pairs that read as one another in an address bar's font, mapped to one spelling. Only ASCII: slugs
# allow nothing else, and IDNA names ("xn--") are refused above, so Unicode homoglyphs cannot reach an address.
LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"))


def slug_skeleton(value: str) -> str:
    """`value` with every look-alike spelled one way: two slugs with one skeleton are hard to tell apart."""
    for seen_as, canonical in LOOKALIKE_PAIRS:
        value = value.replace(seen_as, canonical)
    return value


def schema_name_for_slug(slug: str) -> str:
    # Slugs never contain "_", so replacing "-" cannot make two slugs share a schema.
    return "t_" + slug.replace("-", "_")
