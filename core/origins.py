"""Web origins ("https://www.example.com"): the one spelling that embed allow-lists store and compare."""

from __future__ import annotations

from urllib.parse import urlsplit


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
