"""Input rules of the helpdesk: tags, attachments. Messages are written for the person who sent the input."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

TAG = re.compile(r"[^a-z0-9_\-]+")
MAX_TAGS = 20
# Executables and scripts are refused whatever their declared type; everything else within the size limit is kept.
FORBIDDEN_EXTENSIONS = frozenset(
    {".exe", ".dll", ".bat", ".cmd", ".com", ".msi", ".scr", ".ps1", ".vbs", ".js", ".jar", ".sh", ".app", ".apk"}
)


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


def validate_attachments(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    files = list(files)
    limit = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    if len(files) > settings.HELPDESK_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {"attachments": f"At most {settings.HELPDESK_ATTACHMENTS_PER_MESSAGE} files per message."}
        )
    for upload in files:
        name = upload.name or "file"
        extension = "." + name.rpartition(".")[2].lower() if "." in name else ""
        if extension in FORBIDDEN_EXTENSIONS:
            raise ValidationError({"attachments": f"{name}: {extension} files are not accepted (they can run code)."})
        if upload.size > limit:
            raise ValidationError(
                {"attachments": f"{name} is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)}."}
            )
        if upload.size == 0:
            raise ValidationError({"attachments": f"{name} is empty."})
    return files


def content_type_of(upload: UploadedFile) -> str:
    guessed, _ = mimetypes.guess_type(upload.name or "")
    return guessed or "application/octet-stream"
