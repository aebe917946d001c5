"""Responses on the wire: text gzipped (files left alone), versioned vendor files cached for a year."""

from __future__ import annotations

import io

import pytest
from django.http import FileResponse, HttpResponse
from django.test import RequestFactory

from core.compression import GZipTextMiddleware


@pytest.mark.parametrize(
    ("response", "compressed"),
    [
        (HttpResponse("<p>" + "row " * 200, content_type="text/html; charset=utf-8"), True),
        (HttpResponse('{"rows": "' + "x" * 500 + '"}', content_type="application/json"), True),
        (HttpResponse(b"%PDF-" + b"0" * 500, content_type="application/pdf"), False),
        (FileResponse(io.BytesIO(b"a" * 500), content_type="text/plain", as_attachment=True, filename="a.txt"), False),
    ],
    ids=["html", "json", "pdf", "attachment"],
)
def test_only_text_responses_are_gzipped(response, compressed):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")

    answered = GZipTextMiddleware(lambda _request: response)(request)

    assert (answered.get("Content-Encoding") == "gzip") is compressed


@pytest.mark.django_db
def test_versioned_vendor_files_are_cached_for_a_year_and_our_own_briefly(client):
    vendor = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    own = client.get("/static/js/helpdesk.js")

    assert vendor.status_code == 200 and vendor["Cache-Control"] == "public, max-age=31536000, immutable"
    assert own.status_code == 200 and "immutable" not in own["Cache-Control"]
