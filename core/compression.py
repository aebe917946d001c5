"""Gzip for text responses (pages, fragments, JSON, CSS, JS): the 50-row ticket list goes from ~50 KB to ~8 KB.

BREACH (compression + a secret in the body + attacker-chosen text reflected next to it) is answered as Django
answers it: the CSRF token in pages is masked anew for every response, so it never repeats between responses,
and since Django 4.2 GZipMiddleware pads each response with random bytes ("Heal the BREACH"). No other secret is
rendered into our pages (session ids live in cookies; API tokens are shown once, on a POST that reflects nothing).
Files (attachments, images, PDFs) are left alone: they are compressed already or are downloads with a length.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware

TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/problem+json", "image/svg+xml")


class GZipTextMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(TEXT_TYPES) or response.has_header("Content-Disposition"):
            return response
        return super().process_response(request, response)
