"""Picks the workspace from the Host header; unknown hosts and suspended workspaces get a clear page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from .models import Tenant
from .routing import routing_hostname, tenant_for_hostname


class TenantMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()
        try:
            hostname = routing_hostname(request.get_host())
        except DisallowedHost:
            return _unknown_workspace(request, hostname="")
        tenant = tenant_for_hostname(hostname)
        if tenant is None:
            return _unknown_workspace(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        if tenant.type != Tenant.Type.PLATFORM and not tenant.is_active:
            return _workspace_unavailable(request, tenant)
        return None


def _unknown_workspace(request: HttpRequest, hostname: str) -> HttpResponse:
    request.urlconf = "config.urls.public"
    context = {"hostname": hostname, "public_url": public_site_url(request)}
    return render(request, "tenants/unknown_workspace.html", context, status=404)


def public_site_url(request: HttpRequest) -> str:
    port = request.get_port()
    suffix = "" if port in {"80", "443"} else f":{port}"
    return f"{request.scheme}://{settings.SWITCHBOARD_BASE_DOMAIN}{suffix}/"


def _workspace_unavailable(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    status = 503 if tenant.status == Tenant.Status.PROVISIONING else 403
    return render(request, "tenants/workspace_unavailable.html", {"workspace": tenant}, status=status)
