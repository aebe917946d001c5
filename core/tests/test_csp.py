"""Content-Security-Policy: on every response, no inline script or eval allowed, the page's websocket origin allowed,
and no template left that needs more (inline scripts, inline handlers, hx-on, javascript: links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ") if part}


def nonce_of(response) -> str:
    return next(value for value in policy(response)["script-src"] if value.startswith("'nonce-"))[7:-1]


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("alpha.localhost", "/accounts/login/"),
        ("alpha.localhost", "/help/"),
        ("alpha.localhost", "/api/v1/tickets/"),
        ("alpha.localhost", "/no-such-page/"),
        ("localhost", "/"),
        ("localhost", "/signup/"),
        ("nowhere.localhost", "/"),  # unknown workspace: answered before any view
        ("attacker.example", "/"),  # not in ALLOWED_HOSTS at all
    ],
)
def test_every_response_carries_a_policy_without_inline_script_or_eval(host, path):
    response = Client(HTTP_HOST=host).get(path)
    directives = policy(response)

    assert directives["default-src"] == ["'self'"]
    # A nonce only when the page used one (its inline block carries it).
    assert directives["script-src"][0] == "'self'"
    assert all(value.startswith("'nonce-") for value in directives["script-src"][1:])
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    everything = " ".join(" ".join(values) for name, values in directives.items() if name != "style-src-attr")
    assert "'unsafe-inline'" not in everything and "'unsafe-eval'" not in everything
    assert directives["style-src-attr"] == ["'unsafe-inline'"]
    assert not INLINE_HANDLER.search(response.content.decode())  # form widgets render no inline handlers either


def test_connect_src_allows_the_live_socket_on_its_own_port_of_this_workspace(client, login, settings):
    settings.LIVE_SOCKET_PORT = "8001"
    login("agent")

    connect = policy(client.get("/customers/"))["connect-src"]
    secure = policy(client.get("/customers/", secure=True))["connect-src"]

    assert connect == ["'self'", "ws://alpha.localhost", "ws://alpha.localhost:8001"]
    assert secure == ["'self'", "wss://alpha.localhost", "wss://alpha.localhost:8001"]


def test_swagger_ui_runs_its_inline_script_with_the_response_nonce(client, login):
    login("agent")

    response = client.get("/api/v1/docs/")
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<script nonce="{nonce_of(response)}">' in html and f'<style nonce="{nonce_of(response)}">' in html


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\s(?:on[a-z]+|hx-on[:\w-]*)\s*=|javascript:", re.IGNORECASE)


def _page_templates() -> list[Path]:
    # Emails are read in mail clients, not under the policy.
    return [path for path in TEMPLATES.rglob("*.html") if "email" not in path.parts]


def test_no_template_needs_inline_script_or_eval():
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in _page_templates()
        for text in [path.read_text()]
        if INLINE_SCRIPT.search(text.replace('<script nonce="{{ CSP_NONCE }}">', "")) or INLINE_HANDLER.search(text)
    ]

    assert offenders == []
