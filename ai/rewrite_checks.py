"""Checks on a "ticket" rewrite (Improve description) before anyone may accept it, whichever provider wrote it.

The text offered is always rebuilt from the sections, with empty ones left out, so no placeholder such as
"(not stated in the ticket)" or "N/A" can reach a description. The rewrite is "nothing to improve" when it would
not make the ticket clearer: no content left (greetings only), or one statement that would merely be repeated
(one section only, or a summary that repeats the only other section). A rewrite that adds numbers or names the
ticket does not contain (a chat model guessing a version, say) is refused the same way: it is not the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .contracts import SECTION_TITLES

CONTENT_SECTIONS = ("summary", "steps", "expected", "actual")
PLACEHOLDER = "(not stated in the ticket)"
_PLACEHOLDER_LINE = re.compile(
    r"^[\s(\[]*(?:not\s+stated(?:\s+in\s+the\s+(?:ticket|description))?|n/?a|none|unknown|not\s+(?:provided|given|"
    r"specified|mentioned|known)|no\s+(?:information|details?)(?:\s+(?:given|provided))?|tbd|-+|—|–)[\s.)\]]*$",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_TOKEN = re.compile(r"[A-Za-z0-9][\w.'’/-]*")

NOTHING_LEFT = "The description holds nothing but a greeting or sign-off: there is nothing to restructure."
ONE_STATEMENT = (
    "The description is a single statement; splitting it into sections would only repeat it. It is clear as it is."
)
UNCHANGED = "The description is already structured this way."


@dataclass(frozen=True)
class TicketRewriteVerdict:
    text: str  # what may be offered: the sections that hold something, one heading each
    sections: dict[str, str]  # all five keys; an empty string where the ticket says nothing
    nothing_to_improve: bool
    reason: str = ""


def _clean_section(value: str) -> str:
    lines = [line.strip() for line in str(value or "").splitlines()]
    return "\n".join(line for line in lines if line and not _PLACEHOLDER_LINE.match(line))


def _render(sections: Mapping[str, str]) -> str:
    blocks = []
    for key, title in SECTION_TITLES.items():
        body = sections[key]
        if key == "steps" and body:
            body = "\n".join(f"{i}. {_NUMBERING.sub('', step)}" for i, step in enumerate(body.splitlines(), 1))
        if body:
            blocks.append(f"{title}\n{body}")
    return "\n\n".join(blocks)


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _adds_something(sections: Mapping[str, str]) -> bool:
    """True when at least two sections say different things (a summary repeating the only other section, or a
    single section holding the whole ticket, is no restructuring)."""
    summary = _plain(sections["summary"])
    others = [
        [_plain(phrase) for phrase in sections[key].splitlines() if _plain(phrase)]
        for key in ("steps", "expected", "actual")
    ]
    new = [phrases for phrases in others if phrases and any(p not in summary for p in phrases)]
    if summary:
        return bool(new)
    return len({tuple(phrases) for phrases in new}) >= 2


def invented_tokens(original: str, sections: Mapping[str, str]) -> list[str]:
    """Numbers, and capitalised words inside a sentence, that the original does not contain (any case)."""
    known = {token.lower().strip(".'’-/") for token in _TOKEN.findall(original or "")}
    known_text = (original or "").lower()
    found: list[str] = []
    for line in "\n".join(sections.values()).splitlines():
        words = _TOKEN.findall(_NUMBERING.sub("", line))
        for index, word in enumerate(words):
            bare = word.strip(".'’-/")
            suspicious = any(ch.isdigit() for ch in bare) or (index > 0 and bare[:1].isupper())
            if suspicious and bare.lower() not in known and bare.lower() not in known_text and bare not in found:
                found.append(bare)
    return found


def ticket_rewrite_verdict(original: str, text: str, sections: Mapping[str, str] | None) -> TicketRewriteVerdict:
    """The rewrite as it may be offered, and whether it improves on `original` at all (see the module doc)."""
    cleaned = {key: _clean_section((sections or {}).get(key, "")) for key in SECTION_TITLES}
    offered = _render(cleaned)
    if not any(cleaned[key] for key in CONTENT_SECTIONS):
        return TicketRewriteVerdict(offered, cleaned, True, NOTHING_LEFT)
    if _plain(offered) == _plain(original or ""):
        return TicketRewriteVerdict(offered, cleaned, True, UNCHANGED)
    invented = invented_tokens(original, cleaned)
    if invented:
        reason = f"The rewrite mentions {', '.join(invented[:5])}, which the description does not; it was not used."
        return TicketRewriteVerdict(offered, cleaned, True, reason)
    if not _adds_something(cleaned):
        return TicketRewriteVerdict(offered, cleaned, True, ONE_STATEMENT)
    return TicketRewriteVerdict(offered, cleaned, False)
