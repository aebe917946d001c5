"""Templated emails: a text and an HTML part, files attached as files, images the HTML shows inline by cid."""

from __future__ import annotations

import copy

import pytest
from django.core import mail

from core.emails import Attachment, InlineImage, templated_email_send

PNG = b"\x89PNG\r\n\x1a\n-not-really-a-png"


@pytest.fixture
def email_templates(settings, tmp_path):
    (tmp_path / "t_subject.txt").write_text("Hello {{ name }}")
    (tmp_path / "t_message.txt").write_text("Text for {{ name }}")
    (tmp_path / "t_message.html").write_text('<p>HTML for {{ name }}</p><img src="cid:chart-1">')
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    return "t"


def _parts(message) -> list:
    return list(message.message().walk())


def test_a_plain_templated_email_has_a_text_and_an_html_part(email_templates):
    templated_email_send(email_templates, "ann@example.test", {"name": "Ann"})
    sent = mail.outbox[-1]
    assert sent.subject == "Hello Ann"
    types = [part.get_content_type() for part in _parts(sent)]
    assert types == ["multipart/alternative", "text/plain", "text/html"]


def test_inline_images_sit_next_to_the_html_and_attachments_stay_files(email_templates):
    templated_email_send(
        email_templates,
        "ann@example.test",
        {"name": "Ann"},
        attachments=[Attachment("report.pdf", b"%PDF-1.7 test", "application/pdf")],
        inline_images=[InlineImage("chart-1", PNG)],
    )
    parts = _parts(mail.outbox[-1])
    types = [part.get_content_type() for part in parts]
    assert types == [
        "multipart/mixed",
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    image = parts[5]
    assert image["Content-ID"] == "<chart-1>"
    assert image.get_payload(decode=True) == PNG
    assert image.get_content_disposition() == "inline"
    assert parts[6].get_filename() == "report.pdf"
    assert parts[6].get_payload(decode=True) == b"%PDF-1.7 test"
