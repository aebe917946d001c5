"""Offline rewriting by rules and templates: restructure or re-tone a text without adding a single fact.

Styles
- "ticket": sorts the sentences (and clauses) of a messy report into Summary / Steps to reproduce / Expected /
  Actual / Environment using cue phrases ("expected", "should", "instead", "steps:", numbered lines, "when I …,")
  and OS / browser / device / version patterns. Every section holds text copied from the input (labels such as
  "Expected:" and list numbers are dropped); a section with no evidence stays empty instead of being guessed,
  and is left out of the text (no placeholder a customer could end up reading). Greetings and sign-offs are
  removed but never the rest of their line (frame.py); statements that fit no section stay in the summary.
  A modal word ("should", "supposed to") moves only the clause that states the expectation to Expected.
- "concise": the extractive summary (see summarize.py), so also word for word.
- "friendly" / "formal": phrase-level substitutions from fixed tables (contractions, salutations, stock
  phrases, informal abbreviations), plus a greeting and closing when the text has none. No sentence is generated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ...contracts import SECTION_TITLES
from .frame import content_lines, is_frame
from .text import normalise_space, split_sentences

STYLES = ("ticket", "concise", "friendly", "formal")
# What the ticket style once wrote for an empty section; never written now, and refused on accept (ai.rewrite_checks).
NOT_STATED = "(not stated in the ticket)"

# --- "ticket" -------------------------------------------------------------------------------------------------

_LABELS = {
    "steps": r"steps(?:\s+to\s+reproduce)?|(?:how\s+)?to\s+reproduce|repro(?:duction)?(?:\s+steps)?",
    "expected": r"expected(?:\s+(?:result|behaviou?r|outcome))?|what\s+should\s+happen|expectation",
    "actual": r"actual(?:\s+(?:result|behaviou?r|outcome))?|what\s+(?:actually\s+)?happen(?:s|ed)|result|observed",
    "environment": r"environment|env|browser|os|operating\s+system|device|platform|app\s+version|version|setup",
    "summary": r"summary|subject|problem|issue|description|title",
}
_LABEL = re.compile(
    r"^\s*(?:\*\*|#+\s*)?(?P<label>"
    + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items())
    + r")\s*(?:\*\*)?\s*[:\-–]\s*",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-*•]|step\s*\d+\s*[:.)-]?)\s+", re.IGNORECASE)
_EXPECTED = re.compile(
    r"\b(?:expected|expecting|i\s+expect|should(?:\s+(?:be|have|show|open|save|work|get|see|display|return|load))?|"
    r"must|(?:supposed|meant)\s+to|ought\s+to|used\s+to|normally|would\s+expect|would\s+like\s+(?:it|the))\b",
    re.IGNORECASE,
)
# "what should I do", "should we restart": a question with a modal word is not an expectation; nor is "I must".
_MODAL_QUESTION_BEFORE = re.compile(r"\b(?:what|how|where|when|who|which|why|whom|if|whether)(?:\s+\S+)?\s*$", re.I)
_MODAL_QUESTION_AFTER = re.compile(r"^\s+(?:i|we|you|they|it|this|that)\b(?!\s+(?:be|have|work|show|open|save))", re.I)
_FIRST_PERSON_MUST = re.compile(r"\b(?:i|we)\s*$", re.I)
_SUBJECT_WORD = re.compile(
    r"^(?:it|this|that|i|we|they|he|she|you|there|everything|nothing|everyone|users?|"
    r"the|my|our|your|their|his|her|its|these|those|all|each|every)$",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(
    r"\s*[,;]\s*|\s+(?:but|so|because|since|although|though|however|instead|yet|also|plus|"
    r"when|whenever|if|until|while|after|before|then)\s+|\s+(?=(?:i|we)\s+\w)|"
    # "and" joins clauses only before a new subject ("… double sided and it prints single sided"), not "PDF and JPG"
    r"\s+and\s+(?=(?:i|we|it|this|that|they|he|she|the|my|our|your|their|then|now|nothing|everything|there)\b)|"
    # "… should open the side door it beeps red": a new subject with its verb starts a new clause.
    r"\s+(?=(?:it|this|that|they|nothing|everything)\s+(?:is|was|isn['’]?t|wasn['’]?t|does|did|doesn['’]?t|"
    r"didn['’]?t|just|only|still|never|always|now|can|can['’]?t|won['’]?t|wont|will|has|had|hasn['’]?t|\w{2,}s)\b)",
    re.IGNORECASE,
)
# A word after which "i"/"we" continues the clause ("what I typed") instead of starting a new one.
_CLAUSE_GLUE = re.compile(r"\b(?:what|that|which|where|how|as|like|than|whether|who|me|so|if)$", re.IGNORECASE)
_LEADING_CONNECTIVE = re.compile(r"^(?:and|but|so|also|plus|however|yet)\s+", re.I)
# Words around a setup statement ("We tried it in Chrome and Firefox on Windows 11, same thing.").
_SETUP_FILLER = frozenset(
    {"on", "with", "using", "use", "used", "and", "in", "the", "tried", "try", "also", "same", "thing", "both"}
    | {"running", "run", "version", "we", "i", "im", "i'm", "am", "are", "is", "it", "my", "our", "a", "an", "of"}
    | {"for", "too", "as", "well", "latest", "up", "to", "date", "via", "from"}
)
MAX_SUBJECT_WORDS = 5
MAX_EXPECTATION_WORDS = 25
MAX_UNPUNCTUATED_EXPECTATION_TAIL = 12  # words after "should" before a clause ends, when no punctuation ends it
_PREPOSITION = re.compile(r"^(?:on|in|of|for|at|from|with|about|by|under|behind|near|inside)$", re.IGNORECASE)
_ACTUAL = re.compile(
    r"\b(?:instead|actually|but\s+(?:it|nothing|i|we|the|now)|errors?|fail(?:s|ed|ing|ure)?|crash(?:es|ed|ing)?|"
    r"freez(?:es|ing)|froze|hangs?|broken|doesn['’]?t|does\s+not|didn['’]?t|did\s+not|won['’]t|will\s+not|"
    r"can['’]?t|cannot|can\s+not|couldn['’]?t|isn['’]?t|wasn['’]?t|hasn['’]?t|unable|nothing\s+happens|stuck|blank|wrong|missing|"
    r"disappear(?:s|ed)?|times?\s+out|timed\s+out|spins?|loading\s+forever|not\s+working|\b[45]\d\d\b)\b",
    re.IGNORECASE,
)
_STEP_START = re.compile(
    r"^(?:first(?:ly)?|then|next|after\s+that|afterwards|finally|and\s+then|"
    r"(?:when|if|once|after)\s+(?:i|we|you|the\s+user|users?)\b|"
    r"(?:i|we)\s+(?:click(?:ed)?|go|went|open(?:ed)?|select(?:ed)?|press(?:ed)?|type[ds]?|enter(?:ed)?|"
    r"navigate[ds]?|upload(?:ed)?|log(?:ged)?\s+in|sign(?:ed)?\s+in|tr(?:y|ied)\s+to)|"
    r"(?:go\s+to|click|open|select|press|navigate\s+to|log\s+in|sign\s+in|enter|type|upload)\b)",
    re.IGNORECASE,
)
_CONDITION_CLAUSE = re.compile(r"^((?:when|if|once|after|whenever)\s+[^,]{3,120}?),\s*(.+)$", re.IGNORECASE)
_CONTRAST = re.compile(r"^(.{8,}?)(?:,\s*|\s+)(?:but\s+(?:instead\s+)?|instead\s+)(.{6,})$", re.IGNORECASE)
_ENVIRONMENT = re.compile(
    r"\b(?:"
    r"windows\s+(?:1[01]|[78]|xp|vista|server\s+\d{4})|macos(?:\s+[a-z]+)?(?:\s+\d+(?:\.\d+)*)?|mac\s*os\s*x?\s*\d+(?:\.\d+)*|"
    r"os\s*x\s+\d+(?:\.\d+)*|ubuntu(?:\s+\d+(?:\.\d+)*)?|debian(?:\s+\d+)?|fedora(?:\s+\d+)?|chrome\s*os|linux|"
    r"ipados\s+\d+(?:\.\d+)*|ios\s+\d+(?:\.\d+)*|android\s+\d+(?:\.\d+)*|"
    r"(?:google\s+)?chrome(?:\s+(?:v(?:ersion)?\s*)?\d+(?:\.\d+)*)?|(?:mozilla\s+)?firefox(?:\s+\d+(?:\.\d+)*)?|"
    r"safari(?:\s+\d+(?:\.\d+)*)?|(?:microsoft\s+)?edge(?:\s+\d+(?:\.\d+)*)?|opera(?:\s+\d+)?|brave|"
    r"iphone\s*\d+(?:\s*(?:pro|max|plus|mini))*|ipad(?:\s+(?:pro|air|mini))?|pixel\s+\d+[a-z]?|"
    r"(?:samsung\s+)?galaxy\s+[a-z]?\d+\w*|macbook(?:\s+(?:pro|air))?|"
    r"(?:app|client|desktop\s+app|mobile\s+app|plugin|api|sdk)?\s*(?:version|ver\.?|v)\s*\d+(?:\.\d+){1,3}|"
    r"build\s+\d{3,}"
    r")\b",
    re.IGNORECASE,
)


@dataclass
class _TicketParts:
    summary: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    actual: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    # Every phrase in reading order with its section: the summary is the report's opening statement.
    ordered: list[tuple[str, str]] = field(default_factory=list)

    def add(self, section: str, phrase: str) -> None:
        phrase = _clean_phrase(phrase)
        bucket = getattr(self, section)
        if phrase and phrase not in bucket:
            bucket.append(phrase)
            self.ordered.append((section, phrase))


def _clean_phrase(phrase: str) -> str:
    phrase = _LIST_ITEM.sub("", normalise_space(phrase))
    return phrase.strip(" -–,;:")


def _environment_phrases(text: str) -> list[str]:
    phrases: list[str] = []
    for match in _ENVIRONMENT.finditer(text):
        phrase = normalise_space(match.group()).strip()
        if phrase and not any(phrase.lower() in p.lower() for p in phrases):
            phrases = [p for p in phrases if p.lower() not in phrase.lower()] + [phrase]
    return phrases


def _only_environment(sentence: str) -> bool:
    """A sentence that just states the setup ("I'm on Windows 11 with Chrome 124.") is not a summary candidate;
    "vpn keeps dropping on windows 11" is."""
    if not _ENVIRONMENT.search(sentence):
        return False
    rest = re.findall(r"[a-z][a-z'’]+", _ENVIRONMENT.sub("", sentence).lower())
    return sum(word.replace("’", "'") not in _SETUP_FILLER for word in rest) <= 1


def _expectation_match(sentence: str) -> re.Match | None:
    """The first modal or cue word in `sentence` that states an expectation (not a question, not "I must")."""
    for match in _EXPECTED.finditer(sentence):
        before, after = sentence[: match.start()], sentence[match.end() :]
        word = match.group().lower()
        if word.startswith(("should", "must")) and (
            _MODAL_QUESTION_BEFORE.search(before) or _MODAL_QUESTION_AFTER.match(after)
        ):
            continue
        if word == "must" and (_FIRST_PERSON_MUST.search(before) or re.match(r"\s+have\b", after)):
            continue  # "I must finish payroll", "the app must have logged me out": no expectation
        return match
    return None


def _clause_start(sentence: str, position: int) -> int:
    """Where the clause holding the cue word at `position` starts: its subject ("the new printer should"),
    else the previous comma or conjunction, else the start of the sentence."""
    words = list(re.finditer(r"\S+", sentence[:position]))
    index = _subject_index(words, len(words))
    # "the wifi password on the poster should": a subject after a preposition belongs to a longer subject.
    while index and _PREPOSITION.match(words[index - 1].group()):
        earlier = _subject_index(words, index - 1)
        if earlier is None:
            break
        index = earlier
    if index is not None:
        return words[index].start()
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(sentence[:position]) if m.end() <= position]
    return breaks[-1] if breaks else 0


def _subject_index(words: list[re.Match], end: int) -> int | None:
    """The nearest pronoun or determiner among the last few words before `end`."""
    for index in range(end - 1, max(end - MAX_SUBJECT_WORDS, 0) - 1, -1):
        if _SUBJECT_WORD.match(words[index].group().strip(",;:").lower().replace("’", "'")):
            return index
    return None


def _clause_end(sentence: str, position: int) -> int:
    for match in _CLAUSE_BREAK.finditer(sentence, position):
        if match.group().strip() == "" and _CLAUSE_GLUE.search(sentence[: match.start()]):
            continue  # "it should show what I typed"
        if len(sentence[position : match.start()].split()) >= 2:
            return match.start()
    return len(sentence)


def _split_expectation(sentence: str) -> tuple[str, str, str] | None:
    """(before, expectation clause, after) of a sentence with an expectation cue; None without one."""
    match = _expectation_match(sentence)
    if match is None:
        return None
    start, end = _clause_start(sentence, match.start()), _clause_end(sentence, match.end())
    before, after = sentence[:start], sentence[end:]
    if len(re.findall(r"\w+", after)) < 2:  # "it should work now": a word or two left over stay in the clause
        end, after = len(sentence), ""
    punctuated = sentence[end:].lstrip()[:1] in (",", ";") or (not after and sentence.rstrip()[-1:] in ".!?")
    if len(sentence[start:end].split()) > MAX_EXPECTATION_WORDS or (
        not punctuated and len(sentence[match.end() : end].split()) > MAX_UNPUNCTUATED_EXPECTATION_TAIL
    ):
        return None  # no clause boundary to trust in a run-on text: filing it under Expected would be a guess
    return before, sentence[start:end], after


def _classify_rest(parts: _TicketParts, fragment: str, has_list: bool) -> None:
    fragment = _LEADING_CONNECTIVE.sub("", fragment.strip(" ,;:-"))
    if re.search(r"\w", fragment):
        _classify_sentence(parts, fragment, has_list)


def _classify_sentence(parts: _TicketParts, sentence: str, has_list: bool) -> None:
    if is_frame(sentence):
        return
    if _LIST_ITEM.match(sentence):
        parts.add("steps", sentence)
        return
    condition = _CONDITION_CLAUSE.match(sentence)
    if condition and not sentence.rstrip().endswith("?"):
        # "When I click Save, it shows error 500": the condition is a step, the rest is what happened.
        parts.add("steps", condition.group(1))
        _classify_sentence(parts, condition.group(2), has_list)
        return
    question = sentence.rstrip().endswith("?")
    contrast = _CONTRAST.match(sentence)
    if contrast and not question and _expectation_match(contrast.group(1)):
        # "It should save the file but instead shows an error": expectation, then reality.
        _classify_sentence(parts, contrast.group(1), has_list)
        parts.add("actual", contrast.group(2))
        return
    expectation = None if question else _split_expectation(sentence)
    if expectation:
        before, clause, after = expectation
        _classify_rest(parts, before, has_list)
        parts.add("expected", clause)
        _classify_rest(parts, after, has_list)
    elif _ACTUAL.search(sentence) and not question:
        parts.add("actual", sentence)
    elif _STEP_START.match(sentence) and not has_list and not question:
        parts.add("steps", sentence)
    elif _only_environment(sentence):
        return
    else:
        parts.add("other", sentence)


def _parse_ticket(text: str) -> _TicketParts:
    lines = content_lines(text)
    parts = _TicketParts(environment=_environment_phrases("\n".join(lines)))
    has_list = any(_LIST_ITEM.match(line) for line in lines)
    context = ""
    for line in lines:
        if not line:
            context = ""
            continue
        label = _LABEL.match(line)
        if label:
            context = next(key for key in _LABELS if label.group(key))
            line = line[label.end() :].strip()
            if not line:
                continue
        if context == "environment":
            # An explicit "Environment:" line is kept whole; the phrases found inside it are then redundant.
            parts.environment = [p for p in parts.environment if p.lower() not in line.lower()]
            parts.add("environment", line)
            continue
        if context == "steps" and not _LIST_ITEM.match(line) and parts.steps and not label:
            context = ""  # a plain line after the list: the steps are over
        if context:
            target = "summary" if context == "summary" else context
            for sentence in split_sentences(line) if context != "steps" else [line]:
                parts.add(target, sentence)
            continue
        for sentence in split_sentences(line):
            _classify_sentence(parts, sentence, has_list)
    return parts


def _ticket_summary(parts: _TicketParts) -> str:
    """An explicit "Summary:"/"Subject:" line, else the first statement that is neither a step nor an expectation,
    followed by the other statements that fit no section (context such as "this blocks our payroll run").

    Reporters open with the problem ("Since the update the export is broken."); when that sentence is also the
    only description of what happens, it stays in Actual too.
    """
    if parts.summary:
        return "\n".join(parts.summary + parts.other)
    candidates = [(section, phrase) for section, phrase in parts.ordered if section in ("other", "actual")]
    # "Can you help?" opens many tickets but says nothing about the problem: prefer a statement.
    statements = [(section, phrase) for section, phrase in candidates if not phrase.endswith("?")]
    for section, phrase in statements or candidates:
        if section == "actual" and len(parts.actual) > 1:
            parts.actual.remove(phrase)
        return "\n".join([phrase] + [other for other in parts.other if other != phrase])
    return ""


def restructure_ticket(text: str) -> tuple[str, dict[str, str]]:
    """The ticket as sections; the text lists only the sections that hold something (none: an empty text)."""
    parts = _parse_ticket(text)
    summary = _ticket_summary(parts)
    sections = {
        "summary": summary,
        "steps": "\n".join(parts.steps),
        "expected": "\n".join(parts.expected),
        "actual": "\n".join(parts.actual),
        "environment": "; ".join(parts.environment),
    }
    blocks = []
    for key, title in SECTION_TITLES.items():
        body = sections[key]
        if key == "steps" and body:
            body = "\n".join(f"{i}. {step}" for i, step in enumerate(parts.steps, start=1))
        if body:
            blocks.append(f"{title}\n{body}")
    return "\n\n".join(blocks), sections


# --- "friendly" and "formal" ----------------------------------------------------------------------------------

_EXPAND = {
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "can't": "cannot",
    "won't": "will not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "weren't": "were not",
    "haven't": "have not",
    "hasn't": "has not",
    "hadn't": "had not",
    "wouldn't": "would not",
    "shouldn't": "should not",
    "couldn't": "could not",
    "i'm": "I am",
    "i've": "I have",
    "i'll": "I will",
    "i'd": "I would",
    "we're": "we are",
    "we've": "we have",
    "we'll": "we will",
    "you're": "you are",
    "you've": "you have",
    "you'll": "you will",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "let's": "let us",
    "what's": "what is",
}
_FORMAL_WORDS = {
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "have to",
    "yeah": "yes",
    "yep": "yes",
    "nope": "no",
    "pls": "please",
    "plz": "please",
    "thx": "thank you",
    "ur": "your",
    "u": "you",
    "thanks a lot": "thank you very much",
    "asap": "as soon as possible",
    "btw": "by the way",
    "fyi": "for your information",
    "info": "information",
    "hey": "hello",
    "hi": "hello",
    "cheers": "kind regards",
    "no worries": "no problem",
    "sorry about that": "we apologise for this",
    "awesome": "excellent",
}
_CONTRACT = {
    "do not": "don't",
    "does not": "doesn't",
    "did not": "didn't",
    "cannot": "can't",
    "will not": "won't",
    "is not": "isn't",
    "are not": "aren't",
    "I am": "I'm",
    "we are": "we're",
    "you are": "you're",
    "it is": "it's",
    "that is": "that's",
    "let us": "let's",
    "I will": "I'll",
    "we will": "we'll",
    "we have": "we've",
}
_FRIENDLY_PHRASES = {
    "dear sir or madam": "hi there",
    "dear sir/madam": "hi there",
    "dear customer": "hi there",
    "to whom it may concern": "hi there",
    "please be advised that": "just so you know,",
    "we regret to inform you that": "unfortunately,",
    "do not hesitate to contact us": "feel free to reach out",
    "don't hesitate to contact us": "feel free to reach out",
    "at your earliest convenience": "when you get a chance",
    "thank you for contacting us": "thanks for reaching out",
    "we apologize for the inconvenience": "sorry for the trouble",
    "we apologise for the inconvenience": "sorry for the trouble",
    "in order to": "to",
    "kindly": "please",
    "yours sincerely": "thanks so much",
    "yours faithfully": "thanks so much",
    "sincerely": "thanks so much",
    "kind regards": "thanks so much",
    "best regards": "thanks so much",
}
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|greetings)\b", re.IGNORECASE)
_CLOSING = re.compile(
    r"(?:thanks|thank\s+you|regards|cheers|sincerely|faithfully|best|all\s+the\s+best)\b[^\n]{0,40}$", re.IGNORECASE
)


def _replace_phrases(text: str, table: dict[str, str]) -> str:
    """Whole-word, case-insensitive replacements, longest phrase first; a capitalised match stays capitalised."""
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w'’])(" + "|".join(re.escape(k).replace("'", "['’]") for k in keys) + r")(?![\w'’])", re.I
    )

    def swap(match: re.Match) -> str:
        found = match.group(0)
        replacement = table[found.lower().replace("’", "'")]
        if found[0].isupper() and replacement[0].islower():
            replacement = replacement[0].upper() + replacement[1:]
        return replacement

    return pattern.sub(swap, text)


def _ensure_frame(text: str, greeting: str, closing: str) -> str:
    lines = text.strip().splitlines() or [""]
    if not _GREETING.match(lines[0]):
        lines.insert(0, greeting)
    last = next((line for line in reversed(lines) if line.strip()), "")
    if not _CLOSING.search(last.strip()) and not _CLOSING.search("\n".join(lines[-3:])):
        lines += ["", closing]
    return "\n".join(lines)


def make_formal(text: str) -> str:
    text = _replace_phrases(text, {**_EXPAND, **_FORMAL_WORDS})
    text = re.sub(r"!{2,}", "!", text)
    text = re.sub(r"\?{2,}", "?", text)
    text = re.sub(r"\s*(?::-?\)|;-?\)|:-?D|:-?P|\bxD\b|<3)", "", text)
    # Sentences start with a capital letter in a formal text (a lower-case "hello, ..." after the swap above).
    text = re.sub(r"(^|[.!?]\s+|\n\s*)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return _ensure_frame(text, "Hello,", "Kind regards")


def make_friendly(text: str) -> str:
    text = _replace_phrases(text, {**_CONTRACT, **_FRIENDLY_PHRASES})
    return _ensure_frame(text, "Hi there,", "Thanks!")


def rewrite_text(text: str, style: str, concise: Callable[[str], str]) -> tuple[str, dict[str, str]]:
    """Dispatch by style; `concise` is the provider's extractive summariser (it needs the embedding model)."""
    if style == "ticket":
        return restructure_ticket(text)
    if style == "concise":
        return concise(text), {}
    if style == "formal":
        return make_formal(text), {}
    if style == "friendly":
        return make_friendly(text), {}
    raise ValueError(style)
