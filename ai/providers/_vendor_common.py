"""What the cloud providers (openai, anthropic, google, copilot) share: turning HTTP failures into our errors.

Every message built here is meant for the run log: it names the vendor, says what went wrong in plain words, keeps
the vendor's own explanation from a JSON error (shortened; never a raw body), and never carries a credential:
`scrub()` removes the configured secret and anything shaped like an API key, even one the vendor echoed back masked.
A connection test shows none of it, only a category (ai.services.provider_config_test).

Finish reasons are normalised to one vocabulary so the orchestrator can test them without knowing the vendor:
"stop" (the model finished), "length" (it hit max_output_tokens), "content_filter" (the vendor withheld output),
otherwise the vendor's own value in lower case.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from core.egress import refusal_in

from .base import (
    AuthenticationFailed,
    BadResponse,
    EgressBlocked,
    Misconfigured,
    ModelNotOffered,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)

MAX_DETAIL_CHARS = 300
# Shapes of API keys and tokens that vendors echo back (often masked with *): OpenAI, Anthropic, Google, JWTs.
_KEY_LIKE = re.compile(r"\b(?:sk-[\w*\-.]{4,}|AIza[\w*\-]{8,}|ey[A-Za-z0-9_\-]{8,}\.[\w.\-*]+)")
_STOP = {"stop", "end_turn", "stop_sequence", "tool_use", "tool_calls", "function_call", "finish_reason_stop"}
_LENGTH = {"length", "max_tokens", "model_context_window_exceeded"}
_FILTERED = {
    "content_filter",
    "refusal",
    "safety",
    "recitation",
    "blocklist",
    "prohibited_content",
    "spii",
    "image_safety",
}


def scrub(text: str, *secrets: str) -> str:
    """`text` without any of `secrets` and without key-shaped tokens."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[hidden]")
    return _KEY_LIKE.sub("[hidden]", text)


def shorten(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` (delta seconds or an HTTP date); None if absent."""
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            seconds = _seconds_until(value) if divisor == 1.0 else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _seconds_until(http_date: str) -> float | None:
    try:
        return parsedate_to_datetime(http_date).timestamp() - time.time()
    except (TypeError, ValueError, IndexError):
        return None


def status_error(
    vendor: str,
    status: int,
    detail: str,
    *,
    retry_after: float | None = None,
    secrets: tuple[str, ...] = (),
    request_id: str | None = None,
    hint: str = "",
) -> ProviderError:
    """The error for an HTTP `status` from `vendor`, with a readable message (`hint`: advice appended to it)."""
    detail = shorten(scrub(detail, *secrets)) if detail else ""
    suffix = f": {detail}" if detail else "."
    reference = f" (request id {request_id}){hint}" if request_id else hint
    if status == 429:
        wait = f" Retry after {retry_after:g} s." if retry_after is not None else ""
        return RateLimited(
            f"{vendor} is rate limiting requests (HTTP 429){suffix}{wait}{reference}",
            retry_after=retry_after,
            status=status,
        )
    if status in (401, 403):
        what = "rejected the credentials" if status == 401 else "refused access"
        return AuthenticationFailed(f"{vendor} {what} (HTTP {status}){suffix}{reference}", status=status)
    if status == 404:
        return ModelNotOffered(
            f"{vendor} does not know this model or address (HTTP 404){suffix}{reference}", status=status
        )
    if status == 408:
        return ProviderUnavailable(
            f"{vendor} timed out on its side (HTTP 408){suffix}{reference}", retry_after=retry_after, status=status
        )
    if 400 <= status < 500:
        return Misconfigured(f"{vendor} rejected the request (HTTP {status}){suffix}{reference}", status=status)
    return ProviderUnavailable(
        f"{vendor} is unavailable (HTTP {status}){suffix}{reference}", retry_after=retry_after, status=status
    )


def egress_blocked(error: BaseException) -> EgressBlocked | None:
    """The provider error for a destination the egress guard refused (raised by, or wrapped in, an SDK error)."""
    refusal = refusal_in(error)
    return EgressBlocked(str(refusal)) if refusal is not None else None


def error_detail(body: Any) -> str:
    """The human part of a vendor's JSON error body: `error.message`, `message`, `error_description` or `detail`.

    Never the raw text of a body that is not a JSON object: whatever answered may not be the vendor (an HTML error
    page of a proxy, another service), and its words do not belong in a settings page or the run log.
    """
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("message") or error.get("code") or "")
        for key in ("message", "error_description", "detail"):
            if body.get(key):
                return str(body[key])
        if isinstance(error, str):
            return error
    return ""


def bad_response(vendor: str, what: str) -> BadResponse:
    return BadResponse(f"{vendor} returned an unusable answer: {what}", reached=True)


def normalize_finish_reason(value: Any) -> str:
    raw = str(getattr(value, "value", value) or "").strip().lower()
    if raw in _STOP:
        return "stop"
    if raw in _LENGTH:
        return "length"
    if raw in _FILTERED:
        return "content_filter"
    return raw


def empty_text_error(vendor: str, finish_reason: str) -> BadResponse:
    """Why a 200 answer carried no text, in words an admin can act on."""
    if finish_reason == "length":
        return bad_response(vendor, "it used the whole output-token limit before writing any text; raise the limit.")
    if finish_reason == "content_filter":
        return bad_response(vendor, "the vendor's safety filter withheld the answer.")
    return bad_response(vendor, f"no text in the answer (finish reason {finish_reason or 'unknown'}).")


def json_instructions(schema: Mapping[str, Any]) -> str:
    """Plain-text instructions for vendors without a structured-output feature (Copilot)."""
    return (
        "Reply with a single JSON document and nothing else (no prose, no code fences). "
        f"It must match this JSON schema:\n{json.dumps(schema, separators=(',', ':'))}"
    )


def extract_json_text(text: str) -> str:
    """The JSON document inside a reply that may wrap it in a code fence or a sentence; `text` if none is found."""
    fenced = re.search(r"```(?:json)?\s*(.+?)```", text, re.DOTALL)
    candidate = fenced.group(1).strip() if fenced else text.strip()
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = candidate.find(opener), candidate.rfind(closer)
        if start != -1 and end > start:
            snippet = candidate[start : end + 1]
            try:
                json.loads(snippet)
            except ValueError:
                continue
            return snippet
    return candidate
