"""An SMTP server the suite starts (aiosmtpd on 127.0.0.1, a free port): it records what it receives, and answers
4xx or 5xx when a test asks it to. Also over TLS (STARTTLS, or TLS from the start) with a certificate from a local
CA (trustme), which the client trusts through EGRESS_CA_BUNDLE as an operator's corporate CA would be."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the next DATA commands are answered with these, in order
    users: dict[str, str] = field(default_factory=dict)

    def answer_next(self, *answers: str) -> None:
        self.answers.extend(answers)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, login))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.users.get(auth_data.login.decode()) == (
            auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(server: SmtpServer, **options) -> Controller:
    controller = Controller(
        server, hostname=server.host, port=server.port, authenticator=server.authenticate, **options
    )
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port(), users={"support": "s3cret-smtp"})
    # Plain over loopback; real servers offer STARTTLS first (the TLS fixtures below do).
    controller = _serve(server, auth_require_tls=False)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_ca(tmp_path_factory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def smtp_server_starttls(smtp_ca) -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port(), users={"support": "s3cret-smtp"})
    controller = _serve(server, tls_context=_server_tls(smtp_ca[0]), require_starttls=True)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server_ssl(smtp_ca) -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port(), users={"support": "s3cret-smtp"})
    # The whole connection is TLS; aiosmtpd's auth_require_tls only knows STARTTLS, so it would refuse AUTH here.
    controller = _serve(server, ssl_context=_server_tls(smtp_ca[0]), auth_require_tls=False)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def trusted_smtp_ca(settings, smtp_ca) -> Iterator[str]:
    """The client trusts the suite's CA (EGRESS_CA_BUNDLE); its cached TLS context is rebuilt around the test."""
    from inbox.services import transports

    settings.EGRESS_CA_BUNDLE = smtp_ca[1]
    transports._tls_context.cache_clear()
    yield smtp_ca[1]
    transports._tls_context.cache_clear()
