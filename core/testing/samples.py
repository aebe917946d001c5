"""Minimal but real files of every accepted type, built in memory for upload tests (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from email.message import EmailMessage

OOXML_MAIN = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1 pixel, 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def gif() -> bytes:
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00"
    return b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + palette + b"!\xf9\x04\x01\x00\x00\x00\x00" + image + b";"


def webp() -> bytes:
    body = b"WEBPVP8L" + struct.pack("<I", 6) + b"\x2f\x00\x00\x00\x00\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def heic() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def zip_of(members: dict[str, bytes | str], *, encrypted: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    data = buffer.getvalue()
    if encrypted:  # mark every entry encrypted, as a password-protected archive's are (zipfile cannot encrypt)
        for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            position = data.find(signature)
            while position != -1:
                flags = int.from_bytes(data[position + flag_offset : position + flag_offset + 2], "little") | 0x1
                data = data[: position + flag_offset] + flags.to_bytes(2, "little") + data[position + flag_offset + 2 :]
                position = data.find(signature, position + 4)
    return data


def ooxml(kind: str, *, extra: dict[str, str] | None = None, content_type: str | None = None) -> bytes:
    part, main_type = OOXML_MAIN[kind]
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/{part}" ContentType="{content_type or main_type}"/></Types>'
    )
    return zip_of({"[Content_Types].xml": types, "_rels/.rels": "<Relationships/>", part: "<root/>", **(extra or {})})


def opendocument(kind: str, *, extra: dict[str, str] | None = None) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    return zip_of({"mimetype": mimetype, "content.xml": "<office:document-content/>", **(extra or {})})


def eml(attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane <jane@example.test>"
    message["To"] = "support@example.test"
    message["Subject"] = "Forwarded: the error"
    message.set_content("See below.")
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return message.as_bytes()


# --- OLE2 compound files (legacy .doc / .xls): a hand-built minimal container ----------------------

FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _direntry(name: str, kind: int, *, left=NO_STREAM, right=NO_STREAM, child=NO_STREAM, start=END, size=0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)  # name length, type, colour (black)
        + struct.pack("<III", left, right, child)
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state bits
        + b"\0" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def ole(stream_name: str, stream: bytes, *, storage: str | None = None) -> bytes:
    """One stream (padded to 4096 bytes so it lives in regular sectors) and, optionally, one empty storage."""
    stream = stream.ljust(4096, b"\0")
    sectors = len(stream) // 512
    # Sector 0 holds the FAT, sector 1 the directory, sectors 2… the stream, each pointing at the next.
    fat = [FAT_SECTOR, END] + [3 + n if n < sectors - 1 else END for n in range(sectors)]
    fat += [FREE] * (128 - len(fat))
    entries = [
        _direntry("Root Entry", 5, child=1),
        _direntry(stream_name, 2, left=2 if storage else NO_STREAM, start=2, size=len(stream)),
    ]
    if storage:
        entries.append(_direntry(storage, 1))
    directory = b"".join(entries).ljust(512, b"\0")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREE) * 108
    )
    return header + struct.pack("<128I", *fat) + directory + stream


def biff_workbook(*, macro_sheet: bool = False) -> bytes:
    def record(kind: int, body: bytes) -> bytes:
        return struct.pack("<HH", kind, len(body)) + body

    bof = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    sheet = record(0x0085, struct.pack("<IBB", 0, 0, 0x01 if macro_sheet else 0x00) + b"\x06\x00Sheet1")
    return bof + sheet + record(0x000A, b"")


def doc(*, macros: bool = False) -> bytes:
    return ole("WordDocument", b"\xec\xa5\xc1\x00", storage="Macros" if macros else None)


def xls(*, macro_sheet: bool = False) -> bytes:
    return ole("Workbook", biff_workbook(macro_sheet=macro_sheet))
