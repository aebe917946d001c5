"""Emails the product sends by itself, for every app: the workspace's name to sign with, and a templated email
(`<prefix>_subject.txt`, `<prefix>_message.txt` and its HTML twin `<prefix>_message.html`), optionally with files
attached and images the HTML shows inline (`<img src="cid:…">`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import connection
from django.template.loader import render_to_string


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part names as `cid:<cid>` (PNG unless `subtype` says otherwise)."""

    cid: str
    content: bytes
    subtype: str = "png"


class _EmailWithInlineImages(EmailMultiAlternatives):
    """multipart/mixed [ multipart/related [ multipart/alternative [text, html], images… ], attachments… ]: the
    images belong to the HTML (mail clients show them in it, not as attachments), the files stay files."""

    def __init__(self, *args, inline_images: Sequence[InlineImage] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline_images:
            return msg
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(msg)
        for image in self.inline_images:
            part = MIMEImage(image.content, _subtype=image.subtype)
            part.add_header("Content-ID", f"<{image.cid}>")
            part.add_header("Content-Disposition", "inline", filename=f"{image.cid}.{image.subtype}")
            related.attach(part)
        return related


def workspace_name() -> str:
    """The current workspace's name ("Switchboard" outside one)."""
    return getattr(getattr(connection, "tenant", None), "name", "") or "Switchboard"


def templated_email_send(
    prefix: str,
    to: str,
    context: dict,
    *,
    attachments: Sequence[Attachment] = (),
    inline_images: Sequence[InlineImage] = (),
) -> None:
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    message = _EmailWithInlineImages(
        subject, render_to_string(f"{prefix}_message.txt", context), to=[to], inline_images=inline_images
    )
    message.attach_alternative(render_to_string(f"{prefix}_message.html", context), "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send()
