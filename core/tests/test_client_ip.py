"""The one client-address policy (core.client_ip) and the API throttle that uses it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from core.api.throttling import TenantUserRateThrottle
from core.client_ip import client_ip_from

XFF = "HTTP_X_FORWARDED_FOR"


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.1"}, "192.0.2.1"),
        (0, {"REMOTE_ADDR": "192.0.2.1", XFF: "203.0.113.9"}, "192.0.2.1"),  # no proxy: the header is the client's
        (1, {"REMOTE_ADDR": "10.0.0.1", XFF: "203.0.113.9"}, "203.0.113.9"),
        (1, {"REMOTE_ADDR": "10.0.0.1", XFF: "1.2.3.4, 203.0.113.9"}, "203.0.113.9"),  # right-most untrusted
        (2, {"REMOTE_ADDR": "10.0.0.2", XFF: "1.2.3.4, 203.0.113.9, 10.0.0.1"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": "10.0.0.2", XFF: "203.0.113.9"}, "203.0.113.9"),  # shorter than the chain: left-most
        (1, {"REMOTE_ADDR": "10.0.0.1"}, "10.0.0.1"),  # reached us without the proxy
        (1, {"REMOTE_ADDR": "10.0.0.1", XFF: "1.2.3.4, not-an-ip"}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1", XFF: "203.0.113.9:5123"}, "203.0.113.9"),
        (1, {"REMOTE_ADDR": "10.0.0.1", XFF: "[2001:DB8::1]:443"}, "2001:db8::1"),
        (0, {}, "unknown"),
    ],
)
def test_client_address_under_the_trusted_proxy_count(proxies, meta, expected):
    assert client_ip_from(meta, proxies) == expected


def test_the_setting_is_read_at_call_time_and_allauth_gets_the_same_number(settings):
    from django.conf import settings as configured

    assert configured.ALLAUTH_TRUSTED_PROXY_COUNT == configured.TRUSTED_PROXY_COUNT  # one number for the product
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip_from({"REMOTE_ADDR": "10.0.0.1", XFF: "203.0.113.9"}) == "203.0.113.9"


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_does_not_escape_the_api_throttle(settings, api_rate_limit, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    api_rate_limit("2/min")
    factory = APIRequestFactory()

    def anonymous_call(forged: str, client: str = "198.51.100.7") -> bool:
        request = factory.get("/api/v1/tickets/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{forged}, {client}")
        request.user = None
        return TenantUserRateThrottle().allow_request(request, view=None)

    assert [anonymous_call(f"203.0.113.{n}") for n in range(3)] == [True, True, False]
    # Behind one proxy another client has an allowance of its own; with none, everyone is the proxy.
    assert anonymous_call("203.0.113.50", client="198.51.100.8") is bool(proxies)
