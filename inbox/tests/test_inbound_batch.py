"""A poll's chunk of mail stored in one transaction and filed by one task: each message once, one bad message
failing alone, a worker dying mid-batch losing and doubling nothing; and what filing one email costs in SQL."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Ticket
from inbox.models import InboundEmail, OutboundEmail
from inbox.services import pipeline
from inbox.services.inbound import Fetched, inbound_process, inbound_process_many, inbound_receive_many
from inbox.tests.factories import InboundEmailFactory, MailboxFactory, raw_email

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mailbox():
    return MailboxFactory(address="support@workspace.test")


def fetched(*numbers: int, **values) -> list[Fetched]:
    return [Fetched(raw_email(message_id=f"<batch-{n}@c.test>", subject=f"Question {n}", **values)) for n in numbers]


def test_a_chunk_is_stored_once_per_message_id_and_filed_by_one_task(django_capture_on_commit_callbacks, mailbox):
    with django_capture_on_commit_callbacks(execute=True):
        inbound_receive_many(fetched(1), source="imap", mailbox=mailbox)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = inbound_receive_many(fetched(1, 2, 3, 3), source="imap", mailbox=mailbox)

    assert [created for _inbound, created in stored] == [False, True, True, False]
    assert stored[2][0].pk == stored[3][0].pk  # the same message twice in one chunk: stored once
    assert InboundEmail.objects.count() == 3 and Ticket.objects.count() == 3
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {InboundEmail.Status.IMPORTED}
    assert sum("inbound_process_batch_task" in getattr(c, "__qualname__", "") for c in callbacks) <= 1


def test_one_message_that_cannot_be_filed_fails_alone(monkeypatch, mailbox):
    stored = inbound_receive_many(fetched(1, 2, 3), source="imap", mailbox=mailbox)
    opened = pipeline.helpdesk.ticket_open

    def open_or_fail(**values):
        if values["subject"] == "Question 2":
            opened(**values)
            raise ValueError("disk full")
        return opened(**values)

    monkeypatch.setattr(pipeline.helpdesk, "ticket_open", open_or_fail)

    records = inbound_process_many([inbound.pk for inbound, _created in stored])

    assert [record.status for record in records] == ["imported", "failed", "imported"]
    assert "disk full" in records[1].reason and records[1].ticket_id is None
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Question 1", "Question 3"]


class WorkerKilled(BaseException):
    """Stands for the worker dying: nothing in the pipeline may catch it."""


def test_a_worker_killed_mid_batch_commits_none_of_it_and_the_retry_files_each_once(monkeypatch, mailbox):
    ids = [inbound.pk for inbound, _created in inbound_receive_many(fetched(1, 2, 3), source="imap", mailbox=mailbox)]
    filing = pipeline.inbound_file

    def dies_on_the_second(inbound):
        if inbound.subject == "" and b"Question 2" in inbound.raw.open("rb").read():
            raise WorkerKilled
        filing(inbound)

    monkeypatch.setattr(pipeline, "inbound_file", dies_on_the_second)
    with pytest.raises(WorkerKilled):
        inbound_process_many(ids)

    assert Ticket.objects.count() == 0  # the first message's ticket went with the batch's transaction
    assert set(InboundEmail.objects.values_list("status", "attempts")) == {("received", 1)}

    monkeypatch.setattr(pipeline, "inbound_file", filing)
    records = inbound_process_many(ids)  # tried before: one message per transaction now

    assert [(record.status, record.attempts) for record in records] == [("imported", 2)] * 3
    assert Ticket.objects.count() == 3


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


def test_filing_a_new_ticket_email_and_a_reply_costs_a_known_number_of_statements(
    django_capture_on_commit_callbacks,
):
    """Counted so the savings cannot silently regress: a stored message's processing up to its commit, savepoints
    included (the after-commit work, the live pushes and the tasks, is not in it), once the workspace has filed
    mail before (its configuration read and kept, as in a running worker)."""
    for earlier in range(2):  # the first creates the workspace's settings and calendar, which renews the copies
        with django_capture_on_commit_callbacks(execute=True):
            inbound_process(InboundEmailFactory(message_id=f"<earlier-{earlier}@c.test>", mailbox=None).pk)
    first = InboundEmailFactory(message_id="<first@c.test>", mailbox=None)
    with CaptureQueriesContext(connection) as new_ticket, django_capture_on_commit_callbacks():
        inbound_process(first.pk)
    answer = raw_email(message_id="<answer@c.test>").replace(b"Date:", b"In-Reply-To: <first@c.test>\r\nDate:")
    reply = InboundEmailFactory(message_id="<answer@c.test>", raw=ContentFile(answer, name="a.eml"), mailbox=None)
    with CaptureQueriesContext(connection) as on_the_ticket, django_capture_on_commit_callbacks():
        inbound_process(reply.pk)

    first.refresh_from_db()
    reply.refresh_from_db()
    assert first.created_ticket and reply.ticket_id == first.ticket_id and not reply.created_ticket
    assert OutboundEmail.objects.filter(ticket_id=first.ticket_id, kind="acknowledgement").count() == 1
    # The new ticket's count includes its acknowledgement (queued with it); before, that took a transaction and four
    # lookups of its own after the commit (bench/README.md has the per-message figures before and after).
    assert len(statements(new_ticket)) == 18, "\n".join(statements(new_ticket))
    assert len(statements(on_the_ticket)) == 22, "\n".join(statements(on_the_ticket))


def test_pushed_mail_arriving_while_a_filing_task_waits_is_filed_by_that_one_task(
    monkeypatch, mailbox, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from inbox.services import inbound

    queued = []
    monkeypatch.setattr(inbound, "enqueue", lambda task: queued.append(task.name))
    cache.delete(inbound.PENDING_FLAG)
    for number in range(4):  # four webhook deliveries, each its own request and commit
        with django_capture_on_commit_callbacks(execute=True):
            inbound.inbound_receive(raw=fetched(number)[0].raw, source="webhook", mailbox=mailbox, coalesce=True)

    assert queued == ["inbox.tasks.inbound.inbound_process_pending_task"]  # one task for the four
    filed = inbound.inbound_process_pending()

    assert [record.status for record in filed] == [InboundEmail.Status.IMPORTED] * 4 and Ticket.objects.count() == 4
    with django_capture_on_commit_callbacks(execute=True):
        inbound.inbound_receive(raw=fetched(9)[0].raw, source="smtp", mailbox=mailbox, coalesce=True)
    assert len(queued) == 2  # the task lowered the flag before reading: the next arrival queues a new one
