"""IMAP mailboxes polled against a real server (dovecot): new mail becomes stored messages and tickets, then is
marked or moved; a crash mid-batch loses and doubles nothing; a failing mailbox says why and blocks no other."""

from __future__ import annotations

import threading
import tracemalloc

import pytest
from django.db import connection, connections

from helpdesk.models import Ticket
from inbox.models import InboundEmail, Mailbox
from inbox.services import mailboxes
from inbox.services.inbound import inbound_receive_many
from inbox.tasks.mailboxes import mailbox_poll_task, mailboxes_poll_fanout_task, mailboxes_poll_task
from inbox.tests.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db


def imap_mailbox(account, *, secrets: dict | None = None, **overrides) -> Mailbox:
    settings = {
        "host": "127.0.0.1",
        "port": account.server.port,
        "security": "ssl",
        "username": account.username,
        "folder": "INBOX",
        "after_import": "seen",
    }
    mailbox = MailboxFactory(settings=settings | overrides)
    mailbox.secrets_set(secrets if secrets is not None else {"password": account.password})
    mailbox.save()
    return mailbox


def message_id(account, n: int) -> str:
    return f"<imap-{account.username}-{n}@customer.test>"


def deliver(account, count: int, *, start: int = 0, folder: str = "INBOX") -> None:
    for n in range(start, start + count):
        account.deliver(raw_email(message_id=message_id(account, n), subject=f"Help {n}"), folder)


def test_new_mail_becomes_stored_messages_and_tickets_and_is_marked_read(
    imap_account, django_capture_on_commit_callbacks
):
    deliver(imap_account, 3)
    mailbox = imap_mailbox(imap_account)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = mailbox_poll_task(mailbox.pk)

    assert outcome["imported"] == 3 and not outcome["error"]
    stored = InboundEmail.objects.filter(mailbox=mailbox).order_by("source_ref")
    assert [record.status for record in stored] == [InboundEmail.Status.IMPORTED] * 3
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Help 0", "Help 1", "Help 2"]
    assert all("\\Seen" in flags for flags in imap_account.flags())
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.CONNECTED and mailbox.last_error == "" and mailbox.last_checked_at
    assert mailbox.cursor["last_uid"] == 3


def test_a_second_poll_imports_only_what_is_new(imap_account):
    deliver(imap_account, 2)
    mailbox = imap_mailbox(imap_account)
    mailbox_poll_task(mailbox.pk)

    again = mailbox_poll_task(mailbox.pk)
    deliver(imap_account, 1, start=2)
    later = mailbox_poll_task(mailbox.pk)

    assert (again["imported"], later["imported"]) == (0, 1)
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 3


def test_imported_mail_can_be_moved_to_another_folder(imap_account):
    imap_account.create_folder("Imported")
    deliver(imap_account, 2)
    mailbox = imap_mailbox(imap_account, after_import="move", move_to="Imported")

    mailbox_poll_task(mailbox.pk)

    assert imap_account.count("INBOX") == 0 and imap_account.count("Imported") == 2
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 2


def test_imported_mail_can_be_left_unread(imap_account):
    deliver(imap_account, 2)
    mailbox = imap_mailbox(imap_account, after_import="leave")

    mailbox_poll_task(mailbox.pk)

    assert imap_account.flags() == [set(), set()]
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 2


def test_another_folder_can_be_polled(imap_account):
    imap_account.create_folder("Support")
    deliver(imap_account, 1)
    deliver(imap_account, 2, start=1, folder="Support")
    mailbox = imap_mailbox(imap_account, folder="Support")

    mailbox_poll_task(mailbox.pk)

    assert set(InboundEmail.objects.values_list("message_id", flat=True)) == {
        message_id(imap_account, 1),
        message_id(imap_account, 2),
    }


class WorkerKilled(BaseException):
    """Stands for the worker dying: nothing in the poller may catch it."""


@pytest.mark.parametrize("when", ["before storing", "after storing"])
def test_a_crash_mid_batch_loses_and_doubles_nothing(imap_account, monkeypatch, when):
    deliver(imap_account, 5)
    mailbox = imap_mailbox(imap_account)
    monkeypatch.setattr(mailboxes, "RECEIVE_CHUNK", 2)  # chunks of two: 0-1, 2-3, 4
    calls = []

    def dying_receive(fetched, **kwargs):
        calls.append(len(fetched))
        if len(calls) == 2 and when == "before storing":
            raise WorkerKilled
        result = inbound_receive_many(fetched, **kwargs)
        if len(calls) == 2:
            raise WorkerKilled  # stored, but the server was not told and the cursor did not move
        return result

    monkeypatch.setattr(mailboxes, "inbound_receive_many", dying_receive)
    with pytest.raises(WorkerKilled):
        mailbox_poll_task(mailbox.pk)
    stored_at_crash = InboundEmail.objects.filter(mailbox=mailbox).count()
    seen_at_crash = sum("\\Seen" in flags for flags in imap_account.flags())
    monkeypatch.setattr(mailboxes, "inbound_receive_many", inbound_receive_many)

    outcome = mailbox_poll_task(mailbox.pk)

    assert (stored_at_crash, seen_at_crash) == (4 if when == "after storing" else 2, 2)
    ids = sorted(InboundEmail.objects.filter(mailbox=mailbox).values_list("message_id", flat=True))
    assert ids == sorted(message_id(imap_account, n) for n in range(5))  # every message, once
    assert outcome["imported"] == 5 - stored_at_crash
    assert all("\\Seen" in flags for flags in imap_account.flags())


def test_a_rebuilt_folder_is_scanned_again_without_duplicates(imap_account):
    deliver(imap_account, 2)
    mailbox = imap_mailbox(imap_account)
    mailbox_poll_task(mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(cursor={"uidvalidity": 1, "folder": "INBOX", "last_uid": 50})
    deliver(imap_account, 1, start=2)

    outcome = mailbox_poll_task(mailbox.pk)

    assert outcome["imported"] == 1 and InboundEmail.objects.filter(mailbox=mailbox).count() == 3
    mailbox.refresh_from_db()
    assert mailbox.cursor["last_uid"] == 3 and mailbox.cursor["uidvalidity"] != 1


def test_a_large_folder_is_fetched_in_batches(imap_account, settings):
    settings.INBOX_IMAP_BATCH = 2
    deliver(imap_account, 5)
    mailbox = imap_mailbox(imap_account)

    first = mailbox_poll_task(mailbox.pk)  # the task queues the next batch until the folder is done

    assert first["imported"] == 2 and first["more"]
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 5


def test_starttls_upgrades_a_plain_connection(imap_account):
    deliver(imap_account, 1)
    mailbox = imap_mailbox(imap_account, security="starttls", port=imap_account.server.starttls_port)

    assert mailbox_poll_task(mailbox.pk)["imported"] == 1


def test_a_certificate_nobody_vouches_for_is_refused(imap_account, settings):
    settings.INBOX_IMAP_CA_FILE = ""  # the test server's authority is not among the system's
    mailbox = imap_mailbox(imap_account)

    outcome = mailbox_poll_task(mailbox.pk)

    assert outcome["error"].startswith("The certificate of 127.0.0.1 could not be verified (")


def test_xoauth2_tokens_log_in(imap_account, imap_server):
    imap_server.oauth_tokens["token-for-the-test"] = imap_account.username
    deliver(imap_account, 1)
    mailbox = imap_mailbox(imap_account, secrets={"oauth_token": "token-for-the-test"})

    outcome = mailbox_poll_task(mailbox.pk)

    assert outcome == {"imported": 1, "more": False, "error": "", "skipped": ""}


def test_an_expired_xoauth2_token_says_to_sign_in_again(imap_account):
    mailbox = imap_mailbox(imap_account, secrets={"oauth_token": "expired"})

    mailbox_poll_task(mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING
    assert mailbox.last_error.startswith("The server refused the access token (sign in again to renew it)")


def test_a_wrong_password_marks_the_mailbox_failing_in_words(imap_account):
    mailbox = imap_mailbox(imap_account, secrets={"password": "wrong"})

    first = mailbox_poll_task(mailbox.pk)
    mailbox_poll_task(mailbox.pk)

    mailbox.refresh_from_db()
    assert first["error"] == "The server refused the user name or password: Authentication failed."
    assert (mailbox.status, mailbox.last_error, mailbox.consecutive_failures) == (
        Mailbox.Status.FAILING,
        first["error"],
        2,
    )


def test_a_failing_mailbox_does_not_keep_the_others_from_polling(imap_account, imap_server):
    broken = imap_mailbox(imap_account, port=1)  # nothing listens there
    other = imap_server.account()
    deliver(other, 1)
    working = imap_mailbox(other)

    queued = mailboxes_poll_task()

    assert queued == 2
    broken.refresh_from_db()
    working.refresh_from_db()
    assert broken.status == Mailbox.Status.FAILING and "refused the connection" in broken.last_error
    assert working.status == Mailbox.Status.CONNECTED and working.messages.count() == 1


def test_a_mailbox_failing_again_and_again_is_polled_less_often(imap_account):
    broken = imap_mailbox(imap_account, secrets={"password": "wrong"})
    for _ in range(3):
        mailbox_poll_task(broken.pk)

    assert mailboxes_poll_task() == 0  # inside its back-off (4 minutes after the third failure)


def test_the_egress_guard_refuses_internal_addresses(imap_account):
    mailbox = imap_mailbox(imap_account, host="169.254.169.254")

    outcome = mailbox_poll_task(mailbox.pk)

    assert "Switchboard does not connect there" in outcome["error"]


def test_two_polls_of_one_mailbox_never_overlap(imap_account, tenant):
    deliver(imap_account, 1)
    mailbox = imap_mailbox(imap_account)
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        connection.set_tenant(tenant)
        try:
            with mailboxes._poll_lock(mailbox.pk):
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        outcome = mailbox_poll_task(mailbox.pk)
    finally:
        release.set()
        thread.join()

    assert outcome["skipped"] and outcome["imported"] == 0
    assert mailbox_poll_task(mailbox.pk)["imported"] == 1


def test_a_message_over_the_size_limit_is_recorded_from_its_headers_without_fetching_it(imap_account, settings):
    settings.INBOX_MAX_MESSAGE_BYTES = 10_000
    imap_account.deliver(raw_email(message_id=message_id(imap_account, 0), body="x" * 50_000))
    mailbox = imap_mailbox(imap_account)

    mailbox_poll_task(mailbox.pk)

    record = InboundEmail.objects.get(mailbox=mailbox)
    assert record.status == InboundEmail.Status.REJECTED and record.size > 50_000
    assert record.reason.startswith(f"The message is {record.size:,} bytes; the limit is 10,000.")
    with record.raw.open("rb") as stored:
        assert b"xxxx" not in stored.read()  # only the headers were fetched
    assert all("\\Seen" in flags for flags in imap_account.flags())


def test_beat_polls_every_workspace_s_mailboxes(imap_account):
    deliver(imap_account, 1)
    mailbox = imap_mailbox(imap_account)

    workspaces = mailboxes_poll_fanout_task()

    assert workspaces >= 2 and mailbox.messages.count() == 1


def test_memory_stays_near_one_message_however_many_are_fetched(imap_account):
    big = 4 * 1024 * 1024
    for n in range(4):
        imap_account.deliver(raw_email(message_id=message_id(imap_account, n), body="x" * big))
    mailbox = imap_mailbox(imap_account)

    tracemalloc.start()
    try:
        mailbox_poll_task(mailbox.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert mailbox.messages.count() == 4
    assert peak < 3 * big  # about two copies of one message (read, then stored); the folder would be four
