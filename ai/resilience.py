"""Retry timing and the circuit breaker: how the orchestrator treats a provider that is failing.

Backoff is exponential with full jitter (a random wait between 0 and base·2^attempt, capped), except when the
provider said how long to wait (`Retry-After`): then exactly that. Waits are bounded in total; a provider that
asks for more than what is left is given up on at once (the next provider answers instead of the caller waiting).

The breaker is per workspace (the cache key is schema-prefixed) and per provider configuration: after
`threshold` consecutive failed calls it opens and the provider is skipped; after `cooldown` seconds one caller
is let through as a probe (half-open): success closes the breaker, failure opens it for another cool-down.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import kv


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3  # per provider, per call
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total_wait: float = 10.0  # seconds of sleeping per provider, per call
    # A timed-out call already made the caller wait the full timeout: one more try, then the next provider.
    max_timeouts: int = 2


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random, retry_after: float | None) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    return rng.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))


CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass
class CircuitBreaker:
    threshold: int = 3
    cooldown: float = 60.0
    clock: Callable[[], float] = time.time

    @staticmethod
    def _key(name: str) -> str:
        return f"ai:breaker:{name}"

    def state(self, name: str) -> str:
        entry = kv.get(self._key(name)) or {}
        opened_at = entry.get("opened_at")
        if opened_at is None:
            return CLOSED
        return HALF_OPEN if self.clock() - opened_at >= self.cooldown else OPEN

    def allow(self, name: str) -> bool:
        """Closed: yes. Open: no. Cooled down: yes for exactly one caller (the probe) per cool-down."""
        entry = kv.get(self._key(name)) or {}
        opened_at = entry.get("opened_at")
        if opened_at is None:
            return True
        if self.clock() - opened_at < self.cooldown:
            return False
        return kv.add(f"{self._key(name)}:probe:{opened_at}", True, timeout=int(self.cooldown) + 60) is not False

    def record_success(self, name: str) -> None:
        if kv.get(self._key(name)) is not None:
            kv.delete(self._key(name))

    def record_failure(self, name: str) -> None:
        entry = kv.get(self._key(name)) or {}
        failures = entry.get("failures", 0) + 1
        opened_at = entry.get("opened_at")
        if failures >= self.threshold or opened_at is not None:
            opened_at = self.clock()  # a failed probe opens it again for a full cool-down
        timeout = max(int(self.cooldown) * 10, 3600)
        kv.set(self._key(name), {"failures": failures, "opened_at": opened_at}, timeout=timeout)
