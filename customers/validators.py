"""Normalising and checking customer input, shared by forms, the API serializers and the CSV import."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator

from .models import Customer

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
PHONE_ALLOWED = re.compile(r"^[0-9+()./\s-]+(?:\s*(?:x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)

_domain_validator = DomainNameValidator(message="")


def normalize_domain(value: str) -> str:
    """`https://www.Acme.com/about`, `jane@acme.com` and `acme.com.` all become `acme.com`; "" stays ""."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        host = ""
    host = host.rstrip(".")
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    if not host or "." not in host:
        raise ValidationError(f"“{value.strip()}” is not a web domain. Enter one like acme.com.", code="invalid")
    try:
        _domain_validator(host)
    except ValidationError:
        raise ValidationError(
            f"“{value.strip()}” is not a valid domain. Enter one like acme.com.", code="invalid"
        ) from None
    return host


def normalize_tags(value: str | Iterable[str] | None) -> list[str]:
    """Comma-separated text or a list → lowercase, hyphenated, de-duplicated tags in the order given."""
    parts = value.split(",") if isinstance(value, str) else list(value or [])
    tags: list[str] = []
    for part in parts:
        tag = "-".join(str(part).strip().lower().split())
        if tag and tag not in tags:
            tags.append(tag)
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_LENGTH]
    if too_long:
        raise ValidationError(
            f"Tags can be at most {MAX_TAG_LENGTH} characters; “{too_long[0]}” is {len(too_long[0])}.",
            code="tag_too_long",
        )
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"Use at most {MAX_TAGS} tags (you gave {len(tags)}).", code="too_many_tags")
    return tags


def parse_tier(value: str) -> str:
    """Accepts a tier's value or label in any case ("Professional", "professional"); "" means the default."""
    text = (value or "").strip().lower()
    if not text:
        return Customer.Tier.STARTER
    for tier_value, label in Customer.Tier.choices:
        if text in {tier_value, label.lower()}:
            return tier_value
    choices = ", ".join(tier_value for tier_value, _ in Customer.Tier.choices)
    raise ValidationError(f"Tier “{value.strip()}” is not one of {choices}.", code="invalid_tier")


def normalize_phone(value: str) -> str:
    """Keeps the number as typed (people recognise their own format) but rejects text that is not a phone number."""
    text = " ".join((value or "").split())
    if not text:
        return ""
    digits = sum(character.isdigit() for character in text)
    if not PHONE_ALLOWED.match(text) or not 5 <= digits <= 20:
        raise ValidationError(
            f"“{text}” does not look like a phone number. Use digits, spaces and + ( ) - . only.", code="invalid_phone"
        )
    return text
