"""Pages open their websocket on their own host: same port by default, LIVE_SOCKET_PORT when daphne has its own
(make run: gunicorn serves HTTP on 8000, daphne the sockets on 8001)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def socket_url(client, **extra) -> str:
    """Where the customer list's socket connects, without the topics it follows (?topic=...)."""
    html = client.get("/customers/", **extra).content.decode()
    return html.split('ws-connect="', 1)[1].split('"', 1)[0].partition("?")[0]


def test_by_default_the_socket_is_on_the_page_s_own_host_and_port(client, login, settings):
    settings.LIVE_SOCKET_PORT = ""
    login("agent")

    assert socket_url(client) == "/ws/live/"


def test_with_a_socket_port_the_page_connects_to_that_port_of_its_own_workspace_host(client, login, settings):
    settings.LIVE_SOCKET_PORT = "8001"
    login("agent")

    assert socket_url(client) == "ws://alpha.localhost:8001/ws/live/"
    assert socket_url(client, secure=True) == "wss://alpha.localhost:8001/ws/live/"


def test_signed_out_pages_open_no_socket(client):
    assert "ws-connect" not in client.get("/accounts/login/").content.decode()
