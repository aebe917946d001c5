"""A 25 MB message is parsed and filed without holding it in memory: its big parts are decoded into temporary files
line by line (inbox.mail.stream) and stored from there; tracemalloc's peak stays within a stated bound."""

from __future__ import annotations

import base64
import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from django.core.files import File

from helpdesk.models import Attachment, Ticket
from inbox.mail.parse import mail_parse, mail_parse_file
from inbox.mail.stream import mail_split
from inbox.models import InboundEmail
from inbox.models.mail import message_id_key
from inbox.services.inbound import inbound_process
from inbox.tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
# Filing a 25 MB message may hold at most this much Python memory at its peak: copies of the kept 3 MB file (the
# upload allow-list and the helpdesk read files up to their 4 MB limit whole), the skeleton and the ORM's own;
# measured 13.9 MB. Read whole, the raw bytes alone are 30 MB, and the email package's copies several times that.
PEAK_BOUND = 16 * MB


def _pattern(size: int, seed: bytes) -> bytes:
    block = hashlib.sha256(seed).digest() * 2048  # 64 KB that do not compress to nothing
    return (block * (size // len(block) + 1))[:size]


def _write_base64(out, data_chunks) -> None:
    """Base64 in 76-character lines, written chunk by chunk (the test holds no whole copy either)."""
    carry = b""
    for data in [*data_chunks, None]:
        if data is None:
            chunk, carry = carry, b""
        else:
            data = carry + data
            whole = len(data) - len(data) % 57  # whole lines of 57 bytes: no padding mid-stream
            chunk, carry = data[:whole], data[whole:]
        encoded = base64.b64encode(chunk)
        for start in range(0, len(encoded), 76):
            out.write(encoded[start : start + 76] + b"\r\n")


def big_message(path: Path, *, pdf_bytes: int = 3 * MB, zip_bytes: int = 20 * MB) -> tuple[str, str]:
    """Writes a message with a text body, a PDF small enough to keep and a ZIP over the attachment limit;
    returns the PDF's and the ZIP's SHA-256."""
    pdf = b"%PDF-1.7\n" + _pattern(pdf_bytes - 9, b"pdf")
    pdf_digest = hashlib.sha256(pdf).hexdigest()
    zip_digest = hashlib.sha256()
    with path.open("wb") as out:
        out.write(
            b"From: Ann <ann@customer.test>\r\nTo: support@workspace.test\r\nSubject: The scans you asked for\r\n"
            b"Message-ID: <big-1@customer.test>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\nThis is a multi-part message.\r\n'
            b"--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere are the scans, and the archive.\r\n"
            b'--outer\r\nContent-Type: application/pdf; name="scans.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="scans.pdf"\r\n\r\n'
        )
        _write_base64(out, (pdf[start : start + 57 * 1024] for start in range(0, len(pdf), 57 * 1024)))
        out.write(
            b'--outer\r\nContent-Type: application/zip; name="archive.zip"\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="archive.zip"\r\n\r\n'
        )

        def zip_chunks():
            for number in range(zip_bytes // MB):
                chunk = (b"PK\x03\x04" if number == 0 else b"") + _pattern(
                    MB - (4 if number == 0 else 0), b"zip%d" % number
                )
                zip_digest.update(chunk)
                yield chunk

        _write_base64(out, zip_chunks())
        out.write(b"--outer--\r\n")
    return pdf_digest, zip_digest.hexdigest()


def test_the_split_decodes_big_parts_into_files_and_parses_as_the_whole_message_does(tmp_path):
    path = tmp_path / "big.eml"
    pdf_digest, zip_digest = big_message(path, pdf_bytes=300 * 1024, zip_bytes=2 * MB)

    with path.open("rb") as source:
        mail, close = mail_parse_file(source)
    whole = mail_parse(path.read_bytes())

    try:
        assert mail.text == whole.text == "Here are the scans, and the archive."
        assert [(f.filename, f.content_type) for f in mail.files] == [(f.filename, f.content_type) for f in whole.files]
        digests = [hashlib.sha256(file.content.read()).hexdigest() for file in mail.files]
        assert digests == [pdf_digest, zip_digest] == [hashlib.sha256(f.content).hexdigest() for f in whole.files]
    finally:
        close()


def test_a_part_that_ends_without_a_final_boundary_keeps_what_came():
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + b"caf=C3=A9 " * 200 + b"=\r\nend\r\n"
    )

    split = mail_split(io.BytesIO(raw), threshold=100)

    assert len(split.parts) == 1 and split.parts[0].read() == "café ".encode() * 200 + b"end"
    assert mail_parse(split.skeleton, spooled=split.parts).text == mail_parse(raw).text
    split.close()


def test_a_25_mb_message_is_filed_within_the_memory_bound(tmp_path):
    mailbox = MailboxFactory(address="support@workspace.test")
    path = tmp_path / "big.eml"
    pdf_digest, _zip_digest = big_message(path)
    size = path.stat().st_size
    assert size > 25 * MB
    with path.open("rb") as source:
        inbound = InboundEmail(
            mailbox=mailbox,
            source="imap",
            message_id="<big-1@customer.test>",
            message_key=message_id_key("<big-1@customer.test>"),
            size=size,
        )
        inbound.raw.save("big.eml", File(source), save=False)
        inbound.save()

    tracemalloc.start()
    try:
        record = inbound_process(inbound.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert record.status == InboundEmail.Status.IMPORTED
    ticket = Ticket.objects.get(pk=record.ticket_id)
    kept = Attachment.objects.get(message__ticket=ticket)
    with kept.file.open("rb") as stored:
        assert kept.filename == "scans.pdf" and hashlib.sha256(stored.read()).hexdigest() == pdf_digest
    bodies = ticket.original_description
    assert "[File not kept: archive.zip is 20.0\xa0MB; the limit is" in bodies
    print(f"peak {peak / MB:.1f} MB for a {size / MB:.1f} MB message")
    assert peak < PEAK_BOUND, f"peak {peak / MB:.1f} MB"
