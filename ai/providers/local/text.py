"""Small text utilities shared by the offline analysers: sentence splitting and whitespace normalisation.

The sentence splitter is a regex, not a trained model (pysbd is not installed): it splits after `.`, `!`, `?` or `…`
followed by whitespace and a word (in lower case too: messy tickets often skip capitals), and at line breaks, but
not after common abbreviations ("e.g.", "Dr.", "v."), list numbers ("1. Open…") or inside version numbers and
decimals ("1.2.3", "3.5"). Good enough for support tickets and e-mails; never used to change wording, only to cut
text at sentence boundaries.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "inc",
    "ltd",
    "co",
    "no",
    "nr",
    "approx",
    "min",
    "max",
    "v",
    "ver",
    "z.b",
    "bzw",
    "ca",
    "usw",
    "st",
    "fig",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
# A candidate boundary: terminal punctuation (and closing quotes/brackets), then whitespace, then a likely start.
_BOUNDARY = re.compile(r"""([.!?…]+["')\]]*)\s+(?=["'(\[]?\w)""")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def normalise_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences in order, whitespace-normalised; a line break always ends a sentence (lists, greetings)."""
    return [normalise_space(text[start:end]) for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence in `text`, leading/trailing whitespace excluded."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text or ""):
        offset, content = line.start(), line.group()
        start = 0
        for match in _BOUNDARY.finditer(content):
            if match.group(1) == "." and (
                _is_abbreviation(content[: match.start(1)]) or _is_list_marker(content[start : match.start(1)])
            ):
                continue
            spans.append((offset + start, offset + match.end(1)))
            start = match.end()
        spans.append((offset + start, offset + len(content)))
    return [_strip_span(text, start, end) for start, end in spans if text[start:end].strip()]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(before: str) -> bool:
    word = _WORD_BEFORE.search(before)
    if not word:
        return False
    token = word.group(1).rstrip(".")
    # Initials ("J. Smith") and known abbreviations do not end a sentence.
    return token.lower() in _ABBREVIATIONS or (len(token) == 1 and token.isupper())


def _is_list_marker(sentence_so_far: str) -> bool:
    """ "1." or "a." at the start of a line numbers a list item; it does not end a sentence."""
    return bool(re.fullmatch(r"\s*(\d{1,3}|[a-zA-Z])", sentence_so_far))


def words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())
