"""The site icon answers on every host, and pages link it: no 404 for /favicon.ico in any log or browser console."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ICO_HEADER = b"\x00\x00\x01\x00"  # reserved 0, type 1 (icon)


@pytest.mark.parametrize("host", ["public", "workspace"])
def test_favicon_ico_answers_on_every_host_without_signing_in(host, public_client, client):
    browser = public_client if host == "public" else client

    response = browser.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content.startswith(ICO_HEADER)
    assert "max-age=86400" in response["Cache-Control"]


def test_a_head_request_answers_too_and_writes_are_refused(client):
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405


@pytest.mark.parametrize("path", ["/help/", "/accounts/login/"])
def test_pages_link_the_static_icon_which_is_served(path, client):
    html = client.get(path).content.decode()

    assert '<link rel="icon" href="/static/favicon.ico">' in html
    assert client.get("/static/favicon.ico").status_code == 200


def test_the_platform_s_pages_link_it_too(public_client):
    assert '<link rel="icon" href="/static/favicon.ico">' in public_client.get("/").content.decode()
