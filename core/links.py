"""Absolute links that leave the product (emails): scheme, host and port come from settings, never from a request.

A request's Host header (or X-Forwarded-Host) is chosen by whoever sends it; a password-reset or invitation link
built from it could point a victim at an attacker's server. These links use SWITCHBOARD_URL_SCHEME, the
workspace's own domain (or SWITCHBOARD_BASE_DOMAIN for the public site) and SWITCHBOARD_URL_PORT instead.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django_tenants.utils import get_tenant_domain_model, schema_context

from .workspace_config import workspace_config_changed, workspace_config_get

DEFAULT_PORTS = {"http": "80", "https": "443"}


def site_origin(hostname: str) -> str:
    """`https://acme.example.com`, or `http://acme.localhost:8000` in development."""
    scheme = settings.SWITCHBOARD_URL_SCHEME
    port = str(settings.SWITCHBOARD_URL_PORT or "")
    suffix = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{hostname}{suffix}"


def workspace_hostname(slug: str) -> str:
    return f"{slug}.{settings.SWITCHBOARD_BASE_DOMAIN}"


def workspace_url(path: str = "/", *, hostname: str = "") -> str:
    """`path` on a workspace: `hostname` (a configured name, e.g. from `workspace_hostname`), else the current
    workspace's primary domain."""
    if not hostname:
        hostname = _primary_hostname() or settings.SWITCHBOARD_BASE_DOMAIN
    return f"{site_origin(hostname)}{path}"


def _primary_hostname() -> str:
    """The current workspace's primary domain, from the per-process copy (core.workspace_config): every
    acknowledgement and notification email carries a link, and the domain changes hardly ever."""
    tenant = getattr(connection, "tenant", None)
    if not hasattr(tenant, "get_primary_domain"):
        return ""

    def load() -> str:
        domain = tenant.get_primary_domain()
        return domain.domain if domain is not None else ""

    return workspace_config_get("core:primary-domain", load)


def links_watch() -> None:
    """Called once at start-up (CoreConfig.ready): a workspace's domain saved or deleted renews the copies."""
    for signal in (post_save, post_delete):
        signal.connect(_domain_changed, sender=get_tenant_domain_model(), dispatch_uid="core.links:domain")


def _domain_changed(*, instance, **_kwargs: object) -> None:
    try:
        tenant = instance.tenant
    except ObjectDoesNotExist:  # its workspace is being deleted
        return
    with schema_context(tenant.schema_name):
        workspace_config_changed()


def public_site_url(path: str = "/") -> str:
    return f"{site_origin(settings.SWITCHBOARD_BASE_DOMAIN)}{path}"
