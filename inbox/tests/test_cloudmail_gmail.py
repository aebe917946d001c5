"""Gmail mailboxes through google-auth and the Gmail API client, against a local fake of Google OAuth + Gmail."""

from __future__ import annotations

import pytest

from helpdesk.models import Ticket
from inbox.fetchers.base import CloudMailError
from inbox.fetchers.gmail import gmail_poll, gmail_send
from inbox.models import InboundEmail, Mailbox
from inbox.services import inbound, transports
from inbox.services.cloudmail import cloud_mailbox_poll, cloud_mailbox_test
from inbox.tests.factories import MailboxFactory, raw_email
from inbox.tests.fakes import fixtures
from inbox.tests.fakes.gmail import ACCOUNT

pytestmark = pytest.mark.django_db
mail_ca, gmail_fake, recorded_waits = fixtures.mail_ca, fixtures.gmail_fake, fixtures.recorded_waits


def gmail_mailbox(fake, **overrides) -> Mailbox:
    mailbox = MailboxFactory(kind=Mailbox.Kind.GMAIL, address=ACCOUNT, **({"settings": {}} | overrides))
    mailbox.secrets_set({"refresh_token": fake.grant()})
    mailbox.save()
    return mailbox


def message_ids() -> list[str]:
    return sorted(InboundEmail.objects.filter(source="gmail").values_list("message_id", flat=True))


def test_the_first_sync_imports_recent_inbox_mail_and_later_syncs_only_what_history_adds(gmail_fake, settings):
    settings.GMAIL_INITIAL_IMPORT = 2
    for number in range(3):
        gmail_fake.deliver(raw_email(message_id=f"<g{number}@customer.test>"))
    gmail_fake.deliver(raw_email(message_id="<draft@customer.test>"), labels=("DRAFT",))
    mailbox = gmail_mailbox(gmail_fake)

    first = gmail_poll(mailbox)
    again = gmail_poll(mailbox)
    gmail_fake.deliver(raw_email(message_id="<new@customer.test>"))
    third = gmail_poll(mailbox)

    assert (first.imported, again.imported, again.seen, third.imported) == (2, 0, 0, 1)
    assert message_ids() == ["<g1@customer.test>", "<g2@customer.test>", "<new@customer.test>"]
    mailbox.refresh_from_db()
    assert mailbox.cursor == {"history_id": str(gmail_fake.history_id)}
    history = gmail_fake.requests_to("/history")[-1]
    assert history.query["historyTypes"] == "messageAdded" and history.query["labelId"] == "INBOX"


def test_history_pages_are_followed_and_the_message_becomes_a_ticket(gmail_fake, django_capture_on_commit_callbacks):
    mailbox = gmail_mailbox(gmail_fake)
    gmail_poll(mailbox)  # connected: an empty inbox, the history id recorded
    gmail_fake.history_page_size = 2
    for number in range(5):
        gmail_fake.deliver(raw_email(message_id=f"<h{number}@customer.test>", subject=f"Order {number}"))

    with django_capture_on_commit_callbacks(execute=True):
        result = gmail_poll(mailbox)

    assert result.imported == 5 and len(gmail_fake.requests_to("/history")) == 3
    assert [request.query.get("pageToken") for request in gmail_fake.requests_to("/history")] == [None, "2", "4"]
    assert set(Ticket.objects.values_list("subject", flat=True)) >= {f"Order {number}" for number in range(5)}


def test_a_long_history_is_taken_in_bounded_polls_that_continue_where_they_stopped(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake)
    gmail_poll(mailbox)
    gmail_fake.history_page_size = 2
    for number in range(5):
        gmail_fake.deliver(raw_email(message_id=f"<b{number}@customer.test>"))

    first = gmail_poll(mailbox, budget=2)
    rest = gmail_poll(mailbox, budget=2), gmail_poll(mailbox, budget=2)

    assert (first.imported, first.complete) == (2, False)
    assert [poll.imported for poll in rest] == [2, 1] and rest[-1].complete
    assert len(message_ids()) == 5 and mailbox.cursor == {"history_id": str(gmail_fake.history_id)}


def test_an_expired_history_id_falls_back_to_a_bounded_full_sync_without_duplicates(gmail_fake, settings):
    settings.GMAIL_INITIAL_IMPORT = 10
    gmail_fake.deliver(raw_email(message_id="<old@customer.test>"))
    mailbox = gmail_mailbox(gmail_fake)
    gmail_poll(mailbox)
    gmail_fake.deliver(raw_email(message_id="<after@customer.test>"))
    gmail_fake.forget_history_before(gmail_fake.history_id)  # Google keeps about a week of history

    result = gmail_poll(mailbox)

    assert gmail_fake.requests_to("/history")[-1] is gmail_fake.requests_to("/history")[0]
    assert (result.seen, result.imported) == (2, 1)
    assert message_ids() == ["<after@customer.test>", "<old@customer.test>"]
    assert mailbox.cursor == {"history_id": str(gmail_fake.history_id)}


def test_a_rate_limited_sync_waits_as_asked_and_recovers(gmail_fake, recorded_waits):
    gmail_fake.deliver(raw_email())
    gmail_fake.enqueue_rate_limit(3, path="/profile")
    gmail_fake.enqueue_rate_limit(1, path="/messages/")

    result = gmail_poll(gmail_mailbox(gmail_fake))

    assert result.imported == 1 and recorded_waits == [3.0, 1.0]


def test_a_rate_limit_without_retry_after_ends_the_poll_and_waits_before_the_next(gmail_fake, recorded_waits):
    gmail_fake.enqueue_rate_limit(None, path="/profile")
    mailbox = gmail_mailbox(gmail_fake)

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("rate-limited:") and recorded_waits == []
    assert "rateLimitExceeded" in mailbox.last_error and mailbox.cursor["not_before"]
    assert cloud_mailbox_poll(mailbox.pk).startswith("skipped: waiting")


def test_an_expired_access_token_is_refreshed_with_the_stored_refresh_token(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake)
    gmail_poll(mailbox)
    gmail_fake.deliver(raw_email(message_id="<after-refresh@customer.test>"))
    gmail_fake.expire_tokens()
    tokens_before = len(gmail_fake.token_requests)

    result = gmail_poll(mailbox)

    assert result.imported == 1 and len(gmail_fake.token_requests) == tokens_before + 1
    refresh = gmail_fake.token_requests[-1]
    assert refresh.body["grant_type"] == "refresh_token" and refresh.body["refresh_token"] == "[redacted]"


def test_a_revoked_consent_marks_the_mailbox_failing_with_a_readable_error(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake)
    gmail_fake.revoke()

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("failed:") and mailbox.status == Mailbox.Status.FAILING
    assert mailbox.last_error.startswith("Google refused the saved consent (invalid_grant: Token has been expired")
    assert mailbox.last_error.endswith("connect Gmail again.") and mailbox.consecutive_failures == 1


def test_send_through_gmail_delivers_the_mime_the_fake_received(gmail_fake):
    raw = raw_email(message_id="<reply-2@gmail-workspace.test>", subject="Re: Order").replace(
        b"To: support@workspace.test", b"To: ann@customer.test"
    )

    answer = gmail_send(gmail_mailbox(gmail_fake), raw, ACCOUNT, ["ann@customer.test"])

    assert gmail_fake.sent == [raw] and answer.startswith("Accepted by Gmail (id 18c")


def test_a_refused_send_raises_a_permanent_error(gmail_fake):
    gmail_fake.enqueue(400, gmail_fake.error_body(400, "Invalid To header", "invalidArgument"), path="/messages/send")

    with pytest.raises(CloudMailError, match=r"Gmail refused to send the message \(400 invalidArgument") as refused:
        gmail_send(gmail_mailbox(gmail_fake), raw_email(), ACCOUNT, ["ann@customer.test"])
    assert refused.value.temporary is False


def test_the_connection_test_reads_the_account(gmail_fake):
    gmail_fake.deliver(raw_email())
    mailbox = gmail_mailbox(gmail_fake)

    verdict = cloud_mailbox_test(mailbox)

    assert verdict.ok and verdict.message == f"Connected to {ACCOUNT} (1 messages)."


def test_every_google_call_goes_through_the_egress_guard(gmail_fake, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False  # as in production: the fake on 127.0.0.1 is off-limits
    mailbox = gmail_mailbox(gmail_fake)

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("failed:") and "Switchboard does not connect there" in mailbox.last_error
    assert gmail_fake.requests == []


def test_credentials_the_server_can_no_longer_decrypt_are_reported_not_crashed_on(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake)
    Mailbox.objects.filter(pk=mailbox.pk).update(secrets_encrypted="gAAAAABnot-a-fernet-token")

    cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING and "cannot be decrypted" in mailbox.last_error


def test_the_outbound_service_sends_a_gmail_mailboxs_mail_through_the_gmail_api(gmail_fake):
    raw = raw_email(message_id="<reply-4@gmail-workspace.test>")

    answer = transports.send(gmail_mailbox(gmail_fake), raw, ACCOUNT, ["support@workspace.test"])

    assert answer.startswith("Accepted by Gmail") and gmail_fake.sent == [raw]


# ---- after import: users.messages.modify --------------------------------------------------------------------------


def test_imported_mail_is_marked_read_through_messages_modify_after_its_chunk_is_stored(gmail_fake, monkeypatch):
    queued = []
    monkeypatch.setattr(inbound, "enqueue_on_commit", lambda task, *args: queued.append((task.name, *args)))
    mailbox = gmail_mailbox(gmail_fake, settings={"after_import": "seen"})
    gmail_poll(mailbox)
    ids = [gmail_fake.deliver(raw_email(message_id=f"<r{number}@customer.test>")) for number in range(7)]

    result = gmail_poll(mailbox)

    assert result.imported == 7 and all(gmail_fake.labels_of(message) == ["INBOX"] for message in ids)
    modified = gmail_fake.requests_to("/modify")
    assert [request.method for request in modified] == ["POST"] * 7
    assert modified[0].body == {"addLabelIds": [], "removeLabelIds": ["UNREAD"]}
    # Two chunks (5 + 2): two transactions, each filed by one batch task.
    assert [(name.rsplit(".", 1)[-1], len(ids)) for name, ids in queued] == [
        ("inbound_process_batch_task", 5),
        ("inbound_process_batch_task", 2),
    ]


def test_move_puts_imported_mail_under_a_label_created_once_and_takes_it_out_of_the_inbox(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake, settings={"after_import": "move", "move_to": "Imported"})
    gmail_poll(mailbox)
    first = gmail_fake.deliver(raw_email(message_id="<m1@customer.test>"))
    second = gmail_fake.deliver(raw_email(message_id="<m2@customer.test>"))

    gmail_poll(mailbox)

    assert gmail_fake.labels == {"Label_1": "Imported"}
    assert gmail_fake.labels_of(first) == gmail_fake.labels_of(second) == ["UNREAD", "Label_1"]
    assert len([r for r in gmail_fake.requests_to("/labels") if r.method == "POST"]) == 1


def test_an_existing_label_is_reused_whatever_its_case(gmail_fake):
    gmail_fake.labels["Label_9"] = "imported"
    mailbox = gmail_mailbox(gmail_fake, settings={"after_import": "move", "move_to": "Imported"})
    gmail_poll(mailbox)
    message = gmail_fake.deliver(raw_email(message_id="<m3@customer.test>"))

    gmail_poll(mailbox)

    assert gmail_fake.labels_of(message) == ["UNREAD", "Label_9"] and len(gmail_fake.labels) == 1


def test_leave_and_mailboxes_without_a_choice_change_nothing(gmail_fake):
    mailbox = gmail_mailbox(gmail_fake, settings={})
    gmail_poll(mailbox)
    message = gmail_fake.deliver(raw_email(message_id="<l1@customer.test>"))

    assert gmail_poll(mailbox).imported == 1
    assert gmail_fake.labels_of(message) == ["INBOX", "UNREAD"] and gmail_fake.requests_to("/modify") == []


def test_a_rate_limited_modify_is_waited_out_and_a_message_deleted_meanwhile_is_skipped(gmail_fake, recorded_waits):
    mailbox = gmail_mailbox(gmail_fake, settings={"after_import": "seen"})
    gmail_poll(mailbox)
    kept = gmail_fake.deliver(raw_email(message_id="<k1@customer.test>"))
    gmail_fake.deliver(raw_email(message_id="<k2@customer.test>"))
    gmail_fake.enqueue_rate_limit(2, path="/modify")
    gmail_fake.enqueue(404, gmail_fake.error_body(404, "Requested entity was not found."), path="/modify")

    result = gmail_poll(mailbox)

    assert result.imported == 2 and recorded_waits == [2.0]
    assert gmail_fake.labels_of(kept) == ["INBOX", "UNREAD"]  # its modify answered 404 after the wait
    assert mailbox.cursor == {"history_id": str(gmail_fake.history_id - 1)}


def test_a_consent_without_gmail_modify_fails_the_poll_in_words_and_the_next_poll_applies_it(gmail_fake):
    old_scopes = {"https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.send"}
    mailbox = MailboxFactory(kind=Mailbox.Kind.GMAIL, address=ACCOUNT, settings={"after_import": "seen"})
    mailbox.secrets_set({"refresh_token": gmail_fake.grant(old_scopes)})
    mailbox.save()
    gmail_poll(mailbox)
    message = gmail_fake.deliver(raw_email(message_id="<p1@customer.test>"))

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("failed:") and "403 insufficientPermissions" in mailbox.last_error
    assert "Connect Gmail again and grant every permission." in mailbox.last_error
    assert message_ids() == ["<p1@customer.test>"]  # stored before Gmail was asked: nothing lost
    mailbox.secrets_set({"refresh_token": gmail_fake.grant()})  # the admin connected again
    mailbox.cursor = {k: v for k, v in mailbox.cursor.items() if k != "not_before"}
    mailbox.save()
    assert cloud_mailbox_poll(mailbox.pk) == "imported:0"
    assert gmail_fake.labels_of(message) == ["INBOX"] and message_ids() == ["<p1@customer.test>"]
