"""A transparent, rule-based moderation scorer: a safety net, not a classifier.

Each category has a short list of weighted regular expressions written for customer-service text. A category's
score is the "noisy or" of the weights that match (1 - Π(1 - w)), so one strong signal or several weak ones add
up, and a text is flagged when any category reaches FLAG_THRESHOLD (0.5). Weights below 0.5 are signals that
never flag on their own (a frustrated "this is shit" is not abuse of a person; "you idiot" is).

It will miss paraphrases, irony and most non-English abuse, and it is deliberately conservative about ordinary
support language ("kill the process", "the app died", "this bug is killing me" do not match). Use a vendor
moderation model where one is configured; this is what still works offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FLAG_THRESHOLD = 0.5
CATEGORIES = ("abuse", "threat", "self-harm", "sexual", "spam")

_YOU = r"(?:you|u|ya|your\s+(?:team|staff|company|support|agents?|people))"
_INSULT = (
    r"(?:idiots?|morons?|imbeciles?|stupid|dumb|retard(?:ed|s)?|incompetent|useless|pathetic|clowns?|"
    r"losers?|scum|trash|garbage|worthless|brain-?dead|bastards?|bitch(?:es)?|assholes?|dickheads?|jerks?|"
    r"fools?|cunts?|wankers?|pricks?)"
)
_PROFANITY = r"(?:f+u+c+k+\w*|f\*+k\w*|sh[i1]t+\w*|crap|damn(?:ed)?|bullshit|wtf|stfu|piss(?:ed)?)"

_RULES: dict[str, list[tuple[str, float]]] = {
    "abuse": [
        (rf"\b{_YOU}(?:\s+are|\s+r|'re|’re)\s+(?:(?:all|so|such|a|an|bunch\s+of|the\s+most)\s+)*{_INSULT}\b", 0.85),
        (rf"\b(?:stupid|dumb|useless|incompetent|pathetic|fucking)\s+{_INSULT}\b", 0.8),
        (rf"\b(?:you|u)\s+(?:(?:fucking|stupid|bloody|absolute|bunch\s+of|pack\s+of)\s+)*{_INSULT}\b", 0.8),
        (r"\b(?:f+u+c+k+|screw|damn)\s+(?:you|u|off|yourselves?|your\s+\w+)\b", 0.85),
        (r"\b(?:shut\s+up|go\s+to\s+hell|piss\s+off|get\s+lost)\b", 0.6),
        (rf"\b{_INSULT}\b", 0.3),
        (rf"\b{_PROFANITY}\b", 0.2),
    ],
    "threat": [
        (
            r"\b(?:i|we)\s*(?:'ll|’ll|\s+will|\s+am\s+going\s+to|\s+are\s+going\s+to|\s+gonna|\s+shall)\s+"
            r"(?:kill|hurt|murder|shoot|stab|beat\s+up|find|destroy|burn\s+down|come\s+(?:for|after))\s+"
            r"(?:you|u|your\s+\w+|all\s+of\s+you|everyone)\b",
            0.9,
        ),
        (r"\b(?:you(?:'ll|’ll|\s+will)|you\s+are\s+going\s+to)\s+(?:regret|pay\s+for|be\s+sorry|die)\b", 0.6),
        (r"\b(?:i\s+know\s+where\s+you\s+live|watch\s+your\s+back|you(?:'re|\s+are)\s+dead)\b", 0.85),
        (r"\b(?:bomb|shoot\s+up|gun\s+down|blow\s+up)\s+(?:your|the)\s+(?:office|building|store|shop|place)\b", 0.95),
    ],
    "self-harm": [
        (r"\b(?:kill|hurt|harm|cut)\s+my\s*self\b", 0.9),
        (r"\b(?:end|take)\s+my\s+(?:own\s+)?life\b", 0.9),
        (r"\b(?:suicid(?:e|al)|self[-\s]?harm)\b", 0.75),
        (r"\b(?:i\s+)?(?:want|wanna)\s+to\s+die\b", 0.7),
        (r"\bno\s+reason\s+to\s+(?:live|go\s+on)\b", 0.7),
    ],
    "sexual": [
        (r"\b(?:porn\w*|xxx|nudes?|naked\s+(?:pics?|photos?)|sex\s*(?:chat|cam|tape)s?|onlyfans|escorts?)\b", 0.7),
        (r"\b(?:blow\s*job|hand\s*job|dick\s+pics?|horny|orgasm\w*|masturbat\w*)\b", 0.7),
        (r"\b(?:sexy|sexual(?:ly)?|boobs?|tits?|penis|vagina)\b", 0.35),
    ],
    "spam": [
        (r"\b(?:click\s+(?:here|this\s+link)|buy\s+now|limited\s+(?:time\s+)?offer|act\s+now|100%\s+free)\b", 0.4),
        (r"\b(?:earn|make)\s+\$?\d[\d,.]*\s*(?:k|usd|dollars|€|euros?)?\s+(?:a|per)\s+(?:day|week|month)\b", 0.6),
        (r"\b(?:crypto(?:currency)?|bitcoin|forex|casino|viagra|cialis|seo\s+services|backlinks?)\b", 0.35),
        (r"\b(?:you\s+(?:have\s+)?won|congratulations\s+winner|claim\s+your\s+(?:prize|reward))\b", 0.55),
        (r"\b(?:work\s+from\s+home|double\s+your\s+(?:money|income)|risk[-\s]free\s+investment)\b", 0.4),
    ],
}
_COMPILED = {
    category: [(re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in rules]
    for category, rules in _RULES.items()
}
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)


def _noisy_or(weights: Iterable[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return round(1.0 - remaining, 4)


def _spam_layout_signals(text: str) -> list[float]:
    """Many links or shouting are spam signals, each too weak to flag alone."""
    signals = []
    links = len(_URL.findall(text))
    if links >= 3:
        signals.append(min(0.2 * links, 0.6))
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 40 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        signals.append(0.3)
    if re.search(r"(.)\1{9,}", text):
        signals.append(0.2)
    return signals


def moderate_text(text: str) -> tuple[bool, dict[str, float]]:
    """(flagged, {category: score 0..1}); flagged when any score ≥ FLAG_THRESHOLD."""
    text = text or ""
    scores = {}
    for category, rules in _COMPILED.items():
        weights = [weight for pattern, weight in rules if pattern.search(text)]
        if category == "spam":
            weights += _spam_layout_signals(text)
        scores[category] = _noisy_or(weights)
    return any(score >= FLAG_THRESHOLD for score in scores.values()), scores
