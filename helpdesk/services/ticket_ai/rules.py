"""Transparent rules behind the ticket AI: priority and type signals, the questions a ticket leaves open, next actions.

Pure functions of text and already-computed AI results (no database, no AI calls), so every suggestion can say
why in plain words and tests can pin each rule down. Rules are English cue phrases; in other languages they
simply do not fire and the model-based parts (zero-shot type, sentiment) carry the suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_SECTIONS = ("summary", "steps", "expected", "actual", "environment")
TYPES = ("question", "incident", "problem", "task")

# What each ticket type means, for the zero-shot classifier (a description per label guides it).
TYPE_DESCRIPTIONS = {
    "question": "question: asking how to do something, where to find a setting, or for information",
    "incident": "incident: something is broken, an error or a failure the customer is running into now",
    "problem": "problem: the same fault keeps coming back or affects many users, an outage, needs a root cause",
    "task": "task: a request to do something for the customer, change account details, cancel, send a document",
}


def _cues(*phrases: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


URGENT_CUES = _cues(
    r"outage",
    r"(?:site|app|system|service|production|server|platform|everything)\s+(?:is\s+)?down",
    r"down\s+for\s+(?:everyone|all)",
    r"data\s+loss",
    r"lost\s+(?:all\s+)?(?:our\s+)?data",
    r"security\s+(?:breach|incident|issue)",
    r"hacked",
    r"breach",
    r"nobody\s+can\s+(?:work|log\s*in|sign\s*in|access)",
    r"(?:all|every)\s+(?:of\s+our\s+)?(?:users|customers|agents)\s+(?:are|can)",
)
HIGH_CUES = _cues(
    r"urgent(?:ly)?",
    r"asap",
    r"as\s+soon\s+as\s+possible",
    r"immediately",
    r"critical",
    r"emergency",
    r"block(?:ed|ing|er)",
    r"deadline",
    r"(?:can['’]?t|cannot|unable\s+to)\s+work",
    r"losing\s+(?:money|sales|customers)",
    r"charged\s+twice",
    r"double\s+charged",
)
LOW_CUES = _cues(
    r"not\s+urgent",
    r"no\s+rush",
    r"whenever\s+you\s+(?:can|have\s+time)",
    r"when\s+you\s+(?:get\s+a\s+chance|have\s+(?:a\s+)?(?:moment|time))",
    r"low\s+priority",
    r"minor",
    r"feature\s+request",
    r"would\s+be\s+nice",
    r"suggestion",
    r"just\s+(?:curious|wondering)",
)
QUESTION_CUES = _cues(
    r"how\s+(?:do|can|should|would)\s+(?:i|we|you)",
    r"how\s+to",
    r"where\s+(?:do|can|is|are)",
    r"is\s+(?:it|there)\s+(?:possible|a\s+way)",
    r"can\s+(?:i|we)",
    r"what\s+(?:is|are|does)",
    r"do\s+you\s+(?:support|offer|have)",
)
INCIDENT_CUES = _cues(
    r"errors?",
    r"broken",
    r"not\s+working",
    r"does\s*n[o']?t\s+work",
    r"doesn['’]t\s+work",
    r"crash(?:es|ed|ing)?",
    r"fail(?:s|ed|ing|ure)?",
    r"(?:can['’]?t|cannot|unable\s+to)\s+\w+",
    r"stuck",
    r"freez(?:es|ing)",
    r"times?\s+out",
    r"[45]\d\d",
    r"bug",
)
PROBLEM_CUES = _cues(
    r"again",
    r"keeps?\s+(?:happening|failing|crashing)",
    r"every\s+(?:time|day|morning)",
    r"recurring",
    r"(?:all|many|several)\s+(?:of\s+our\s+)?(?:users|customers|agents|colleagues)",
    r"everyone",
    r"whole\s+team",
    r"outage",
    r"(?:third|second)\s+time",
)
TASK_CUES = _cues(
    r"(?:please|could\s+you|can\s+you|kindly)\s+(?:change|update|add|remove|cancel|delete|close|reset|send|create|"
    r"transfer|upgrade|downgrade|refund|rename|move)",
    r"i\s+(?:need|want|would\s+like)\s+to\s+(?:change|update|add|remove|cancel|delete|close|upgrade|downgrade)",
    r"(?:change|update)\s+(?:the|my|our)\s+(?:billing|email|address|company|owner|plan|name)",
)
ACCOUNT_TOPICS = _cues(
    r"invoice",
    r"bill(?:ing|ed)?",
    r"charge[ds]?",
    r"refund",
    r"payment",
    r"order",
    r"parcel",
    r"package",
    r"delivery",
    r"shipment",
    r"subscription",
    r"account",
)
REFERENCE_NUMBER = re.compile(r"(?:#|\bno\.?\s*|\bnumber\s*|\bid\s*:?\s*)?\b[A-Z]{0,4}-?\d{4,}\b", re.IGNORECASE)
EXPLICIT_SCREENSHOT = _cues(r"screenshots?", r"screen\s*shots?", r"attached", r"attachment", r"recording")


UPSET = -0.5  # VADER compound score from which a customer reads as clearly upset


@dataclass(frozen=True)
class RuleSuggestion:
    value: str
    confidence: float
    reasons: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)


def _quoted(match: re.Match) -> str:
    return f"“{match.group(0).strip()}”"


def _first_matches(pattern: re.Pattern, text: str, limit: int = 2) -> list[str]:
    found: list[str] = []
    for match in pattern.finditer(text):
        phrase = _quoted(match)
        if phrase.lower() not in (f.lower() for f in found):
            found.append(phrase)
        if len(found) >= limit:
            break
    return found


def _bump(level: int, by: int) -> int:
    return max(0, min(len(PRIORITIES) - 1, level + by))


def priority_suggest(text: str, *, sentiment_score: float, customer_tier: str = "") -> RuleSuggestion:
    """Normal unless cue phrases, an upset customer or an enterprise account say otherwise; each reason is listed."""
    level, reasons = PRIORITIES.index("normal"), []
    low = _first_matches(LOW_CUES, text)
    calm = LOW_CUES.sub(" ", text)  # "not urgent" must not count as "urgent"
    urgent, high = _first_matches(URGENT_CUES, calm), _first_matches(HIGH_CUES, calm)
    if urgent:
        level = PRIORITIES.index("urgent")
        reasons.append(f"Mentions {', '.join(urgent)}: a service-wide or security impact.")
    elif high:
        level = PRIORITIES.index("high")
        reasons.append(f"Says {', '.join(high)}.")
    elif low:
        level = PRIORITIES.index("low")
        reasons.append(f"Says {', '.join(low)}.")
    if sentiment_score <= UPSET and not urgent:
        level = _bump(level, 1)
        reasons.append(f"The customer sounds upset (sentiment {sentiment_score:+.2f}).")
    if customer_tier == "enterprise" and PRIORITIES[level] in ("low", "normal") and not low:
        level = _bump(level, 1)
        reasons.append("Enterprise customer.")
    confidence = min(0.95, 0.5 + 0.15 * len(reasons))
    if not reasons:
        reasons.append("No urgency cues and a calm tone: normal priority.")
    return RuleSuggestion(PRIORITIES[level], round(confidence, 2), tuple(reasons))


TYPE_CUES = {"question": QUESTION_CUES, "incident": INCIDENT_CUES, "problem": PROBLEM_CUES, "task": TASK_CUES}
RULE_WEIGHT = 0.6  # rules are explicit evidence; the zero-shot model fills in when none fire


def type_suggest(text: str, *, zero_shot: dict[str, float], has_failure_report: bool) -> RuleSuggestion:
    """Cue phrases (and a described failure: an "actual" section in the restructured ticket) blended with the
    zero-shot model's scores; the reasons name the phrases and the model's view."""
    evidence: dict[str, list[str]] = {kind: _first_matches(pattern, text) for kind, pattern in TYPE_CUES.items()}
    if "?" in text and not evidence["question"]:
        evidence["question"] = ["a question mark"]
    if has_failure_report and not evidence["incident"]:
        evidence["incident"] = ["a description of what goes wrong"]
    if evidence["problem"] and not (evidence["incident"] or has_failure_report):
        evidence["problem"] = []  # "again" or "everyone" alone is no fault report
    strengths = {kind: min(1.0, 0.5 * len(found)) for kind, found in evidence.items()}
    scores = {
        kind: RULE_WEIGHT * strengths[kind] + (1 - RULE_WEIGHT) * float(zero_shot.get(kind, 0.0)) for kind in TYPES
    }
    total = sum(scores.values()) or 1.0
    scores = {kind: round(score / total, 4) for kind, score in scores.items()}
    best = max(TYPES, key=lambda kind: scores[kind])
    reasons = [f"Contains {', '.join(evidence[best])}."] if evidence[best] else []
    if zero_shot:
        model_pick = max(zero_shot, key=zero_shot.get)
        reasons.append(f"The language model finds it closest to “{model_pick}” ({zero_shot[model_pick]:.0%}).")
    return RuleSuggestion(best, round(scores[best], 2), tuple(reasons), scores)


# --- What the ticket leaves open ---------------------------------------------------------------------------

QUESTION_TEXTS = {
    "steps": "What exactly did you do before this happened (which page or button, in which order)?",
    "expected": "What did you expect to happen?",
    "actual": "What happens instead? Please copy the exact error message if there is one.",
    "environment": "Which device, operating system and browser (or app version) are you using?",
    "account": "Which account, order or invoice number is this about?",
    "screenshots": "Could you attach a screenshot or a short screen recording that shows it?",
}
FAILURE_TYPES = ("incident", "problem")


def missing_information(
    *, sections: dict[str, str], ticket_type: str, text: str, has_attachments: bool
) -> list[dict[str, str]]:
    """Clarifying questions for what a good report of this kind would state and this one does not.

    The sections come from the "ticket" rewrite (ai.facade.rewrite), which leaves a section empty when the
    text says nothing about it: those gaps are what to ask for. A question about how to do something needs no
    reproduction steps; a fault report does.
    """
    keys: list[str] = []
    if ticket_type in FAILURE_TYPES:
        keys += [key for key in ("steps", "expected", "actual", "environment") if not (sections.get(key) or "").strip()]
        if not has_attachments and not EXPLICIT_SCREENSHOT.search(text):
            keys.append("screenshots")
    if ACCOUNT_TOPICS.search(text) and not REFERENCE_NUMBER.search(text):
        keys.append("account")
    return [{"key": key, "text": QUESTION_TEXTS[key]} for key in keys]


# --- Next actions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What next_actions needs to know about the ticket and its analysis, as plain values."""

    assigned: bool
    responded: bool
    current_category: str
    suggested_category: str
    sentiment: str
    sla_level: str
    questions: int
    kb_titles: tuple[str, ...]
    similar_ids: tuple[int, ...]
    auto_response_ok: bool


def next_actions(facts: TicketFacts) -> list[dict[str, str]]:
    actions: list[dict[str, str]] = []

    def add(key: str, text: str) -> None:
        actions.append({"key": key, "text": text})

    if facts.sla_level in ("high", "breached"):
        add("prioritise", "Work on this one first: the SLA is at risk.")
    if not facts.assigned:
        add("assign", "Assign the ticket to an agent or a team.")
    if facts.sentiment == "negative":
        add("acknowledge", "Acknowledge the customer's frustration in the first line of the reply.")
    if facts.suggested_category and facts.suggested_category != facts.current_category:
        add("categorise", f"Set the category to “{facts.suggested_category}”.")
    if facts.kb_titles:
        add("send_article", f"Answer with the article “{facts.kb_titles[0]}”.")
    if facts.similar_ids:
        add("reuse_solution", f"Reuse the solution of the similar solved ticket #{facts.similar_ids[0]}.")
    if facts.questions:
        add("ask", f"Ask the {facts.questions} clarifying question{'s' if facts.questions > 1 else ''} below.")
    if facts.auto_response_ok:
        add("draft", "Draft a reply from the knowledge base: it matches closely enough to answer on its own.")
    if not facts.responded and not any(a["key"] in ("ask", "send_article", "reuse_solution") for a in actions):
        add("first_response", "Send a first response to confirm the request was received.")
    return actions
