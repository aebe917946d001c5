"""The egress guard: which addresses it refuses (in every spelling), that it checks after DNS and on every connection
(redirects too), and that it connects to the very address it checked, for httpx, requests and raw sockets.

Names resolve through the guard's resolver seam (`core.egress._getaddrinfo`), replaced here: nothing touches DNS or
the internet. The local servers listen on 127.0.0.1, so tests that reach them allow loopback (or 127.0.0.1/32).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
import requests
import trustme

from core import egress
from core.egress import EgressPolicy, EgressRefused, address_problem, check_url

STRICT = EgressPolicy(require_https=False, allow_loopback=False, allowed_networks=())


# --- Classification ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),  # IPv4-mapped public address
        ("64:ff9b::808:808", None),  # NAT64 of a public address
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::7f00:1", "loopback"),  # IPv4-compatible
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("::ffff:192.168.1.1", "private"),
        ("64:ff9b::a00:5", "private"),  # NAT64 of 10.0.0.5
        ("2002:a00:5::1", "private"),  # 6to4 of 10.0.0.5
        ("64:ff9b:1::a00:5", "private"),  # local-use NAT64 prefix
        ("169.254.169.254", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "cgnat"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "reserved"),  # documentation range
        ("198.18.0.1", "reserved"),  # benchmarking
        ("2001:db8::1", "reserved"),
        ("0.1.2.3", "reserved"),  # "this network"
    ],
)
def test_address_classification(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",  # decimal
        "http://0x7f.1/",  # hex and a short form
        "http://0x7f000001/",
        "http://017700000001/",  # octal
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://localhost./",  # resolves (seam) to loopback
    ],
)
def test_every_spelling_of_loopback_is_refused(url, resolve):
    resolve({"localhost": ["127.0.0.1", "::1"]})

    with pytest.raises(EgressRefused) as refused:
        check_url(url, policy=STRICT)

    assert refused.value.reason == "loopback"
    assert "Switchboard does not connect there." in str(refused.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("http://METADATA.google.internal./", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://10.0.0.5:11434/v1", "private"),
        ("http://0xa000005/", "private"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://100.64.0.1/", "cgnat"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://[::]/", "unspecified"),
    ],
)
def test_internal_destinations_are_refused(url, reason):
    with pytest.raises(EgressRefused) as refused:
        check_url(url, policy=STRICT)

    assert refused.value.reason == reason


def test_a_refused_literal_names_the_address_and_says_why():
    with pytest.raises(EgressRefused) as refused:
        check_url("https://10.0.0.5/v1", policy=STRICT)
    with pytest.raises(EgressRefused) as spelled:
        check_url("https://0xa000005/v1", policy=STRICT)

    assert str(refused.value) == (
        "This address points inside a private network (10.0.0.5); Switchboard does not connect there."
    )
    assert str(spelled.value) == (
        "This address points inside a private network (0xa000005, that is 10.0.0.5); "
        "Switchboard does not connect there."
    )


def test_a_name_that_resolves_inside_is_refused_without_revealing_the_address(resolve, caplog):
    resolve({"llm.intranet.example": ["10.1.2.3"]})

    with pytest.raises(EgressRefused) as refused:
        check_url("https://llm.intranet.example/v1", policy=STRICT)

    assert str(refused.value) == (
        "llm.intranet.example points inside a private network; Switchboard does not connect there."
    )
    assert "10.1.2.3" in caplog.text  # for the operator, in the log
    assert "10.1.2.3" not in str(refused.value)  # not for whoever typed the name: no map of the internal DNS


def test_a_name_with_one_internal_address_among_public_ones_is_refused(resolve):
    resolve({"mixed.example": ["93.184.216.34", "127.0.0.1"]})

    with pytest.raises(EgressRefused):
        check_url("https://mixed.example/", policy=STRICT)


def test_public_names_and_addresses_pass(resolve):
    resolve({"api.vendor.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})

    check_url("https://api.vendor.example/v1", policy=STRICT)
    check_url("https://8.8.8.8/", policy=STRICT)
    check_url("https://not-yet-registered.example/", policy=STRICT)  # does not resolve: checked at connection


# --- Policy --------------------------------------------------------------------------------------------


def test_https_is_required_unless_turned_off():
    strict = EgressPolicy(require_https=True, allow_loopback=False, allowed_networks=())

    with pytest.raises(EgressRefused, match="Use an https:// address"):
        check_url("http://8.8.8.8/v1", policy=strict)
    with pytest.raises(EgressRefused, match="Use an https:// address"):
        check_url("ftp://8.8.8.8/", policy=strict)
    check_url("https://8.8.8.8/v1", policy=strict)
    check_url("http://8.8.8.8/v1", policy=STRICT)


def test_https_is_the_default_and_the_loopback_needs_a_setting(settings):
    del settings.EGRESS_REQUIRE_HTTPS
    del settings.EGRESS_ALLOW_LOOPBACK

    policy = EgressPolicy.current()

    assert policy.require_https and not policy.allow_loopback
    with pytest.raises(EgressRefused):
        check_url("https://127.0.0.1/")


def test_credentials_in_the_address_are_refused():
    with pytest.raises(EgressRefused, match="Remove the user name and password"):
        check_url("https://api.openai.com@8.8.8.8/", policy=STRICT)


def test_loopback_opens_only_with_its_setting(settings):
    settings.EGRESS_ALLOW_LOOPBACK = True
    check_url("http://127.0.0.1:11434/v1")

    settings.EGRESS_ALLOW_LOOPBACK = False
    with pytest.raises(EgressRefused):
        check_url("http://127.0.0.1:11434/v1")


def test_allowed_networks_open_exactly_what_they_list_and_never_metadata(settings):
    settings.EGRESS_ALLOW_LOOPBACK = False
    settings.EGRESS_ALLOWED_NETWORKS = ["10.20.0.7/32", "169.254.0.0/16"]

    check_url("http://10.20.0.7:8000/v1")
    for closed in ("http://10.20.0.8/", "http://169.254.169.254/", "http://127.0.0.1/"):
        with pytest.raises(EgressRefused):
            check_url(closed)


def test_a_malformed_allowed_network_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.EGRESS_ALLOWED_NETWORKS = ["10.0.0.0/33"]

    with pytest.raises(ImproperlyConfigured, match="EGRESS_ALLOWED_NETWORKS"):
        check_url("https://8.8.8.8/")


# --- Connections: httpx, requests, raw sockets --------------------------------------------------------


@dataclass
class LocalServer:
    """A plain HTTP(S) server on 127.0.0.1: `/` says hello, `/redirect?to=URL` answers 302 to URL."""

    httpd: ThreadingHTTPServer
    hosts: list[str] = field(default_factory=list)  # the Host header of every request

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]


def _serve(ssl_context: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.headers.get("host", ""))
            target = urlsplit(self.path)
            if target.path == "/redirect":
                self.send_response(302)
                self.send_header("location", parse_qs(target.query)["to"][0])
            else:
                self.send_response(200)
            self.send_header("content-length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if ssl_context is not None:
        httpd.socket = ssl_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server = LocalServer(httpd=httpd, hosts=received)
    yield server
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    yield from _serve()


@pytest.fixture
def resolve(monkeypatch) -> Callable[[dict[str, list[str]]], list[str]]:
    """`resolve({"name": ["addr", ...]})`: names resolve to those addresses, in turn; returns the names asked for."""
    asked: list[str] = []
    table: dict[str, list[list[str]]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        asked.append(host)
        answers = table.get(host.lower().rstrip("."))
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        result = []
        for address in addresses:
            if ":" in address:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    def configure(names: dict[str, list[str]], *, then: dict[str, list[str]] | None = None) -> list[str]:
        for name, addresses in names.items():
            table[name] = [addresses] + ([then[name]] if then and name in then else [])
        return asked

    monkeypatch.setattr(egress, "_getaddrinfo", getaddrinfo)
    return configure


@pytest.fixture
def only_this_machine(settings) -> None:
    """The local servers are reachable (127.0.0.1/32), the rest of the loopback range and everything inside is not."""
    settings.EGRESS_ALLOW_LOOPBACK = False
    settings.EGRESS_REQUIRE_HTTPS = False
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def test_httpx_connects_to_the_checked_address_and_never_resolves_again(local_server, resolve, only_this_machine):
    # A rebinding name: public-looking first answer is irrelevant; what matters is one resolution per connection,
    # and a second answer (10.0.0.1) never used because no one else resolves the name.
    asked = resolve({"api.vendor.example": ["127.0.0.1"]}, then={"api.vendor.example": ["10.0.0.1"]})

    with egress.guarded_httpx_client() as client:
        response = client.get(f"http://api.vendor.example:{local_server.port}/")

    assert response.text == "hello"
    assert asked == ["api.vendor.example"]
    assert local_server.hosts == [f"api.vendor.example:{local_server.port}"]  # the Host header keeps the name


def test_httpx_refuses_a_name_that_resolves_to_loopback_before_connecting(local_server, resolve, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False
    resolve({"innocent.example": ["127.0.0.1"]})

    with egress.guarded_httpx_client() as client, pytest.raises(EgressRefused, match="loopback"):
        client.get(f"http://innocent.example:{local_server.port}/")

    assert local_server.hosts == []


def test_httpx_tls_uses_the_name_while_connecting_to_the_checked_address(resolve, only_this_machine, tmp_path):
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("api.vendor.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    resolve({"api.vendor.example": ["127.0.0.1"]})
    server = _serve(server_context)
    tls_server = next(server)
    try:
        with egress.guarded_httpx_client(verify=client_context) as client:
            response = client.get(f"https://api.vendor.example:{tls_server.port}/")
    finally:
        next(server, None)

    assert response.text == "hello"  # the certificate for the name verified: SNI and checks used the name


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/",
    ],
)
def test_httpx_refuses_a_redirect_into_the_network(local_server, only_this_machine, target):
    location = target.format(port=local_server.port)

    with egress.guarded_httpx_client(follow_redirects=True) as client, pytest.raises(EgressRefused):
        client.get(f"http://127.0.0.1:{local_server.port}/redirect", params={"to": location})

    assert len(local_server.hosts) == 1  # the allowed server answered; the redirect target was never reached


def test_httpx_refuses_a_redirect_to_a_name_resolving_inside(local_server, resolve, only_this_machine):
    resolve({"rebound.example": ["192.168.0.10"]})

    with egress.guarded_httpx_client(follow_redirects=True) as client, pytest.raises(EgressRefused, match="private"):
        client.get(f"http://127.0.0.1:{local_server.port}/redirect", params={"to": "http://rebound.example/"})


def test_httpx_refuses_a_downgrade_to_http_when_https_is_required(local_server, settings):
    settings.EGRESS_REQUIRE_HTTPS = True

    with egress.guarded_httpx_client() as client, pytest.raises(EgressRefused, match="https://"):
        client.get(f"http://127.0.0.1:{local_server.port}/")


def test_the_async_httpx_client_is_guarded_too(local_server, settings):
    settings.EGRESS_ALLOW_LOOPBACK = True

    async def fetch(url: str) -> str:
        async with egress.guarded_async_httpx_client() as client:
            return (await client.get(url)).text

    assert anyio.run(fetch, f"http://127.0.0.1:{local_server.port}/") == "hello"
    settings.EGRESS_ALLOW_LOOPBACK = False
    with pytest.raises(EgressRefused):
        anyio.run(fetch, f"http://127.0.0.1:{local_server.port}/")


def test_a_guarded_client_ignores_proxies_from_the_environment(local_server, monkeypatch, only_this_machine):
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")

    with egress.guarded_httpx_client() as client:
        assert client.get(f"http://127.0.0.1:{local_server.port}/").text == "hello"
    assert egress.guarded_requests_session().get(f"http://127.0.0.1:{local_server.port}/", timeout=10).text == "hello"


def test_requests_connects_to_the_checked_address(local_server, resolve, only_this_machine):
    asked = resolve({"graph.vendor.example": ["127.0.0.1"]}, then={"graph.vendor.example": ["10.0.0.1"]})

    response = egress.guarded_requests_session().get(f"http://graph.vendor.example:{local_server.port}/", timeout=10)

    assert response.text == "hello" and asked == ["graph.vendor.example"]
    assert local_server.hosts == [f"graph.vendor.example:{local_server.port}"]


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/", "http://10.0.0.5/", "http://metadata.google.internal/"])
def test_requests_refuses_a_redirect_into_the_network(local_server, only_this_machine, target):
    location = target.format(port=local_server.port)

    with pytest.raises(EgressRefused):
        egress.guarded_requests_session().get(
            f"http://127.0.0.1:{local_server.port}/redirect", params={"to": location}, timeout=10
        )

    assert len(local_server.hosts) == 1


def test_requests_refuses_a_name_resolving_inside_and_an_explicit_proxy(resolve, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False
    resolve({"login.vendor.example": ["::1"]})
    session = egress.guarded_requests_session()

    with pytest.raises(EgressRefused, match="loopback"):
        session.get("http://login.vendor.example/", timeout=10)
    with pytest.raises(EgressRefused, match="proxy"):
        session.get("http://8.8.8.8/", proxies={"http": "http://8.8.4.4:3128"}, timeout=10)


def test_requests_reports_an_unknown_name_as_a_connection_error(resolve, only_this_machine):
    resolve({})

    with pytest.raises(requests.ConnectionError):
        egress.guarded_requests_session().get("http://nowhere.example/", timeout=10)


def test_raw_sockets_connect_only_to_checked_addresses(local_server, resolve, only_this_machine):
    resolve({"smtp.vendor.example": ["127.0.0.1"], "smtp.intranet.example": ["10.0.0.25"]})

    with egress.guarded_connect("smtp.vendor.example", local_server.port, timeout=10) as sock:
        assert sock.getpeername()[:2] == ("127.0.0.1", local_server.port)
    with pytest.raises(EgressRefused, match="private"):
        egress.guarded_connect("smtp.intranet.example", 25, timeout=10)
    with pytest.raises(EgressRefused, match="loopback"):
        egress.guarded_connect("127.0.0.2", local_server.port, timeout=10)


def test_an_unknown_name_is_a_connection_error_for_httpx(resolve, only_this_machine):
    resolve({})

    with egress.guarded_httpx_client() as client, pytest.raises(httpx2.ConnectError):
        client.get("http://nowhere.example/")
