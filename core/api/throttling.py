"""API rate limit per workspace and user (or per workspace and IP for anonymous calls)."""

from django.db import connection
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.client_ip import client_ip


class TenantUserRateThrottle(SimpleRateThrottle):
    scope = "tenant_user"

    def get_rate(self) -> str | None:
        # Read the current settings, not the dict DRF captured at import time, so overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        # DRF's own reading trusts a client-sent X-Forwarded-For unless NUM_PROXIES is set; ours is the product's.
        return client_ip(request)

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        # The cache's key function prefixes the schema as well; naming it here keeps keys readable in redis-cli.
        return f"throttle:{connection.schema_name}:{ident}"
