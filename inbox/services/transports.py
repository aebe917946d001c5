"""How a finished email leaves: one transport per mailbox kind, returning the server's answer.

`send(mailbox, raw, envelope_from, recipients) -> str` gives the finished bytes to the mailbox's way out. IMAP and
forwarding mailboxes send by SMTP: the mailbox's own server when its settings name one (`smtp_host`, `smtp_port`,
`smtp_security` starttls|ssl|none, `smtp_username`, secret `smtp_password`), else the platform's. Other kinds
(Microsoft 365 through Graph, Gmail through its API) register their own with `@transport("microsoft365")`.

A refusal the server may lift (4xx, a dropped connection, a timeout) raises TransientSendError and is retried; one
it will not (5xx, a refused login, a destination the egress guard refuses) raises PermanentSendError.
"""

from __future__ import annotations

import functools
import smtplib
import socket
import ssl
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from core.egress import EgressRefused, guarded_connect

from ..models import Mailbox

TIMEOUT_SECONDS = 30.0
DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SECURITY = ("starttls", "ssl", "none")


class SendError(Exception):
    """The message was not accepted; `str()` is the server's answer (or what went wrong), shown on the message."""


class TransientSendError(SendError):
    """Try again later: the server deferred (4xx), or could not be reached."""


class PermanentSendError(SendError):
    """Do not try again: the server refused for good (5xx), or the configuration cannot work."""


Transport = Callable[[Mailbox | None, bytes, str, list[str]], str]
_transports: dict[str, Transport] = {}


def transport(*kinds: str) -> Callable[[Transport], Transport]:
    def register(function: Transport) -> Transport:
        for kind in kinds:
            _transports[kind] = function
        return function

    return register


def send(mailbox: Mailbox | None, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    """Sends through the mailbox kind's transport (SMTP when the kind has none of its own); the server's answer."""
    function = _transports.get(mailbox.kind, smtp_send) if mailbox is not None else smtp_send
    return function(mailbox, raw, envelope_from, recipients)


# --- SMTP ----------------------------------------------------------------------------------------


def smtp_send(mailbox: Mailbox | None, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    if mailbox is not None and mailbox.settings.get("smtp_host"):
        options = mailbox.settings
        return _smtp(
            host=str(options["smtp_host"]),
            port=int(options.get("smtp_port") or 587),
            security=str(options.get("smtp_security") or "starttls"),
            username=str(options.get("smtp_username") or ""),
            password=str(mailbox.secrets().get("smtp_password") or ""),
            raw=raw,
            envelope_from=envelope_from,
            recipients=recipients,
            guarded=True,
        )
    return platform_send(raw, envelope_from, recipients)


def platform_send(raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    """The platform's way out. With Django's SMTP backend configured, its EMAIL_* server, spoken to directly (we
    need the server's answer); with any other backend (files in development, memory in tests), that backend."""
    if settings.EMAIL_BACKEND != DJANGO_SMTP_BACKEND:
        return _django_backend_send(raw, envelope_from, recipients)
    return _smtp(
        host=settings.EMAIL_HOST,
        port=int(settings.EMAIL_PORT),
        security=_platform_security(),
        username=settings.EMAIL_HOST_USER,
        password=settings.EMAIL_HOST_PASSWORD,
        raw=raw,
        envelope_from=envelope_from,
        recipients=recipients,
        # The operator's own relay (often localhost:25) is trusted like the database; the guard is for addresses
        # a workspace types.
        guarded=False,
    )


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """Built once per process: loading the system's CAs took ~100 ms, most of a send."""
    context = ssl.create_default_context()
    if getattr(settings, "EGRESS_CA_BUNDLE", ""):
        context.load_verify_locations(settings.EGRESS_CA_BUNDLE)
    return context


def _platform_security() -> str:
    if getattr(settings, "EMAIL_USE_SSL", False):
        return "ssl"
    return "starttls" if settings.EMAIL_USE_TLS else "none"


def _smtp(
    *,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str,
    raw: bytes,
    envelope_from: str,
    recipients: list[str],
    guarded: bool,
) -> str:
    if security not in SECURITY:
        raise PermanentSendError(f"Unknown SMTP security {security!r}: use starttls, ssl or none.")
    context = _tls_context()
    client_class = _GuardedSMTP_SSL if security == "ssl" else _GuardedSMTP
    try:
        kwargs: dict[str, Any] = {"context": context} if security == "ssl" else {}
        with client_class(host, port, timeout=TIMEOUT_SECONDS, guarded=guarded, **kwargs) as client:
            client.ehlo()
            if security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if username:
                client.login(username, password)
            return _deliver(client, raw, envelope_from, recipients)
    except EgressRefused as error:
        raise PermanentSendError(str(error)) from None
    except smtplib.SMTPAuthenticationError as error:
        answer = _answer(error.smtp_code, error.smtp_error)
        raise PermanentSendError(f"The SMTP server refused the login: {answer}") from None
    except smtplib.SMTPResponseException as error:  # HELO, STARTTLS, MAIL FROM, DATA…
        raise _by_code(error.smtp_code, error.smtp_error) from None
    except smtplib.SMTPRecipientsRefused as error:
        raise _refused(error.recipients) from None
    except smtplib.SMTPNotSupportedError as error:
        raise PermanentSendError(f"The SMTP server does not support this: {error}") from None
    except ssl.SSLCertVerificationError as error:
        raise PermanentSendError(f"The SMTP server's certificate is not valid: {error.verify_message}") from None
    except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out (TimeoutError is an OSError)
        raise TransientSendError(f"Could not reach {host}:{port}: {error}") from None


def _ascii_domain(address: str) -> str:
    """The address with an internationalised domain in its ASCII form (IDNA), which every server takes."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def _mail_options(client: smtplib.SMTP, addresses: list[str]) -> list[str]:
    """SMTPUTF8 when an address keeps non-ASCII (its local part): refused before sending when the server lacks it."""
    if all(address.isascii() for address in addresses):
        return []
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("smtputf8"):
        raise PermanentSendError(
            "The mail server does not take internationalised addresses (no SMTPUTF8): "
            + ", ".join(address for address in addresses if not address.isascii())
        )
    return ["SMTPUTF8"]


def _deliver(client: smtplib.SMTP, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    envelope_from, *recipients = (_ascii_domain(address) for address in (envelope_from, *recipients))
    code, message = client.mail(envelope_from, _mail_options(client, [envelope_from, *recipients]))
    if code != 250:
        raise _by_code(code, message)
    accepted, refused = [], {}
    for recipient in recipients:
        code, message = client.rcpt(recipient)
        if code in (250, 251):
            accepted.append(recipient)
        else:
            refused[recipient] = (code, message)
    if not accepted:
        client.rset()
        raise _refused(refused)
    code, message = client.data(raw)
    if code != 250:
        raise _by_code(code, message)
    answer = _answer(code, message)
    if refused:  # sent to the others; the refused ones are said in the answer shown on the message
        answer += " (refused: " + "; ".join(f"{r}: {_answer(*refused[r])}" for r in refused) + ")"
    return answer


def _refused(recipients: dict[str, tuple[int, bytes]]) -> SendError:
    answers = "; ".join(f"{recipient}: {_answer(code, text)}" for recipient, (code, text) in recipients.items())
    transient = all(400 <= code < 500 for code, _text in recipients.values())
    return (TransientSendError if transient else PermanentSendError)(answers)


def _by_code(code: int, message: bytes | str) -> SendError:
    answer = _answer(code, message)
    return TransientSendError(answer) if 400 <= code < 500 or code < 0 else PermanentSendError(answer)


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


class _GuardedSMTP(smtplib.SMTP):
    """smtplib's client, connecting through the egress guard (the socket goes to the address that was checked)."""

    def __init__(self, *args: Any, guarded: bool = True, **kwargs: Any) -> None:
        self._guarded = guarded
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if not self._guarded:
            return super()._get_socket(host, port, timeout)
        return guarded_connect(host, port, timeout=timeout)


class _GuardedSMTP_SSL(smtplib.SMTP_SSL):
    def __init__(self, *args: Any, guarded: bool = True, **kwargs: Any) -> None:
        self._guarded = guarded
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if not self._guarded:
            return super()._get_socket(host, port, timeout)
        sock = guarded_connect(host, port, timeout=timeout)
        return self.context.wrap_socket(sock, server_hostname=host)


# --- Django's backend (development and tests) ----------------------------------------------------


class _RawEmailMessage(EmailMessage):
    """A finished message for Django's backends: they call `.message()` and send its bytes; the subject, body and
    recipients are kept readable too (tests look at `mail.outbox`)."""

    def __init__(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        import email
        import email.policy

        self.parsed = email.message_from_bytes(raw, policy=email.policy.SMTP)
        text = self.parsed.get_body(("plain",))
        body = text.get_content() if text is not None else ""
        super().__init__(subject=str(self.parsed["Subject"] or ""), body=body, from_email=envelope_from)
        self.to = [address.addr_spec for address in _addresses(self.parsed, "To")]
        self.cc = [address.addr_spec for address in _addresses(self.parsed, "Cc")]
        self.envelope = list(recipients)  # Bcc too, which no header names
        self.raw = raw

    def message(self, *args: Any, **kwargs: Any) -> Any:
        return self.parsed

    def recipients(self) -> list[str]:
        return list(self.envelope)


def _addresses(message: Any, name: str) -> list[Any]:
    header = message[name]
    return list(header.addresses) if header is not None else []


def _django_backend_send(raw: bytes, envelope_from: str, recipients: list[str]) -> str:
    sent = get_connection(fail_silently=False).send_messages([_RawEmailMessage(raw, envelope_from, recipients)])
    if not sent:
        raise TransientSendError(f"{settings.EMAIL_BACKEND} did not take the message.")
    return f"250 Accepted by {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]} backend"
