"""Per-process circuit breakers for the Redis servers behind the cache, the Celery broker and the Channels layer.

A hung Redis (paused, or partitioned away) accepts TCP connections and never answers: every call then waits for
its socket timeout. After ONE such failure the server's breaker opens and callers skip it at once (the cache falls
through to the database, live pushes are dropped, tasks stay in the outbox). After a short cool-down a background
thread pings the server; when it answers, the breaker's recovery hooks run (the cache copies what it wrote to the
database back into Redis) and the breaker closes. No request ever waits for that trial: only the first request after
a failure pays the timeout, once per process.

One breaker per server (host and port), shared by the cache, the broker and the channel layer: a hung server is hung
for all three.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# What "the server cannot be reached" looks like to redis-py, kombu and asyncio (OSError covers refused connections).
REDIS_UNREACHABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)


class CircuitOpen(ConnectionError):
    """Raised instead of calling a server whose breaker is open (a ConnectionError, as a refused connection is)."""


def redis_timeout() -> float:
    """Seconds any call to Redis on a request's path may take before Redis counts as down (settings)."""
    return float(getattr(settings, "REDIS_TIMEOUT_SECONDS", 1.0))


def _cooldown() -> float:
    return float(getattr(settings, "REDIS_BREAKER_COOLDOWN_SECONDS", 5.0))


class RateLimitedLog:
    """Warnings on `log`, at most once per `every` seconds per key: a partition must not flood the logs."""

    def __init__(self, log: logging.Logger, every: float = 60.0) -> None:
        self.log, self.every = log, every
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -self.every) < self.every:
                return False
            self._last[key] = now
        self.log.warning(message, *args)
        return True


@dataclass(eq=False)
class CircuitBreaker:
    """Closed: calls go through. Open: `allows()` says no until a background probe finds the server answering."""

    name: str
    probe: Callable[[], object] | None = None
    _opened_at: float | None = None
    _probing: bool = False
    _last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _recovery_hooks: list[Callable[[], None]] = field(default_factory=list)
    _still_down_log: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(logger))

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allows(self) -> bool:
        """True when calls may go to the server. Costs a lock-free read while closed."""
        if self._opened_at is None:
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            due = time.monotonic() - self._opened_at >= _cooldown()
            if due and not self._probing:
                if self.probe is None:  # nothing to probe with: this caller is the trial
                    self._opened_at = time.monotonic()
                    return True
                self._probing = True
                threading.Thread(target=self._run_probe, name=f"breaker-probe:{self.name}", daemon=True).start()
        return False

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            was_open = self._opened_at is not None
            self._opened_at = time.monotonic()
            self._last_error = f"{type(error).__name__}: {error}"
        if not was_open:
            logger.warning(
                "%s is unreachable (%s): not calling it for %g s; the cache uses the database, live pushes are "
                "skipped and tasks wait in the outbox",
                self.name,
                self._last_error,
                _cooldown(),
            )

    def record_success(self) -> None:
        if self._opened_at is not None:  # a trial call (no probe) went through
            self._close()

    def on_recovery(self, hook: Callable[[], None]) -> None:
        """`hook()` runs (in the probe's thread) each time the server answers again, before calls resume."""
        with self._lock:
            if hook not in self._recovery_hooks:
                self._recovery_hooks.append(hook)

    def reset(self) -> None:
        """Closed, as new (tests)."""
        with self._lock:
            self._opened_at, self._probing, self._last_error = None, False, ""

    def _run_probe(self) -> None:
        try:
            self.probe()
            for hook in list(self._recovery_hooks):
                hook()
        except Exception as error:  # still down (or the hook could not finish): another cool-down
            with self._lock:
                self._opened_at, self._probing = time.monotonic(), False
                self._last_error = f"{type(error).__name__}: {error}"
            self._still_down_log.warning(self.name, "%s is still unreachable (%s)", self.name, self._last_error)
            return
        self._close()
        # Calls that were still skipping the server while the hooks ran wrote their fallback meanwhile: once more,
        # now that nothing new goes there.
        for hook in list(self._recovery_hooks):
            try:
                hook()
            except Exception as error:  # the next failure opens the breaker again; beat's catch-ups finish the job
                logger.warning("catching up after %s came back failed (%s: %s)", self.name, type(error).__name__, error)

    def _close(self) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            down_for = time.monotonic() - self._opened_at
            self._opened_at, self._probing = None, False
        logger.warning("%s answers again (last failure %.0f s ago): using it again", self.name, down_for)


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def redis_server_name(url: str) -> str:
    """`redis://h:6379/3` and `redis://h:6379/0` are one server: a hang takes every database with it."""
    parts = urlsplit(url)
    if parts.scheme == "unix" or not parts.hostname:
        return f"Redis at {parts.path}"
    return f"Redis at {parts.hostname}:{parts.port or 6379}"


def redis_breaker(url: str) -> CircuitBreaker:
    """The process's breaker for the Redis server at `url`, probed with a PING bounded by `redis_timeout()`."""
    name = redis_server_name(url)
    breaker = _breakers.get(name)
    if breaker is None:
        with _registry_lock:
            breaker = _breakers.get(name)
            if breaker is None:
                breaker = _breakers[name] = CircuitBreaker(name=name, probe=lambda: _ping(url))
    return breaker


def _ping(url: str) -> None:
    timeout = redis_timeout()
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def breakers_reset() -> None:
    """Every breaker closed (tests: a fault test must not leave the next test skipping a server)."""
    for breaker in list(_breakers.values()):
        breaker.reset()
