"""A fake Microsoft identity platform (client credentials) + Microsoft Graph mail, over TLS, for msal and our client.

One server plays both hosts: point MICROSOFT_LOGIN_BASE_URL and MICROSOFT_GRAPH_BASE_URL at `fake.origin` and
trust `ca_path` (EGRESS_CA_BUNDLE). What it serves, in the real wire format:

- `GET /{tenant}/v2.0/.well-known/openid-configuration` and `POST /{tenant}/oauth2/v2.0/token` with
  `grant_type=client_credentials` and `scope=https://graph.microsoft.com/.default` → an app-only token; a wrong
  secret gets AADSTS7000215 `invalid_client`, an unknown tenant AADSTS90002.
- Graph, with live tokens only (401 InvalidAuthenticationToken otherwise; `fake.expire_tokens()`):
  `GET /v1.0/users/{address}/mailFolders/inbox` (the folder);
  `GET /v1.0/users/{address}/mailFolders/inbox/messages/delta` → pages of `Prefer: odata.maxpagesize` messages
  (`{"id", "@odata.type"}`), each page but the last with `@odata.nextLink` (`$skiptoken`), the last with
  `@odata.deltaLink` (`$deltatoken`); a delta link lists what arrived after it was issued. The first request may
  filter `receivedDateTime ge <instant>` (the only filter Graph takes on message delta; others get 400), and the
  links keep it. `fake.reset_sync_state()`
  makes every issued link answer 410 `SyncStateNotFound`, as Graph does when it drops a sync state;
  `GET /v1.0/users/{address}/messages/{id}/$value` → the raw MIME;
  `POST /v1.0/users/{address}/sendMail` with a base64 MIME body (Content-Type text/plain) → 202, the decoded
  message kept in `fake.sent`.
  A mailbox not in `fake.mailboxes` gets 404 ErrorInvalidUser; `fake.denied` holds addresses the app may not
  read (403 ErrorAccessDenied, an application access policy).
- `fake.enqueue_throttle(retry_after, path=...)`: Graph's 429 with Retry-After.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from ai.tests.fakes.microsoft_fake import tls_context_for
from ai.tests.fakes.server import FakeServer, RecordedRequest, Reply

TENANT_ID = "0b1c2d3e-4f50-4612-8734-9a0b1c2d3e4f"
CLIENT_ID = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
CLIENT_SECRET = "fake~mail~secret~0123456789abcdef"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

_OPENID = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")
_TOKEN = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
_USER = re.compile(r"^/v1\.0/users/(?P<user>[^/]+)(?P<rest>/.*)$")
_MESSAGE_VALUE = re.compile(r"^/messages/(?P<id>[^/]+)/\$value$")


@dataclass
class FakeMailbox:
    messages: list[tuple[str, bytes]] = field(default_factory=list)  # (id, MIME) in arrival order


class GraphFake(FakeServer):
    vendor = "graph"
    secret_headers = ("authorization",)
    secret_fields = ("client_secret",)
    always_headers = {"request-id": "00000000-fake-4000-8000-00000000cafe"}

    def __init__(self, *, ca, ca_path: str) -> None:
        super().__init__(ssl_context=tls_context_for(ca))
        self.ca_path = ca_path
        self.tenant_id, self.client_id, self.client_secret = TENANT_ID, CLIENT_ID, CLIENT_SECRET
        self.mailboxes: dict[str, FakeMailbox] = {}
        self.denied: set[str] = set()
        self.received: dict[str, float] = {}  # message id -> receivedDateTime (epoch seconds)
        self.sent: list[tuple[str, bytes]] = []  # (mailbox address, MIME as Graph decoded it)
        self.tokens: dict[str, float] = {}
        self.sync_generation = 1  # delta links of an older generation are gone (410)
        self.default_page_size = 10

    # ---- test helpers -----------------------------------------------------------------------------------------
    def deliver(self, address: str, mime: bytes, *, received: float | None = None) -> str:
        """A message arrives in `address`'s inbox (`received`: epoch seconds, now by default); returns its Graph id."""
        message_id = f"AAMkAD{secrets.token_urlsafe(18)}="
        self.received[message_id] = time.time() if received is None else received
        self.add_mailbox(address).messages.append((message_id, mime))
        return message_id

    def add_mailbox(self, address: str) -> FakeMailbox:
        return self.mailboxes.setdefault(address.lower(), FakeMailbox())

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def reset_sync_state(self) -> None:
        self.sync_generation += 1

    def enqueue_throttle(self, retry_after: float, *, path: str | None = None, status: int = 429) -> None:
        code = "ApplicationThrottled" if status == 429 else "ServiceUnavailable"
        message = "Application is over its MailboxConcurrency limit." if status == 429 else "Service unavailable."
        self.enqueue(status, self.error_body(status, message, code), {"Retry-After": f"{retry_after:g}"}, path=path)

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if _TOKEN.match(request.path)]

    @property
    def graph_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.startswith("/v1.0/")]

    def error_body(self, status: int, message: str, code: str = "") -> Any:
        default = {
            401: "InvalidAuthenticationToken",
            403: "ErrorAccessDenied",
            404: "ErrorItemNotFound",
            410: "SyncStateNotFound",
            429: "TooManyRequests",
        }
        return {
            "error": {
                "code": code or default.get(status, "generalException" if status >= 500 else "BadRequest"),
                "message": message,
                "innerError": {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())},
            }
        }

    # ---- routes -----------------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:
        if match := _OPENID.match(request.path):
            return self._openid(match["tenant"])
        if (match := _TOKEN.match(request.path)) and request.method == "POST":
            form = request.body if isinstance(request.body, dict) else {}
            return self._token(match["tenant"], form, request.credential)
        match = _USER.match(request.path)
        if match is None:
            return Reply(400, self.error_body(400, f"Resource not found for the segment '{request.path}'."))
        if self.tokens.get(request.credential or "", 0.0) < time.time():
            return Reply(401, self.error_body(401, "Access token has expired or is not yet valid."))
        address = unquote(match["user"]).lower()
        if address in self.denied:
            return Reply(403, self.error_body(403, "Access to OData is disabled: access denied by policy."))
        if address not in self.mailboxes:
            return Reply(404, self.error_body(404, f"The requested user '{address}' is invalid.", "ErrorInvalidUser"))
        return self._graph(request, address, match["rest"])

    def _openid(self, tenant: str) -> Reply:
        if tenant != self.tenant_id:
            return Reply(400, _aad_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found."))
        base = f"{self.origin}/{tenant}"
        return Reply(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
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
        if GRAPH_SCOPE not in form.get("scope", "").split():
            return Reply(400, _aad_error("invalid_scope", 1002012, "The provided value for scope is not valid."))
        token = f"eyFakeApp.{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + 3599
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

    def _graph(self, request: RecordedRequest, address: str, rest: str) -> Reply:
        mailbox = self.mailboxes[address]
        if rest == "/mailFolders/inbox" and request.method == "GET":
            return Reply(
                200,
                {
                    "id": "AAMkInbox=",
                    "displayName": "Inbox",
                    "parentFolderId": "AAMkRoot=",
                    "childFolderCount": 0,
                    "unreadItemCount": len(mailbox.messages),
                    "totalItemCount": len(mailbox.messages),
                },
            )
        if rest == "/mailFolders/inbox/messages/delta" and request.method == "GET":
            return self._delta(request, address, mailbox)
        if (match := _MESSAGE_VALUE.match(rest)) and request.method == "GET":
            for message_id, mime in mailbox.messages:
                if message_id == unquote(match["id"]):
                    return Reply(200, mime, {"content-type": "text/plain"})
            return Reply(404, self.error_body(404, "The specified object was not found in the store."))
        if rest == "/sendMail" and request.method == "POST":
            return self._send(request, address)
        return Reply(400, self.error_body(400, f"Resource not found for the segment '{rest}'."))

    def _delta(self, request: RecordedRequest, address: str, mailbox: FakeMailbox) -> Reply:
        # The state a link carries: the generation, where the round started (a count of messages), and the offset.
        # Query options of the first request (the received-since filter) are carried in the links, as Graph does.
        token = request.query.get("$skiptoken") or request.query.get("$deltatoken")
        if token:
            try:
                generation, since, offset, upto, floor = json.loads(base64.urlsafe_b64decode(token.encode()))
            except (ValueError, binascii.Error):
                return Reply(400, self.error_body(400, "Invalid skip or delta token.", "InvalidDeltaToken"))
            if generation != self.sync_generation:
                return Reply(410, self.error_body(410, "The sync state generation is not found.", "SyncStateNotFound"))
            if "$deltatoken" in request.query:
                since, offset, upto = upto, 0, len(mailbox.messages)
        else:
            floor = _received_floor(request.query.get("$filter", ""))
            if floor is None:
                message = "The only supported filter on message delta is receivedDateTime ge or gt a date."
                return Reply(400, self.error_body(400, message, "ErrorInvalidUrlQueryFilter"))
            since, offset, upto = 0, 0, len(mailbox.messages)
        size = _page_size(request.headers.get("prefer", ""), self.default_page_size)
        window = [item for item in mailbox.messages[since:upto] if self.received[item[0]] >= floor]
        page = window[offset : offset + size]
        body: dict[str, Any] = {
            "@odata.context": f"{self.origin}/v1.0/$metadata#Collection(message)",
            "value": [
                {"@odata.type": "#microsoft.graph.message", "@odata.etag": 'W/"CQAAABYAAAA"', "id": message_id}
                for message_id, _mime in page
            ],
        }
        link = f"{self.origin}/v1.0/users/{quote(address, safe='@')}/mailFolders/inbox/messages/delta"
        if offset + size < len(window):
            state = _token([self.sync_generation, since, offset + size, upto, floor])
            body["@odata.nextLink"] = f"{link}?$skiptoken={state}"
        else:
            state = _token([self.sync_generation, since, 0, upto, floor])
            body["@odata.deltaLink"] = f"{link}?$deltatoken={state}"
        return Reply(200, body)

    def _send(self, request: RecordedRequest, address: str) -> Reply:
        if "text/plain" not in request.headers.get("content-type", ""):
            return Reply(400, self.error_body(400, "Unable to read JSON request payload.", "RequestBodyRead"))
        try:
            mime = base64.b64decode(request.raw, validate=True)
        except (ValueError, binascii.Error):
            return Reply(
                400,
                self.error_body(400, "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"),
            )
        self.sent.append((address, mime))
        return Reply(202, b"", {"content-length": "0"})


def _received_floor(expression: str) -> float | None:
    """The epoch time a `receivedDateTime ge|gt <instant>` filter starts at; 0 without a filter; None if unsupported."""
    if not expression.strip():
        return 0.0
    match = re.fullmatch(r"\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*", expression)
    if match is None:
        return None
    try:
        return datetime.fromisoformat(match[2].replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _page_size(prefer: str, default: int) -> int:
    match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    return max(1, int(match[1])) if match else default


def _token(state: list[int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _aad_error(error: str, code: int, description: str) -> dict[str, Any]:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} "
        f"Timestamp: {timestamp}",
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
    }
