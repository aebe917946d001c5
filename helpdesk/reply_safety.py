"""What may go into a reply a customer reads: an answer reused from another ticket without its greeting, signature,
quoted thread or anyone's personal details, and the last check that a draft carries no agent-only material
(agent links, internal ticket numbers, internal notes, redacted data).

Used by the reply drafts and auto-response (helpdesk.services.ticket_ai.auto_response) and by the AI panel's
"Insert into reply" of a similar solved ticket (helpdesk.selectors.ticket_ai).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ai import facade

_GREETING_WORDS = r"(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening|day)|greetings)"
# "Hi Kim," or "Hello Kim, thanks for reaching out." — the greeting and what follows on its line, when short.
_GREETING = re.compile(rf"^\s*{_GREETING_WORDS}\b[^\n.!?,:;]{{0,40}}(?:[,!:;.]\s*|$)(?P<rest>.*)$", re.IGNORECASE)
_COURTESY = re.compile(
    r"^(?:thanks?|thank\s+you|many\s+thanks)\s+(?:so\s+much\s+)?for\s+(?:reaching\s+out|getting\s+in\s+touch|"
    r"contacting|your\s+(?:message|patience|email|e-mail|request))\b[^\n]*$",
    re.IGNORECASE,
)
# A sign-off line (the phrase, perhaps a name) starts the signature: the rest is the writer's, not the answer.
_NAME = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}"
_SIGN_OFF = re.compile(
    r"^\s*(?i:--|—|(?:(?:many|best|kind|warm|warmest)\s+)?(?:thanks|thank\s+you|regards|wishes)"
    r"(?:\s+(?:again|so\s+much|a\s+lot))?|best|cheers|sincerely|yours(?:\s+(?:truly|sincerely))?"
    r"|all\s+the\s+best|take\s+care|br|sent\s+from\s+my\b[^\n]*)"
    rf"[\s,!.]*(?:{_NAME})?[\s,!.]*$"  # the name is case-sensitive: "Thanks for waiting." is no sign-off
)
# Where an e-mail client starts quoting the previous message.
_QUOTE_START = re.compile(
    r"^\s*(?:>|on\s.{4,120}\swrote:\s*$|-{2,}\s*original\s+message|from:\s|sent:\s|de\s*:\s|von\s*:\s)",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(r"^[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|&|and|of|the)){0,4}\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

_AGENT_PATH = re.compile(r"(?<![\w.])/(?:kb|tickets|customers|settings|admin|api|ai|accounts|inbox)/", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>()\[\]\"'“”]+", re.IGNORECASE)
_TICKET_NUMBER = re.compile(r"#\s?\d+|\b(?:ticket|case|request)\s+(?:no\.?|number)\s*\d+", re.IGNORECASE)
_INTERNAL = re.compile(
    r"\binternal(?:\s+(?:note|only|use|article|link|ticket)|\s*:)|\(internal\b|check\s+before\s+sending"
    r"|\bagents?\s+only\b",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|NATIONAL_ID|IP)_\d+\]")


def _body_lines(text: str) -> list[str]:
    """The lines of the answer itself: no quoted thread, no signature, no greeting."""
    lines: list[str] = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line) or _SIGN_OFF.match(line):
            break
        lines.append(line.rstrip())
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines:
        greeting = _GREETING.match(lines[0])
        if greeting:
            rest = greeting.group("rest").strip()
            lines[0] = "" if _COURTESY.match(rest) else rest[:1].upper() + rest[1:]
    while lines and (not lines[-1].strip() or _NAME_LINE.match(lines[-1].strip())):
        lines.pop()  # a bare name (or company) under the answer is a signature without a sign-off
    return lines


def _mentions(sentence: str, people: Iterable[str]) -> bool:
    """Whether the sentence names one of `people`: a person's first or last name (as written, capitalised), a
    company's whole name or an address."""
    lowered = sentence.lower()
    for person in people:
        person = (person or "").strip()
        if not person:
            continue
        if person.lower() in lowered:
            return True
        if "@" in person:
            continue
        for token in person.split():
            if len(token) >= 3 and token[0].isupper() and re.search(rf"(?<!\w){re.escape(token)}(?!\w)", sentence):
                return True
    return False


def _safe_sentence(sentence: str, people: Iterable[str]) -> bool:
    _redacted, found = facade.redact_personal_data(sentence)
    return not (found or _mentions(sentence, people) or draft_problems(sentence, allowed_urls=()))


def reusable_answer(text: str, *, people: Iterable[str] = ()) -> str:
    """An agent's answer on another ticket, fit to reuse for a different customer: without greeting, signature
    and quoted thread, and without any sentence naming `people` (that ticket's requester, company, addresses),
    carrying personal data (the AI safety filters' redaction finds it), an agent link, a ticket number or an
    internal remark. Lines (list items) are kept as lines; "" when nothing reusable is left."""
    people = tuple(people)
    kept: list[str] = []
    for line in _body_lines(text):
        sentences = [s for s in _SENTENCE_END.split(line.strip()) if s]
        safe = [s for s in sentences if _safe_sentence(s, people)]
        if safe or not line.strip():
            kept.append(" ".join(safe))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def draft_problems(text: str, *, allowed_urls: Iterable[str], allowed_text: str = "") -> tuple[str, ...]:
    """Why `text` must not reach a customer as it is (empty when it may): a link other than `allowed_urls` (the
    public help-center articles it cites), an agent-only path, an internal ticket number, an internal remark,
    or a placeholder left by personal-data redaction. Links and numbers found in `allowed_text` (the customer's
    own message: "Order #12345", the public articles quoted) are theirs to read."""
    allowed = {_bare(url) for url in [*allowed_urls, *_URL.findall(allowed_text)] if url}
    known = {_bare(number) for number in _TICKET_NUMBER.findall(allowed_text)}
    problems: list[str] = []
    links = [_bare(url) for url in _URL.findall(text)]
    if any(url not in allowed for url in links):
        problems.append("It links to a page that is not a public help-center article.")
    if _AGENT_PATH.search(_URL.sub(" ", text)) or any(_AGENT_PATH.match(urlsplit(url).path) for url in links):
        problems.append("It links to an agent-only page.")
    if any(_bare(number) not in known for number in _TICKET_NUMBER.findall(text)):
        problems.append("It names an internal ticket number.")
    if _INTERNAL.search(text):
        problems.append("It contains an internal remark.")
    if _PLACEHOLDER.search(text):
        problems.append("It contains redacted personal data.")
    return tuple(dict.fromkeys(problems))


def _bare(token: str) -> str:
    return re.sub(r"\s+", "", token.rstrip(".,;:!?")).rstrip("/").lower()
