"""Decoding text whose declared charset may be missing, unknown or wrong, without ever raising."""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re

# What mail clients declare and what they mean by it (the WHATWG encoding standard maps these the same way).
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "utf8": "utf-8",
    "cp-850": "cp850",
}


def codec_for(charset: str | None) -> str | None:
    name = (charset or "").strip().strip('"').lower()
    if not name:
        return None
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # unknown, or not even a name (a NUL byte in it)
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """The declared charset when the bytes are valid in it, else UTF-8, else Windows-1252 (every byte decodes)."""
    declared = codec_for(charset)
    for codec in (declared, "utf-8"):
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # cp1252 leaves five bytes undefined; latin-1 maps them all


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_UNTERMINATED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]+)$")  # a client cut it off at the end
_ENCODED_WORD_GAP = re.compile(r"(\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)")


def decode_header(value: str) -> str:
    """An RFC 2047 header (encoded words in any charset, or raw 8-bit bytes as the parser left them) as text.

    Decoded by hand rather than by `email.header`: a bad charset name, broken base64 or an encoded word glued to
    other text (Outlook does it) shows as well as it can instead of raising or leaving `=?…?=` in place."""
    value = _unfold(_raw_8bit(str(value)))
    value = _ENCODED_WORD.sub(_decode_word, _ENCODED_WORD_GAP.sub(r"\1", value))
    return _UNTERMINATED_WORD.sub(_decode_word, value)


def _decode_word(match: re.Match) -> str:
    charset, encoding, text = match.group(1).split("*")[0], match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            data = quopri.decodestring(text.replace("_", " ").encode("ascii", "replace"), header=False)
    except (binascii.Error, ValueError):
        return match.group(0)
    return decode_bytes(data, charset)


def _raw_8bit(value: str) -> str:
    # The parser keeps non-ASCII header bytes as surrogate escapes: turn them back into bytes and decode those.
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"))


def _unfold(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())
