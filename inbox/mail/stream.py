"""Reading a large message without holding it whole: its big parts go to temporary files as they are read.

`mail_split` reads the stored .eml line by line and follows the MIME boundaries. Every leaf part whose body grows
past SPOOL_PART_BYTES is decoded (base64, quoted-printable, or as it is) into a temporary file, chunk by chunk,
and left in a small "skeleton" of the message as its headers plus `X-Switchboard-Spooled: <n>` and no body. The
skeleton is then parsed as any message is (inbox.mail.parse), which takes the spooled part from its file. So a
25 MB attachment is never in memory: not as the raw bytes, not as the email package's string, not decoded.

Lines are read at most LINE_BYTES at a time (a message without line breaks cannot make one huge line); a boundary
is only looked for at the start of a line. Parts under the threshold stay in the skeleton, so the skeleton is
small unless the message has very many parts.
"""

from __future__ import annotations

import binascii
import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import IO

SPOOL_PART_BYTES = 64 * 1024
LINE_BYTES = 64 * 1024
SPOOLED_HEADER = "X-Switchboard-Spooled"
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


@dataclass
class SpooledPart:
    """A part's decoded content in a temporary file (at position 0 when handed out)."""

    file: IO[bytes]
    size: int

    def read(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data


@dataclass
class Split:
    skeleton: bytes
    parts: list[SpooledPart]

    def close(self) -> None:
        for part in self.parts:
            part.file.close()


class _Lines:
    """The source's lines (pieces of at most LINE_BYTES), with whether each one starts a line."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.at_start = True

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        while True:
            line = self.source.readline(LINE_BYTES)
            if not line:
                return
            starts = self.at_start
            self.at_start = line.endswith(b"\n")
            yield line, starts


def _boundary_of(line: bytes, starts: bool, boundaries: list[bytes]) -> bytes | None:
    """The boundary (of any enclosing multipart) this line is, delimiter or closing; None for a body line."""
    if not starts or not line.startswith(b"--"):
        return None
    text = line.rstrip(b"\r\n").rstrip(b" \t")
    for boundary in reversed(boundaries):
        if text in (boundary, boundary + b"--"):
            return boundary
    return None


class _Splitter:
    def __init__(self, source: IO[bytes], threshold: int) -> None:
        self.lines = iter(_Lines(source))
        self.threshold = threshold
        self.out = bytearray()
        self.parts: list[SpooledPart] = []

    def entity(self, boundaries: list[bytes]) -> bytes | None:
        """Copies one entity to the skeleton; returns the boundary line that ended it (None: end of input)."""
        head: list[bytes] = []
        for line, starts in self.lines:
            if _boundary_of(line, starts, boundaries):
                self.out += b"".join(head)
                return line
            head.append(line)
            if starts and line in (b"\r\n", b"\n"):
                break
        else:
            self.out += b"".join(head)
            return None
        headers = BytesHeaderParser(policy=compat32).parsebytes(b"".join(head))
        boundary = headers.get_boundary() if headers.get_content_maintype() == "multipart" else None
        if boundary:
            self.out += b"".join(head)
            return self.multipart(boundaries, b"--" + boundary.encode("ascii", "replace"))
        encoding = str(headers.get("Content-Transfer-Encoding", "") or "").strip().lower()
        content_type = headers.get_content_type()
        # Reports (message/delivery-status…) are small and read as structure; an attached message is a file.
        spoolable = content_type == "message/rfc822" or headers.get_content_maintype() != "message"
        return self.leaf(head, encoding, boundaries, spoolable=spoolable, attached=content_type == "message/rfc822")

    def multipart(self, boundaries: list[bytes], inner: bytes) -> bytes | None:
        stack = [*boundaries, inner]
        ended = self.copy_until(stack)  # the preamble
        while ended is not None and _boundary_of(ended, True, stack) == inner:
            self.out += ended
            if ended.rstrip(b"\r\n").rstrip(b" \t") == inner + b"--":
                return self.copy_until(boundaries)  # the epilogue
            ended = self.entity(stack)
        return ended

    def copy_until(self, boundaries: list[bytes]) -> bytes | None:
        for line, starts in self.lines:
            if _boundary_of(line, starts, boundaries):
                return line
            self.out += line
        return None

    def leaf(
        self, head: list[bytes], encoding: str, boundaries: list[bytes], *, spoolable: bool, attached: bool
    ) -> bytes | None:
        body: list[bytes] = []
        held = 0
        inner_head = b""  # an attached message's own headers stay in the skeleton (a bounce names its Message-ID)
        sink: _Sink | None = None
        ended = None
        for line, starts in self.lines:
            if _boundary_of(line, starts, boundaries):
                ended = line
                break
            if sink is not None:
                sink.write(line)
                continue
            body.append(line)
            held += len(line)
            if held > self.threshold and spoolable:
                if attached and encoding not in ("base64", "quoted-printable"):
                    inner_head = _header_block(body)
                sink = _Sink(encoding)
                for kept in body:
                    sink.write(kept)
                body = []
        if sink is None:
            self.out += b"".join(head) + b"".join(body)
            return ended
        self.parts.append(sink.close(before_boundary=ended is not None or bool(boundaries)))
        blank = head.pop() if head and head[-1] in (b"\r\n", b"\n") else b"\r\n"
        self.out += b"".join(head) + f"{SPOOLED_HEADER}: {len(self.parts) - 1}".encode() + blank + blank + inner_head
        return ended


def _header_block(lines: list[bytes]) -> bytes:
    block = []
    for line in lines:
        if line in (b"\r\n", b"\n"):
            return b"".join(block)
        block.append(line)
    return b""  # the headers alone are longer than the threshold: not kept


class _Sink:
    """Decodes a part's body lines into a temporary file as they come."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by Split.close, after the pipeline)
        self.pending = b""  # base64: characters short of a group of 4; others: the last line, held back
        self.broken = False

    def write(self, line: bytes) -> None:
        if self.encoding == "base64":
            self._base64(_NOT_BASE64.sub(b"", line.split(b"=", 1)[0]) if b"=" in line else _NOT_BASE64.sub(b"", line))
            return
        # The line break before a boundary belongs to the boundary: each line is written when the next one comes.
        previous, self.pending = self.pending, line
        if previous:
            self._raw(previous)

    def _base64(self, chars: bytes) -> None:
        if self.broken:
            return
        data = self.pending + chars
        whole = len(data) - len(data) % 4
        self.pending = data[whole:]
        try:
            self.file.write(binascii.a2b_base64(data[:whole]))
        except binascii.Error:
            self.broken = True  # what was decoded so far is kept, as the email package would keep nothing

    def _raw(self, line: bytes) -> None:
        if self.encoding == "quoted-printable":
            self.file.write(binascii.a2b_qp(line))
        else:
            self.file.write(line)

    def close(self, *, before_boundary: bool) -> SpooledPart:
        if self.encoding == "base64":
            if self.pending and not self.broken:
                padded = self.pending + b"=" * (-len(self.pending) % 4)
                with contextlib.suppress(binascii.Error):
                    self.file.write(binascii.a2b_base64(padded))
        elif self.pending:
            self._raw(self.pending.removesuffix(b"\n").removesuffix(b"\r") if before_boundary else self.pending)
        size = self.file.tell()
        self.file.seek(0)
        return SpooledPart(self.file, size)


def mail_split(source: IO[bytes], *, threshold: int = SPOOL_PART_BYTES) -> Split:
    """The message's skeleton and its big parts, each decoded in a temporary file (`Split.close()` removes them)."""
    splitter = _Splitter(source, threshold)
    try:
        splitter.entity([])
    except BaseException:
        Split(b"", splitter.parts).close()
        raise
    return Split(bytes(splitter.out), splitter.parts)
