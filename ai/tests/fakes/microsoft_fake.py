"""A fake Microsoft identity platform + Microsoft Graph, served over TLS (msal refuses non-https authorities).

One server plays both hosts (use `fake.origin` as `authority_host` and as `graph_base_url`, and `fake.ca_path`
as the CA bundle the client trusts):

- `GET /{tenant}/v2.0/.well-known/openid-configuration`.
- `GET /{tenant}/oauth2/v2.0/authorize` (the browser leg of the authorization-code flow): checks the client id,
  `response_type=code`, the redirect URI and the PKCE challenge (S256), then answers 302 to the redirect URI with
  `code`, `state` and `session_state`, as if the signed-in user (`fake.user`) had consented; with
  `fake.consent_denied` it redirects with `error=access_denied` and AADSTS65004 instead.
- `POST /{tenant}/oauth2/v2.0/token`, three grants:
  `authorization_code` (the code is single use, the redirect URI must be the authorize one and the
  `code_verifier` must match the challenge) → access token, rotating refresh token, an id token whose `nonce`
  is the authorize one, `client_info` (uid/utid) and the granted `scope`;
  `refresh_token` → new tokens, or `invalid_grant` AADSTS50173 once `fake.revoke_consent()` was called;
  `client_credentials` → an app-only token, which Graph refuses for Copilot (403), as the real service does.
  A wrong secret gets AADSTS7000215 `invalid_client`, an unknown tenant AADSTS90002 `invalid_request`. Errors
  carry `error`, `error_description` (AADSTS… with trace and correlation ids), `error_codes`, `timestamp`,
  `trace_id`, `correlation_id`, `error_uri`, like the identity platform's.
- Graph, which only accepts a live token it issued: `POST /beta/copilot/conversations` (201, a new
  copilotConversation), `POST /beta/copilot/conversations/{id}/chat` (200, the conversation with two messages:
  the prompt, then Copilot's answer), `GET /v1.0/organization`, `GET /v1.0/me`. Errors use Graph's
  `{"error": {"code", "message"}}`.

`fake.token_requests` lists the calls that reached the token endpoint (to prove msal's cache works),
`fake.authorize_requests` the browser's visits; `fake.graph_requests` the Graph calls. `enqueue_reply(text)`
scripts Copilot's next answer. `fake.browse(auth_uri)` plays the admin's browser: it follows the authorize URL
and returns the query the fake redirected back with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from ai.providers.base import ProviderSettings

from .server import FakeServer, RecordedRequest, Reply

MS_TENANT_ID = "11111111-2222-3333-4444-555555555555"
MS_CLIENT_ID = "66666666-7777-8888-9999-000000000000"
MS_CLIENT_SECRET = "fake~client~secret~0123456789abcdef"

MS_USER = {
    "oid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "name": "Ada Admin",
    "preferred_username": "ada.admin@contoso.example",
}
RESERVED_SCOPES = ("openid", "profile", "offline_access")
REDIRECT_URI = "https://alpha.switchboard.test/settings/ai/microsoft/callback/"

_AUTHORIZE_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/authorize$")
_TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
_OPENID_PATH = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")
_CHAT_PATH = re.compile(r"^/beta/copilot/conversations/(?P<id>[^/]+)/chat$")


def tls_context_for(ca) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for 127.0.0.1/localhost signed by a `trustme.CA`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


class MicrosoftFake(FakeServer):
    vendor = "microsoft"
    secret_headers = ("authorization",)
    secret_fields = ("client_secret", "client_assertion")
    always_headers = {"request-id": "00000000-fake-4000-8000-000000000001"}

    def __init__(
        self,
        *,
        ca,
        ca_path: str,
        tenant_id: str = MS_TENANT_ID,
        client_id: str = MS_CLIENT_ID,
        client_secret: str = MS_CLIENT_SECRET,
        organization_name: str = "Contoso Support Ltd",
    ) -> None:
        super().__init__(ssl_context=tls_context_for(ca))
        self.ca_path = ca_path
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization_name = organization_name
        self.token_lifetime = 3599
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.app_only_tokens: set[str] = set()  # client-credentials tokens: Graph refuses them for Copilot
        self.conversations: dict[str, int] = {}  # conversation id -> turn count
        self.user = dict(MS_USER)  # who signs in at the authorize endpoint
        self.consent_denied = False  # the user (or a policy) refuses consent at the authorize endpoint
        self.codes: dict[str, _Code] = {}  # authorization code -> what it was issued for
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> the scope it grants
        self.revoked_refresh_tokens: set[str] = set()

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if _TOKEN_PATH.match(request.path)]

    @property
    def authorize_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if _AUTHORIZE_PATH.match(request.path)]

    @property
    def graph_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.startswith(("/beta/", "/v1.0/"))]

    def provider_settings(self, **overrides: Any) -> ProviderSettings:
        """Settings for `CopilotProvider` against this fake: its authority and its Graph (the `microsoft_fake` fixture
        trusts its CA through EGRESS_CA_BUNDLE)."""
        extra = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "authority_host": self.origin,
            "graph_base_url": self.origin,
        }
        fields = {"api_key": self.client_secret, "timeout_seconds": 2.0, "extra": extra | overrides.pop("extra", {})}
        return ProviderSettings(**(fields | overrides))

    def connected_provider(self, **overrides: Any):
        """A `CopilotProvider` for this fake whose admin has signed in (the whole authorization-code flow, over TLS),
        holding its grant in a `MemoryTokenStore` (`provider.token_store`)."""
        from ai.providers.copilot_provider import CopilotProvider, MemoryTokenStore

        store = MemoryTokenStore()
        provider = CopilotProvider(self.provider_settings(**overrides), token_store=store)
        flow = provider.start_sign_in(REDIRECT_URI)
        store.grant = provider.finish_sign_in(flow, self.browse(flow["auth_uri"])).grant()
        return provider

    def expire_tokens(self) -> None:
        """Graph starts refusing every token issued so far (as if they had all expired)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def revoke_consent(self) -> None:
        """The user or an admin revoked the app's consent: refresh tokens stop working, access tokens expire."""
        self.revoked_refresh_tokens |= set(self.refresh_tokens)
        self.refresh_tokens.clear()
        self.expire_tokens()

    def browse(self, auth_uri: str) -> dict[str, str]:
        """The admin's browser: opens the authorize URL (over TLS, trusting only the fake's CA) and returns the
        query of the redirect back to the app (`code`/`state`, or `error`/`error_description`)."""
        response = requests.get(auth_uri, verify=self.ca_path, allow_redirects=False, timeout=5)
        if response.status_code != 302:
            raise AssertionError(f"authorize answered {response.status_code}: {response.text[:200]}")
        return dict(parse_qsl(urlsplit(response.headers["location"]).query))

    # ---- scripting helpers -------------------------------------------------------------------------------------
    def enqueue_reply(self, text: str) -> None:
        """Copilot's next answer (a 200 from the chat endpoint)."""
        conversation_id = str(uuid.uuid4())
        self.enqueue(200, conversation_body(conversation_id, "(prompt)", text, 1), path="/chat")

    def enqueue_empty(self) -> None:
        """A chat answer without any message: Copilot said nothing."""
        body = conversation_body(str(uuid.uuid4()), "(prompt)", "", 1)
        body["messages"] = []
        self.enqueue(200, body, path="/chat")

    def error_body(self, status: int, message: str) -> Any:
        code = {401: "InvalidAuthenticationToken", 403: "Forbidden", 404: "itemNotFound", 429: "TooManyRequests"}
        return {
            "error": {
                "code": code.get(status, "generalException" if status >= 500 else "BadRequest"),
                "message": message,
                "innerError": {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())},
            }
        }

    # ---- routes ------------------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:
        if match := _OPENID_PATH.match(request.path):
            return self._openid_configuration(match["tenant"])
        if (match := _AUTHORIZE_PATH.match(request.path)) and request.method == "GET":
            return self._authorize(match["tenant"], request.query)
        if (match := _TOKEN_PATH.match(request.path)) and request.method == "POST":
            return self._token(
                match["tenant"], request.body if isinstance(request.body, dict) else {}, request.credential
            )
        if not request.path.startswith(("/beta/", "/v1.0/")):
            return Reply(404, self.error_body(404, f"Resource not found for the segment '{request.path}'."))
        if not self._token_is_live(request.credential):
            return Reply(401, self.error_body(401, "Access token has expired or is not yet valid."))
        if request.credential in self.app_only_tokens and request.path.startswith("/beta/copilot/"):
            # What Graph says to an app-only token on an API documented as "Application: Not supported".
            message = (
                "Either scp or roles claim need to be present in the token. Application permissions are not supported."
            )
            return Reply(403, self.error_body(403, message))
        return self._graph(request)

    # ---- the authorization-code flow ----------------------------------------------------------------------------
    def _authorize(self, tenant: str, query: dict[str, str]) -> Reply:
        if tenant != self.tenant_id:
            return Reply(400, _aad_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found."))
        if query.get("client_id") != self.client_id:
            message = f"Application with identifier '{query.get('client_id')}' was not found in the directory."
            return Reply(400, _aad_error("unauthorized_client", 700016, message))
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri or query.get("response_type") != "code":
            return Reply(400, _aad_error("invalid_request", 900144, "The request body must contain redirect_uri."))
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Reply(400, _aad_error("invalid_request", 501491, "Invalid size of Code_Challenge parameter."))
        back = {"state": query.get("state", "")}
        if self.consent_denied:
            description = _aad_error("access_denied", 65004, "User declined to consent to access the app.")
            back |= {"error": "access_denied", "error_subcode": "cancel"}
            back["error_description"] = description["error_description"]
        else:
            code = f"0.Fake-code.{secrets.token_urlsafe(24)}"
            self.codes[code] = _Code(
                redirect_uri=redirect_uri,
                challenge=query["code_challenge"],
                scope=query.get("scope", ""),
                nonce=query.get("nonce", ""),
            )
            back |= {"code": code, "session_state": str(uuid.uuid4())}
        return Reply(302, b"", {"location": f"{redirect_uri}?{urlencode(back)}"})

    def _redeem_code(self, form: dict[str, str]) -> Reply:
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None:
            return Reply(400, _aad_error("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed."))
        if form.get("redirect_uri") != issued.redirect_uri:
            message = "The redirect URI specified in the request does not match the one used for the code."
            return Reply(400, _aad_error("invalid_grant", 500117, message))
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != issued.challenge:
            message = "The code_verifier does not match the code_challenge supplied in the authorization request."
            return Reply(400, _aad_error("invalid_grant", 501481, message))
        return Reply(200, self._user_tokens(issued.scope, nonce=issued.nonce))

    def _refresh(self, form: dict[str, str]) -> Reply:
        token = form.get("refresh_token", "")
        if token in self.revoked_refresh_tokens or token not in self.refresh_tokens:
            message = (
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                "The user might have changed or reset their password."
            )
            return Reply(400, _aad_error("invalid_grant", 50173, message) | {"suberror": "bad_token"})
        scope = self.refresh_tokens.pop(token)  # refresh tokens rotate: the old one is replaced
        return Reply(200, self._user_tokens(form.get("scope") or scope))

    def _user_tokens(self, scope: str, *, nonce: str = "") -> dict[str, Any]:
        granted = [item for item in scope.split() if item not in RESERVED_SCOPES]
        access_token = f"eyFakeDelegated.{secrets.token_urlsafe(24)}"
        refresh_token = f"0.FakeRefresh.{secrets.token_urlsafe(32)}"
        self.tokens[access_token] = time.time() + self.token_lifetime
        self.refresh_tokens[refresh_token] = scope
        now = int(time.time())
        claims = {
            "aud": self.client_id,
            "iss": f"{self.origin}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": self.user["oid"],
            "sub": hashlib.sha256(self.user["oid"].encode()).hexdigest()[:43],
            "tid": self.tenant_id,
            "name": self.user["name"],
            "preferred_username": self.user["preferred_username"],
            "ver": "2.0",
        } | ({"nonce": nonce} if nonce else {})
        client_info = {"uid": self.user["oid"], "utid": self.tenant_id}
        return {
            "token_type": "Bearer",
            "scope": " ".join([*granted, "openid", "profile", "email"]),
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "id_token": _unsigned_jwt(claims),
            "client_info": _b64(json.dumps(client_info).encode()),
        }

    def _openid_configuration(self, tenant: str) -> Reply:
        if tenant != self.tenant_id:
            return Reply(400, _aad_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found."))
        base = f"{self.origin}/{tenant}"
        return Reply(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "tenant_region_scope": "EU",
            },
        )

    def _token(self, tenant: str, form: dict[str, str], secret: str | None) -> Reply:
        if tenant != self.tenant_id:
            return Reply(400, _aad_error("invalid_request", 90002, f"Tenant '{tenant}' not found."))
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "authorization_code", "refresh_token"):
            return Reply(400, _aad_error("unsupported_grant_type", 70003, "The app requested an unsupported grant."))
        if form.get("client_id") != self.client_id:
            message = f"Application with identifier '{form.get('client_id')}' was not found in the directory."
            return Reply(400, _aad_error("unauthorized_client", 700016, message))
        if secret != self.client_secret:
            message = (
                f"Invalid client secret provided. Ensure the secret being sent is the one for app '{self.client_id}'."
            )
            return Reply(401, _aad_error("invalid_client", 7000215, message))
        if grant == "authorization_code":
            return self._redeem_code(form)
        if grant == "refresh_token":
            return self._refresh(form)
        token = f"eyFake.{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + self.token_lifetime
        self.app_only_tokens.add(token)
        lifetime = self.token_lifetime
        return Reply(
            200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        )

    def _token_is_live(self, token: str | None) -> bool:
        return token is not None and self.tokens.get(token, 0.0) > time.time()

    def _graph(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path == "/v1.0/organization":
            organization = {"id": self.tenant_id, "displayName": self.organization_name, "verifiedDomains": []}
            return Reply(
                200,
                {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization", "value": [organization]},
            )
        if request.method == "GET" and request.path == "/v1.0/me":
            me = {"id": self.user["oid"], "displayName": self.user["name"]}
            return Reply(200, me | {"userPrincipalName": self.user["preferred_username"]})
        if request.method == "POST" and request.path == "/beta/copilot/conversations":
            conversation_id = str(uuid.uuid4())
            self.conversations[conversation_id] = 0
            return Reply(201, conversation_body(conversation_id, None, None, 0))
        if (match := _CHAT_PATH.match(request.path)) and request.method == "POST":
            return self._chat(match["id"], request.body if isinstance(request.body, dict) else {})
        return Reply(404, self.error_body(404, f"Resource not found for the segment '{request.path}'."))

    def _chat(self, conversation_id: str, body: dict[str, Any]) -> Reply:
        if conversation_id not in self.conversations:
            return Reply(404, self.error_body(404, "Conversation not found."))
        prompt = (body.get("message") or {}).get("text")
        if not prompt or not (body.get("locationHint") or {}).get("timeZone"):
            return Reply(400, self.error_body(400, "message.text and locationHint.timeZone are required."))
        self.conversations[conversation_id] += 1
        turns = self.conversations[conversation_id]
        return Reply(200, conversation_body(conversation_id, prompt, f"Echo: {prompt}", turns))


def conversation_body(conversation_id: str, prompt: str | None, answer: str | None, turns: int) -> dict[str, Any]:
    created = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
    body: dict[str, Any] = {
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#microsoft.graph.copilotConversation",
        "id": conversation_id,
        "createdDateTime": created,
        "displayName": (prompt or "")[:60],
        "state": "active",
        "turnCount": turns,
    }
    if prompt is not None:
        body["messages"] = [_message(prompt, created), _message(answer or "", created)]
    return body


def _message(text: str, created: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.copilotConversationResponseMessage",
        "id": str(uuid.uuid4()),
        "text": text,
        "createdDateTime": created,
        "adaptiveCards": [],
        "attributions": [],
        "sensitivityLabel": {"sensitivityLabelId": None, "displayName": None},
    }


@dataclass(frozen=True)
class _Code:
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    """An id token in JWT form; msal reads its claims without checking the signature (TLS vouches for it)."""
    header = _b64(json.dumps({"typ": "JWT", "alg": "RS256", "kid": "fake-key"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(b'fake-signature')}"


def _aad_error(error: str, code: int, description: str) -> dict[str, Any]:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(code),
    }
