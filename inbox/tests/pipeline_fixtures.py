"""Fixtures of the pipeline tests (imported by the modules that use them)."""

from __future__ import annotations

import pytest

from helpdesk.contracts import outgoing_message
from inbox.services import pipeline


@pytest.fixture(name="outgoing_kinds")
def outgoing_kinds_fixture(monkeypatch):
    """(kind, ticket id) of every message the helpdesk hands over for delivery during the test: after the commit,
    or collected by the pipeline to queue with the ticket it opens (the acknowledgement of an email)."""
    seen: list[tuple[str, int]] = []

    def receiver(sender, *, message, **kwargs):
        seen.append((message.kind, message.ticket_id))

    queue = pipeline.outbound_email_queue_for_new_ticket

    def queue_seen(message, **kwargs):
        receiver(None, message=message)
        return queue(message, **kwargs)

    monkeypatch.setattr(pipeline, "outbound_email_queue_for_new_ticket", queue_seen)
    outgoing_message.connect(receiver, dispatch_uid="pipeline-test-outgoing")
    yield seen
    outgoing_message.disconnect(dispatch_uid="pipeline-test-outgoing")
