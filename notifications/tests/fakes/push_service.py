"""A local Web Push service (RFC 8030) for tests: it checks what a real one checks of each message, a VAPID JWT
(RFC 8292: ES256 over `aud`, `exp`, `sub`, signed by the key in `k`) and an aes128gcm body (RFC 8291) it can
decrypt with the browser's private key, and records the decrypted payload. It can answer 410 Gone or 503."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A browser's side of a subscription: its ECDH key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)


@dataclass
class Received:
    path: str
    payload: dict
    ttl: str
    vapid_key: str
    claims: dict


class PushServiceFake:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.answers: list[int] = []  # scripted statuses, first one next
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PushServiceFake:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def subscribe(self, name: str = "b1") -> tuple[str, Browser]:
        """A new browser subscription: (endpoint, browser)."""
        browser = Browser.new()
        self.browsers[f"/push/{name}"] = browser
        return f"{self.origin}/push/{name}", browser

    def check(self, path: str, headers, body: bytes) -> tuple[int, str]:
        browser = self.browsers.get(path)
        if browser is None:
            return 404, "unknown subscription"
        if self.answers:
            return self.answers.pop(0), "scripted"
        if headers.get("Content-Encoding") != "aes128gcm":
            return 400, "not aes128gcm"
        if not headers.get("TTL"):
            return 400, "no TTL"
        try:
            claims, key = _vapid(headers.get("Authorization", ""), audience=self.origin)
        except (ValueError, KeyError, InvalidSignature) as error:
            return 401, f"bad VAPID: {error!r}"
        try:
            clear = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception as error:
            return 400, f"cannot decrypt: {error!r}"
        self.received.append(Received(path, json.loads(clear), headers.get("TTL"), key, claims))
        return 201, "created"


def _vapid(header: str, *, audience: str) -> tuple[dict, str]:
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("not the vapid scheme")
    parts = dict(item.strip().split("=", 1) for item in params.split(","))
    token, key = parts["t"], parts["k"]
    head, payload, signature = token.split(".")
    if json.loads(unb64url(head)).get("alg") != "ES256":
        raise ValueError("not ES256")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(unb64url(payload))
    if claims.get("aud") != audience:
        raise ValueError(f"aud {claims.get('aud')!r} is not {audience!r}")
    if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
        raise ValueError("exp not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("no sub")
    return claims, key


def _handler(fake: PushServiceFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, reason = fake.check(self.path, self.headers, body)
            if status >= 300:
                fake.rejected.append(reason)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler
