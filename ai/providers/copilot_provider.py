"""Microsoft 365 Copilot through Microsoft Graph: msal client-credentials tokens, Graph calls over `requests`.

Settings: `api_key` is the app registration's client secret; `extra` holds `tenant_id`, `client_id`, and optionally
`authority_host` (default https://login.microsoftonline.com), `graph_base_url` (default https://graph.microsoft.com;
`base_url` is used when `graph_base_url` is absent), `scope` (default `<graph_base_url>/.default`), `time_zone`
(default UTC) and `web_grounding` (default off). There is no per-workspace proxy or CA file: msal and Graph go through
the egress guard (`core.egress.guarded_requests_session`), which must see every destination itself, and extra
certificate authorities are the operator's (the EGRESS_CA_BUNDLE setting).

Tokens: one `msal.ConfidentialClientApplication` per (authority, client id, secret, TLS settings) is kept for the
life of the process, so its in-memory token cache outlives a provider object: a second call reuses the cached
token and msal asks for a new one only when the cached one is within five minutes of expiry. When Graph
answers 401 anyway (token revoked), the cached tokens are dropped so the next call gets a fresh one.

HTTP: msal and Graph share nothing with the environment (`trust_env=False`): `verify` is EGRESS_CA_BUNDLE, else
`REQUESTS_CA_BUNDLE`, else certifi. (With `trust_env=True`, requests lets `REQUESTS_CA_BUNDLE` override an
explicit `verify`, and could apply `~/.netrc` credentials.) msal refuses non-https authorities; tests serve a
fake over TLS with a `trustme` CA set as EGRESS_CA_BUNDLE. `instance_discovery=False`: msal does not ask
login.microsoftonline.com to validate the authority host (it is configured by an admin, and may be a sovereign cloud).

The Copilot Chat API (Graph beta) as this module assumes it, from Microsoft's reference as of late 2025:
- `POST {graph}/beta/copilot/conversations` with `{}` → 201 `copilotConversation` (`id`, `state`, `turnCount`…);
- `POST {graph}/beta/copilot/conversations/{id}/chat` with `{"message": {"text": ...}, "locationHint":
  {"timeZone": ...}, "contextualResources": {"webContext": {"isWebEnabled": false}}}` → 200 `copilotConversation`
  whose `messages` hold the prompt and then Copilot's answer: the answer is the last message's `text`. A `state`
  of `disengagedForRai` means Copilot's responsible-AI filter ended the conversation.
- Copilot has no system role, sampling settings, token counts or structured output: system messages and earlier
  turns are written into the one message text, JSON is asked for in words and cut out of the answer, and the token
  counts are 0 (Copilot is paid per licence, not per token). Each `generate()` opens a new conversation (two Graph
  calls), so no state leaks between tickets or workspaces.
- Microsoft documents the Chat API for *delegated* permissions only ("Application: not supported"), so the real
  service can be expected to refuse a client-credentials token with 403 until that changes; the error message
  then says why. Everything else (tokens, Graph, error mapping) is the same for a delegated token, which only
  `access_token()` would have to obtain differently. Tests run against the fake.
- `settings.timeout_seconds` bounds each token request, and the two Graph calls of `generate()` together.
- `test_connection()` gets a token, reads `/v1.0/organization` (needs Organization.Read.All) and opens a
  conversation, which proves Copilot accepts the token without spending a chat turn.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections import OrderedDict
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import msal
import requests
from django.conf import settings as django_settings

from core.egress import EgressRefused, guarded_requests_session

from ._vendor_common import (
    bad_response,
    egress_blocked,
    error_detail,
    extract_json_text,
    json_instructions,
    retry_after_seconds,
    scrub,
    shorten,
    status_error,
)
from .base import (
    AuthenticationFailed,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Message,
    Misconfigured,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
    Unsupported,
)

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_BASE_URL = "https://graph.microsoft.com"
GRAPH = "Microsoft Graph"
ENTRA = "Microsoft Entra ID"
COPILOT_403_HINT = (
    " The Copilot Chat API needs a Microsoft 365 Copilot licence, and Microsoft currently documents it for "
    "delegated (signed-in user) permissions only, not for an app's client-credentials token."
)
_AUTH_ERRORS = {"invalid_client"}
_CONFIG_ERRORS = {"invalid_request", "invalid_tenant", "unauthorized_client", "invalid_scope", "unsupported_grant_type"}
_MAX_APPS = 256
# What msal raises: transport errors, service errors (5xx from the token endpoint), and ValueError when the
# authority's OpenID configuration cannot be read (unknown tenant or host).
_MSAL_FAILURES = (requests.RequestException, msal.exceptions.MsalError, ValueError, EgressRefused)


class _TokenApps:
    """Process-wide msal applications (each with its token cache), least recently used dropped beyond a cap."""

    def __init__(self) -> None:
        self._apps: OrderedDict[tuple, msal.ConfidentialClientApplication] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build) -> msal.ConfidentialClientApplication:
        with self._lock:
            if key in self._apps:
                self._apps.move_to_end(key)
                return self._apps[key]
        # Built outside the lock: msal reads the authority's OpenID configuration over the network here, and
        # one slow tenant must not hold up the others. If building fails, nothing is cached.
        app = build()
        with self._lock:
            app = self._apps.setdefault(key, app)  # another thread may have built one meanwhile
            self._apps.move_to_end(key)
            if len(self._apps) > _MAX_APPS:
                self._apps.popitem(last=False)
            return app

    def clear(self) -> None:
        with self._lock:
            self._apps.clear()


token_apps = _TokenApps()


class CopilotProvider:
    name: ClassVar[str] = "copilot"
    DEFAULT_MODEL: ClassVar[str] = "microsoft-365-copilot"
    is_external: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        extra = dict(settings.extra or {})
        self.tenant_id = str(extra.get("tenant_id") or "").strip()
        self.client_id = str(extra.get("client_id") or "").strip()
        self.authority_host = str(extra.get("authority_host") or DEFAULT_AUTHORITY_HOST).rstrip("/")
        graph = extra.get("graph_base_url") or settings.base_url or DEFAULT_GRAPH_BASE_URL
        self.graph_base_url = str(graph).rstrip("/")
        self.scope = str(extra.get("scope") or f"{self.graph_base_url}/.default")
        # Extra certificate authorities are the operator's choice (a corporate CA), never a workspace's.
        self.ca_bundle = str(getattr(django_settings, "EGRESS_CA_BUNDLE", "") or "")
        self.verify: str | bool = self.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True
        self.time_zone = str(extra.get("time_zone") or "UTC")
        self.web_grounding = bool(extra.get("web_grounding", False))
        self.model = settings.model or self.DEFAULT_MODEL
        self._session: requests.Session | None = None

    # ---- Provider protocol -------------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> GenerateResponse:
        prompt = compose_prompt(request)
        deadline = time.monotonic() + self.settings.timeout_seconds
        conversation = self._graph("POST", "/beta/copilot/conversations", {}, deadline=deadline)
        conversation_id = conversation.get("id")
        if not conversation_id:
            raise bad_response(GRAPH, "the new Copilot conversation had no id.")
        body = {
            "message": {"text": prompt},
            "locationHint": {"timeZone": self.time_zone},
            "contextualResources": {"webContext": {"isWebEnabled": self.web_grounding}},
        }
        path = f"/beta/copilot/conversations/{quote(str(conversation_id), safe='')}/chat"
        answer = self._graph("POST", path, body, deadline=deadline)
        text = answer_text(answer, prompt)
        if request.json_schema is not None:
            text = extract_json_text(text)
        return GenerateResponse(text=text, model=self.model, input_tokens=0, output_tokens=0, finish_reason="stop")

    def embed(self, texts: list[str]) -> EmbedResponse:
        raise Unsupported("Microsoft 365 Copilot offers no embeddings; route embeddings to the local provider.")

    def test_connection(self) -> str:
        self._graph("GET", "/v1.0/organization")
        self._graph("POST", "/beta/copilot/conversations", {})
        # Only our own words: a connection test never repeats what the endpoint said (ai.services).
        return (
            f"Connected to Microsoft Graph for the tenant {self.tenant_id}; "
            "the Copilot Chat API accepted the app's token."
        )

    # ---- tokens ------------------------------------------------------------------------------------------------
    def access_token(self) -> str:
        """A Graph token from msal's cache, or a new one from the token endpoint when none is fresh enough."""
        app = self._token_app()
        try:
            result = app.acquire_token_for_client(scopes=[self.scope])
        except _MSAL_FAILURES as error:  # msal lets transport and service errors through as they are
            raise self._token_failure(error) from None
        if result and result.get("access_token"):
            return result["access_token"]
        raise self._token_error(result or {})

    @property
    def token_cache(self) -> msal.TokenCache:
        """The msal token cache shared by every provider object with these credentials."""
        return self._token_app().token_cache

    def forget_tokens(self) -> None:
        """Drop this app's cached access tokens (Graph said the current one is no good)."""
        cache = self.token_cache
        for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(entry)

    def _token_app(self) -> msal.ConfidentialClientApplication:
        self._check_settings()
        secret_hash = hashlib.sha256(self.settings.api_key.encode()).hexdigest()
        key = (self.authority, self.client_id, secret_hash, str(self.verify), self.settings.timeout_seconds)
        return token_apps.get(key, self._build_app)

    def _build_app(self) -> msal.ConfidentialClientApplication:
        session = self._new_session()
        # msal takes no timeout with a custom http_client: bind one to the session, as msal's docs suggest.
        session.request = functools.partial(session.request, timeout=self.settings.timeout_seconds)
        try:
            return msal.ConfidentialClientApplication(
                self.client_id,
                client_credential=self.settings.api_key,
                authority=self.authority,
                http_client=session,
                instance_discovery=False,
            )
        except _MSAL_FAILURES as error:  # authority discovery happens here, so this can fail like a token request
            raise self._token_failure(error) from None

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    def _check_settings(self) -> None:
        missing = [
            label for label, value in (("tenant id", self.tenant_id), ("client id", self.client_id)) if not value
        ]
        if not self.settings.api_key:
            missing.append("client secret")
        if missing:
            raise Misconfigured(f"Microsoft 365 Copilot needs the app registration's {', '.join(missing)}.")
        if urlsplit(self.authority_host).scheme != "https":
            raise Misconfigured(f"The Microsoft authority must be an https address, not {self.authority_host!r}.")
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise Misconfigured("EGRESS_CA_BUNDLE names a file that does not exist on this server.")

    def _token_failure(self, error: Exception) -> ProviderError:
        if isinstance(error, ProviderError):
            return error
        if isinstance(error, EgressRefused):
            return egress_blocked(error)
        if isinstance(error, requests.Timeout):
            return ProviderTimeout(f"{ENTRA} did not answer within {self.settings.timeout_seconds:g} s.")
        if isinstance(error, requests.exceptions.SSLError):
            return ProviderUnavailable(f"The TLS certificate of {self._host(self.authority_host)} is not trusted.")
        if isinstance(error, requests.RequestException):
            return ProviderUnavailable(f"Could not reach {ENTRA} at {self._host(self.authority_host)}.")
        if isinstance(error, msal.exceptions.MsalServiceError):
            return ProviderUnavailable(f"{ENTRA} failed to issue a token: {self._clean(str(error))}", reached=True)
        if isinstance(error, ValueError):  # msal: "Unable to get authority configuration" (unknown tenant/host)
            return Misconfigured(
                f"{ENTRA} at {self._host(self.authority_host)} does not know the tenant '{self.tenant_id}': "
                "check the tenant id and the authority host.",
                reached=True,
            )
        return ProviderUnavailable(f"{ENTRA} failed: {self._clean(str(error))}", reached=True)

    def _token_error(self, result: dict[str, Any]) -> ProviderError:
        code = str(result.get("error") or "unknown_error")
        detail = self._clean(str(result.get("error_description") or code).split(" Trace ID:")[0])
        if code in _AUTH_ERRORS:
            return AuthenticationFailed(f"{ENTRA} rejected the app's credentials ({code}): {detail}", reached=True)
        if code in _CONFIG_ERRORS:
            return Misconfigured(f"{ENTRA} refused the token request ({code}): {detail}", reached=True)
        return ProviderUnavailable(f"{ENTRA} could not issue a token ({code}): {detail}", reached=True)

    # ---- Graph -------------------------------------------------------------------------------------------------
    def _graph(self, method: str, path: str, body: Any = None, *, deadline: float | None = None) -> dict[str, Any]:
        token = self.access_token()
        timeout = self.settings.timeout_seconds if deadline is None else max(0.1, deadline - time.monotonic())
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = self.session.request(
                method, f"{self.graph_base_url}{path}", json=body, headers=headers, timeout=timeout
            )
        except EgressRefused as error:
            raise egress_blocked(error) from None
        except requests.Timeout:
            raise ProviderTimeout(f"{GRAPH} did not answer within {self.settings.timeout_seconds:g} s.") from None
        except requests.exceptions.SSLError:
            raise ProviderUnavailable(
                f"The TLS certificate of {self._host(self.graph_base_url)} is not trusted."
            ) from None
        except requests.RequestException:
            raise ProviderUnavailable(f"Could not reach {GRAPH} at {self._host(self.graph_base_url)}.") from None
        if response.status_code >= 400:
            raise self._graph_error(response, path)
        try:
            document = response.json()
        except ValueError:
            raise bad_response(GRAPH, f"the body of {path} was not JSON.") from None
        if not isinstance(document, dict):
            raise bad_response(GRAPH, f"the body of {path} was not a JSON object.")
        return document

    def _graph_error(self, response: requests.Response, path: str) -> ProviderError:
        if response.status_code == 401:
            self.forget_tokens()  # the next call asks Entra ID for a new token
        try:
            detail = error_detail(response.json())
        except ValueError:  # not JSON: whatever answered, its words stay out of the messages
            detail = ""
        return status_error(
            GRAPH,
            response.status_code,
            detail,
            retry_after=retry_after_seconds(response.headers),
            secrets=(self.settings.api_key,),
            request_id=response.headers.get("request-id"),
            hint=COPILOT_403_HINT if response.status_code == 403 and "/copilot/" in path else "",
        )

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _new_session(self) -> requests.Session:
        session = guarded_requests_session()  # trust_env off: no environment proxies, netrc or CA override
        session.verify = self.verify
        return session

    def _clean(self, text: str) -> str:
        return shorten(scrub(text, self.settings.api_key))

    @staticmethod
    def _host(url: str) -> str:
        return urlsplit(url).netloc or url


def compose_prompt(request: GenerateRequest) -> str:
    """One message text for Copilot: instructions, earlier turns, the question, and the JSON rule if any."""
    system = [m.content for m in request.messages if m.role == "system"]
    turns = [m for m in request.messages if m.role != "system"]
    sections = []
    if system:
        sections.append("Instructions:\n" + "\n\n".join(system))
    if len(turns) > 1:
        sections.append("Conversation so far:\n" + "\n".join(_turn_line(m) for m in turns[:-1]))
    if turns:
        sections.append(turns[-1].content if len(sections) == 0 else "Request:\n" + turns[-1].content)
    if request.json_schema is not None:
        sections.append(json_instructions(request.json_schema))
    return "\n\n".join(sections)


def _turn_line(message: Message) -> str:
    speaker = "Assistant" if message.role == "assistant" else "User"
    return f"{speaker}: {message.content}"


def answer_text(conversation: dict[str, Any], prompt: str) -> str:
    """Copilot's answer: the last message of the conversation, which is not the echoed prompt."""
    if conversation.get("state") == "disengagedForRai":
        raise bad_response("Microsoft 365 Copilot", "its responsible-AI filter ended the conversation.")
    messages = [m for m in conversation.get("messages") or [] if isinstance(m, dict)]
    if len(messages) >= 2 or (messages and messages[-1].get("text") != prompt):
        text = str(messages[-1].get("text") or "")
        if text.strip():
            return text
    raise bad_response("Microsoft 365 Copilot", "the conversation came back without an answer.")
