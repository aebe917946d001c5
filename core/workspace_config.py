"""Per-process copies of a workspace's small configuration (helpdesk settings, active SLA policies, the default
business calendar): read on every ticket write, changed a few times a year.

A copy is used while the workspace's configuration generation, one key in the shared cache (scoped to the schema
like every cache key), is the one it was read under: one cache GET instead of a query per kind of row. Saving or
deleting a watched model sets a new generation at once and again when its transaction commits, so no process keeps
a copy read between the two. Copies also expire after MAX_AGE_SECONDS, for writes that send no signal
(`QuerySet.update()`, raw SQL).

Copies are shared by the threads of a process: callers treat them as read-only (an edit form reads the row itself).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django_tenants.utils import schema_context

T = TypeVar("T")

GENERATION_KEY = "workspace-config:generation"
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 8192  # a few kinds of copy per workspace; beyond this many, start afresh

_copies: dict[tuple[str, object, str], tuple[str, float, object]] = {}
_lock = threading.Lock()
_pinned = threading.local()  # {schema: generation} while workspace_config_pinned() is open in the thread
_clock = time.monotonic  # a seam for the tests of expiry


def workspace_config_get(name: str, load: Callable[[], T]) -> T:
    """This workspace's copy of `name`, loaded with `load()` when missing, stale or older than MAX_AGE_SECONDS."""
    generation = _generation()
    if generation is None:  # neither Redis nor its database fallback answered: read it afresh
        return load()
    # The tenant's id too: a workspace deleted and created again under the same schema name starts afresh.
    key = (connection.schema_name, getattr(getattr(connection, "tenant", None), "pk", None), name)
    now = _clock()
    with _lock:
        found = _copies.get(key)
    if found is not None and found[0] == generation and now - found[1] < MAX_AGE_SECONDS:
        return found[2]  # type: ignore[return-value]
    value = load()
    with _lock:
        if len(_copies) >= MAX_ENTRIES:
            _copies.clear()
        _copies[key] = (generation, now, value)
    return value


def workspace_config_changed() -> None:
    """Every process re-reads this workspace's copies: now, and once more when the current transaction commits."""
    schema = connection.schema_name
    _bump()
    transaction.on_commit(lambda: _bump_in(schema), robust=True)


def workspace_config_watch(*models: type[Model]) -> None:
    """Saving or deleting a row of these models marks the workspace's configuration changed."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(_on_change, sender=model, dispatch_uid=f"workspace-config:{model._meta.label}")


def workspace_config_clear() -> None:
    """Drops this process's copies (tests: a rolled-back transaction sends no signal that would)."""
    with _lock:
        _copies.clear()


def _on_change(**_kwargs: object) -> None:
    workspace_config_changed()


@contextmanager
def workspace_config_pinned() -> Iterator[None]:
    """Within, this thread reads the workspace's generation once (not once per use): for a batch that reads the
    configuration many times in one go (the inbox filing a poll's mail). A change this thread makes still renews
    the copies at once; one made by another process meanwhile is seen by the next batch."""
    outer = getattr(_pinned, "generations", None)
    _pinned.generations = {}
    try:
        yield
    finally:
        _pinned.generations = outer


def _generation() -> str | None:
    pinned = getattr(_pinned, "generations", None)
    if pinned is None:
        return _generation_read()
    schema = connection.schema_name
    if schema not in pinned:
        pinned[schema] = _generation_read()
    return pinned[schema]


def _generation_read() -> str | None:
    generation = cache.get(GENERATION_KEY)
    if generation is None:  # never set, evicted or flushed: a new one, so no copy from before can match it
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def _bump() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    pinned = getattr(_pinned, "generations", None)
    if pinned is not None:
        pinned.pop(connection.schema_name, None)


def _bump_in(schema: str) -> None:
    if connection.schema_name == schema:
        _bump()
        return
    with schema_context(schema):  # the commit came after the code that saved left the workspace's schema
        _bump()
