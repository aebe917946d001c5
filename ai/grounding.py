"""The check every generated text for a customer passes before anyone sees it: it may repeat the facts the prompt
gave, never add to them.

A text is refused when it is empty or overlong, states a number the facts do not have (1,999.00 and 1999 are the
same number), carries a link, a web domain or an e-mail address the facts do not have, or a placeholder of redacted
personal data. Lead outreach drafts and the quote copilot's summary and email use it through ai.facade.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LINK = re.compile(r"https?://\S+|\bwww\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_DOMAIN = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|ai|app|dev|de|fr|uk|eu)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|NATIONAL_ID|IP)_\d+\]")


def numbers_in(text: str) -> set[str]:
    """Every number in `text`, written plainly: "1,999.00" and "1999" are both "1999"; "03" (of a date) stays "03",
    so a date never lets a made-up "3" through."""
    found = set()
    for raw in _NUMBER.findall(text):
        plain = raw.replace(",", "").rstrip(".")
        if "." in plain:
            plain = plain.rstrip("0").rstrip(".")
        found.add(plain)
    return found


def ungrounded_text_problems(text: str, *, facts: str, max_chars: int, source: str = "the facts") -> tuple[str, ...]:
    """Why `text` must not be offered (empty when it may). `facts`: every fact the prompt gave, as one text;
    `source` names them in the reasons ("the lead", "the quote")."""
    problems = []
    if not text.strip():
        problems.append("It is empty.")
    if len(text) > max_chars:
        problems.append("It is too long.")
    invented = numbers_in(text) - numbers_in(facts)
    if invented:
        problems.append(f"It states numbers {source} does not have: {', '.join(sorted(invented)[:3])}.")
    known = facts.lower()
    links = [link.rstrip(".,;:!?)") for link in [*_LINK.findall(text), *_DOMAIN.findall(text)]]
    if any(link.lower() not in known for link in links):
        problems.append(f"It contains a link or address {source} does not have.")
    if _PLACEHOLDER.search(text):
        problems.append("It contains redacted personal data.")
    return tuple(problems)
