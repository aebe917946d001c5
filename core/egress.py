"""The egress guard: every outbound connection of the product goes through here, so no workspace can make the server
reach into its own network (SSRF).

Anyone can sign up, become a workspace owner and type a URL (an AI provider's base URL today; webhooks, mailboxes and
payment callbacks later). Each connection is checked *after* DNS resolution, and the socket is opened to the very
address that was checked, so a name that resolves to a public address for the check and to 127.0.0.1 a moment later
(DNS rebinding) gains nothing. Redirects open new connections and are checked the same way.

Refused, unless a setting allows it:
- loopback (127.0.0.0/8, ::1): only with EGRESS_ALLOW_LOOPBACK (tests and `make run`);
- private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), carrier-grade NAT
  (100.64/10), multicast, unspecified, reserved and other special-purpose ranges, also when embedded in IPv6
  (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible, 6to4 2002::/16, NAT64 64:ff9b::/96): only inside a network listed in
  EGRESS_ALLOWED_NETWORKS (an on-premises LLM gateway, say);
- cloud metadata services (169.254.169.254, fd00:ec2::254, metadata.google.internal, ...): never;
- plain http when EGRESS_REQUIRE_HTTPS is on (the default; off in tests and `make run`).

What to use:
- httpx-based SDKs (openai, anthropic, google-genai take `http_client=`): `guarded_httpx_client()` /
  `guarded_async_httpx_client()`; the check sits in httpcore's network backend, so TLS (SNI, certificate) and the
  Host header still use the name;
- `requests` (msal, Microsoft Graph; Stripe and Twilio can take a session): `guarded_requests_session()`; the check
  sits in urllib3's connection, same effect;
- raw sockets (smtplib, imaplib): `guarded_connect(host, port)`, or `resolve_and_check(host, port)` for the checked
  addresses; `check_url(url)` validates a URL when it is saved (a name that does not resolve yet is accepted: the
  connection will be checked anyway).
A refusal is always `EgressRefused`, whose message is a sentence for people. Proxies are never used: the guard has to
see the destination itself (an egress proxy would have to enforce the same policy).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore2
import httpx2
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services hand out cloud credentials: never reachable, whatever EGRESS_ALLOWED_NETWORKS says.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle...
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.169.253",  # AWS DNS resolver
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10", "64:ff9b:1::/48")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Old spellings of IPv4 that inet_aton (and so getaddrinfo) still reads: 2130706433, 0x7f.1, 017700000001, 127.1.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class EgressRefused(Exception):
    """The egress policy refuses this destination. `str()` is a sentence to show people."""

    def __init__(self, message: str, *, host: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.reason = reason


# --- Policy and classification ---------------------------------------------------------------------


@dataclass(frozen=True)
class EgressPolicy:
    require_https: bool
    allow_loopback: bool
    allowed_networks: tuple[IPNetwork, ...]

    @classmethod
    def current(cls) -> EgressPolicy:
        """The policy in the settings now (read on every call, so tests can change it)."""
        return _policy(
            bool(getattr(settings, "EGRESS_REQUIRE_HTTPS", True)),
            bool(getattr(settings, "EGRESS_ALLOW_LOOPBACK", False)),
            tuple(getattr(settings, "EGRESS_ALLOWED_NETWORKS", ()) or ()),
        )

    def allows(self, address: IPAddress, reason: str) -> bool:
        if reason == "metadata":
            return False
        if reason == "loopback" and self.allow_loopback:
            return True
        return any(address.version == network.version and address in network for network in self.allowed_networks)


@functools.lru_cache(maxsize=8)
def _policy(require_https: bool, allow_loopback: bool, networks: tuple[str, ...]) -> EgressPolicy:
    try:
        parsed = tuple(ipaddress.ip_network(network.strip(), strict=False) for network in networks)
    except ValueError as error:
        raise ImproperlyConfigured(f"EGRESS_ALLOWED_NETWORKS holds something that is not a network: {error}") from None
    return EgressPolicy(require_https=require_https, allow_loopback=allow_loopback, allowed_networks=parsed)


# reason → how the refusal reads: "This address points {phrase}".
REASONS = {
    "metadata": "to a cloud metadata service",
    "loopback": "to this server itself (loopback)",
    "unspecified": "to the unspecified address",
    "private": "inside a private network",
    "link-local": "to a link-local network",
    "cgnat": "inside a carrier-grade NAT network",
    "multicast": "to a multicast group",
    "reserved": "to a reserved or special-purpose address range",
}


def address_problem(address: IPAddress) -> str | None:
    """Why connecting to `address` would reach somewhere internal (a key of REASONS), or None for a public address."""
    if address in METADATA_ADDRESSES:
        return "metadata"
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_problem(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if any(address.version == network.version and address in network for network in _PRIVATE_NETWORKS):
        return "private"
    if address.version == 4 and address in _CGNAT:
        return "cgnat"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved or address.is_private or not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), which is where it really goes."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def ip_literal(host: str) -> IPAddress | None:
    """`host` as an IP address if it is one in any spelling a resolver accepts (127.1, 0x7f.1, 2130706433...)."""
    name = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _normalised(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def check_address(address: IPAddress, *, host: str, policy: EgressPolicy | None = None) -> None:
    """Raises EgressRefused unless the policy lets the server connect to `address` (which `host` resolved to)."""
    policy = policy or EgressPolicy.current()
    reason = address_problem(address)
    if reason is None or policy.allows(address, reason):
        return
    if ip_literal(host) is not None:
        spelled = host if host == str(address) else f"{host}, that is {address}"
        message = f"This address points {REASONS[reason]} ({spelled}); Switchboard does not connect there."
    else:
        # The resolved address stays in the log: echoing it would let anyone map the internal DNS.
        logger.warning("egress refused: %s resolves to %s (%s)", host, address, reason)
        message = f"{host} points {REASONS[reason]}; Switchboard does not connect there."
    raise EgressRefused(message, host=host, reason=reason)


def check_host_name(host: str, *, policy: EgressPolicy | None = None) -> None:
    """What can be said of a host without resolving it: metadata names, and IP literals in any spelling."""
    name = _normalised(host)
    if not name:
        raise EgressRefused("This address has no host name.", host=host, reason="invalid")
    if name in METADATA_HOSTNAMES:
        message = f"{name} points {REASONS['metadata']}; Switchboard does not connect there."
        raise EgressRefused(message, host=host, reason="metadata")
    literal = ip_literal(name)
    if literal is not None:
        check_address(literal, host=name, policy=policy)


# --- Resolution and raw sockets ----------------------------------------------------------------------

# The resolver seam: tests replace it to make names resolve where they need (never the network).
_getaddrinfo = socket.getaddrinfo


@dataclass(frozen=True)
class CheckedAddress:
    family: socket.AddressFamily
    sockaddr: tuple  # (ip, port) or (ip, port, flowinfo, scope_id)

    @property
    def ip(self) -> str:
        return self.sockaddr[0]


def resolve_and_check(host: str, port: int, *, policy: EgressPolicy | None = None) -> list[CheckedAddress]:
    """Every address `host` resolves to, all checked; EgressRefused if any is off-limits (a name that mixes public
    and internal addresses is refused whole). `socket.gaierror` when the name does not resolve."""
    policy = policy or EgressPolicy.current()
    check_host_name(host, policy=policy)
    name = _normalised(host)
    literal = ip_literal(name)
    if literal is not None:
        family = socket.AF_INET if literal.version == 4 else socket.AF_INET6
        sockaddr = (str(literal), port) if literal.version == 4 else (str(literal), port, 0, 0)
        return [CheckedAddress(family, sockaddr)]
    checked: list[CheckedAddress] = []
    for family, _type, _proto, _canonname, sockaddr in _getaddrinfo(name, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(sockaddr[0])
        check_address(address, host=name, policy=policy)
        candidate = CheckedAddress(socket.AddressFamily(family), tuple(sockaddr))
        if candidate not in checked:
            checked.append(candidate)
    if not checked:
        raise socket.gaierror(socket.EAI_NONAME, f"{name} has no address")
    return checked


def guarded_connect(
    host: str,
    port: int,
    *,
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
    socket_options: Iterable[tuple] = (),
) -> socket.socket:
    """A TCP socket to `host`:`port`, connected to an address that passed the policy (for smtplib, imaplib...)."""
    last_error: OSError | None = None
    options = list(socket_options or ())
    for address in resolve_and_check(host, port):
        sock = socket.socket(address.family, socket.SOCK_STREAM)
        try:
            for option in options:
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(address.sockaddr)
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    assert last_error is not None  # resolve_and_check returns at least one address
    raise last_error


# --- URLs --------------------------------------------------------------------------------------------


def check_url(url: str, *, resolve: bool = True, policy: EgressPolicy | None = None) -> None:
    """Raises EgressRefused unless the server may connect to `url` (scheme, host, and what the host resolves to now).

    For forms: a name that does not resolve (yet) passes, since every connection is checked again anyway."""
    policy = policy or EgressPolicy.current()
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise EgressRefused("This is not a valid web address.", host="", reason="invalid") from None
    _check_scheme(parts.scheme, policy)
    if parts.username is not None or parts.password is not None:
        raise EgressRefused(
            "Remove the user name and password from the address; put credentials in their own fields.",
            host=parts.hostname or "",
            reason="invalid",
        )
    host = parts.hostname or ""
    check_host_name(host, policy=policy)
    if resolve:
        with contextlib.suppress(socket.gaierror, UnicodeError):
            resolve_and_check(host, port or (443 if parts.scheme == "https" else 80), policy=policy)


def _check_scheme(scheme: str, policy: EgressPolicy) -> None:
    scheme = scheme.lower()
    if scheme == "https" or (scheme == "http" and not policy.require_https):
        return
    if scheme == "http":
        message = "Use an https:// address: Switchboard does not send workspace data over plain http."
    else:
        message = "Use an https:// address." if policy.require_https else "Use an http:// or https:// address."
    raise EgressRefused(message, reason="scheme")


def check_request_url(url: str) -> None:
    """The checks that need no DNS, for every request a guarded client sends (redirects included)."""
    policy = EgressPolicy.current()
    parts = urlsplit(str(url))
    _check_scheme(parts.scheme, policy)
    check_host_name(parts.hostname or "", policy=policy)


# --- httpx (openai, anthropic, google-genai) ---------------------------------------------------------


class _GuardedBackend(httpcore2.NetworkBackend):
    """httpcore's sync backend, connecting only to addresses the policy allows (the name still goes to TLS)."""

    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            addresses = resolve_and_check(host, port)
        except OSError as error:  # the name does not resolve: the SDK reports a connection error, as usual
            raise httpcore2.ConnectError(str(error)) from error
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address.ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise EgressRefused("Switchboard does not connect to local sockets.", reason="unix-socket")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncGuardedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            addresses = await anyio.to_thread.run_sync(resolve_and_check, host, port)
        except OSError as error:
            raise httpcore2.ConnectError(str(error)) from error
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address.ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise EgressRefused("Switchboard does not connect to local sockets.", reason="unix-socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    """certifi's CAs, loaded once per process: building a context took most of a client's ~70 ms set-up."""
    return httpx2.create_ssl_context(verify=True, trust_env=False)


def _pool_options(verify: Any, cert: Any, limits: httpx2.Limits) -> dict[str, Any]:
    shared = verify is True and cert is None
    return {
        "ssl_context": _default_ssl_context()
        if shared
        else httpx2.create_ssl_context(verify=verify, cert=cert, trust_env=False),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class GuardedTransport(httpx2.HTTPTransport):
    """httpx's transport without proxies, with the guarded network backend and the scheme check on every request."""

    def __init__(self, *, verify: Any = True, cert: Any = None, limits: httpx2.Limits | None = None) -> None:
        limits = limits or httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore2.ConnectionPool(network_backend=_GuardedBackend(), **_pool_options(verify, cert, limits))

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        check_request_url(str(request.url))
        return super().handle_request(request)


class AsyncGuardedTransport(httpx2.AsyncHTTPTransport):
    def __init__(self, *, verify: Any = True, cert: Any = None, limits: httpx2.Limits | None = None) -> None:
        limits = limits or httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore2.AsyncConnectionPool(
            network_backend=_AsyncGuardedBackend(), **_pool_options(verify, cert, limits)
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        check_request_url(str(request.url))
        return await super().handle_async_request(request)


def guarded_httpx_client(*, verify: Any = True, cert: Any = None, **client_options: Any) -> httpx2.Client:
    """An httpx client whose every connection passes the egress policy: pass it as an SDK's `http_client`."""
    transport = GuardedTransport(verify=verify, cert=cert)
    return httpx2.Client(transport=transport, trust_env=False, **client_options)


def guarded_async_httpx_client(*, verify: Any = True, cert: Any = None, **client_options: Any) -> httpx2.AsyncClient:
    transport = AsyncGuardedTransport(verify=verify, cert=cert)
    return httpx2.AsyncClient(transport=transport, trust_env=False, **client_options)


# --- requests / urllib3 (msal, Microsoft Graph; later Stripe, Twilio) --------------------------------


class _GuardedConnectionMixin:
    """urllib3 opens its socket in `_new_conn`; this one opens it to a checked address (TLS still uses the name)."""

    def _new_conn(self) -> socket.socket:
        timeout = socket.getdefaulttimeout() if self.timeout is _DEFAULT_TIMEOUT else self.timeout
        try:
            return guarded_connect(
                self._dns_host,
                self.port,
                timeout=timeout,
                source_address=self.source_address,
                socket_options=self.socket_options or (),
            )
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={timeout})"
            ) from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedHTTPAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with guarded connections, the scheme check on every request (redirects too), no proxies."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise EgressRefused("Switchboard does not send outbound requests through a proxy.", reason="proxy")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        check_request_url(request.url or "")
        return super().send(request, *args, **kwargs)


def guarded_requests_session() -> requests.Session:
    """A requests session whose every connection passes the egress policy (environment proxies and netrc ignored)."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedHTTPAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def refusal_in(error: BaseException | None) -> EgressRefused | None:
    """The EgressRefused behind `error` (SDKs wrap what their transport raised), if any."""
    for _ in range(6):  # SDKs wrap once or twice; the bound stops a cycle of causes
        if error is None or isinstance(error, EgressRefused):
            return error
        error = error.__cause__ or error.__context__
    return None
