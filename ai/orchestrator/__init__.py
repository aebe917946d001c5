"""Runs one AI request through the workspace's provider chain: the heart of `ai.facade`.

For a feature the chain is its route's providers (or every enabled provider by priority), then `local`. An
external provider is skipped when the workspace forbids external providers or the input looks like a high-risk
prompt injection; otherwise its cached answer is used if there is one (an answer already paid for is served even
when the budget has run out since). Without one, it is skipped when its monthly budget is spent or its circuit
breaker is open, and otherwise called with retries and backoff (ai.resilience): personal data is redacted before
the prompt leaves and restored in what comes back, structured output is validated (one repair prompt, then the
next provider) and generated text is moderated locally. The first usable answer wins; every call leaves one row
in the ledger (AIRun), answered or not.

A provider failure never reaches the caller: the next provider answers, and only when none can does the caller
get one `AIUnavailable` (recorded too). Input the caller must fix raises `AIInputError` before anything runs.
"""

from __future__ import annotations

from .calls import Orchestrator
from .execution import JSON_INSTRUCTION
from .outcomes import BUDGET, CIRCUIT_OPEN, INJECTION, POLICY, Answer, Attempts, Link, Outcome, OutputRejected, Usage
from .screening import Screenings, check_input

__all__ = [
    "BUDGET",
    "CIRCUIT_OPEN",
    "INJECTION",
    "JSON_INSTRUCTION",
    "POLICY",
    "Answer",
    "Attempts",
    "Link",
    "Orchestrator",
    "Outcome",
    "OutputRejected",
    "Screenings",
    "Usage",
    "check_input",
    "default",
]

default = Orchestrator()
