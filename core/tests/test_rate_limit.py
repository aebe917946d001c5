"""The fixed-window counter public endpoints share: it counts, refuses past the limit, and fails open."""

from __future__ import annotations

import uuid

from core import rate_limit


def test_tries_past_the_limit_are_refused_until_the_window_ends():
    key = f"test:limit:{uuid.uuid4().hex}"

    answers = [rate_limit.over_limit(key, 2, 60) for _ in range(4)]

    assert answers == [False, False, True, True]


class DownCache:
    def add(self, *args, **kwargs):
        raise ConnectionError("cache down")


def test_a_cache_outage_allows_the_try(monkeypatch):
    monkeypatch.setattr(rate_limit, "cache", DownCache())

    assert rate_limit.over_limit(f"test:limit:{uuid.uuid4().hex}", 0, 60) is False
