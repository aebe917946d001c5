"""Talking to Twilio: the SDK's REST client and MMS media downloads over the egress guard, webhook signatures, the
opt-out keywords, and the plain text an agent's Markdown reply becomes."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from markdown_it import MarkdownIt
from requests import hooks
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client

from core.egress import guarded_requests_session

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
TIMEOUT_SECONDS = 10.0
MEDIA_MAX_REDIRECTS = 3
# Twilio's own opt-out keywords: the whole message, any case, spaces around
# (https://help.twilio.com/articles/223134027).
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
UNSUBSCRIBED_RECIPIENT = 21610  # Twilio's error code for a number that replied STOP
MAX_BODY = 1600  # characters Twilio takes in one message (it splits them into segments on the way)


def ca_bundle() -> str | bool:
    """What outbound TLS trusts: the operator's EGRESS_CA_BUNDLE, else the machine's bundle, else certifi."""
    return str(getattr(settings, "EGRESS_CA_BUNDLE", "") or "") or os.environ.get("REQUESTS_CA_BUNDLE") or True


class GuardedTwilioHttpClient(TwilioHttpClient):
    """The SDK's requests-based client, on a session whose every connection passes the egress guard."""

    def __init__(self, *, timeout: float = TIMEOUT_SECONDS) -> None:
        # TwilioHttpClient.__init__ would make a session of its own (with proxies from the environment).
        HttpClient.__init__(self, logging.getLogger("twilio.http_client"), False, timeout)
        self.session = guarded_requests_session()
        self.session.verify = ca_bundle()
        self.request_hooks = hooks.default_hooks()
        self.proxy = {}


def twilio_client(account_sid: str, auth_token: str) -> Client:
    client = Client(account_sid, auth_token, http_client=GuardedTwilioHttpClient())
    client.api.base_url = settings.INBOX_TWILIO_API_URL.rstrip("/")
    return client


# --- Webhooks ----------------------------------------------------------------------------------------


def signature_valid(*, auth_token: str, url: str, params: Any, signature: str, settings_header: str = "") -> bool:
    """Whether Twilio signed this request (`params`: the POST fields) with the account's auth token."""
    if not (auth_token and signature):
        return False
    algorithm = get_signature_algorithm(settings_header)
    return RequestValidator(auth_token).validate(url, params, signature, algorithm=algorithm)


def keyword_of(body: str, opt_out_type: str = "") -> str:
    """ "stop", "start" or "" for a received text. Twilio's Advanced Opt-Out tells us itself (OptOutType)."""
    if opt_out_type.upper() in {"STOP", "START"}:
        return opt_out_type.lower()
    word = body.strip().upper()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    return ""


# --- MMS media ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str


class MediaTooLarge(Exception):
    pass


def media_fetch(url: str, *, account_sid: str, auth_token: str, max_bytes: int) -> Media:
    """Downloads one MMS media file. Twilio's media URL redirects to its storage: every hop passes the egress guard,
    and requests drops the basic auth when a redirect leaves Twilio's host."""
    session = guarded_requests_session()
    session.verify = ca_bundle()
    session.max_redirects = MEDIA_MAX_REDIRECTS
    with session, session.get(url, auth=(account_sid, auth_token), stream=True, timeout=TIMEOUT_SECONDS) as response:
        response.raise_for_status()
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise MediaTooLarge(f"The file is larger than {max_bytes:,} bytes.")
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    return Media(content=b"".join(chunks), content_type=content_type)


def media_items(params: Mapping[str, Any]) -> list[dict[str, str]]:
    """The media Twilio listed with a message (NumMedia, MediaUrl0, MediaContentType0…)."""
    try:
        count = min(int(params.get("NumMedia") or 0), 10)  # Twilio allows at most 10 per message
    except ValueError:
        count = 0
    items = []
    for index in range(count):
        url = str(params.get(f"MediaUrl{index}") or "")
        if url:
            items.append({"url": url, "content_type": str(params.get(f"MediaContentType{index}") or "")})
    return items


# --- Reply text --------------------------------------------------------------------------------------


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["strikethrough"])


def markdown_to_sms(text: str) -> str:
    """An agent's Markdown reply as plain text for a phone: no markup, links as "text (url)", list items with "- ",
    paragraphs apart by one blank line. Long text is fine: Twilio splits it into segments."""
    lines: list[str] = []
    prefix = ""
    for token in _parser().parse(text or ""):
        if token.type in {"bullet_list_open"}:
            prefix = "- "
        elif token.type == "ordered_list_open":
            prefix = "#"
        elif token.type in {"bullet_list_close", "ordered_list_close"}:
            prefix = ""
            lines.append("\x02")  # the list ends: what follows is a paragraph apart
        elif token.type == "inline":
            lines.append(_inline_text(token.children or []))
        elif token.type in {"fence", "code_block"}:
            lines.append(token.content.rstrip("\n"))
        elif token.type == "hr":
            lines.append("---")
        elif token.type == "list_item_open":
            lines.append("\0" + prefix)  # marks the start of an item: joined with its text below
    return _join(lines)


def _inline_text(children: list) -> str:
    parts: list[str] = []
    href = ""
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            parts.append("\x01")
        elif child.type == "link_close":
            start = len(parts) - 1 - parts[::-1].index("\x01")
            label = "".join(parts[start + 1 :])
            parts[start:] = [label if not href or href in {label, f"mailto:{label}"} else f"{label} ({href})"]
        elif child.type == "image":
            parts.append(child.content or str(child.attrs.get("src", "")))
    return "".join(parts)


def _join(lines: list[str]) -> str:
    text, number, pending, in_list = "", 0, "", False
    for line in lines:
        if line == "\x02":
            in_list, number = False, 0
            continue
        if line.startswith("\0"):
            pending = line[1:]
            continue
        item = bool(pending)
        if pending == "#":
            number += 1
            line = f"{number}. {line}"
        elif pending:
            line = f"{pending}{line}"
        else:
            number = 0
        pending = ""
        # Items of one list sit on consecutive lines; everything else is a paragraph of its own.
        text += ("\n" if item and in_list else "\n\n") + line if text else line
        in_list = item
    return text.strip()


def body_parts(text: str, limit: int = MAX_BODY) -> list[str]:
    """The reply as texts Twilio takes (at most `limit` characters each), cut between paragraphs, lines or words,
    numbered "(1/3) " when there is more than one."""
    if len(text) <= limit:
        return [text]
    room = limit - len("(99/99) ")
    parts: list[str] = []
    rest = text
    while rest:
        if len(rest) <= room:
            parts.append(rest)
            break
        # The latest paragraph break in the second half of the room, else line break, else space, else anywhere.
        cuts = (rest.rfind(separator, 0, room) for separator in ("\n\n", "\n", " "))
        cut = next((cut for cut in cuts if cut > room // 2), room)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [f"({index}/{len(parts)}) {part}" for index, part in enumerate(parts, start=1)]
