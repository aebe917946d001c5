"""Fixtures of the inbox tests: a real IMAP server (dovecot, see imap_server.py), one account per test.

Without dovecot the tests that need it are skipped, except under CI=true, where they fail: a skipped mail suite
would pass unnoticed (`make test` installs dovecot when it can, as it does chromium).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.testing.fixtures import _in_ci

from .imap_server import ImapAccount, ImapServer, dovecot_binary, imap_server_start

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
