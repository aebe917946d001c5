"""Long browser caching for the vendored front-end files, whose directory names carry their version
(static/vendor/htmx-2.0.11/…): a new version is a new URL, so a year-long, immutable cache is safe. Our own CSS and
JS keep WhiteNoise's short max-age, as their names do not change when they do (no manifest storage: that would
need collectstatic in every deployment and test run)."""

from __future__ import annotations

import re

VERSIONED = re.compile(r"/vendor/[^/]+-\d+(?:\.\d+)+/")
YEAR = 365 * 24 * 3600


def add_static_headers(headers, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION."""
    if VERSIONED.search(url):
        headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
