"""Web origins ("https://www.example.com"): the one spelling that embed allow-lists store and compare."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError


def origin_normalize(origin: str) -> str:
    """ "https://Example.com:443/" → "https://example.com"; "" for anything that is not an http(s) origin."""
    try:
        parts = urlsplit((origin or "").strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.path not in ("", "/"):
        return ""
    if parts.query or parts.fragment:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_of_url(url: str) -> str:
    """The origin a full URL (a Referer) belongs to, normalized; "" when it has none."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    return origin_normalize(f"{parts.scheme}://{parts.netloc}")


def origins_parse(text: str, *, limit: int) -> list[str]:
    """An allow-list typed one site per line (a chat widget's, a web form's): each normalized, duplicates and blank
    lines dropped. ValidationError naming the first line that is not an origin, or when there are over `limit`."""
    origins: list[str] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        origin = origin_normalize(line)
        if not origin:
            raise ValidationError(f"“{line.strip()[:100]}” is not an origin like https://www.example.com.")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > limit:
        raise ValidationError(f"At most {limit} sites.")
    return origins
