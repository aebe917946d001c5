"""Microsoft 365 Copilot through Microsoft Graph: delegated msal tokens (auth-code flow), Graph over `requests`.

Settings: `api_key` is the app registration's client secret; `extra` holds `tenant_id`, `client_id`, and optionally
`authority_host` (default https://login.microsoftonline.com), `graph_base_url` (default https://graph.microsoft.com;
`base_url` is used when `graph_base_url` is absent), `scopes` (a list or a space-separated string; default
`DEFAULT_SCOPES`), `time_zone` (default UTC) and `web_grounding` (default off). There is no per-workspace proxy or
CA file: msal and Graph go through the egress guard (`core.egress.guarded_requests_session`), which must see every
destination itself, and extra certificate authorities are the operator's (the EGRESS_CA_BUNDLE setting).

Why delegated: Microsoft documents the Copilot Chat API for delegated (signed-in user) permissions only
("Application: Not supported"), so the client-credentials token this module used to send was refused by the real
service (403) and never worked; that path is gone. A workspace admin signs in once from the AI settings
(`start_sign_in` → Microsoft's authorize page → `finish_sign_in` with what came back: msal checks the state, PKCE
verifier and id-token nonce); the resulting msal token cache (access + refresh token of that admin) is kept by a
`TokenStore`. The default store is the workspace's database row (ai/copilot_connection.py: encrypted, found by
tenant and client id in the current workspace schema); tests pass a `MemoryTokenStore`.

Tokens: each call loads the stored cache into a `msal.SerializableTokenCache` and asks
`acquire_token_silent_with_error`: a cached access token is reused until it is within five minutes of expiry, then
the refresh token buys a new one (Entra rotates refresh tokens), and a changed cache is written back. When the
refresh is refused (`invalid_grant`, `interaction_required`: consent revoked, password reset, token expired after
90 days idle) the store marks the grant revoked and every call says, without asking Microsoft again, that an admin
must connect Microsoft 365 again. Missing consent (never connected) says so too; both are `Misconfigured` with
our own words, which the settings page and the run log show as they are. When Graph answers 401 anyway, the
cached access tokens are dropped so the next call refreshes.

Each msal application is built per call around the loaded cache (so no token is shared between workspaces or
threads); msal's `http_cache` (no tokens, only discovery answers and throttling state) is kept per authority for the
life of the process, so the authority's OpenID configuration is read once a day, not on every call.

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
- Delegated permissions it needs (all of them, admin consent): Sites.Read.All, Mail.Read, People.Read.All,
  OnlineMeetingTranscript.Read.All, Chat.Read, ChannelMessage.Read.All, ExternalItem.Read.All; and the signed-in
  user needs a Microsoft 365 Copilot licence.
- Copilot has no system role, sampling settings, token counts or structured output: system messages and earlier
  turns are written into the one message text, JSON is asked for in words and cut out of the answer, and the token
  counts are 0 (Copilot is paid per licence, not per token). Each `generate()` opens a new conversation (two Graph
  calls), so no state leaks between tickets or workspaces.
- `settings.timeout_seconds` bounds each token request, and the two Graph calls of `generate()` together.
- `test_connection()` gets the delegated token (refreshing it if due) and opens a conversation, which proves
  Copilot accepts it without spending a chat turn.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol
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
# The Chat API's delegated permissions, all required (Microsoft's reference, "Least privileged permissions").
DEFAULT_SCOPES = (
    "Sites.Read.All",
    "Mail.Read",
    "People.Read.All",
    "OnlineMeetingTranscript.Read.All",
    "Chat.Read",
    "ChannelMessage.Read.All",
    "ExternalItem.Read.All",
)
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})  # msal adds them itself and refuses them here
GRAPH = "Microsoft Graph"
ENTRA = "Microsoft Entra ID"
COPILOT_403_HINT = (
    " The Copilot Chat API needs a Microsoft 365 Copilot licence for the signed-in user and admin consent to its "
    "delegated permissions."
)
NOT_CONNECTED = (
    "Microsoft 365 is not connected: an admin must connect it in AI settings (Connect Microsoft 365). "
    "The Copilot Chat API accepts only a signed-in user's token, not the app's own."
)
RECONNECT = "an admin must connect Microsoft 365 again in AI settings."
OTHER_APP = (
    "Microsoft 365 was connected for another app registration or tenant than the one now configured: " + RECONNECT
)
# Token-endpoint answers that only a new sign-in can fix: the grant behind the refresh token is gone.
_GRANT_LOST = {"invalid_grant", "interaction_required", "consent_required", "login_required"}
_AUTH_ERRORS = {"invalid_client"}
_CONFIG_ERRORS = {"invalid_request", "invalid_tenant", "unauthorized_client", "invalid_scope", "unsupported_grant_type"}
_AADSTS = re.compile(r"\bAADSTS(\d{4,7})\b")
_MAX_AUTHORITIES = 256
# What msal raises: transport errors, service errors (5xx from the token endpoint), and ValueError when the
# authority's OpenID configuration cannot be read (unknown tenant or host).
_MSAL_FAILURES = (requests.RequestException, msal.exceptions.MsalError, ValueError, EgressRefused)


class SignInRefused(ProviderError):
    """The sign-in came back without a usable grant (the user declined, the state or nonce did not match)."""

    answered = True


# ---- where the delegated grant lives ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredGrant:
    """A signed-in user's msal token cache (serialized JSON) and what the settings page says about it."""

    cache: str
    client_key: str  # "<authority> <client id>" it was obtained for: another app registration cannot use it
    account: str = ""  # the signed-in user's name (preferred_username), for messages
    revoked: str = ""  # why the grant stopped working; empty while it works
    key: Any = None  # the store's own handle (a row id), passed back to save() and revoke()


class TokenStore(Protocol):
    def load(self) -> StoredGrant | None: ...

    def save(self, grant: StoredGrant, cache: str) -> None: ...

    def revoke(self, grant: StoredGrant, reason: str) -> None: ...


@dataclass
class MemoryTokenStore:
    """A grant kept in memory (tests, scripts)."""

    grant: StoredGrant | None = None
    saves: int = 0
    reasons: list[str] = field(default_factory=list)

    def load(self) -> StoredGrant | None:
        return self.grant

    def save(self, grant: StoredGrant, cache: str) -> None:
        self.grant, self.saves = replace(grant, cache=cache), self.saves + 1

    def revoke(self, grant: StoredGrant, reason: str) -> None:
        self.grant = replace(grant, cache="", revoked=reason)
        self.reasons.append(reason)


@dataclass(frozen=True)
class SignIn:
    """What a finished sign-in gives: the grant to store and who consented to what."""

    cache: str
    client_key: str
    account: str
    name: str
    scopes: tuple[str, ...]

    def grant(self) -> StoredGrant:
        return StoredGrant(cache=self.cache, client_key=self.client_key, account=self.account)


class _Lru:
    """A bounded process-wide map (least recently used dropped beyond the cap)."""

    def __init__(self, cap: int) -> None:
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._cap = cap
        self._lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._items:
                self._items[key] = build()
                if len(self._items) > self._cap:
                    self._items.popitem(last=False)
            self._items.move_to_end(key)
            return self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# msal's http_cache per authority: discovery answers and throttling state, never tokens (msal's documentation).
msal_http_caches = _Lru(_MAX_AUTHORITIES)


class CopilotProvider:
    name: ClassVar[str] = "copilot"
    DEFAULT_MODEL: ClassVar[str] = "microsoft-365-copilot"
    is_external: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings, *, token_store: TokenStore | None = None) -> None:
        self.settings = settings
        extra = dict(settings.extra or {})
        self.tenant_id = str(extra.get("tenant_id") or "").strip()
        self.client_id = str(extra.get("client_id") or "").strip()
        self.authority_host = str(extra.get("authority_host") or DEFAULT_AUTHORITY_HOST).rstrip("/")
        graph = extra.get("graph_base_url") or settings.base_url or DEFAULT_GRAPH_BASE_URL
        self.graph_base_url = str(graph).rstrip("/")
        self.scopes = _scopes(extra.get("scopes"))
        # Extra certificate authorities are the operator's choice (a corporate CA), never a workspace's.
        self.ca_bundle = str(getattr(django_settings, "EGRESS_CA_BUNDLE", "") or "")
        self.verify: str | bool = self.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True
        self.time_zone = str(extra.get("time_zone") or "UTC")
        self.web_grounding = bool(extra.get("web_grounding", False))
        self.model = settings.model or self.DEFAULT_MODEL
        self._token_store = token_store
        self._session: requests.Session | None = None
        self._identity_session: requests.Session | None = None

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
        self._graph("POST", "/beta/copilot/conversations", {})
        grant = self.token_store.load()
        who = f" as {grant.account}" if grant and grant.account else ""
        return f"Connected to Microsoft 365 Copilot{who}: the Copilot Chat API accepted the delegated token."

    # ---- the admin's sign-in (authorization-code flow with PKCE) -------------------------------------------------
    def start_sign_in(self, redirect_uri: str) -> dict[str, Any]:
        """msal's flow for one sign-in: keep it (in the admin's session) and send the browser to `flow["auth_uri"]`."""
        app = self._msal_app(msal.SerializableTokenCache())
        try:
            with warnings.catch_warnings():
                # msal recommends form_post; the answer must come back as a top-level GET instead, since the
                # session cookie (SameSite=Lax) that ties it to the admin's sign-in is not sent on a cross-site POST.
                warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
                return app.initiate_auth_code_flow(
                    list(self.scopes), redirect_uri=redirect_uri, prompt="select_account", response_mode="query"
                )
        except _MSAL_FAILURES as error:
            raise self._token_failure(error) from None

    def finish_sign_in(self, flow: dict[str, Any], auth_response: dict[str, str]) -> SignIn:
        """Redeems the code Microsoft sent back (msal checks state, PKCE verifier and id-token nonce)."""
        if not flow.get("state") or auth_response.get("state") != flow.get("state"):
            raise SignInRefused("The sign-in answer does not belong to the sign-in that was started.")
        if auth_response.get("error"):
            raise self._sign_in_error(auth_response)
        cache = msal.SerializableTokenCache()
        app = self._msal_app(cache)
        try:
            result = app.acquire_token_by_auth_code_flow(dict(flow), dict(auth_response))
        except (ValueError, RuntimeError) as error:  # msal: state or nonce mismatch
            if isinstance(error, _MSAL_FAILURES) and not _is_flow_mismatch(error):
                raise self._token_failure(error) from None
            raise SignInRefused("The sign-in answer does not belong to the sign-in that was started.") from None
        except _MSAL_FAILURES as error:
            raise self._token_failure(error) from None
        if "error" in result or not result.get("access_token"):
            raise self._sign_in_error(result)
        claims = result.get("id_token_claims") or {}
        scope = result.get("scope") or []
        scopes = scope.split() if isinstance(scope, str) else list(scope)
        return SignIn(
            cache=cache.serialize(),
            client_key=self.client_key,
            account=str(claims.get("preferred_username") or claims.get("upn") or claims.get("email") or ""),
            name=str(claims.get("name") or ""),
            scopes=tuple(item for item in scopes if item not in RESERVED_SCOPES | {"email"}),
        )

    def _sign_in_error(self, result: dict[str, Any]) -> ProviderError:
        code = str(result.get("error") or "unknown_error")
        if code in _AUTH_ERRORS or code in _CONFIG_ERRORS:
            return self._token_error(result)
        detail = self._clean(str(result.get("error_description") or "").split(" Trace ID:")[0])
        return SignInRefused(f"Microsoft 365 did not grant access ({code}){': ' + detail if detail else '.'}")

    # ---- tokens ------------------------------------------------------------------------------------------------
    @property
    def token_store(self) -> TokenStore:
        if self._token_store is None:
            # The workspace's stored grant (a database row): found per call in the current schema, since one
            # provider object serves every workspace with the same settings (ai.registry caches clients).
            from ..copilot_connection import DatabaseTokenStore

            self._token_store = DatabaseTokenStore(tenant_id=self.tenant_id, client_id=self.client_id)
        return self._token_store

    @property
    def client_key(self) -> str:
        return f"{self.authority} {self.client_id}"

    def access_token(self) -> str:
        """The signed-in admin's Graph token: the cached one, or a new one bought with the refresh token."""
        self._check_settings()
        grant = self._usable_grant()
        cache = msal.SerializableTokenCache()
        cache.deserialize(grant.cache)
        app = self._msal_app(cache)
        accounts = app.get_accounts()
        if not accounts:
            raise self._revoke(grant, "the stored sign-in holds no account")
        try:
            result = app.acquire_token_silent_with_error(list(self.scopes), account=accounts[0])
        except _MSAL_FAILURES as error:
            raise self._token_failure(error) from None
        finally:
            if cache.has_state_changed:
                self.token_store.save(grant, cache.serialize())
        if result and result.get("access_token"):
            return result["access_token"]
        if not result:  # neither a fresh access token nor a refresh token for these scopes
            raise self._revoke(grant, "no refresh token for the configured scopes")
        if str(result.get("error")) in _GRANT_LOST:
            raise self._revoke(grant, _aadsts_words(result))
        raise self._token_error(result)

    def _usable_grant(self) -> StoredGrant:
        grant = self.token_store.load()
        if grant is None:
            raise Misconfigured(NOT_CONNECTED)
        if grant.revoked or not grant.cache:
            raise Misconfigured(_revoked_message(grant, grant.revoked))
        if grant.client_key != self.client_key:
            raise Misconfigured(OTHER_APP)
        return grant

    def _revoke(self, grant: StoredGrant, reason: str) -> Misconfigured:
        self.token_store.revoke(grant, reason)
        return Misconfigured(_revoked_message(grant, reason))

    def forget_tokens(self) -> None:
        """Drop the stored access tokens (Graph said the current one is no good): the next call refreshes."""
        grant = self.token_store.load()
        if grant is None or not grant.cache:
            return
        cache = msal.SerializableTokenCache()
        cache.deserialize(grant.cache)
        for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(entry)
        if cache.has_state_changed:
            self.token_store.save(grant, cache.serialize())

    def _msal_app(self, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
        self._check_settings()
        http_cache = msal_http_caches.get((self.authority, str(self.verify)), dict)
        try:
            return msal.ConfidentialClientApplication(
                self.client_id,
                client_credential=self.settings.api_key,
                authority=self.authority,
                http_client=self.identity_session,
                instance_discovery=False,
                token_cache=cache,
                http_cache=http_cache,
            )
        except _MSAL_FAILURES as error:  # authority discovery happens here, so this can fail like a token request
            raise self._token_failure(error) from None

    @property
    def identity_session(self) -> requests.Session:
        if self._identity_session is None:
            session = self._new_session()
            # msal takes no timeout with a custom http_client: bind one to the session, as msal's docs suggest.
            session.request = functools.partial(session.request, timeout=self.settings.timeout_seconds)
            self._identity_session = session
        return self._identity_session

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


def _scopes(configured: Any) -> tuple[str, ...]:
    """The delegated scopes to ask for: `extra["scopes"]` (list or space-separated) or the Chat API's own."""
    if isinstance(configured, str):
        configured = configured.split()
    chosen = [str(item).strip() for item in (configured or ()) if str(item).strip()]
    return tuple(item for item in (chosen or DEFAULT_SCOPES) if item not in RESERVED_SCOPES)


def _aadsts_words(result: dict[str, Any]) -> str:
    """`invalid_grant, AADSTS50173`: the error code and number only (the description is Microsoft's, not ours)."""
    numbers = [str(code) for code in result.get("error_codes") or [] if str(code).isdigit()]
    numbers = numbers or _AADSTS.findall(str(result.get("error_description") or ""))
    return ", ".join([str(result.get("error") or "error"), *(f"AADSTS{number}" for number in numbers[:2])])


def _revoked_message(grant: StoredGrant, reason: str) -> str:
    details = [f"connected as {grant.account}"] if grant.account else []
    details += [f"Microsoft said {reason}"] if reason else []
    said = f" ({'; '.join(details)})" if details else ""
    return f"Microsoft 365 consent was revoked or has expired{said}: {RECONNECT}"


def _is_flow_mismatch(error: Exception) -> bool:
    text = str(error)
    return "state" in text or "nonce" in text
