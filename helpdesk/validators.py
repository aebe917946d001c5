"""Input rules of the helpdesk: tags, attachments, recipients. Messages speak to the person who sent the input."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from core.uploads import CheckedUpload, upload_check, upload_name_clean
from core.validation import validate_international_email

TAG = re.compile(r"[^a-z0-9_\-]+")
MAX_TAGS = 20


def normalize_tags(tags: Iterable[str] | str) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned = []
    for tag in tags:
        value = TAG.sub("-", (tag or "").strip().lower()).strip("-")[:40]
        if value and value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": f"At most {MAX_TAGS} tags per ticket."})
    return cleaned


def validate_attachments(files: Iterable[UploadedFile]) -> list[CheckedUpload]:
    """The helpdesk's count and size limits, then core's allow-list: each file's clean name and verified type."""
    files = list(files)
    limit = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    if len(files) > settings.HELPDESK_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {"attachments": f"At most {settings.HELPDESK_ATTACHMENTS_PER_MESSAGE} files per message."}
        )
    checked = []
    for upload in files:
        name = upload_name_clean(upload.name)
        if upload.size > limit:
            raise ValidationError(
                {"attachments": f"{name} is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)}."}
            )
        if upload.size == 0:
            raise ValidationError({"attachments": f"{name} is empty."})
        try:
            checked.append(upload_check(upload))
        except ValidationError as error:
            raise ValidationError({"attachments": error.messages}) from None
    return checked


MAX_RECIPIENTS = 20
_ADDRESS_SPLIT = re.compile(r"[,;\s]+")
RECIPIENT_LABELS = {"to": "To", "cc": "CC", "bcc": "BCC"}


def normalize_addresses(addresses: Iterable[str] | str | None, *, field: str) -> list[str]:
    """Email addresses typed in a To/CC/BCC box (commas, semicolons or spaces between them, or a list), checked,
    lower-cased, without repeats; at most MAX_RECIPIENTS. A bad one is named in the error."""
    if addresses is None:
        return []
    parts = _ADDRESS_SPLIT.split(addresses) if isinstance(addresses, str) else list(addresses)
    label = RECIPIENT_LABELS.get(field, field)
    cleaned: list[str] = []
    for part in parts:
        address = (part or "").strip().strip("<>").lower()
        if not address:
            continue
        try:
            validate_international_email(address)
        except ValidationError:
            raise ValidationError({field: f"{label}: “{address[:100]}” is not an email address."}) from None
        if address not in cleaned:
            cleaned.append(address)
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError({field: f"{label}: at most {MAX_RECIPIENTS} addresses."})
    return cleaned
