"""Celery entry points of the shared kernel: catching up after a Redis outage (run by beat in the public schema)."""

from __future__ import annotations

from celery import shared_task

from . import cache, outbox


@shared_task(bind=True, ignore_result=True)
def outbox_relay_task(self) -> int:
    """Publishes tasks left in the outbox while the broker was away (each in the schema it was queued from)."""
    return outbox.outbox_relay(self.app)


@shared_task(ignore_result=True)
def cache_fallback_drain_task() -> int:
    """Copies cache entries written to the database during a Redis outage back into Redis."""
    return cache.fallback_drain()
