"""The part of a reply the customer actually wrote: quoted history ("On … wrote:", Outlook's "From: … Sent: …"
block, `>` quotes, Gmail/Apple/Thunderbird quote containers) and signatures cut off; HTML turned into text.

What is cut stays in the original .eml, which agents can download, so a wrong guess here loses nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# "On Mon, 7 Dec 2026 at 09:00, Ann <ann@example.com> wrote:" and its translations; Gmail wraps it over two lines.
_ATTRIBUTION = re.compile(
    r"^\s*(On\b.{0,300}\bwrote|Am\b.{0,300}\bschrieb.{0,120}|Le\b.{0,300}\ba écrit|El\b.{0,300}\bescribió"
    r"|Op\b.{0,300}\bschreef.{0,120}|Il\b.{0,300}\bha scritto|Em\b.{0,300}\bescreveu|Den\b.{0,300}\bskrev.{0,120}"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.{0,200}\b(wrote|schrieb|écrit))\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)"
                        r"\s*-{2,}|_{10,})\s*$", re.IGNORECASE)  # fmt: skip
_HEADER_FROM = re.compile(r"^\s*\**(From|Von|De|Van|Da)\s*:\**\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato|To|An|À|Para|Aan|A|Subject|Betreff|Objet"
    r"|Asunto|Onderwerp|Oggetto)\s*:",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \w+|Sent from (Mail|Outlook|Yahoo Mail|my mobile)\b.*|Get Outlook for (iOS|Android)"
    r"|Sent with (ProtonMail|Proton Mail)\b.*|Von meinem \w+ gesendet|Envoyé de mon \w+|Enviado desde mi \w+"
    r"|Verstuurd vanaf mijn \w+|Inviato da \w+ \w+)\b.{0,60}$",
    re.IGNORECASE,
)


def visible_text(text: str) -> str:
    """What the sender wrote above the quoted history and the signature; the whole text when that leaves none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _signature_cut(_trailing_quote_cut(_history_cut(lines)))
    result = _tidy("\n".join(kept))
    return result or _tidy(text)


def _history_cut(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if index and (_ATTRIBUTION.match(line) or _ATTRIBUTION.match(f"{lines[index - 1]} {line}")):
            start = index - 1 if not _ATTRIBUTION.match(line) and lines[index - 1].strip() else index
            return lines[:start]
        if _SEPARATOR.match(line):
            return lines[:index]
        if _HEADER_FROM.match(line) and _outlook_block(lines[index + 1 : index + 6]):
            return lines[:index]
    return lines


def _outlook_block(following: list[str]) -> bool:
    return sum(1 for line in following if _HEADER_NEXT.match(line)) >= 2


def _trailing_quote_cut(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in lines[end:]):
        return lines[:end]
    return lines


def _signature_cut(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if index and (line.rstrip() in ("--", "-- ") or line == "-- "):
            return lines[:index]
        if index and _MOBILE_SIGNATURE.match(line) and len(lines) - index <= 6:
            return lines[:index]
    return lines


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- HTML ------------------------------------------------------------------------------------------

_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr"}
    | {"section", "article", "header", "footer", "dl", "dt", "dd", "address", "center", "form"}
)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track"})
# Outlook (desktop and web) puts the quoted history after one of these, not inside it.
_OUTLOOK_HISTORY = ("appendonsend", "divRplyFwdMsg", "mail-editor-reference-message-container")
_HIDDEN = frozenset(["script", "style", "head", "title", "template", "noscript"])


class _Text(HTMLParser):
    def __init__(self, *, keep_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_quotes = keep_quotes
        self.out: list[str] = []
        self.stack: list[str] = []
        self.skip_at: int | None = None  # stack depth where a skipped element (quote, signature, script) opened
        self.stopped = False  # Outlook: everything after its reply header is history
        self.pre = 0
        self.link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        values = {name: (value or "") for name, value in attrs}
        if tag not in _VOID:
            self.stack.append(tag)
        if self.skip_at is not None:
            return
        if tag in _HIDDEN or (not self.keep_quotes and self._is_quote(tag, values)):
            if tag in _VOID:
                return
            self.skip_at = len(self.stack)
            return
        if not self.keep_quotes and values.get("id", "") in _OUTLOOK_HISTORY:
            self.stopped = True
            return
        if tag in _BLOCKS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        elif tag == "pre":
            self.pre += 1
        elif tag == "a":
            self.link = values.get("href", "")
        elif tag == "img":
            alt = values.get("alt", "").strip()
            self.out.append(f"[image: {alt}]" if alt else "[image]")
        elif tag in ("td", "th"):
            self.out.append(" ")

    @staticmethod
    def _is_quote(tag: str, values: dict[str, str]) -> bool:
        classes = values.get("class", "").split()
        if tag == "blockquote" and (values.get("type", "").lower() == "cite" or "gmail_quote" in classes):
            return True
        quote_classes = {"gmail_quote", "gmail_signature", "moz-cite-prefix", "moz-signature", "yahoo_quoted",
                         "protonmail_quote", "x_gmail_quote", "OutlookMessageHeader"}  # fmt: skip
        return bool(quote_classes.intersection(classes)) or values.get("data-smartmail") == "gmail_signature"

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            opened = self.stack.pop()
            if self.skip_at is not None and len(self.stack) < self.skip_at:
                self.skip_at = None
            if opened == tag:
                break
        if self.skip_at is not None:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "a":
            self.link = None
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skip_at is not None:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        if self.link and self.link.startswith(("http://", "https://")) and data.strip() and data.strip() != self.link:
            data = f"{data} ({self.link})"
            self.link = None
        self.out.append(data)


def html_to_text(html: str, *, keep_quotes: bool = False) -> str:
    """Readable text from an HTML body: paragraphs and lists kept, links spelled out, quote containers dropped."""
    parser = _Text(keep_quotes=keep_quotes)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this is for the truly broken
        return _tidy(re.sub(r"<[^>]+>", " ", html))
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return _tidy("\n".join(lines))
