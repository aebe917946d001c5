"""Live pushes while the channel layer's Redis hangs: bounded, then skipped, then delivered again once it is back."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core import realtime
from core.breaker import RateLimitedLog, redis_breaker
from core.realtime import notify_on_commit, workspace_group

pytestmark = pytest.mark.django_db


def push(django_capture_on_commit_callbacks, html: str) -> float:
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        notify_on_commit(workspace_group(), html)
    return time.monotonic() - started


def test_a_push_to_a_hung_redis_is_dropped_within_the_timeout_and_later_ones_skip_it(
    redis_outage, settings, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    settings.REDIS_BREAKER_COOLDOWN_SECONDS = 0.2
    monkeypatch.setattr(realtime, "_log", RateLimitedLog(realtime._log.log))  # an earlier test may have said it
    redis_outage.hang()

    with caplog.at_level(logging.WARNING):
        first = push(django_capture_on_commit_callbacks, "<p>first</p>")  # its write has committed: never raises
        second = push(django_capture_on_commit_callbacks, "<p>second</p>")

    assert first < 2.5 and second < 0.5, (first, second)
    assert "live push to t_alpha.workspace dropped (TimeoutError" in caplog.text
    assert "live pushes skipped (e.g. to t_alpha.workspace)" in caplog.text

    redis_outage.end()
    breaker = redis_breaker(redis_outage.server.url)
    deadline = time.monotonic() + 15
    while breaker.is_open:
        assert time.monotonic() < deadline, "the breaker did not close after Redis came back"
        breaker.allows()
        time.sleep(0.05)

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(workspace_group(), channel)
    push(django_capture_on_commit_callbacks, "<p>after</p>")

    async def receive() -> dict:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    message = async_to_sync(receive)()
    async_to_sync(layer.group_discard)(workspace_group(), channel)
    assert message["html"] == "<p>after</p>"
