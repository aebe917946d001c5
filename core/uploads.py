"""Uploaded files: a clean name, and an allow-list of the types people actually send, checked against the bytes.

Every upload path (ticket and help-center attachments, API attachments, CSV imports, later inbox mail) calls
`upload_check`. It returns the name to store and the content type to store and serve, taken from what the
content was verified to be (never from the browser's claim or the name alone). Size and count limits stay
with each caller, which knows its own.

What is refused, and why:
- anything not on the allow-list (programs, scripts, shortcuts, disk images, HTML, SVG: they run code or
  render script when opened);
- content that is not what the extension claims (an .exe named .png), checked with puremagic's signatures;
- Office files with macros (vbaProject.bin, macro-enabled parts, OpenDocument Basic/Scripts, VBA storages in
  legacy .doc/.xls read with olefile) or embedded OLE objects/ActiveX (how droppers ride in documents);
- archives and .eml messages that carry a name that is not on the list, or that are encrypted (cannot be
  checked).
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import IO, Any

import olefile
import puremagic
from django.core.exceptions import ValidationError

# --- Names ------------------------------------------------------------------------------------------

MAX_NAME_BYTES = 150  # UTF-8 bytes, extension included: far below every filesystem's 255
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in "123456789¹²³"}
    | {f"LPT{n}" for n in "123456789¹²³"}
)
# Unicode categories dropped from names: controls, format characters (bidi overrides such as U+202E, zero-width
# spaces and joiners, the BOM, soft hyphens), line/paragraph separators, private-use, surrogates, unassigned.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def upload_name_clean(name: str | None) -> str:
    """The name to store and show: no path, no invisible or direction-changing characters, no trailing dots or
    spaces (Windows drops them, turning `evil.exe.` into `evil.exe`), no reserved device names, and short."""
    name = unicodedata.normalize("NFKC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # a path: keep the last part
    name = "".join(" " if char.isspace() else char for char in name)  # tabs and newlines too
    name = "".join(char for char in name if unicodedata.category(char) not in _DROPPED_CATEGORIES)
    name = _WINDOWS_FORBIDDEN.sub("_", name)
    name = re.sub(r" {2,}", " ", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if stem.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    suffix = f".{extension}" if extension else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    if budget < 1:  # an absurd "extension" is not one
        stem, suffix, budget = stem + suffix, "", MAX_NAME_BYTES
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(" .")
    return (stem + suffix) or "file"


def extension_of(name: str) -> str:
    """`.pdf` for `report.PDF`; "" when the name has none."""
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


# --- Kinds ------------------------------------------------------------------------------------------


class Refused(Exception):
    """The content is not acceptable; the message completes "<name>: …"."""


_NOT_WHAT_IT_SAYS = "its content is not what its name says (the file may be damaged, or renamed)"


@dataclass(frozen=True)
class Kind:
    label: str
    content_type: str
    check: Callable[[bytes], None]


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed: the file itself, the name to store and the verified content type."""

    file: Any
    name: str
    content_type: str
    size: int


SNIFF_BYTES = 8192


def _signature_is(*extensions: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        if not set(extensions) & _signatures(data):
            raise Refused(_NOT_WHAT_IT_SAYS)

    return check


def _signatures(data: bytes) -> set[str]:
    try:
        return {match.extension.lower() for match in puremagic.magic_string(data[:SNIFF_BYTES])}
    except puremagic.PureError:
        return set()


def _text(data: bytes) -> None:
    sample = data[:SNIFF_BYTES]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark (Excel's "Unicode text")
        return
    if b"\x00" in sample:
        raise Refused("it is not a text file (it contains binary data)")
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # not just a character cut at the end of the sample
            text = sample.decode("cp1252", errors="replace")
            if any(unicodedata.category(char) == "Cc" and char not in "\t\r\n\f" for char in text):
                raise Refused("it is not a text file (it contains binary data)") from None


def _zip_names(data: bytes) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused("it is not a valid ZIP archive (the file may be damaged, or renamed)") from None


def _zip(data: bytes) -> None:
    _signature_is(".zip")(data)
    members = _zip_names(data)
    if len(members) > ZIP_MAX_MEMBERS:
        raise Refused(f"the archive holds more than {ZIP_MAX_MEMBERS} files")
    if sum(member.file_size for member in members) > ZIP_MAX_UNPACKED_BYTES:
        raise Refused("the archive unpacks to more than 200 MB")
    for member in members:
        if member.flag_bits & 0x1:
            raise Refused("the archive is password-protected, so its content cannot be checked")
        if member.is_dir():
            continue
        _inner_name_allowed(member.filename, "the archive")


def _inner_name_allowed(raw_name: str, container: str) -> None:
    name = upload_name_clean(raw_name)
    if extension_of(name) not in KINDS:
        raise Refused(f"{container} contains “{name}”, a type of file that is not accepted")


ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNPACKED_BYTES = 200 * 1024 * 1024

# OOXML parts that carry code: VBA projects, ActiveX controls, embedded OLE objects (packager droppers).
_OOXML_ACTIVE = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX/|embeddings/[^/]*\.bin$)", re.IGNORECASE)


def _ooxml(main_part: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        names = {member.filename for member in _zip_names(data)}
        if "[Content_Types].xml" not in names:
            raise Refused(_NOT_WHAT_IT_SAYS)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            types = archive.read("[Content_Types].xml").decode("utf-8", errors="replace")
        if any(_OOXML_ACTIVE.search(name) for name in names) or "macroenabled" in types.lower():
            raise Refused("it contains macros or embedded programs; save it without them (e.g. as .docx) and retry")
        if main_part not in types:
            raise Refused(_NOT_WHAT_IT_SAYS)

    return check


def _opendocument(mimetype: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        names = {member.filename for member in _zip_names(data)}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = archive.read("mimetype").decode(errors="replace").strip() if "mimetype" in names else ""
        if declared != mimetype:
            raise Refused(_NOT_WHAT_IT_SAYS)
        if any(name.startswith(("Basic/", "Scripts/")) or name.lower().endswith(".bin") for name in names):
            raise Refused("it contains macros or embedded programs; save it without them and retry")

    return check


# Top-level storages where legacy Office keeps VBA (Word: Macros; Excel: _VBA_PROJECT_CUR) and embedded objects.
_OLE_ACTIVE_STORAGES = frozenset({"macros", "_vba_project_cur", "vba", "objectpool"})
_LEGACY_ACTIVE = "it contains macros or embedded objects; save it as .docx/.xlsx without them and retry"


def _ole(main_streams: tuple[str, ...], stream_check: Callable[[bytes], None] | None = None) -> Callable:
    def check(data: bytes) -> None:
        if not olefile.isOleFile(data=data):
            raise Refused(_NOT_WHAT_IT_SAYS)
        try:
            with olefile.OleFileIO(data) as document:
                entries = {"/".join(path).lower() for path in document.listdir(streams=True, storages=True)}
                main = next((name for name in main_streams if document.exists(name)), None)
                stream = document.openstream(main).read() if main and stream_check else b""
        except OSError:
            raise Refused("it is damaged and cannot be checked") from None
        if main is None:
            raise Refused(_NOT_WHAT_IT_SAYS)
        if {entry.split("/")[0] for entry in entries} & _OLE_ACTIVE_STORAGES:
            raise Refused(_LEGACY_ACTIVE)
        if stream_check:
            stream_check(stream)

    return check


def _biff_globals(workbook: bytes) -> None:
    """Excel 97-2003: refuses Excel 4.0 macro sheets (XLM, kept in the Workbook stream, not in a VBA storage)
    and encrypted workbooks (nothing in them can be checked). Reads the globals substream's records."""
    offset = 0
    while offset + 4 <= len(workbook):
        record, length = (
            int.from_bytes(workbook[offset : offset + 2], "little"),
            int.from_bytes(workbook[offset + 2 : offset + 4], "little"),
        )
        body = workbook[offset + 4 : offset + 4 + length]
        if record == 0x002F:  # FILEPASS
            raise Refused("it is password-protected, so its content cannot be checked")
        if record == 0x0085 and len(body) >= 6 and body[5] in {0x01, 0x06}:  # BOUNDSHEET: macro or VBA sheet
            raise Refused(_LEGACY_ACTIVE)
        if record == 0x000A:  # EOF of the globals substream
            return
        offset += 4 + length


def _eml(data: bytes) -> None:
    _text(data)
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not any(message.get(header) for header in ("From", "Date", "Subject", "Message-ID")):
        raise Refused("it is not an email message (no From, Date or Subject header)")
    for part in message.walk():
        filename = part.get_filename()
        if filename:
            _inner_name_allowed(filename, "the message")


OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"
_WORD = ("WordDocument",)
_EXCEL = ("Workbook", "Book")

KINDS: dict[str, Kind] = {
    ".png": Kind("PNG image", "image/png", _signature_is(".png")),
    ".jpg": Kind("JPEG image", "image/jpeg", _signature_is(".jpg", ".jpeg", ".jfif", ".jpe")),
    ".jpeg": Kind("JPEG image", "image/jpeg", _signature_is(".jpg", ".jpeg", ".jfif", ".jpe")),
    ".gif": Kind("GIF image", "image/gif", _signature_is(".gif")),
    ".webp": Kind("WebP image", "image/webp", _signature_is(".webp")),
    ".heic": Kind("HEIC photo", "image/heic", _signature_is(".heic", ".heif")),
    ".heif": Kind("HEIF photo", "image/heif", _signature_is(".heic", ".heif")),
    ".pdf": Kind("PDF document", "application/pdf", _signature_is(".pdf")),
    ".docx": Kind("Word document", f"{OOXML}.wordprocessingml.document", _ooxml("wordprocessingml.document.main")),
    ".xlsx": Kind("Excel workbook", f"{OOXML}.spreadsheetml.sheet", _ooxml("spreadsheetml.sheet.main")),
    ".pptx": Kind("PowerPoint", f"{OOXML}.presentationml.presentation", _ooxml("presentationml.presentation.main")),
    ".odt": Kind("OpenDocument text", f"{ODF}.text", _opendocument(f"{ODF}.text")),
    ".ods": Kind("OpenDocument spreadsheet", f"{ODF}.spreadsheet", _opendocument(f"{ODF}.spreadsheet")),
    ".odp": Kind("OpenDocument presentation", f"{ODF}.presentation", _opendocument(f"{ODF}.presentation")),
    ".doc": Kind("Word 97-2003 document", "application/msword", _ole(_WORD)),
    ".xls": Kind("Excel 97-2003 workbook", "application/vnd.ms-excel", _ole(_EXCEL, _biff_globals)),
    ".txt": Kind("text file", "text/plain", _text),
    ".log": Kind("log file", "text/plain", _text),
    ".csv": Kind("CSV file", "text/csv", _text),
    ".tsv": Kind("TSV file", "text/tab-separated-values", _text),
    ".json": Kind("JSON file", "application/json", _text),
    ".zip": Kind("ZIP archive", "application/zip", _zip),
    ".eml": Kind("email message", "message/rfc822", _eml),
}
# Named in messages because people try them: they run or render code when opened.
EXPLAINED_REFUSALS = {
    ".svg": "SVG images can contain scripts; export the image as PNG instead",
    ".ppt": "PowerPoint 97-2003 files can hide macros we cannot check; save it as .pptx instead",
    ".rtf": "RTF files can carry embedded programs; save it as .docx or PDF instead",
    ".docm": "it is a macro-enabled document; save it as .docx instead",
    ".xlsm": "it is a macro-enabled workbook; save it as .xlsx instead",
    ".pptm": "it is a macro-enabled presentation; save it as .pptx instead",
}
ACCEPTED_SUMMARY = "images, PDF, Office documents without macros, text, CSV, ZIP or .eml files"


def upload_check(upload: IO[bytes], *, accept: Collection[str] | None = None) -> CheckedUpload:
    """Checks one uploaded file; raises ValidationError with a message for the person who sent it.

    `accept` narrows the allow-list to some extensions (".csv", ".txt" for an import); default: all of KINDS.
    """
    original = getattr(upload, "name", "") or ""
    name = upload_name_clean(original)
    extension = extension_of(name)
    allowed = KINDS if accept is None else {key: KINDS[key] for key in accept}
    if extension not in allowed:
        raise ValidationError(_not_accepted(name, extension, allowed))
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        allowed[extension].check(data)
    except Refused as error:
        raise ValidationError(f"{name}: {error}.") from None
    return CheckedUpload(file=upload, name=name, content_type=allowed[extension].content_type, size=len(data))


def _not_accepted(name: str, extension: str, allowed: Collection[str]) -> str:
    if extension in EXPLAINED_REFUSALS and extension not in allowed:
        return f"{name}: not accepted: {EXPLAINED_REFUSALS[extension]}."
    what = ACCEPTED_SUMMARY if len(allowed) == len(KINDS) else ", ".join(sorted(allowed))
    if not extension:
        return f"{name}: files without a type in their name are not accepted. Send {what}."
    return f"{name}: {extension} files are not accepted. Send {what}."
