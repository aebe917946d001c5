"""Per-process copies of workspace configuration: reused while the workspace's generation holds, renewed on change."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

from core import workspace_config
from core.workspace_config import GENERATION_KEY, workspace_config_changed, workspace_config_get

pytestmark = pytest.mark.django_db


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_copy_is_reused_while_the_workspace_configuration_is_unchanged():
    load = Loader()
    assert workspace_config_get("thing", load) == 1
    assert workspace_config_get("thing", load) == 1
    assert load.calls == 1


def test_a_change_renews_the_copy_at_once_and_again_at_commit(django_capture_on_commit_callbacks):
    load = Loader()
    workspace_config_get("thing", load)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workspace_config_changed()
    assert workspace_config_get("thing", load) == 2
    # A process that read the rows between the save and the commit keeps nothing after the commit.
    for callback in callbacks:
        callback()
    assert workspace_config_get("thing", load) == 3


def test_another_process_sees_the_change_through_the_shared_generation():
    load = Loader()
    workspace_config_get("thing", load)
    cache.set(GENERATION_KEY, "set-by-another-process", timeout=None)
    assert workspace_config_get("thing", load) == 2


def test_a_flushed_cache_never_brings_back_an_old_copy():
    load = Loader()
    workspace_config_get("thing", load)
    cache.delete(GENERATION_KEY)
    assert workspace_config_get("thing", load) == 2
    assert cache.get(GENERATION_KEY)  # a fresh generation, not the absence of one


def test_copies_expire_for_writes_that_send_no_signal(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(workspace_config, "_clock", lambda: now[0])
    load = Loader()
    workspace_config_get("thing", load)
    now[0] += workspace_config.MAX_AGE_SECONDS - 1
    assert workspace_config_get("thing", load) == 1
    now[0] += 2
    assert workspace_config_get("thing", load) == 2


def test_each_workspace_has_its_own_copy_and_generation(tenant, other_tenant):
    alpha, beta = Loader(), Loader()
    assert workspace_config_get("thing", alpha) == 1
    with schema_context(other_tenant.schema_name):
        connection.set_tenant(other_tenant)
        assert workspace_config_get("thing", beta) == 1
        workspace_config_changed()
        assert workspace_config_get("thing", beta) == 2
    connection.set_tenant(tenant)
    assert workspace_config_get("thing", alpha) == 1  # beta's change left alpha's copy alone
    assert alpha.calls == 1


def test_the_commit_renews_the_workspace_that_changed_even_from_another_schema(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    load = Loader()
    workspace_config_get("thing", load)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workspace_config_changed()
    workspace_config_get("thing", load)
    connection.set_tenant(other_tenant)
    for callback in callbacks:
        callback()
    assert connection.schema_name == other_tenant.schema_name
    connection.set_tenant(tenant)
    assert workspace_config_get("thing", load) == 3


def test_a_pinned_batch_reads_the_generation_once_and_still_sees_its_own_changes(monkeypatch):
    load = Loader()
    reads = []
    read = workspace_config._generation_read
    monkeypatch.setattr(workspace_config, "_generation_read", lambda: reads.append(1) or read())

    with workspace_config.workspace_config_pinned():
        workspace_config_get("thing", load)
        workspace_config_get("thing", load)
        cache.set(GENERATION_KEY, "set-by-another-process", timeout=None)
        assert workspace_config_get("thing", load) == 1  # another process's change waits for the next batch
        workspace_config_changed()  # this thread's own change renews at once
        assert workspace_config_get("thing", load) == 2
    assert len(reads) == 2

    assert workspace_config_get("thing", load) == 2  # unpinned: read again, unchanged since
    assert len(reads) == 3
