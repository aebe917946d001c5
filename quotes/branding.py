"""The workspace's quote branding: its settings row (logo, brand colour), the logo's content-addressed storage, and
the text colour that stays readable on the brand colour.

A logo is stored once under its sha256 (quotes/logos/<sha256>.<ext>, in the workspace's own storage) and never
overwritten or deleted: a sent revision freezes only that reference ({"sha256", "type", "path"}) and reads the
same bytes whenever its PDF is rendered again, whatever the settings say by then. A snapshot stays small (no
base64 of up to 2 MiB in every revision's JSON), and sending the same logo a thousand times stores it once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.uploads import upload_check

from .documents import Logo
from .models import DEFAULT_BRAND_COLOUR, HEX_COLOUR, QuoteSettings

logger = logging.getLogger(__name__)

# Raster only: an SVG can carry script, and the logo is shown on the customer's page.
LOGO_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
LOGO_SUFFIXES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_DIRECTORY = "quotes/logos"


def quote_settings_get() -> QuoteSettings:
    settings, _ = QuoteSettings.objects.get_or_create(pk=1)
    return settings


def logo_check(upload: IO[bytes]) -> tuple[bytes, str]:
    """The upload's bytes and verified type; ValidationError in words when it is not a PNG, JPEG or WebP image
    (by its content, not its name) or is over 2 MiB."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_LOGO_BYTES:
        raise ValidationError(f"The logo is {size:,} bytes, over the 2 MiB limit: use a smaller image.")
    checked = upload_check(upload, accept=LOGO_EXTENSIONS)
    upload.seek(0)
    data = upload.read()
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError("The logo is over the 2 MiB limit: use a smaller image.")
    if not data:
        raise ValidationError("The logo file is empty.")
    return data, checked.content_type


def _logo_store(data: bytes, content_type: str) -> tuple[str, str]:
    """Stores `data` under its hash (once); returns (path, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    path = f"{LOGO_DIRECTORY}/{digest}.{LOGO_SUFFIXES[content_type]}"
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(data))
        if saved != path:  # a concurrent upload of the same bytes won the race: keep one copy
            default_storage.delete(saved)
    return path, digest


@transaction.atomic
def quote_settings_update(
    *, brand_colour: str, logo: IO[bytes] | None = None, remove_logo: bool = False
) -> QuoteSettings:
    """Saves the brand colour and replaces or removes the logo. Earlier logo files stay: sent revisions use them."""
    settings = QuoteSettings.objects.select_for_update().get_or_create(pk=1)[0]
    colour = (brand_colour or "").strip().lower()
    try:
        HEX_COLOUR(colour)
    except ValidationError as error:
        raise ValidationError({"brand_colour": error.messages}) from None
    settings.brand_colour = colour
    if logo is not None:
        try:
            data, content_type = logo_check(logo)
        except ValidationError as error:
            raise ValidationError({"logo": error.messages}) from None
        settings.logo.name, settings.logo_sha256 = _logo_store(data, content_type)
        settings.logo_type = content_type
    elif remove_logo:
        settings.logo.name, settings.logo_sha256, settings.logo_type = "", "", ""
    settings.save()
    return settings


def logo_reference(settings: QuoteSettings) -> dict[str, str] | None:
    """What a sent revision freezes of the current logo (None without one)."""
    if not settings.logo_sha256:
        return None
    return {"sha256": settings.logo_sha256, "type": settings.logo_type, "path": settings.logo.name}


def logo_load(reference: dict[str, Any] | None) -> Logo | None:
    """The logo a reference names, checked against its hash. A missing or altered file prints no logo (and is
    logged) rather than a different one: the revision's stored PDF hash will then tell it changed."""
    if not reference:
        return None
    try:
        with default_storage.open(reference["path"], "rb") as stored:
            data = stored.read()
    except (OSError, KeyError):
        logger.warning("Quote logo %s is missing from storage", reference.get("path"))
        return None
    if hashlib.sha256(data).hexdigest() != reference.get("sha256"):
        logger.warning("Quote logo %s does not match its sha256", reference.get("path"))
        return None
    return Logo(data=data, mime=reference["type"])


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (#rrggbb), by WCAG relative luminance: white
    text needs a background darker than luminance ≈ 0.179 to beat black's contrast."""
    try:
        HEX_COLOUR(background)
    except ValidationError:
        background = DEFAULT_BRAND_COLOUR
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"
