"""Websockets stay inside their workspace: the Origin must be a page of the socket's own host (sibling workspaces are
same-site, so browsers send the cookie anyway), and Host passes the same ALLOWED_HOSTS check as HTTP, before any
database lookup. Scenarios run through `config.asgi.application` with the helpers of core's realtime tests.
"""

from __future__ import annotations

import http.client
import re
import socket
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.conf import settings

from core.tests.test_realtime import SENTINEL, connects, live_socket, push, run, session_cookie
from tenants.channels_middleware import origin_allowed

pytestmark = pytest.mark.usefixtures("channels_db")


def test_socket_from_a_sibling_workspace_page_is_refused_and_receives_nothing(client, login):
    """Sibling workspaces are same-site, so a page on beta gets alpha's cookie sent along: only Origin tells."""
    login("agent")
    cookie = session_cookie(client)

    async def scenario() -> tuple[bool, int, bool, bool, str]:
        foreign = live_socket("alpha.localhost", cookie, origin="http://beta.localhost")
        foreign_connected, close_code = await foreign.connect()
        await push("t_alpha.workspace", "<p>alpha's ticket</p>")
        foreign_got_nothing = await foreign.receive_nothing(timeout=0.2)
        own = live_socket("alpha.localhost", cookie, origin="http://alpha.localhost")
        own_connected, _ = await own.connect()
        await push("t_alpha.workspace", SENTINEL)
        received = await own.receive_from()
        await own.disconnect()
        return foreign_connected, close_code, foreign_got_nothing, own_connected, received

    assert run(scenario) == (False, 1000, True, True, SENTINEL)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil-tenant.localhost:8000",  # the probe: any *.localhost used to pass
        "http://beta.localhost",
        "http://localhost",  # the public site, parent domain of every workspace
        "http://alpha.localhost.evil.test",
        "http://evil.test",
        "http://alpha.localhost:8000",  # another port of the same host (no page port configured)
        "ftp://alpha.localhost",
        "null",  # sandboxed frames and file:// pages
        "",
        None,  # no Origin at all: not a browser, so nothing vouches for the cookie
    ],
)
def test_socket_with_any_other_origin_is_refused(client, login, origin):
    login("agent")

    assert run(connects, "alpha.localhost", session_cookie(client), origin) is False


@pytest.mark.parametrize("origin", ["http://alpha.localhost", "http://alpha.localhost:80", "http://ALPHA.localhost/"])
def test_socket_from_its_own_workspace_page_connects(client, login, origin):
    login("agent")

    assert run(connects, "alpha.localhost", session_cookie(client), origin) is True


def test_pages_on_the_configured_page_ports_may_use_a_socket_on_another_port(client, login, settings):
    """make run: gunicorn serves pages on PORT, daphne the sockets on PORT + 1 (LIVE_SOCKET_ORIGIN_PORTS = PORT)."""
    login("agent")
    cookie = session_cookie(client)
    settings.LIVE_SOCKET_ORIGIN_PORTS = ["8000"]

    assert run(connects, "alpha.localhost:8001", cookie, "http://alpha.localhost:8001") is True
    assert run(connects, "alpha.localhost:8001", cookie, "http://alpha.localhost:8000") is True
    assert run(connects, "alpha.localhost:8001", cookie, "http://alpha.localhost:9000") is False
    assert run(connects, "alpha.localhost:8001", cookie, "http://beta.localhost:8000") is False
    settings.LIVE_SOCKET_ORIGIN_PORTS = []
    assert run(connects, "alpha.localhost:8001", cookie, "http://alpha.localhost:8000") is False


def scope(host: str, origin: str, *, scheme: str = "ws", headers: tuple = ()) -> dict:
    return {
        "type": "websocket",
        "scheme": scheme,
        "headers": [(b"host", host.encode()), (b"origin", origin.encode()), *headers],
    }


@pytest.mark.parametrize(
    ("socket_scheme", "origin", "allowed"),
    [
        ("wss", "https://alpha.example.com", True),
        ("wss", "http://alpha.example.com", False),  # a plain-http page must not read the wss feed
        ("wss", "https://alpha.example.com:443", True),
        ("wss", "https://alpha.example.com:8443", False),
        ("ws", "https://alpha.example.com", True),  # a TLS-terminating proxy that does not say so: both on 443
        ("ws", "https://alpha.example.com:80", False),
        ("ws", "http://alpha.example.com", True),
        ("wss", "https://user@alpha.example.com", False),
        ("wss", "https://alpha.example.com:bad", False),
        ("wss", "https://example.com", False),
        ("wss", "https://www.alpha.example.com", False),
    ],
)
def test_origin_rules_for_secure_and_plain_sockets(socket_scheme, origin, allowed):
    assert origin_allowed(scope("alpha.example.com", origin, scheme=socket_scheme)) is allowed


def test_a_socket_behind_a_tls_proxy_counts_as_secure(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = ((b"x-forwarded-proto", b"https"),)

    assert origin_allowed(scope("alpha.example.com", "http://alpha.example.com", headers=forwarded)) is False
    assert origin_allowed(scope("alpha.example.com:443", "https://alpha.example.com", headers=forwarded)) is True


@pytest.mark.parametrize("host", ["evil.example.com", "alpha.localhost.evil.test", "", "bad host"])
def test_socket_with_a_host_outside_allowed_hosts_is_refused_before_any_database_lookup(
    client, login, monkeypatch, django_assert_num_queries, host
):
    import tenants.channels_middleware

    login("agent")
    cookie = session_cookie(client)

    def must_not_look_up(hostname: str):
        raise AssertionError(f"looked up {hostname!r}")

    monkeypatch.setattr(tenants.channels_middleware, "tenant_for_hostname", must_not_look_up)
    with django_assert_num_queries(0):
        # An Origin of a real workspace page beside the foreign Host: only the Host check can refuse it.
        assert run(connects, host, cookie, "http://alpha.localhost") is False
        assert run(connects, host, cookie, f"http://{host}") is False


# --- Over a real daphne ----------------------------------------------------------------------------


def live_session_cookie(stack, user, slug: str = "alpha") -> str:
    """Signs in through the workspace's real login form over HTTP; returns the Cookie header value of the session."""
    host = f"{slug}.localhost:{stack.port}"
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    connection.request("GET", "/accounts/login/", headers={"Host": host})
    page = connection.getresponse()
    html = page.read().decode()
    cookies = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = urlencode({"login": user.email, "password": user.password, "csrfmiddlewaretoken": token})
    connection.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Host": host,
            "Cookie": f"csrftoken={cookies['csrftoken'].value}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    answer = connection.getresponse()
    answer.read()
    for header in answer.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    connection.close()
    assert answer.status == 302 and settings.SESSION_COOKIE_NAME in cookies, f"signing in failed ({answer.status})"
    return f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME].value}"


def open_live_socket(stack, cookie: str, origin: str):
    """A plain websocket client on 127.0.0.1, saying Host alpha.localhost:<port> like a browser on that page would."""
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    return connect(
        f"ws://alpha.localhost:{stack.port}/ws/live/",
        sock=sock,
        origin=origin,
        additional_headers={"Cookie": cookie},
        open_timeout=30,
    )


@pytest.mark.integration
@pytest.mark.xdist_group("live")
def test_daphne_refuses_a_sibling_workspace_origin_and_serves_the_own_one(live_stack, live_data):
    from websockets.exceptions import InvalidStatus

    member = live_data.create_user("agent")
    cookie = live_session_cookie(live_stack, member)

    with pytest.raises(InvalidStatus) as refused:
        open_live_socket(live_stack, cookie, origin=f"http://beta.localhost:{live_stack.port}")
    with open_live_socket(live_stack, cookie, origin=f"http://alpha.localhost:{live_stack.port}") as own:
        live_stack.push(f"t_alpha.user.{member.user.pk}", "<p>for you</p>")
        received = own.recv(timeout=30)

    assert refused.value.response.status_code == 403
    assert received == "<p>for you</p>"
