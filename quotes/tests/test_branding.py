"""Quote branding: the settings page (logo and colour), the PDF printing them, sent revisions keeping what they were
sent with, and the customer's page showing the workspace's own logo."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import tenant_context

from quotes import branding, printing
from quotes.models import DEFAULT_BRAND_COLOUR, QuoteRevision, QuoteSettings
from quotes.pdf import quote_pdf_inputs
from quotes.public import quote_token_make

from .factories import QuoteLineFactory, QuoteSettingsFactory, quote_sent

pytestmark = pytest.mark.django_db
SETTINGS_URL = "/quotes/settings/"


def _png(rgb: bytes = b"\x25\x63\xeb") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + rgb * 2))
        + chunk(b"IEND", b"")
    )


def _upload(data: bytes, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _brand(data: bytes = b"", colour: str = "#0f766e") -> QuoteSettings:
    return branding.quote_settings_update(brand_colour=colour, logo=_upload(data or _png()))


# --- The settings page ----------------------------------------------------------------------------------------------


def test_an_admin_uploads_a_png_logo_and_a_colour_and_sees_them(client, login):
    login("admin")

    response = client.post(SETTINGS_URL, {"brand_colour": "#0F766E", "logo": _upload(_png())})

    assert response.status_code == 302
    settings = QuoteSettings.objects.get(pk=1)
    assert settings.brand_colour == "#0f766e" and settings.logo_type == "image/png"
    assert settings.logo_sha256 == hashlib.sha256(_png()).hexdigest()
    page = client.get(SETTINGS_URL).content.decode()
    assert 'data-testid="logo-preview"' in page and 'value="#0f766e"' in page
    assert "background-color: #0f766e; color: #ffffff" in page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG images"),
        ("logo.png", b"<html><script>alert(1)</script></html>", "not what its name says"),
        ("logo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", ".gif files are not accepted"),
        ("logo.png", _png() + b"\x00" * (2 * 1024 * 1024), "over the 2 MiB limit"),
    ],
    ids=["svg", "html-named-png", "gif", "too-big"],
)
def test_a_logo_that_is_not_a_small_png_jpeg_or_webp_is_refused_in_words(client, login, name, data, message):
    login("owner")

    response = client.post(SETTINGS_URL, {"brand_colour": "#0f766e", "logo": _upload(data, name)})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not QuoteSettings.objects.filter(pk=1).exclude(logo_sha256="").exists()


def test_a_colour_that_is_not_hex_is_refused_and_nothing_is_saved(client, login):
    login("owner")

    response = client.post(SETTINGS_URL, {"brand_colour": "red; background:url(x)"})

    assert response.status_code == 400
    assert "six hexadecimal digits" in response.content.decode()
    assert branding.quote_settings_get().brand_colour == DEFAULT_BRAND_COLOUR


def test_removing_the_logo_keeps_its_file_for_revisions_sent_with_it(client, login):
    login("owner")
    path = _brand().logo.name

    client.post(SETTINGS_URL, {"brand_colour": "#0f766e", "remove_logo": "on"})

    assert branding.quote_settings_get().logo_sha256 == ""
    assert branding.logo_load({"sha256": hashlib.sha256(_png()).hexdigest(), "type": "image/png", "path": path})


@pytest.mark.parametrize("role", ["agent", "sales", "viewer"])
def test_only_owners_and_admins_may_change_the_branding(client, login, role):
    login(role)

    assert client.get(SETTINGS_URL).status_code == 403
    assert client.post(SETTINGS_URL, {"brand_colour": "#000000"}).status_code == 403
    assert 'data-testid="quote-settings-link"' not in client.get(reverse("quotes:quote_list")).content.decode()


def test_the_quote_list_links_to_the_branding_page_for_admins(client, login):
    login("admin")
    assert 'data-testid="quote-settings-link"' in client.get(reverse("quotes:quote_list")).content.decode()


@pytest.mark.parametrize(
    ("background", "text"),
    [("#2563eb", "#ffffff"), ("#fde047", "#000000"), ("#000000", "#ffffff"), ("#ffffff", "#000000")],
)
def test_text_on_the_brand_colour_is_black_or_white_by_contrast(background, text):
    assert branding.text_colour_on(background) == text


# --- The PDF --------------------------------------------------------------------------------------------------------


def test_the_pdf_prints_the_workspaces_logo_and_colour(customer):
    quote = quote_sent(customer=customer)
    QuoteLineFactory(quote=quote)
    plain = printing.draft_pdf(quote)
    _brand(colour="#be123c")
    printing.document_pdf.cache_clear()

    branded = printing.draft_pdf(quote)

    assert b"/Subtype/Image" in branded and b"/Subtype/Image" not in plain
    document = printing.snapshot_document(
        {**QuoteRevision.objects.get(quote=quote).snapshot, "print": printing.print_fields(quote)}, revision=1
    )
    assert document.brand_colour == "#be123c" and document.logo.data == _png()
    assert "logo" in quote_pdf_inputs(document)


def test_a_sent_revision_prints_byte_for_byte_the_same_after_the_branding_changes(customer):
    _brand(colour="#0f766e")
    revision = QuoteRevision.objects.get(quote=quote_sent(customer=customer))
    assert revision.snapshot["print"]["logo"]["sha256"] == hashlib.sha256(_png()).hexdigest()

    _brand(_png(b"\xff\x00\x00"), colour="#be123c")
    printing.document_pdf.cache_clear()

    again = printing.revision_pdf(QuoteRevision.objects.get(pk=revision.pk))
    assert hashlib.sha256(again).hexdigest() == revision.pdf_sha256


# --- The customer's page and the logo URL ---------------------------------------------------------------------------


def test_the_customers_page_shows_the_logo_and_a_readable_accept_button(client, customer):
    _brand(colour="#fde047")
    quote = quote_sent(customer=customer)

    page = client.get(reverse("quotes_public:quote_public", args=[quote_token_make(quote=quote)])).content.decode()

    assert 'data-testid="quote-public-logo"' in page
    assert "background-color: #fde047; border-color: #fde047; color: #000000;" in page


def test_the_logo_url_serves_the_image_with_its_type_nosniff_and_cache_headers(client):
    _brand()

    response = client.get(reverse("quotes_public:logo"))

    assert response.status_code == 200 and b"".join(response.streaming_content) == _png()
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("public, max-age=")


def test_a_workspace_without_a_logo_never_serves_another_workspaces(client, other_tenant):
    with tenant_context(other_tenant):
        _brand(_png(b"\x00\xff\x00"))
    QuoteSettingsFactory()

    assert client.get(reverse("quotes_public:logo")).status_code == 404
    _brand()
    assert b"".join(client.get(reverse("quotes_public:logo")).streaming_content) == _png()
