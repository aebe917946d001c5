"""An IMAP client for one support mailbox: connect through the egress guard, log in (password or XOAUTH2), list
the messages after a UID, fetch them one at a time, then mark or move them.

Errors come out as `ImapError`, whose message is a sentence an admin can act on ("The server refused the user name
or password"), never a traceback.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.egress import EgressRefused, guarded_connect

from . import FetchError

TIMEOUT_SECONDS = 30.0
SECURITY_SSL = "ssl"  # implicit TLS, port 993
SECURITY_STARTTLS = "starttls"  # plain connection upgraded before login, port 143
AFTER_LEAVE = "leave"
AFTER_SEEN = "seen"
AFTER_MOVE = "move"
DEFAULT_PORTS = {SECURITY_SSL: 993, SECURITY_STARTTLS: 143}


class ImapError(FetchError):
    """A failure to show people: `str()` says what went wrong and what to check."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    security: str = SECURITY_SSL
    password: str = ""
    oauth_token: str = ""  # an OAuth2 access token: XOAUTH2 instead of the password
    folder: str = "INBOX"
    after_import: str = AFTER_SEEN
    move_to: str = ""

    @classmethod
    def from_settings(cls, settings: dict[str, Any], secrets: dict[str, Any]) -> ImapConfig:
        security = settings.get("security") or SECURITY_SSL
        return cls(
            host=str(settings.get("host", "")).strip(),
            port=int(settings.get("port") or DEFAULT_PORTS.get(security, 993)),
            username=str(settings.get("username", "")),
            security=security,
            password=str(secrets.get("password", "")),
            oauth_token=str(secrets.get("oauth_token", "")),
            folder=str(settings.get("folder") or "INBOX"),
            after_import=settings.get("after_import") or AFTER_SEEN,
            move_to=str(settings.get("move_to", "")),
        )


def ssl_context() -> ssl.SSLContext:
    """Certificates are always verified: against the system's authorities, plus the operator's extra ones
    (EGRESS_CA_BUNDLE, for every outbound TLS; INBOX_IMAP_CA_FILE, for IMAP only)."""
    context = ssl.create_default_context()
    for bundle in (settings.EGRESS_CA_BUNDLE, settings.INBOX_IMAP_CA_FILE):
        if bundle:
            context.load_verify_locations(cafile=bundle)
    return context


def xoauth2_string(username: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (Google's and Microsoft's documented format)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


class _GuardedIMAP4(imaplib.IMAP4):
    """imaplib's client on a socket from the egress guard (STARTTLS upgrades it before login)."""

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return guarded_connect(self.host, self.port, timeout=timeout)


class _GuardedIMAP4SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = guarded_connect(self.host, self.port, timeout=timeout)
        try:
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class ImapSession:
    """A logged-in connection with one folder selected."""

    def __init__(self, client: imaplib.IMAP4, config: ImapConfig) -> None:
        self.client = client
        self.config = config
        self.uidvalidity = 0

    def select(self) -> int:
        """Selects the configured folder read-write; returns its UIDVALIDITY."""
        status, data = self._run("select", _quoted(self.config.folder))
        if status != "OK":
            raise ImapError(f'The folder "{self.config.folder}" does not exist on the server ({_text(data)}).')
        _, values = self.client.response("UIDVALIDITY")
        self.uidvalidity = int(values[0]) if values and values[0] else 0
        return self.uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than `last_uid`, ascending (only integers: the folder is never held in memory)."""
        status, data = self._run("uid", "SEARCH", None, f"UID {last_uid + 1}:*")
        if status != "OK":
            raise ImapError(f"The server could not list the messages ({_text(data)}).")
        # "n:*" always matches the highest UID, even one below n: filter.
        return sorted(uid for uid in (int(part) for part in b" ".join(data or [b""]).split()) if uid > last_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """The size of each message, asked in one command (so a huge one is never fetched whole)."""
        if not uids:
            return {}
        status, data = self._run("uid", "FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
        if status != "OK":
            raise ImapError(f"The server could not list the messages' sizes ({_text(data)}).")
        found = {}
        for line in data or []:
            text = (line[0] if isinstance(line, tuple) else line or b"").decode(errors="replace")
            uid, size = re.search(r"UID (\d+)", text), re.search(r"RFC822\.SIZE (\d+)", text)
            if uid and size:
                found[int(uid[1])] = int(size[1])
        return found

    def fetch(self, uid: int, *, headers_only: bool = False) -> bytes | None:
        """The whole message (or its headers), without setting \\Seen; None when it vanished meanwhile."""
        section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        status, data = self._run("uid", "FETCH", str(uid), f"({section})")
        if status != "OK":
            raise ImapError(f"The server would not hand out message {uid} ({_text(data)}).")
        for part in data or []:
            if isinstance(part, tuple) and len(part) == 2:
                return part[1]
        return None

    def after_import(self, uid: int) -> None:
        """What the admin chose to happen to an imported message on the server."""
        action = self.config.after_import
        if action == AFTER_SEEN:
            self._ok(self._run("uid", "STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "mark it as read")
        elif action == AFTER_MOVE:
            self._move(uid)

    def _move(self, uid: int) -> None:
        target = _quoted(self.config.move_to)
        if "MOVE" in self.client.capabilities:
            self._ok(self._run("uid", "MOVE", str(uid), target), f'move it to "{self.config.move_to}"')
            return
        self._ok(self._run("uid", "COPY", str(uid), target), f'copy it to "{self.config.move_to}"')
        self._ok(self._run("uid", "STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted \Seen)"), "mark it deleted")
        if "UIDPLUS" in self.client.capabilities:
            self._run("uid", "EXPUNGE", str(uid))
        else:
            self._run("expunge")

    def folder_exists(self, name: str) -> bool:
        status, data = self._run("list", '""', _quoted(name))
        return status == "OK" and any(item for item in data or [] if item)

    def _run(self, command: str, *args: Any) -> tuple[str, Any]:
        with _readable_errors(self.config):
            return getattr(self.client, command)(*args)

    @staticmethod
    def _ok(result: tuple[str, Any], what: str) -> None:
        status, data = result
        if status != "OK":
            raise ImapError(f"The server would not {what} ({_text(data)}).")


@contextlib.contextmanager
def imap_session(config: ImapConfig, *, timeout: float = TIMEOUT_SECONDS) -> Iterator[ImapSession]:
    """Connects, logs in and selects the folder; every failure on the way is an `ImapError` in plain words."""
    client = _connect(config, timeout)
    try:
        _login(client, config)
        session = ImapSession(client, config)
        session.select()
        yield session
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def imap_check(config: ImapConfig) -> str:
    """Logs in and selects the folder (and checks the move-to folder): the "Test connection" button."""
    with imap_session(config) as session:
        if config.after_import == AFTER_MOVE and not session.folder_exists(config.move_to):
            raise ImapError(f'The folder "{config.move_to}" to move imported mail to does not exist on the server.')
        count = len(session.uids_after(0))
    return f'Connected to {config.host} and opened "{config.folder}" ({count} message{"s" if count != 1 else ""}).'


def _connect(config: ImapConfig, timeout: float) -> imaplib.IMAP4:
    if not config.host:
        raise ImapError("Enter the IMAP server's name, e.g. imap.example.com.")
    with _readable_errors(config):
        if config.security == SECURITY_STARTTLS:
            client = _GuardedIMAP4(config.host, config.port, timeout=timeout)
            try:
                client.starttls(ssl_context=ssl_context())
            except BaseException:
                with contextlib.suppress(Exception):
                    client.shutdown()
                raise
            return client
        return _GuardedIMAP4SSL(config.host, config.port, ssl_context=ssl_context(), timeout=timeout)


def _login(client: imaplib.IMAP4, config: ImapConfig) -> None:
    try:
        if config.oauth_token:
            client.authenticate("XOAUTH2", lambda _challenge: xoauth2_string(config.username, config.oauth_token))
        else:
            client.login(config.username, config.password)
    except imaplib.IMAP4.error as error:
        how = "the access token (sign in again to renew it)" if config.oauth_token else "the user name or password"
        raise ImapError(f"The server refused {how}: {_text(error.args[:1])}.") from error
    except (OSError, imaplib.IMAP4.abort) as error:
        raise ImapError(f"The connection to {config.host} broke off while logging in ({error}).") from error


@contextlib.contextmanager
def _readable_errors(config: ImapConfig) -> Iterator[None]:
    where = f"{config.host}:{config.port}"
    try:
        yield
    except ImapError:
        raise
    except EgressRefused as error:
        raise ImapError(str(error)) from error
    except socket.gaierror as error:
        raise ImapError(f'The server name "{config.host}" could not be found. Check its spelling.') from error
    except ConnectionRefusedError as error:
        raise ImapError(f"{where} refused the connection. Check the port and the security setting.") from error
    except TimeoutError as error:
        raise ImapError(f"{where} did not answer within {TIMEOUT_SECONDS:.0f} seconds.") from error
    except ssl.SSLCertVerificationError as error:
        raise ImapError(
            f"The certificate of {config.host} could not be verified ({error.verify_message}). "
            "Check the server name: it must match the certificate."
        ) from error
    except ssl.SSLError as error:
        raise ImapError(
            f"No secure connection could be made with {where}. Check the security setting "
            "(SSL/TLS is usually port 993, STARTTLS port 143)."
        ) from error
    except imaplib.IMAP4.abort as error:
        raise ImapError(f"The connection to {where} broke off ({error}).") from error
    except imaplib.IMAP4.error as error:
        raise ImapError(f"The server answered with an error: {error}.") from error
    except OSError as error:
        raise ImapError(f"Could not connect to {where}: {error.strerror or error}.") from error


def _quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    parts = [part.decode(errors="replace") if isinstance(part, bytes) else str(part) for part in data or []]
    text = " ".join(parts).strip()
    text = re.sub(r"^\[[A-Z-]+\]\s*", "", text)  # the response code ([AUTHENTICATIONFAILED]) is for machines
    return text.rstrip(".") or "no reason given"
