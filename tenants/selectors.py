"""Reads about workspaces for the public site and the admin: lookups by address and the live address check."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Value
from django.db.models.functions import Replace
from django.utils.text import slugify
from django_tenants.utils import get_public_schema_name, schema_context

from .models import Tenant
from .validators import LOOKALIKE_PAIRS, is_reserved_slug, slug_skeleton, validate_workspace_slug

SLUG_MAX_LENGTH = 40


@dataclass(frozen=True)
class AddressStatus:
    """What the sign-up page says about a workspace address while it is typed."""

    slug: str
    state: str  # "empty" | "invalid" | "reserved" | "taken" | "lookalike" | "free"
    message: str

    @property
    def is_free(self) -> bool:
        return self.state == "free"


def tenant_get_workspace(*, slug: str) -> Tenant | None:
    """A customer workspace by slug, in any status; never the public site or the template."""
    with schema_context(get_public_schema_name()):
        return Tenant.objects.workspaces().filter(slug=slug).first()


def tenant_get_active_by_schema(schema_name: str) -> Tenant | None:
    """An active customer workspace by its schema name (addresses that name the schema, e.g. forwarded mail)."""
    with schema_context(get_public_schema_name()):
        return Tenant.objects.active().filter(schema_name=schema_name).first()


def workspace_slug_taken(slug: str) -> bool:
    with schema_context(get_public_schema_name()):
        return Tenant.objects.filter(slug=slug).exists()


def workspace_slug_lookalike(slug: str) -> str | None:
    """Another workspace's slug that reads like `slug` (acrne ~ acme, g1obex ~ globex), or None.

    The skeleton is computed in SQL over every slug: one indexed-size scan of the public tenants table per sign-up,
    no stored column to keep in step.
    """
    skeleton = F("slug")
    for seen_as, canonical in LOOKALIKE_PAIRS:  # nested in the same order as slug_skeleton applies them
        skeleton = Replace(skeleton, Value(seen_as), Value(canonical))
    with schema_context(get_public_schema_name()):
        matches = Tenant.objects.annotate(skeleton=skeleton).filter(skeleton=slug_skeleton(slug)).exclude(slug=slug)
        return matches.values_list("slug", flat=True).order_by("slug").first()


def workspace_address_status(slug: str) -> AddressStatus:
    slug = slug.strip().lower()
    host = f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}"
    if not slug:
        return AddressStatus(slug, "empty", "Pick the address your team will use to sign in.")
    try:
        validate_workspace_slug(slug)
    except ValidationError as error:
        state = "reserved" if error.code == "reserved_slug" else "invalid"
        return AddressStatus(slug, state, error.messages[0])
    if workspace_slug_taken(slug):
        return AddressStatus(slug, "taken", f"“{slug}” is already taken. Please choose another address.")
    lookalike = workspace_slug_lookalike(slug)
    if lookalike:
        message = f"“{slug}” is too easily mistaken for the existing address “{lookalike}”. Please choose another."
        return AddressStatus(slug, "lookalike", message)
    return AddressStatus(slug, "free", f"{host} is available.")


def workspace_slug_suggest(name: str) -> str:
    """A free, valid address derived from a workspace name ("Acme Corp." → "acme-corp"), or "" if none fits."""
    base = slugify(name.replace("_", " "))[:SLUG_MAX_LENGTH].strip("-")
    if not base:
        return ""
    for suffix in ("", *(f"-{n}" for n in range(2, 10))):
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].strip("-") + suffix
        if not is_reserved_slug(candidate) and workspace_address_status(candidate).is_free:
            return candidate
    return base
