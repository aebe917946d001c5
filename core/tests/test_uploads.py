"""core.uploads: the allow-list checked against real bytes, clean names, and refusals people understand."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing import samples
from core.uploads import KINDS, MAX_NAME_BYTES, upload_check, upload_name_clean

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def check(name: str, content: bytes, claimed: str = "application/octet-stream"):
    return upload_check(SimpleUploadedFile(name, content, content_type=claimed))


def refusal(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        check(name, content)
    [message] = caught.value.messages
    return message


ACCEPTED = [
    ("screenshot.png", samples.png(), "image/png"),
    ("photo.JPG", samples.jpeg(), "image/jpeg"),
    ("photo.jpeg", samples.jpeg(), "image/jpeg"),
    ("spinner.gif", samples.gif(), "image/gif"),
    ("banner.webp", samples.webp(), "image/webp"),
    ("IMG_0001.HEIC", samples.heic(), "image/heic"),
    ("invoice.pdf", samples.pdf(), "application/pdf"),
    ("letter.docx", samples.ooxml("docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("figures.xlsx", samples.ooxml("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("deck.pptx", samples.ooxml("pptx"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("letter.odt", samples.opendocument("text"), "application/vnd.oasis.opendocument.text"),
    ("figures.ods", samples.opendocument("spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet"),
    ("deck.odp", samples.opendocument("presentation"), "application/vnd.oasis.opendocument.presentation"),
    ("old.doc", samples.doc(), "application/msword"),
    ("old.xls", samples.xls(), "application/vnd.ms-excel"),
    ("notes.txt", "Grüße, the printer says E42\r\n".encode(), "text/plain"),
    ("windows.txt", "Caf\u00e9 na\u00efve\r\n".encode("cp1252"), "text/plain"),
    ("unicode.txt", "Excel’s Unicode text\n".encode("utf-16"), "text/plain"),
    ("server.log", b"2024-01-01 ERROR timeout\n", "text/plain"),
    ("contacts.csv", b"name,email\nJane,jane@example.test\n", "text/csv"),
    ("config.json", b'{"retries": 3}', "application/json"),
    ("logs.zip", samples.zip_of({"logs/app.log": "ok", "screen.png": samples.png()}), "application/zip"),
    ("forwarded.eml", samples.eml(("report.pdf", samples.pdf())), "message/rfc822"),
]


@pytest.mark.parametrize(("name", "content", "content_type"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_every_allowed_type_is_accepted_from_real_bytes_with_the_verified_type(name, content, content_type):
    checked = check(name, content, claimed="text/html")  # whatever the browser claims
    assert (checked.name, checked.content_type, checked.size) == (name, content_type, len(content))


def test_the_allow_list_is_covered_by_these_samples():
    assert {case[0].rpartition(".")[2].lower() for case in ACCEPTED} >= {ext.lstrip(".") for ext in KINDS} - {
        "heif",
        "tsv",
    }


HOSTILE_NAMES = [
    ("evil.exe.", MZ, "evil.exe: .exe files are not accepted"),
    ("evil.exe ", MZ, "evil.exe: .exe files are not accepted"),
    ("evil.exe . . ", MZ, "evil.exe: .exe files are not accepted"),
    ("evil.hta", b"<script>", ".hta files are not accepted"),
    ("link.lnk", b"L\x00\x00\x00", ".lnk files are not accepted"),
    ("old.pif", MZ, ".pif files are not accepted"),
    ("panel.cpl", MZ, ".cpl files are not accepted"),
    ("script.vbe", b"#@~^", ".vbe files are not accepted"),
    ("job.wsf", b"<job>", ".wsf files are not accepted"),
    ("disk.iso", b"\x00" * 64, ".iso files are not accepted"),
    ("report.docm", samples.ooxml("docx"), "macro-enabled document; save it as .docx"),
    ("photo.png.exe", MZ, "photo.png.exe: .exe files are not accepted"),
    ("invoice\u202efdp.exe", MZ, "invoicefdp.exe: .exe files are not accepted"),  # shows as "invoiceexe.pdf"
    ("\uff45\uff56\uff49\uff4c\uff0e\uff45\uff58\uff45", MZ, "evil.exe: .exe files are not accepted"),  # full-width
    ("evil.exe\u200b", MZ, "evil.exe: .exe files are not accepted"),
    ("evil.ex\u00ade", MZ, "evil.exe: .exe files are not accepted"),  # soft hyphen
    ("evil.exe\x00.png", MZ, "evil.exe.png: its content is not what its name says"),
    ("evil.exe::$DATA", MZ, "files are not accepted"),
    ("..\\..\\Startup\\run.bat", b"@echo off", "run.bat: .bat files are not accepted"),
    ("../../.bashrc", b"curl x | sh", "bashrc: files without a type in their name are not accepted"),
    ("drawing.svg", b'<svg onload="alert(1)"/>', "SVG images can contain scripts"),
    ("page.html", b"<script>alert(1)</script>", ".html files are not accepted"),
    ("legacy.ppt", samples.doc(), "save it as .pptx"),
    ("letter.rtf", b"{\\rtf1 }", "RTF files can carry embedded programs"),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE_NAMES, ids=[repr(case[0]) for case in HOSTILE_NAMES])
def test_hostile_names_are_refused_with_a_clear_message(name, content, message):
    assert message in refusal(name, content)


MISMATCHED = [
    ("photo.png", MZ, "photo.png: its content is not what its name says"),
    ("photo.jpg", samples.png(), "photo.jpg: its content is not what its name says"),
    ("invoice.pdf", samples.png(), "invoice.pdf: its content is not what its name says"),
    ("IMG.heic", samples.jpeg(), "its content is not what its name says"),
    ("notes.txt", MZ, "notes.txt: it is not a text file"),
    ("contacts.csv", samples.png(), "it is not a text file"),
    ("report.docx", samples.ooxml("docx", extra={"word/vbaProject.bin": "VBA"}), "it contains macros"),
    (
        "report.docx",
        samples.ooxml("docx", content_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
        "it contains macros",
    ),
    ("report.docx", samples.ooxml("docx", extra={"word/embeddings/oleObject1.bin": "OLE"}), "embedded programs"),
    ("report.docx", samples.ooxml("xlsx"), "its content is not what its name says"),
    ("report.docx", samples.zip_of({"a.txt": "x"}), "its content is not what its name says"),
    ("report.docx", samples.pdf(), "it is not a valid ZIP archive"),
    ("sheet.xlsx", samples.ooxml("xlsx", extra={"xl/activeX/activeX1.bin": "x"}), "it contains macros"),
    ("letter.odt", samples.opendocument("text", extra={"Basic/Standard/Module1.xml": "Sub"}), "it contains macros"),
    ("letter.odt", samples.opendocument("spreadsheet"), "its content is not what its name says"),
    ("old.doc", samples.doc(macros=True), "it contains macros or embedded objects"),
    ("old.doc", samples.xls(), "its content is not what its name says"),
    ("old.doc", samples.pdf(), "its content is not what its name says"),
    ("old.xls", samples.xls(macro_sheet=True), "it contains macros or embedded objects"),
    ("logs.zip", samples.zip_of({"readme.txt": "hi", "setup.exe": MZ}), "the archive contains “setup.exe”"),
    ("logs.zip", samples.zip_of({"run.exe.": MZ}), "the archive contains “run.exe”"),
    ("logs.zip", samples.zip_of({"a.txt": "x"}, encrypted=True), "password-protected"),
    ("logs.zip", samples.png(), "its content is not what its name says"),
    ("mail.eml", samples.eml(("payload.exe", MZ)), "the message contains “payload.exe”"),
    ("mail.eml", b"just some text, no headers at all\n", "it is not an email message"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), MISMATCHED, ids=[f"{c[0]}-{n}" for n, c in enumerate(MISMATCHED)]
)
def test_content_that_is_not_what_the_name_claims_is_refused(name, content, message):
    assert message in refusal(name, content)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  report .pdf. . ", "report.pdf"),
        ("dir/sub\\file.txt", "file.txt"),
        ("re\u202eport.txt", "report.txt"),
        ("\u2066quiet\u2069.txt", "quiet.txt"),
        ("tab\there\nnow.txt", "tab here now.txt"),
        ("\ufb01le.txt", "file.txt"),  # the "fi" ligature
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("CON.txt", "_CON.txt"),
        ("lpt1.tar.gz", "_lpt1.tar.gz"),
        ("", "file"),
        ("...", "file"),
    ],
)
def test_names_are_normalised(raw, clean):
    assert upload_name_clean(raw) == clean


@pytest.mark.parametrize("stem", ["a" * 400, "é" * 300, "日本語" * 100])
def test_overlong_names_are_cut_keeping_their_extension(stem):
    clean = upload_name_clean(stem + ".pdf")
    assert clean.endswith(".pdf") and len(clean.encode()) <= MAX_NAME_BYTES
    assert clean.encode().decode() == clean  # no character cut in half


def test_an_import_narrows_the_list():
    with pytest.raises(ValidationError, match=r"report.pdf: .pdf files are not accepted. Send .csv, .tsv, .txt"):
        upload_check(SimpleUploadedFile("report.pdf", samples.pdf()), accept=(".csv", ".tsv", ".txt"))
