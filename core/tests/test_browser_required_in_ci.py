"""Under CI=true a missing chromium fails the run: a skipped browser suite would otherwise pass unnoticed.

The collection hook (core.testing.fixtures.pytest_collection_modifyitems) is called here in-process with browser
tests of its own making: a pytest run in a subprocess cost a Django start-up per case for the same check.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from core.testing import fixtures

MISSING = Path("/nonexistent/chromium")


class _Item:
    """What the hook reads of a collected test: its fixtures, its marks, and marks added to it."""

    def __init__(self, *fixturenames: str) -> None:
        self.fixturenames = fixturenames
        self.added: list[pytest.MarkDecorator] = []

    def get_closest_marker(self, name: str):
        return next((mark for mark in self.added if mark.name == name), None)

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.added.append(mark)


def _collect(monkeypatch, *, ci: str) -> list[_Item]:
    monkeypatch.setattr(fixtures, "CHROMIUM", MISSING)
    monkeypatch.setenv("CI", ci)
    items = [_Item("browser", "live_stack"), _Item("db")]
    fixtures.pytest_collection_modifyitems(SimpleNamespace(option=SimpleNamespace(loadgroup=False)), items)
    return items


def test_the_hook_is_loaded_for_every_run(request):
    assert request.config.pluginmanager.get_plugin("core.testing.fixtures") is not None


def test_a_missing_browser_fails_the_run_under_ci(monkeypatch):
    with pytest.raises(pytest.UsageError, match="CI=true and chromium is missing"):
        _collect(monkeypatch, ci="true")


def test_a_missing_browser_only_skips_outside_ci(monkeypatch):
    browser_test, plain_test = _collect(monkeypatch, ci="")

    assert [mark.mark.name for mark in browser_test.added] == ["django_db", "skip"]
    assert "apt-get install chromium" in browser_test.added[-1].mark.kwargs["reason"]
    assert plain_test.added == []
