"""Notifications tests run in workspace "alpha" with an event type of their own, and a VAPID key in a temporary
file (made once per session: never fetched, never per test)."""

from __future__ import annotations

import pytest

from notifications.contracts import EMAIL, IN_APP, LOW, EventType
from notifications.events import event_type_register

TEST_EVENT = "test.happened"
LOW_EVENT = "test.minor"


@pytest.fixture(autouse=True)
def _test_events() -> None:
    event_type_register(
        EventType(
            TEST_EVENT,
            "Something happened",
            default_channels=(IN_APP, EMAIL),
            sample_context={"thing": {"name": "Printer"}},
            title="{{ thing.name }} happened",
            body="The {{ thing.name }} happened.",
        )
    )
    event_type_register(
        EventType(
            LOW_EVENT,
            "Something minor",
            default_channels=(IN_APP, EMAIL),
            priority=LOW,
            sample_context={"thing": {"name": "Stapler"}},
            title="{{ thing.name }} minor",
        )
    )


@pytest.fixture(scope="session")
def _vapid_file(tmp_path_factory):
    return tmp_path_factory.mktemp("vapid") / "vapid.pem"


@pytest.fixture(autouse=True)
def _vapid_key(settings, _vapid_file) -> None:
    settings.NOTIFICATIONS_VAPID_KEY_FILE = str(_vapid_file)
    from notifications import push

    push.vapid.cache_clear()


@pytest.fixture
def fan_out(django_capture_on_commit_callbacks):
    """Runs `notify(...)` and everything it queued on commit (the eager fan-out and sends), like a worker would."""
    from notifications.facade import notify

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            notify(**kwargs)

    return run
