"""A fake of Twilio's REST API over TLS (a trustme CA), speaking its wire format, for tests of the real `twilio` SDK.

- `GET /2010-04-01/Accounts/{AccountSid}.json`: the account (basic auth: Account SID + auth token; 401 with error
  20003 otherwise).
- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded (To, From or MessagingServiceSid, Body,
  StatusCallback): 201 with the message resource (`sid` SM…, `status` "queued"); 400 with 21211 for a To that is
  not a phone number, 21610 for a recipient who replied STOP (`fake.unsubscribed`), 21602 without a Body, 21617
  for a Body over 1,600 characters. Errors
  carry Twilio's `code`, `message`, `more_info` and `status`.
- Media of a received MMS (`fake.media_add(content, content_type)` returns its URL):
  `GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}` needs basic auth and answers 307 to
  the file's storage on another host name (`localhost` instead of `127.0.0.1`), which, like the storage Twilio
  redirects to, refuses a request still carrying the Authorization header.

Script answers with `fake.enqueue_error(status, code, message)` (first in, first out: 429 with 20429, 500…).
`fake.requests` records every request (`method`, `path`, `form`, `auth_user`, `auth_ok`, `headers`).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import struct
import threading
import uuid
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme
from twilio.request_validator import RequestValidator

from inbox.tests.factories import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from inbox.tests.factories import TWILIO_AUTH_TOKEN as AUTH_TOKEN

API_VERSION = "2010-04-01"
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})\.json$")
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
_MEDIA = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages/(?P<message>\w+)/Media/(?P<media>ME\w+)$")
_STORAGE = re.compile(r"^/media-storage/(?P<media>ME\w+)$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    auth_user: str | None
    auth_ok: bool


@dataclass
class _Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class TwilioFake:
    def __init__(self, *, account_sid: str, auth_token: str, ca: trustme.CA) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.unsubscribed: set[str] = set()
        self.requests: list[Recorded] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> TwilioFake:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    # ---- scripting and inspection ---------------------------------------------------------------------------
    def enqueue_error(self, code: int, **fields: str) -> None:
        status, message = ERRORS[code]
        with self._lock:
            self._script.append(_Scripted(status, _error_body(code, status, message.format(**fields))))

    def media_add(self, content: bytes, content_type: str, *, message_sid: str = "MM" + "0" * 32) -> str:
        media_sid = "ME" + uuid.uuid4().hex
        self.media[media_sid] = (content, content_type)
        return f"{self.origin}/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def sent(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and _MESSAGES.match(r.path) and r.auth_ok]

    # ---- serving ----------------------------------------------------------------------------------------------
    def answer(self, method: str, path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, Any, dict]:
        user, password = _basic_auth(headers.get("authorization", ""))
        auth_ok = user == self.account_sid and password == self.auth_token
        with self._lock:
            self.requests.append(Recorded(method, path, form, headers, user, auth_ok))
        storage = _STORAGE.match(path)
        if storage:  # the media's storage host: no Twilio credentials wanted (a presigned URL in real life)
            if "authorization" in headers:
                return 400, _error_body(0, 400, "Only one auth mechanism allowed"), {}
            content, content_type = self.media.get(storage["media"], (b"", ""))
            return (200, content, {"content-type": content_type}) if content else (404, b"", {})
        if not auth_ok:
            return 401, _error_body(20003, 401, ERRORS[20003][1]), {"www-authenticate": 'Basic realm="Twilio API"'}
        with self._lock:
            scripted = self._script.popleft() if self._script and not _MEDIA.match(path) else None
        if scripted is not None:
            return scripted.status, scripted.body, scripted.headers
        if method == "GET" and _ACCOUNT.match(path):
            return 200, self._account(), {}
        if method == "POST" and _MESSAGES.match(path):
            return self._create_message(form)
        media = _MEDIA.match(path)
        if method == "GET" and media and media["media"] in self.media:
            port = self._httpd.server_address[1]
            return 307, b"", {"location": f"https://localhost:{port}/media-storage/{media['media']}"}
        return 404, _error_body(20404, 404, ERRORS[20404][1]), {}

    def _account(self) -> dict[str, Any]:
        return {
            "sid": self.account_sid,
            "friendly_name": "Acme Support",
            "status": "active",
            "type": "Full",
            "owner_account_sid": self.account_sid,
            "date_created": formatdate(usegmt=True),
            "date_updated": formatdate(usegmt=True),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
        }

    def _create_message(self, form: dict[str, str]) -> tuple[int, Any, dict]:
        to = form.get("To", "")
        if not _E164.match(to):
            return 400, _error_body(21211, 400, ERRORS[21211][1].format(to=to)), {}
        if to in self.unsubscribed:
            return 400, _error_body(21610, 400, ERRORS[21610][1]), {}
        if not form.get("Body") and not form.get("MediaUrl"):
            return 400, _error_body(21602, 400, ERRORS[21602][1]), {}
        if len(form.get("Body", "")) > 1600:
            return 400, _error_body(21617, 400, ERRORS[21617][1]), {}
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        body = form.get("Body", "")
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "to": to,
            "from": form.get("From"),
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "api_version": API_VERSION,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }
        self.messages[sid] = resource | {"status_callback": form.get("StatusCallback")}
        return 201, resource, {}


def _error_body(code: int, status: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _basic_auth(value: str) -> tuple[str | None, str | None]:
    if not value.startswith("Basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return user, password


def _handler(fake: TwilioFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def do_GET(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(raw, keep_blank_values=True))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, body, extra = fake.answer(self.command, urlsplit(self.path).path, form, headers)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", extra.pop("content-type", "application/json"))
            self.send_header("twilio-request-id", "RQ" + uuid.uuid4().hex)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def twilio_fake_running(settings, tmp_path: Path, *, account_sid: str, auth_token: str) -> Iterator[TwilioFake]:
    """The fake, with the product pointed at it: Twilio's API URL, and its CA trusted for outbound TLS."""
    ca = trustme.CA()
    ca_path = tmp_path / "twilio-fake-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    with TwilioFake(account_sid=account_sid, auth_token=auth_token, ca=ca) as fake:
        settings.INBOX_TWILIO_API_URL = fake.origin
        settings.EGRESS_CA_BUNDLE = str(ca_path)
        yield fake


def png_bytes() -> bytes:
    """A real 1×1 PNG (the upload allow-list checks the signature)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# --- What Twilio posts to us ---------------------------------------------------------------------------------

INBOUND = "/inbox/sms/twilio/inbound/"
CUSTOMER = "+14155550123"


def twilio_params(body: str, *, to: str = "+14155550100", sender: str = CUSTOMER, sid: str = "", media=()) -> dict:
    """The fields Twilio posts for an incoming message."""
    sid = sid or "SM" + uuid.uuid4().hex
    params = {
        "ToCountry": "US", "ToState": "CA", "ToCity": "SAN FRANCISCO", "ToZip": "94105", "To": to,
        "FromCountry": "US", "FromState": "CA", "FromCity": "SAN FRANCISCO", "FromZip": "94105", "From": sender,
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "SmsStatus": "received", "Body": body,
        "NumMedia": str(len(media)), "NumSegments": "1", "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"], params[f"MediaContentType{index}"] = url, content_type
    return params


def post_signed(client, params: dict, *, path: str = INBOUND, url: str = "", token: str = AUTH_TOKEN):
    url = url or f"http://alpha.localhost{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
