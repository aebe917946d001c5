"""A small threaded HTTP(S) server that vendor fakes build on: records what arrived, plays scripted replies.

Every vendor fake (`openai_fake`, `anthropic_fake`, `google_fake`, `microsoft_fake`) is a `FakeServer` subclass
that answers the vendor's real paths with the vendor's real JSON shapes. Tests drive it in two ways:

- read `fake.requests` (a list of `RecordedRequest`: method, path, query, headers with credentials replaced by
  `[redacted]`, parsed body, and the credential that arrived kept apart in `.credential`);
- script the next answers with `fake.enqueue(status=429, headers={"retry-after": "1"}, body={...})`,
  `fake.enqueue_error(500)`, `fake.enqueue_malformed()`, `fake.enqueue_slow(seconds)`, or the vendor's own
  `enqueue_reply(text, ...)`. Scripted answers are used first-in first-out; one with `path="..."` is kept for the
  first request whose path contains that text. With nothing scripted, the fake answers like the vendor would.

The server binds 127.0.0.1 on a free port; nothing here can reach the internet.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REDACTED = "[redacted]"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it. `headers` names are lower-case and never hold a credential."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON (dict/list), a dict for form posts, the text otherwise, None when empty
    raw: bytes
    credential: str | None  # the API key / bearer token / client secret that arrived, if any

    @property
    def json(self) -> Any:
        return self.body

    def text(self) -> str:
        """Everything the vendor could read: path, query and body (for "no raw PII arrived" assertions)."""
        query = " ".join(f"{key}={value}" for key, value in self.query.items())
        return f"{self.method} {self.path} {query}\n{self.raw.decode('utf-8', 'replace')}"


@dataclass
class ScriptedResponse:
    status: int = 200
    body: Any = None  # dict/list: sent as JSON; str/bytes: sent as is (malformed bodies); None: the default answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (longer than the client's timeout = a timeout)
    path: str | None = None  # only for a request whose path contains this


@dataclass
class Reply:
    """What a route handler answers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Base of every vendor fake. Subclasses implement `route()` and `error_body()` and list `secret_headers`."""

    secret_headers: tuple[str, ...] = ("authorization",)
    secret_fields: tuple[str, ...] = ()  # body fields (form or JSON) holding a credential, e.g. client_secret
    always_headers: dict[str, str] = {}  # sent with every answer, scripted or not (e.g. the vendor's request id)
    vendor = "fake"

    def __init__(self, *, ssl_context=None) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ssl_context = ssl_context
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._serve, name=f"{self.vendor}-fake", daemon=True)

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._httpd.serve_forever(poll_interval=0.02)  # a short poll: stop() returns at once

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping on a scripted delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def origin(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # ---- scripting -------------------------------------------------------------------------------------------
    def enqueue(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        delay: float = 0.0,
        path: str | None = None,
    ) -> None:
        """Script the next answer. `body=None` with a 2xx status means "the normal answer" (useful with `delay`)."""
        with self._lock:
            self._script.append(ScriptedResponse(status, body, dict(headers or {}), delay, path))

    def enqueue_error(
        self, status: int, message: str = "", headers: dict[str, str] | None = None, *, path: str | None = None
    ) -> None:
        """The vendor's own error body for `status` (e.g. 429 with its `type`/`status` fields)."""
        self.enqueue(status, self.error_body(status, message or _default_message(status)), headers, path=path)

    def enqueue_rate_limit(self, retry_after: float = 1, *, path: str | None = None) -> None:
        self.enqueue_error(429, headers={"retry-after": _header_number(retry_after)}, path=path)

    def enqueue_malformed(self, status: int = 200, *, path: str | None = None) -> None:
        """A truncated JSON document labelled application/json."""
        self.enqueue(status, b'{"id": "broken", "choices": [{"message": ', {"content-type": JSON_TYPE}, path=path)

    def enqueue_slow(self, seconds: float, *, path: str | None = None) -> None:
        """The normal answer, but only after `seconds` (set it above the client's timeout to provoke one)."""
        self.enqueue(200, None, delay=seconds, path=path)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        return [request for request in self.requests if path_part in request.path]

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    def received_text(self) -> str:
        """All paths, queries and bodies received so far, for "nothing sensitive reached the vendor" checks."""
        return "\n".join(request.text() for request in self.requests)

    # ---- subclass hooks ----------------------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"message": message}}

    def credential_of(self, headers: dict[str, str], query: dict[str, str], body: Any) -> str | None:
        if isinstance(body, dict):
            for name in self.secret_fields:
                if body.get(name):
                    return body[name]
        value = headers.get("authorization", "")
        return value.removeprefix("Bearer ").strip() or None

    # ---- plumbing ----------------------------------------------------------------------------------------------
    def _next_scripted(self, path: str) -> ScriptedResponse | None:
        with self._lock:
            for scripted in self._script:
                if scripted.path is None or scripted.path in path:
                    self._script.remove(scripted)
                    return scripted
        return None

    def _record(self, method: str, target: str, raw_headers: dict[str, str], raw: bytes) -> RecordedRequest:
        split = urlsplit(target)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in raw_headers.items()}
        body = _parse_body(raw, headers.get("content-type", ""))
        credential = self.credential_of(headers, query, body)
        for name in self.secret_headers:
            if name in headers:
                headers[name] = REDACTED
        if isinstance(body, dict):
            body = {key: REDACTED if key in self.secret_fields else value for key, value in body.items()}
        query = {key: REDACTED if key in self.secret_fields else value for key, value in query.items()}
        request = RecordedRequest(method, split.path, query, headers, body, raw, credential)
        with self._lock:
            self.requests.append(request)
        return request

    def _answer(self, request: RecordedRequest) -> tuple[Reply, float]:
        scripted = self._next_scripted(request.path)
        if scripted is None:
            return self.route(request), 0.0
        if scripted.body is None and scripted.status < 300:
            reply = self.route(request)
            reply.headers.update(scripted.headers)
            return reply, scripted.delay
        return Reply(scripted.status, scripted.body, scripted.headers), scripted.delay


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # an idle keep-alive connection frees its thread

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = fake._record(self.command, self.path, dict(self.headers.items()), raw)
            reply, delay = fake._answer(request)
            if delay and fake._stopping.wait(delay):
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            payload, content_type = _encode(reply.body)
            headers = {"content-type": content_type} | fake.always_headers
            headers |= {key.lower(): value for key, value in reply.headers.items()}
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _encode(body: Any) -> tuple[bytes, str]:
    if body is None:
        return b"", JSON_TYPE
    if isinstance(body, bytes):
        return body, JSON_TYPE
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), JSON_TYPE


def _default_message(status: int) -> str:
    return {
        400: "Invalid request.",
        401: "Invalid authentication credentials.",
        403: "Permission denied.",
        404: "Not found.",
        429: "Rate limit exceeded, please retry later.",
        500: "Internal server error.",
        503: "Service unavailable.",
    }.get(status, f"HTTP {status}")


def _header_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ---- helpers vendor fakes share ------------------------------------------------------------------------------
def count_tokens(text: str) -> int:
    """A stable stand-in for a tokenizer: one token per whitespace-separated word (at least 1)."""
    return max(1, len(text.split()))


def fake_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for `text` (same text, same vector; different texts differ)."""
    import hashlib
    import math

    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [round(value / norm, 6) for value in values]


def example_from_schema(schema: dict[str, Any]) -> Any:
    """A minimal document that satisfies a simple JSON schema: what a well-behaved model would return."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return example_from_schema(schema[combinator][0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_from_schema(sub) for name, sub in properties.items()}
    if kind == "array":
        minimum = schema.get("minItems", 0)
        return [example_from_schema(schema.get("items", {})) for _ in range(minimum)]
    return {"string": "example", "integer": 0, "number": 0.0, "boolean": False, "null": None}.get(kind, "example")


def now() -> int:
    return int(time.time())
