"""Fixtures of the pipeline tests (imported by the modules that use them)."""

from __future__ import annotations

import pytest

from helpdesk.contracts import outgoing_message


@pytest.fixture(name="outgoing_kinds")
def outgoing_kinds_fixture():
    """(kind, ticket id) of every message the helpdesk hands over for delivery during the test."""
    seen: list[tuple[str, int]] = []

    def receiver(sender, *, message, **kwargs):
        seen.append((message.kind, message.ticket_id))

    outgoing_message.connect(receiver, dispatch_uid="pipeline-test-outgoing")
    yield seen
    outgoing_message.disconnect(dispatch_uid="pipeline-test-outgoing")
