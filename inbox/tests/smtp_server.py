"""An SMTP server the suite starts (aiosmtpd on 127.0.0.1, a free port): it records what it receives, and answers
4xx or 5xx when a test asks it to. Also over TLS (STARTTLS, or TLS from the start) with a certificate from a local
CA (trustme), which the client trusts through EGRESS_CA_BUNDLE as an operator's corporate CA would be."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

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
