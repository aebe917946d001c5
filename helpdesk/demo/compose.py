"""Demo ticket texts: subject and description from a category's problem statements, and the thread's messages.

Slots are filled once per ticket (the subject and the description name the same order number), then some noise
real inboxes have is added: a greeting, context, details, urgency, a sign-off, a typo, lower-case typing.
"""

from __future__ import annotations

import random
import re

from . import text

SLOT = re.compile(r"\{(\w+)\}")


class Composer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[tuple[str, str]] = set()

    def ticket(self, category: str, first_name: str) -> tuple[str, str, bool]:
        """(subject, description, reads upset) — never the same pair twice."""
        for _ in range(50):
            subject, body = self._ticket(category, first_name)
            if (subject, body) not in self.used:
                self.used.add((subject, body))
                return subject, body, _upset(body)
        # 50 collisions in a row only happen with tiny vocabularies; a reference number keeps texts unique.
        subject = f"{subject} (ref {len(self.used) + 1})"
        self.used.add((subject, body))
        return subject, body, _upset(body)

    def _ticket(self, category: str, first_name: str) -> tuple[str, str]:
        rng = self.rng
        slots: dict[str, str] = {"first": first_name}
        subjects, core = rng.choice(text.PROBLEMS[category])
        subject = _fill(rng.choice(subjects), slots, rng)
        sentences = [_fill(core, slots, rng)]
        if rng.random() < 0.35:
            sentences.insert(0, _fill(rng.choice(text.CONTEXT), slots, rng))
        details = rng.sample(text.DETAILS[category], k=2)
        if rng.random() < 0.75:
            sentences.append(_fill(details[0], slots, rng))
        if rng.random() < 0.35:
            sentences.append(_fill(details[1], slots, rng))
        if rng.random() < 0.3:
            sentences.append(rng.choice(text.URGENCY))
        body = self._noisy(" ".join(sentences))
        parts = [rng.choice(text.GREETINGS)] if rng.random() < 0.5 else []
        parts.append(body)
        if rng.random() < 0.5:
            parts.append(_fill(rng.choice(text.CLOSINGS), slots, rng))
        return self._noisy_subject(subject), "\n".join(parts)

    def _noisy(self, body: str) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            body = _typo(body, rng)
        if rng.random() < 0.1:
            body = body.lower()
        if rng.random() < 0.1:
            body = body.rstrip(".!")
        return body

    def _noisy_subject(self, subject: str) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            return subject.lower()
        if roll < 0.12:
            return f"Re: {subject}"
        if roll < 0.14:
            return f"Fwd: {subject}"
        return subject[0].upper() + subject[1:]

    # --- The thread --------------------------------------------------------------------------------------

    def agent_reply(self, kind: str, category: str, *, first: str, agent: str) -> str:
        rng = self.rng
        pools = {
            "first": text.FIRST_REPLIES[category],
            "follow_up": text.FOLLOW_UPS,
            "pending": text.PENDING_QUESTIONS,
            "resolution": text.RESOLUTIONS[category],
        }
        slots = {"first": first, "agent": agent}
        greeting = _fill(rng.choice(text.FIRST_GREETINGS if kind == "first" else text.AGENT_GREETINGS), slots, rng)
        signoff = _fill(rng.choice(text.AGENT_SIGNOFFS), slots, rng)
        return f"{greeting}\n\n{rng.choice(pools[kind])}\n\n{signoff}"

    def customer_reply(self, *, first: str, nudge: bool = False) -> str:
        rng = self.rng
        line = rng.choice(text.UNANSWERED_NUDGES if nudge else text.CUSTOMER_FOLLOW_UPS)
        if rng.random() < 0.4:
            line = f"{line}\n{_fill(rng.choice(text.CLOSINGS), {'first': first}, rng)}"
        return line

    def note(self, category: str, *, colleague: str) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return f"@{colleague} could you have a look at this one? Customer is waiting."
        return rng.choice(text.NOTES[category])

    def csat_comment(self, rating: int) -> str:
        return self.rng.choice(text.CSAT_COMMENTS[rating])


def _fill(template: str, slots: dict[str, str], rng: random.Random) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in slots:
            slots[name] = rng.choice(text.SLOTS[name])
        return slots[name]

    return SLOT.sub(value, template)


def _typo(sentence: str, rng: random.Random) -> str:
    """Swaps two letters of one longer word, as fast typing does."""
    words = sentence.split(" ")
    candidates = [index for index, word in enumerate(words) if len(word) > 5 and word.isalpha()]
    if not candidates:
        return sentence
    index = rng.choice(candidates)
    word = words[index]
    position = rng.randrange(1, len(word) - 2)
    words[index] = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    return " ".join(words)


def _upset(body: str) -> bool:
    lowered = body.lower()
    return any(marker in lowered for marker in text.NEGATIVE_MARKERS)
