"""A fake Microsoft identity platform + Microsoft Graph, served over TLS (msal refuses non-https authorities).

One server plays both hosts (use `fake.origin` as `authority_host` and as `graph_base_url`, and `fake.ca_path`
as the CA bundle the client trusts):

- `GET /{tenant}/v2.0/.well-known/openid-configuration` and `POST /{tenant}/oauth2/v2.0/token` (client
  credentials): tokens are opaque strings the fake remembers with their expiry (`token_lifetime` seconds);
  a wrong secret gets AADSTS7000215 `invalid_client`, an unknown tenant AADSTS90002 `invalid_request`.
- Graph, which only accepts a live token it issued: `POST /beta/copilot/conversations` (201, a new
  copilotConversation), `POST /beta/copilot/conversations/{id}/chat` (200, the conversation with two messages:
  the prompt, then Copilot's answer), `GET /v1.0/organization`. Errors use Graph's `{"error": {"code", "message"}}`.

`fake.token_requests` lists the calls that reached the token endpoint (to prove msal's cache works);
`fake.graph_requests` the Graph calls. `enqueue_reply(text)` scripts Copilot's next answer.
"""

from __future__ import annotations

import re
import secrets
import ssl
import time
import uuid
from typing import Any

from ai.providers.base import ProviderSettings

from .server import FakeServer, RecordedRequest, Reply

MS_TENANT_ID = "11111111-2222-3333-4444-555555555555"
MS_CLIENT_ID = "66666666-7777-8888-9999-000000000000"
MS_CLIENT_SECRET = "fake~client~secret~0123456789abcdef"

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
        self.conversations: dict[str, int] = {}  # conversation id -> turn count

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if _TOKEN_PATH.match(request.path)]

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

    def expire_tokens(self) -> None:
        """Graph starts refusing every token issued so far (as if they had all expired)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

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
        if (match := _TOKEN_PATH.match(request.path)) and request.method == "POST":
            return self._token(
                match["tenant"], request.body if isinstance(request.body, dict) else {}, request.credential
            )
        if not request.path.startswith(("/beta/", "/v1.0/")):
            return Reply(404, self.error_body(404, f"Resource not found for the segment '{request.path}'."))
        if not self._token_is_live(request.credential):
            return Reply(401, self.error_body(401, "Access token has expired or is not yet valid."))
        return self._graph(request)

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
        if form.get("grant_type") != "client_credentials":
            return Reply(400, _aad_error("unsupported_grant_type", 70003, "The app requested an unsupported grant."))
        if form.get("client_id") != self.client_id:
            message = f"Application with identifier '{form.get('client_id')}' was not found in the directory."
            return Reply(400, _aad_error("unauthorized_client", 700016, message))
        if secret != self.client_secret:
            message = (
                f"Invalid client secret provided. Ensure the secret being sent is the one for app '{self.client_id}'."
            )
            return Reply(401, _aad_error("invalid_client", 7000215, message))
        token = f"eyFake.{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + self.token_lifetime
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


def _aad_error(error: str, code: int, description: str) -> dict[str, Any]:
    trace = str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {uuid.uuid4()}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": trace,
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(code),
    }
