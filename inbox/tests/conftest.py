"""Fixtures of the inbox tests: real mail servers over sockets. An SMTP server (aiosmtpd, smtp_server.py) that
records what it receives and answers 4xx/5xx on request, also over TLS; and an IMAP server (dovecot,
imap_server.py), one account per test.

Without dovecot the tests that need it are skipped, except under CI=true, where they fail: a skipped mail suite
would pass unnoticed (`make test` installs dovecot when it can, as it does chromium).
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from core.testing.fixtures import _in_ci

from .imap_server import ImapAccount, ImapServer, dovecot_binary, imap_server_start
from .smtp_server import SmtpServer, _serve, free_port

# The file exists before any server process starts, so live servers (daphne, Celery) inherit the setting and trust
# the certificate authority the IMAP server fixture writes into it.
IMAP_CA_PATH = Path(tempfile.gettempdir()) / f"switchboard-imap-ca-{os.getpid()}.pem"
os.environ["INBOX_IMAP_CA_FILE"] = str(IMAP_CA_PATH)


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    if dovecot_binary() is None:
        message = "The IMAP tests need Debian's dovecot: apt-get install dovecot-imapd"
        if _in_ci():
            pytest.fail(f"CI=true and dovecot is missing. {message}")
        pytest.skip(message)
    server = imap_server_start(IMAP_CA_PATH)
    yield server
    server.stop()
    IMAP_CA_PATH.unlink(missing_ok=True)


@pytest.fixture
def imap_account(imap_server: ImapServer, settings) -> ImapAccount:
    """A fresh, empty account on the server, which the code under test trusts."""
    settings.INBOX_IMAP_CA_FILE = str(imap_server.ca_path)
    return imap_server.account()


# --- SMTP ---


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
