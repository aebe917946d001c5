"""Attachments through every way in (help center, agents, API) pass core.uploads: hostile names and disguised
content are refused with a message, and what is kept is stored and served with its verified type."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.testing import samples
from helpdesk.models import Attachment, Ticket
from helpdesk.tests.test_help_center import REQUEST, submit

pytestmark = pytest.mark.django_db

MZ = b"MZ\x90\x00" + b"\x00" * 60


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe.", MZ, "evil.exe: .exe files are not accepted"),
        ("evil.exe ", MZ, "evil.exe: .exe files are not accepted"),
        ("invoice\u202efdp.exe", MZ, "invoicefdp.exe: .exe files are not accepted"),
        ("report.docm", samples.ooxml("docx"), "macro-enabled document"),
        ("report.docx", samples.ooxml("docx", extra={"word/vbaProject.bin": "VBA"}), "it contains macros"),
        ("photo.png", MZ, "photo.png: its content is not what its name says"),
    ],
)
def test_the_anonymous_help_center_refuses_hostile_files_and_keeps_the_request_text(client, name, content, message):
    response = submit(client, REQUEST | {"attachments": [SimpleUploadedFile(name, content)]})

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and REQUEST["description"] in html
    assert not Ticket.objects.exists()


def test_a_help_center_file_is_stored_and_served_as_what_its_bytes_are(client, login):
    upload = SimpleUploadedFile("screen\u200b shot.png ", samples.png(), content_type="text/html")
    assert submit(client, REQUEST | {"attachments": [upload]}).status_code == 302

    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.content_type) == ("screen shot.png", "image/png")
    login("agent")
    response = client.get(reverse("tickets:attachment_download", args=[attachment.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == samples.png()


def test_the_api_refuses_a_macro_document_and_stores_a_clean_one(client, login):
    login("agent")
    data = {"subject": "Quote", "description": "Attached", "requester_email": "a@b.test"}
    tickets = reverse("helpdesk_api:ticket_list")

    refused = client.post(tickets, data | {"attachments": [SimpleUploadedFile("quote.docm", samples.ooxml("docx"))]})
    kept = client.post(tickets, data | {"attachments": [SimpleUploadedFile("quote.docx.", samples.ooxml("docx"))]})

    assert refused.status_code == 400
    assert "save it as .docx" in refused.json()["error"]["fields"]["attachments"][0]
    assert kept.status_code == 201
    attachment = Attachment.objects.get()
    assert attachment.filename == "quote.docx" and attachment.content_type.endswith("wordprocessingml.document")


def test_the_workspace_admin_cannot_upload_or_edit_attachment_files(client, login):
    from helpdesk.tests.factories import AttachmentFactory

    login("owner")
    attachment = AttachmentFactory()
    change = reverse("workspace_admin:helpdesk_attachment_change", args=[attachment.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    response = client.post(change, {"filename": "x.exe", "content_type": "text/html", "size": 1})
    assert response.status_code == 403
    assert client.get(reverse("workspace_admin:helpdesk_attachment_add")).status_code == 403
