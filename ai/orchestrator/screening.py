"""Checks of a call's input before anything runs: size and emptiness, and prompt-injection screening."""

from __future__ import annotations

from .. import safety
from ..contracts import AIInputError
from ..operations import Job


class Screenings:
    """Injection screening of a call's inputs, done only when needed (a cache hit reuses the stored verdict)."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._per_input: dict[str, safety.Screening] | None = None
        self._combined: safety.Screening | None = None

    @property
    def per_input(self) -> dict[str, safety.Screening]:
        if self._per_input is None:
            self._per_input = {name: safety.screen(value) for name, value in self._job.inputs.items()}
        return self._per_input

    @property
    def combined(self) -> safety.Screening:
        if self._combined is None:
            texts = safety.screen(*self._job.texts) if self._job.texts else safety.CLEAN
            self._combined = _combined(self.per_input.values(), texts)
        return self._combined

    def stored(self) -> tuple[str, tuple[str, ...]]:
        return self.combined.risk, self.combined.matches

    def restore(self, stored: tuple[str, tuple[str, ...]]) -> None:
        self._combined = safety.Screening(stored[0], tuple(stored[1]))


def check_input(job: Job, max_chars: int) -> None:
    """Empty or oversized input is the caller's to fix: a clear message, and nothing is run or recorded."""
    if job.operation == "embed":
        if not job.texts:
            raise AIInputError("There is no text to embed.")
        for number, text in enumerate(job.texts, start=1):
            if not text.strip():
                raise AIInputError(f"Text number {number} is empty.")
            if len(text) > max_chars:
                raise AIInputError(
                    f"Text number {number} is {len(text):,} characters long; the limit is {max_chars:,}."
                )
        return
    size = sum(len(value) for value in job.inputs.values())
    if not any(value.strip() for value in job.inputs.values()):
        raise AIInputError(
            "The text is empty." if "text" in job.inputs else "There is nothing to work on: every value is empty."
        )
    if size > max_chars:
        raise AIInputError(f"The text is {size:,} characters long; this workspace's limit is {max_chars:,}.")


def _combined(screenings, extra: safety.Screening) -> safety.Screening:
    matches = sorted({name for screening in [*screenings, extra] for name in screening.matches})
    all_screenings = [*screenings, extra]
    if any(screening.high for screening in all_screenings):
        return safety.Screening(safety.HIGH, tuple(matches))
    if any(screening.flagged for screening in all_screenings):
        return safety.Screening(safety.LOW, tuple(matches))
    return safety.CLEAN
