"""Fixtures for the AI app's tests: local fake vendor servers that speak each vendor's real wire format.

Each fake runs on 127.0.0.1 for one test and is stopped afterwards. All share this API
(see `ai/tests/fakes/server.py`):

- `fake.base_url` — what goes in `ProviderSettings.base_url`; `fake.api_key` — the key it accepts;
  `fake.provider_settings(**overrides)` — ready-made `ProviderSettings` pointing at the fake (2 s timeout).
- `fake.requests` — every `RecordedRequest` received (`.method`, `.path`, `.query`, `.headers` with credentials
  replaced by "[redacted]", `.body` parsed JSON/form, `.credential`); `fake.last`, `fake.requests_to("/embeddings")`,
  `fake.received_text()` (all paths and bodies, for "no raw PII reached the vendor" assertions).
- Scripting, first in first out (`path=` keeps an entry for the first request whose path contains it):
  `fake.enqueue(status=429, body={...}, headers={"retry-after": "1"}, delay=0.0, path=None)`,
  `fake.enqueue_error(500)` (the vendor's error body), `fake.enqueue_rate_limit(retry_after=2)`,
  `fake.enqueue_malformed()`, `fake.enqueue_slow(seconds)` (longer than the client timeout = a timeout),
  `fake.enqueue_reply(text, ...)` and `fake.enqueue_empty()` in the vendor's own shapes.
  Unscripted, a fake answers like the vendor: "Echo: <last user message>", or JSON matching the requested schema.

Vendor specifics: a model not in `fake.models` gets the vendor's 404 (append to the list to allow one);
`openai_fake.api_key = None` accepts any key (like Ollama); `openai_fake.provider_settings(azure=True)` uses the
Azure layout; Gemini's 429 carries its wait in the body (`enqueue_rate_limit(..., in_header=True)` for a header).
`microsoft_fake` serves the identity platform and Graph over TLS with a trustme CA (`fake.ca_path`);
`fake.token_requests` / `fake.graph_requests` split what reached the token endpoint and Graph;
`fake.token_lifetime` (seconds) and `fake.expire_tokens()` drive token refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import trustme

from ai.tests.fakes.anthropic_fake import AnthropicFake
from ai.tests.fakes.google_fake import GoogleFake
from ai.tests.fakes.microsoft_fake import MicrosoftFake
from ai.tests.fakes.openai_fake import OpenAIFake


@dataclass(frozen=True)
class FakeCA:
    ca: trustme.CA
    path: str  # PEM file of the CA certificate, for `verify=` / `ca_bundle`


@pytest.fixture
def openai_fake() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


@pytest.fixture
def anthropic_fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as fake:
        yield fake


@pytest.fixture
def google_fake() -> Iterator[GoogleFake]:
    with GoogleFake() as fake:
        yield fake


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory) -> FakeCA:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("tls") / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return FakeCA(ca=ca, path=str(path))


@pytest.fixture
def microsoft_fake(tls_ca, settings) -> Iterator[MicrosoftFake]:
    from ai.providers.copilot_provider import msal_http_caches

    settings.EGRESS_CA_BUNDLE = tls_ca.path  # the operator's extra CA, as a deployment would trust a corporate one
    with MicrosoftFake(ca=tls_ca.ca, ca_path=tls_ca.path) as fake:
        yield fake
    msal_http_caches.clear()  # msal's discovery answers for this fake's authority are of no use to later tests
