"""Fixtures for the cloud mail fakes: import them into a test module (`from inbox.tests.fakes.fixtures import *`).

Each fixture starts its fake for one test, trusts the session's trustme CA through EGRESS_CA_BUNDLE (the
operator's extra CA, as a deployment would trust a corporate one) and points the settings at it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trustme

from inbox.fetchers import base
from inbox.tests.fakes.gmail import GmailFake
from inbox.tests.fakes.microsoft365 import GraphFake

__all__ = ["gmail_fake", "graph_fake", "mail_ca", "recorded_waits"]


@pytest.fixture(scope="session")
def mail_ca(tmp_path_factory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("mail-tls") / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture
def graph_fake(mail_ca, settings) -> Iterator[GraphFake]:
    ca, path = mail_ca
    with GraphFake(ca=ca, ca_path=path) as fake:
        settings.EGRESS_CA_BUNDLE = path
        settings.MICROSOFT_LOGIN_BASE_URL = fake.origin
        settings.MICROSOFT_GRAPH_BASE_URL = fake.origin
        yield fake


@pytest.fixture
def gmail_fake(mail_ca, settings) -> Iterator[GmailFake]:
    ca, path = mail_ca
    with GmailFake(ca=ca, ca_path=path) as fake:
        settings.EGRESS_CA_BUNDLE = path
        settings.GOOGLE_OAUTH_CLIENT_ID = fake.client_id
        settings.GOOGLE_OAUTH_CLIENT_SECRET = fake.client_secret
        settings.GOOGLE_OAUTH_AUTH_URL = fake.auth_url
        settings.GOOGLE_OAUTH_TOKEN_URL = fake.token_url
        settings.GMAIL_API_BASE_URL = fake.api_root
        yield fake


@pytest.fixture
def recorded_waits(monkeypatch) -> list[float]:
    """The Retry-After waits the fetchers honour, recorded instead of slept (the fake already answers again)."""
    waits: list[float] = []
    monkeypatch.setattr(base, "sleep", waits.append)
    return waits
