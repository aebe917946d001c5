"""The frame of a customer message: greetings, pleasantries, sign-offs and the signature under them.

The frame is not content, but a greeting does not make the rest of the line boilerplate either: "hi team the
printer on floor 3 is jammed again" is a ticket about a printer. `content_lines` removes the frame and keeps
every other word as typed (nothing is added or reworded), so a restructuring can work on the content alone.
"""

from __future__ import annotations

import re

_GREETING = (
    r"(?:hi+|hello+|hallo|hey+|heya|hiya|howdy|greetings|dear|good\s+(?:morning|afternoon|evening|day)|"
    # a bare "morning" greets only before a comma or "all" ("morning shift rota is wrong" is content)
    r"morning(?=\s*[,!.]|\s*$|\s+(?:all|everyone|team|guys|folks)\b))"
)
# Who a greeting is addressed to. A bare "it" is a pronoun ("hi it stopped working"), so only "IT" in capitals.
_ADDRESSEE = (
    r"(?:there|all|everyone|everybody|team|guys|folks|support|helpdesk|help\s*desk|service\s*desk|colleagues|"
    r"sir(?:\s*(?:or|/)\s*madam)?|madam|admins?|(?-i:IT)|it\s+(?:team|support|department|dept)|support\s+team)"
)
# A name after "hi"/"dear" ends with a comma ("dear Ms Jones, ..."); these words start content instead.
_NOT_A_NAME = (
    r"(?:my|our|the|a|an|i|i'm|im|we|it|its|it's|this|that|there|is|are|can|could|please|pls|plz|since|when|"
    r"after|so|just|again|still|how|what|why|where|who|today|yesterday|all|any|some)"
)
_LEADING_GREETING = re.compile(
    rf"^{_GREETING}\b(?:(?:\s+{_ADDRESSEE}\b)+|(?:\s+(?!{_NOT_A_NAME}\b)[A-Za-z][\w.'-]*){{1,3}}(?=\s*,))?[\s,!.:;-]*",
    re.IGNORECASE,
)
_PLEASANTRY = re.compile(
    r"^(?:i\s+)?hope\s+(?:you(?:['’]re|\s+are)(?:\s+(?:all|doing))?|all\s+is|this\s+(?:e-?mail|message)\s+finds\s+you)"
    r"\s+(?:well|good|fine)\b[\s,.!]*|^how\s+are\s+you(?:\s+(?:doing|today))?\b[\s,.!?]*",
    re.IGNORECASE,
)
_SIGNOFF = (
    r"(?:(?:many|big|thanks?\s+a\s+lot|thanks\s+so\s+much)\s+)?(?:thanks|thank\s+(?:you|u)|thx|thnx|thanx|ty|tia|"
    r"cheers|(?:kind|best|warm|warmest)\s+regards|regards|br|kr|best\s+wishes)"
)
_SIGNOFF_TAIL = (
    r"(?:\s+(?:in\s+advance|a\s+lot|so\s+much|very\s+much|again|for\s+(?:your|the|any|all)\s+(?:help|support|time)))*"
)
_SIGN_NAME_STOP = r"(?:for|to|the|a|an|and|but|if|it|is|i|we|my|of|on|in|with|from|that|this|not)"
# A sign-off at the end of a line, optionally followed by a name of one or two words ("thanks john").
_TRAILING_SIGNOFF = re.compile(
    rf"(?:^|(?<=[\s,.;!?]))(?<!\bno\s)(?<!\bwith\s)(?<!\bin\s){_SIGNOFF}\b{_SIGNOFF_TAIL}"
    rf"(?:\s*[,.-]?\s*(?!{_SIGN_NAME_STOP}\b)[A-Za-z][\w.'-]*){{0,2}}[\s,.!:)]*$",
    re.IGNORECASE,
)
_CLOSING_LINE = re.compile(
    rf"^(?:{_SIGNOFF}\b{_SIGNOFF_TAIL}|best|all\s+the\s+best|sincerely|yours(?:\s+\w+)?)[\s,.!]*$", re.IGNORECASE
)
# "Can you help?", "please fix asap": the ticket asks for help by being filed; this says nothing about the problem.
_PLEA = re.compile(
    r"^(?:(?:can|could|would)\s+(?:you|someone|somebody|anyone)\s+(?:please\s+|pls\s+|kindly\s+)?|please\s+|pls\s+|plz\s+)?"
    r"(?:help|assist|advise|fix\s+(?:it|this|that)|look\s+into\s+(?:it|this)|(?:have|take)\s+a\s+look)"
    r"(?:\s+(?:me|us|with\s+(?:this|it)|at\s+(?:this|it)|into\s+(?:this|it)))?"
    r"(?:\s+(?:please|pls|plz|asap|urgently|thanks?|thx))*[\s?!.]*$"
    r"|^(?:any\s+(?:ideas|help|suggestions)|help|urgent|asap)[\s?!.]*$",
    re.IGNORECASE,
)
_NOISE = re.compile(r"^(?:sent\s+from\s+my\b.*|--+.*|_{3,}.*)$", re.IGNORECASE)
SIGNATURE_MAX_WORDS = 6


def strip_frame(line: str) -> str:
    """The line without a leading greeting or pleasantry and without a trailing sign-off (possibly empty)."""
    line = original = line.strip()
    for _ in range(3):  # "Hi team, hope you are well, ..." has two in a row
        stripped = _PLEASANTRY.sub("", _LEADING_GREETING.sub("", line, count=1), count=1).strip()
        if stripped == line:
            break
        line = stripped
    stripped = _TRAILING_SIGNOFF.sub("", line)
    # Punctuation left dangling by a removed greeting or sign-off goes too; "Steps:" as typed keeps its colon.
    return line if stripped == line == original else stripped.strip(" \t,;:-")


def is_frame(sentence: str) -> bool:
    """True when the sentence is nothing but greeting, pleasantry, plea for help, sign-off or mail noise."""
    sentence = sentence.strip()
    if not sentence or _NOISE.match(sentence):
        return True
    rest = strip_frame(sentence)
    return not re.search(r"\w", rest) or bool(_PLEA.match(rest))


def content_lines(text: str) -> list[str]:
    """The lines of `text` with the frame removed; blank lines stay (they separate blocks).

    After a closing line ("Thanks,", "Kind regards") short lines are the signature (name, role, phone) and are
    dropped; a longer line after it is content again (a P.S. with a fact in it).
    """
    lines: list[str] = []
    in_signature = False
    for raw in (text or "").splitlines():
        line = raw.strip()
        if in_signature and len(line.split()) <= SIGNATURE_MAX_WORDS:
            continue
        in_signature = False
        if _CLOSING_LINE.match(line):
            in_signature = True
            continue
        if _NOISE.match(line):
            continue
        lines.append(strip_frame(line) if line else "")
    return lines
