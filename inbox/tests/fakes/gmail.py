"""A fake Google OAuth 2.0 server + Gmail API, over TLS, for google-auth-oauthlib, google-auth and googleapiclient.

One server plays accounts.google.com, oauth2.googleapis.com and gmail.googleapis.com: point GOOGLE_OAUTH_AUTH_URL
at `fake.auth_url`, GOOGLE_OAUTH_TOKEN_URL at `fake.token_url`, GMAIL_API_BASE_URL at `fake.api_root`, and trust
`ca_path`. In the real wire format:

- `GET /o/oauth2/auth`: the consent screen, already consented by `fake.account`: checks client id, redirect URI,
  `response_type=code`, the scopes and the PKCE challenge (S256), then 302 to the redirect URI with `state`,
  `code` and `scope` (or `error=access_denied` with `fake.consent_denied`).
- `POST /token`: `authorization_code` (single-use code, same redirect URI, verifier matching the challenge) →
  access + refresh token; `refresh_token` → a new access token, or 400 `invalid_grant` ("Token has been expired
  or revoked.") after `fake.revoke()`; a wrong client secret → 401 `invalid_client`.
- `/gmail/v1/users/me/...` with a live access token (401 UNAUTHENTICATED otherwise; `fake.expire_tokens()`):
  `profile`; `messages?labelIds=INBOX&maxResults=` (newest first); `messages/{id}?format=raw` (base64url `raw`);
  `history?startHistoryId=&historyTypes=messageAdded&labelId=INBOX` in pages of `fake.history_page_size` with
  `nextPageToken`, 404 notFound for a startHistoryId older than `fake.oldest_history_id`; `messages/send` with
  `{"raw"}` → the sent message (`fake.sent` keeps the decoded MIME).
- `POST messages/{id}/modify` with `{"addLabelIds", "removeLabelIds"}` → the message's id, threadId and labelIds;
  404 for an unknown message, 400 invalidArgument "Invalid label: X" for an unknown label id, and 403
  insufficientPermissions (PERMISSION_DENIED) when the token's scopes lack gmail.modify (consent from before).
- `GET labels` (system labels and `fake.labels`), `POST labels` → the new label; 409 ALREADY_EXISTS for a taken
  name (Gmail compares them case-insensitively).
- `fake.enqueue_rate_limit(retry_after)`: 429 RESOURCE_EXHAUSTED with reason rateLimitExceeded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import requests

from ai.tests.fakes.microsoft_fake import tls_context_for
from ai.tests.fakes.server import FakeServer, RecordedRequest, Reply

CLIENT_ID = "1234567890-fakeclient.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-secret-0123456789"
ACCOUNT = "support@gmail-workspace.test"
MODIFY_SCOPE = "https://www.googleapis.com/auth/gmail.modify"
SCOPES = {
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.send",
    MODIFY_SCOPE,
}
SYSTEM_LABELS = ("INBOX", "UNREAD", "SENT", "DRAFT", "SPAM", "TRASH", "STARRED", "IMPORTANT")
_API = "/gmail/v1/users/me"


@dataclass
class _Code:
    redirect_uri: str
    challenge: str
    scope: str


@dataclass
class _Message:
    id: str
    thread_id: str
    mime: bytes
    labels: list[str]
    history_id: int


class GmailFake(FakeServer):
    vendor = "gmail"
    secret_headers = ("authorization",)
    secret_fields = ("client_secret", "refresh_token", "code", "code_verifier")

    def __init__(self, *, ca, ca_path: str) -> None:
        super().__init__(ssl_context=tls_context_for(ca))
        self.ca_path = ca_path
        self.client_id, self.client_secret, self.account = CLIENT_ID, CLIENT_SECRET, ACCOUNT
        self.consent_denied = False
        self.granted_scopes: set[str] | None = None  # None: what was asked; a subset: the account unticked a box
        self.codes: dict[str, _Code] = {}
        self.refresh_tokens: set[str] = set()
        self.tokens: dict[str, float] = {}
        self.token_scopes: dict[str, set[str]] = {}
        self.refresh_scopes: dict[str, set[str]] = {}  # what each refresh token was granted (all when unknown)
        self.labels: dict[str, str] = {}  # user labels: id → name
        self.messages: list[_Message] = []
        self.history_id = 1000
        self.oldest_history_id = 0  # older startHistoryIds get 404, as Google keeps about a week of history
        self.history_page_size = 100
        self.sent: list[bytes] = []

    @property
    def auth_url(self) -> str:
        return f"{self.origin}/o/oauth2/auth"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/token"

    @property
    def api_root(self) -> str:
        return f"{self.origin}/"

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/token"]

    # ---- test helpers -----------------------------------------------------------------------------------------
    def deliver(self, mime: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> str:
        self.history_id += 7  # history ids grow, not one by one
        message = _Message(
            f"18c{secrets.token_hex(6)}", f"18c{secrets.token_hex(6)}", mime, list(labels), self.history_id
        )
        self.messages.append(message)
        return message.id

    def grant(self, scopes: set[str] | None = None) -> str:
        """A refresh token as if the account had consented earlier (for tests that start connected); `scopes`:
        what that consent granted (all of SCOPES when not said)."""
        token = f"1//0fake-refresh-{secrets.token_urlsafe(24)}"
        self.refresh_tokens.add(token)
        self.refresh_scopes[token] = set(scopes) if scopes is not None else set(SCOPES)
        return token

    def labels_of(self, message_id: str) -> list[str]:
        return next(m.labels for m in self.messages if m.id == message_id)

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def revoke(self) -> None:
        self.refresh_tokens.clear()
        self.expire_tokens()

    def forget_history_before(self, history_id: int) -> None:
        self.oldest_history_id = history_id

    def enqueue_rate_limit(self, retry_after: float | None = 1, *, path: str | None = None) -> None:
        body = {
            "error": {
                "code": 429,
                "message": "Too many concurrent requests for user.",
                "errors": [
                    {
                        "message": "Too many concurrent requests for user.",
                        "domain": "usageLimits",
                        "reason": "rateLimitExceeded",
                    }
                ],
                "status": "RESOURCE_EXHAUSTED",
            }
        }
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        self.enqueue(429, body, headers, path=path)

    def browse(self, auth_uri: str) -> str:
        """The admin's browser at the consent screen: returns where Google sends it back (the Location)."""
        response = requests.get(auth_uri, verify=self.ca_path, allow_redirects=False, timeout=5)
        if response.status_code != 302:
            raise AssertionError(f"consent answered {response.status_code}: {response.text[:200]}")
        return response.headers["location"]

    def credential_of(self, headers: dict[str, str], query: dict[str, str], body: Any) -> str | None:
        value = headers.get("authorization", "")
        if value.startswith("Basic "):
            return value
        if value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip()
        return body.get("client_secret") if isinstance(body, dict) else None

    def error_body(self, status: int, message: str, reason: str = "", state: str = "") -> Any:
        reasons = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded"}
        states = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
        }
        return {
            "error": {
                "code": status,
                "message": message,
                "errors": [
                    {"message": message, "domain": "global", "reason": reason or reasons.get(status, "backendError")}
                ],
                "status": state or states.get(status, "INTERNAL"),
            }
        }

    # ---- routes -----------------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:
        if request.path == "/o/oauth2/auth" and request.method == "GET":
            return self._consent(request.query)
        if request.path == "/token" and request.method == "POST":
            return self._token(request.body if isinstance(request.body, dict) else {}, request)
        if not request.path.startswith(_API):
            return Reply(404, self.error_body(404, "Not Found"))
        if self.tokens.get(request.credential or "", 0.0) < time.time():
            message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
            return Reply(
                401, self.error_body(401, message), {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
            )
        return self._api(request, request.path.removeprefix(_API))

    def _consent(self, query: dict[str, str]) -> Reply:
        if query.get("client_id") != self.client_id:
            return Reply(400, "Error 401: invalid_client. The OAuth client was not found.")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri or query.get("response_type") != "code":
            return Reply(400, "Error 400: invalid_request. Missing required parameter: redirect_uri")
        if not set(query.get("scope", "").split()) >= SCOPES:
            return Reply(400, "Error 400: invalid_scope.")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Reply(400, "Error 400: invalid_request. code_challenge_method must be S256.")
        back = {"state": query.get("state", "")}
        if self.consent_denied:
            back["error"] = "access_denied"
        else:
            code = f"4/0Fake{secrets.token_urlsafe(30)}"
            scope = " ".join(sorted(self.granted_scopes)) if self.granted_scopes is not None else query["scope"]
            self.codes[code] = _Code(redirect_uri, query["code_challenge"], scope)
            back |= {"code": code, "scope": scope}
        return Reply(302, b"", {"location": f"{redirect_uri}?{urlencode(back)}"})

    def _token(self, form: dict[str, str], request: RecordedRequest) -> Reply:
        raw_form = dict(parse_qsl(request.raw.decode(), keep_blank_values=True))
        client_id, client_secret = raw_form.get("client_id"), raw_form.get("client_secret")
        if (request.credential or "").startswith("Basic "):  # requests-oauthlib sends the client as Basic auth
            decoded = base64.b64decode(request.credential.removeprefix("Basic ")).decode()
            client_id, _colon, client_secret = (unquote_plus(part) for part in decoded.partition(":"))
        if client_id != self.client_id or client_secret != self.client_secret:
            return Reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant = raw_form.get("grant_type")
        if grant == "authorization_code":
            issued = self.codes.pop(raw_form.get("code", ""), None)
            if issued is None or issued.redirect_uri != raw_form.get("redirect_uri"):
                return Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            verifier = raw_form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != issued.challenge:
                return Reply(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
            refresh = self.grant(set(issued.scope.split()))
            return Reply(200, self._access(issued.scope) | {"refresh_token": refresh})
        if grant == "refresh_token":
            refresh = raw_form.get("refresh_token", "")
            if refresh not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            return Reply(200, self._access(" ".join(sorted(self.refresh_scopes.get(refresh, SCOPES)))))
        return Reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})

    def _access(self, scope: str) -> dict[str, Any]:
        token = f"ya29.fake-{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + 3599
        self.token_scopes[token] = set(scope.split())
        return {"access_token": token, "expires_in": 3599, "scope": scope, "token_type": "Bearer"}

    def _api(self, request: RecordedRequest, path: str) -> Reply:
        if path == "/profile":
            return Reply(
                200,
                {
                    "emailAddress": self.account,
                    "messagesTotal": len(self.messages),
                    "threadsTotal": len(self.messages),
                    "historyId": str(self.history_id),
                },
            )
        if path == "/messages" and request.method == "GET":
            label = request.query.get("labelIds")
            listed = [m for m in reversed(self.messages) if not label or label in m.labels]
            listed = listed[: int(request.query.get("maxResults") or 100)]
            body: dict[str, Any] = {
                "messages": [{"id": m.id, "threadId": m.thread_id} for m in listed],
                "resultSizeEstimate": len(listed),
            }
            return Reply(200, body if listed else {"resultSizeEstimate": 0})
        if path == "/messages/send" and request.method == "POST":
            return self._send(request)
        if path.startswith("/messages/") and path.endswith("/modify") and request.method == "POST":
            if MODIFY_SCOPE not in self.token_scopes.get(request.credential or "", set()):
                return Reply(403, self._insufficient_scopes())
            return self._modify(path.removeprefix("/messages/").removesuffix("/modify"), request.body)
        if path == "/labels" and request.method == "GET":
            return Reply(200, {"labels": self._labels()})
        if path == "/labels" and request.method == "POST":
            if MODIFY_SCOPE not in self.token_scopes.get(request.credential or "", set()):
                return Reply(403, self._insufficient_scopes())
            return self._label_create(request.body if isinstance(request.body, dict) else {})
        if path.startswith("/messages/") and request.method == "GET":
            return self._message(path.removeprefix("/messages/"), request.query.get("format", "full"))
        if path == "/history" and request.method == "GET":
            return self._history(request.query)
        return Reply(404, self.error_body(404, "Not Found"))

    def _message(self, message_id: str, fmt: str) -> Reply:
        message = next((m for m in self.messages if m.id == message_id), None)
        if message is None:
            return Reply(404, self.error_body(404, "Requested entity was not found."))
        body = {
            "id": message.id,
            "threadId": message.thread_id,
            "labelIds": message.labels,
            "snippet": message.mime[-60:].decode("utf-8", "replace"),
            "historyId": str(message.history_id),
            "internalDate": str(int(time.time() * 1000)),
            "sizeEstimate": len(message.mime),
        }
        if fmt == "raw":
            body["raw"] = base64.urlsafe_b64encode(message.mime).decode()
        return Reply(200, body)

    def _insufficient_scopes(self) -> dict[str, Any]:
        message = "Request had insufficient authentication scopes."
        return self.error_body(403, message, "insufficientPermissions", "PERMISSION_DENIED")

    def _labels(self) -> list[dict[str, str]]:
        system = [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]
        user = [
            {"id": label_id, "name": name, "type": "user", "messageListVisibility": "show",
             "labelListVisibility": "labelShow"}
            for label_id, name in self.labels.items()
        ]  # fmt: skip
        return system + user

    def _label_create(self, body: dict[str, Any]) -> Reply:
        name = str(body.get("name") or "").strip()
        if not name:
            return Reply(400, self.error_body(400, "Invalid label name", "invalidArgument"))
        if any(label["name"].casefold() == name.casefold() for label in self._labels()):
            return Reply(
                409, self.error_body(409, "Label name exists or conflicts", "failedPrecondition", "ALREADY_EXISTS")
            )
        label_id = f"Label_{len(self.labels) + 1}"
        self.labels[label_id] = name
        return Reply(200, {"id": label_id, "name": name, "type": "user", "messageListVisibility": "show",
                           "labelListVisibility": "labelShow"})  # fmt: skip

    def _modify(self, message_id: str, body: Any) -> Reply:
        message = next((m for m in self.messages if m.id == message_id), None)
        if message is None:
            return Reply(404, self.error_body(404, "Requested entity was not found."))
        body = body if isinstance(body, dict) else {}
        add, remove = list(body.get("addLabelIds") or []), list(body.get("removeLabelIds") or [])
        known = set(SYSTEM_LABELS) | set(self.labels)
        for label in add + remove:
            if label not in known:
                return Reply(400, self.error_body(400, f"Invalid label: {label}", "invalidArgument"))
        message.labels = [label for label in message.labels if label not in remove]
        message.labels += [label for label in add if label not in message.labels]
        self.history_id += 1  # a label change is a history record too (labelsAdded/labelsRemoved, not listed here)
        return Reply(200, {"id": message.id, "threadId": message.thread_id, "labelIds": message.labels})

    def _history(self, query: dict[str, str]) -> Reply:
        try:
            start = int(query.get("startHistoryId", ""))
        except ValueError:
            return Reply(400, self.error_body(400, "Invalid startHistoryId.", "invalidArgument"))
        if start < self.oldest_history_id:
            return Reply(404, self.error_body(404, "Requested entity was not found."))
        label = query.get("labelId")
        records = [
            {
                "id": str(m.history_id),
                "messages": [{"id": m.id, "threadId": m.thread_id}],
                "messagesAdded": [{"message": {"id": m.id, "threadId": m.thread_id, "labelIds": m.labels}}],
            }
            for m in self.messages
            if m.history_id > start and (not label or label in m.labels)
        ]
        offset = int(query.get("pageToken") or 0)
        page = records[offset : offset + self.history_page_size]
        body: dict[str, Any] = {"historyId": str(self.history_id)}
        if page:
            body["history"] = page
        if offset + self.history_page_size < len(records):
            body["nextPageToken"] = str(offset + self.history_page_size)
        return Reply(200, body)

    def _send(self, request: RecordedRequest) -> Reply:
        raw = (request.body or {}).get("raw") if isinstance(request.body, dict) else None
        try:
            mime = base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4)) if raw else b""
        except (ValueError, binascii.Error):
            mime = b""
        if not mime:
            return Reply(400, self.error_body(400, "Invalid value for ByteString: raw", "invalidArgument"))
        self.sent.append(mime)
        message = self.deliver(mime, labels=("SENT",))
        return Reply(200, {"id": message, "threadId": self.messages[-1].thread_id, "labelIds": ["SENT"]})


def redirect_query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))
