"""Language identification with lingua, restricted to the languages Switchboard supports.

Restricting the candidates makes lingua faster and more accurate (it never answers "Latin" for a short English
line). Low-accuracy mode (trigram models only) is used on purpose: the high-accuracy models add about 350 MB to
every worker process against 32 MB here, and on ticket-length text (a sentence or more) both agree; on a few
words either can be wrong, which is why a low confidence comes back as "unknown" rather than as a guess.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# ISO 639-1 code -> (lingua language, English name). Norwegian is detected as Bokmål, by far the written majority.
SUPPORTED: dict[str, tuple[Language, str]] = {
    "en": (Language.ENGLISH, "English"),
    "de": (Language.GERMAN, "German"),
    "fr": (Language.FRENCH, "French"),
    "es": (Language.SPANISH, "Spanish"),
    "it": (Language.ITALIAN, "Italian"),
    "nl": (Language.DUTCH, "Dutch"),
    "pt": (Language.PORTUGUESE, "Portuguese"),
    "sv": (Language.SWEDISH, "Swedish"),
    "da": (Language.DANISH, "Danish"),
    "no": (Language.BOKMAL, "Norwegian"),
    "fi": (Language.FINNISH, "Finnish"),
    "pl": (Language.POLISH, "Polish"),
}
_BY_LINGUA = {language: (code, name) for code, (language, name) in SUPPORTED.items()}
UNKNOWN = ("", "Unknown")
# Below this share of lingua's confidence, or with fewer letters than this, the answer is "unknown".
MIN_CONFIDENCE = 0.3
MIN_LETTERS = 3


@cache
def detector() -> LanguageDetector:
    """Built once per process (about 0.1 s, 32 MB)."""
    languages = [language for language, _ in SUPPORTED.values()]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str) -> tuple[str, str, float]:
    """(ISO 639-1 code, English name, confidence 0..1); ("", "Unknown", c) when too short or ambiguous."""
    if sum(ch.isalpha() for ch in text or "") < MIN_LETTERS:
        return (*UNKNOWN, 0.0)
    values = detector().compute_language_confidence_values(text)
    if not values:
        return (*UNKNOWN, 0.0)
    best = values[0]
    confidence = round(float(best.value), 4)
    if confidence < MIN_CONFIDENCE:
        return (*UNKNOWN, confidence)
    code, name = _BY_LINGUA[best.language]
    return code, name, confidence
