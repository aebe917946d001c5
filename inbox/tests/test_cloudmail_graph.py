"""Microsoft 365 mailboxes through msal and Microsoft Graph, against a local fake of Entra ID + Graph over TLS."""

from __future__ import annotations

import email
import email.policy
import time

import pytest
from django.core.cache import cache
from django.db import connection

from helpdesk.models import Ticket
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import TicketFactory
from inbox.fetchers import graph
from inbox.fetchers.base import CloudMailError, RateLimited
from inbox.fetchers.graph import graph_poll, graph_send
from inbox.models import InboundEmail, Mailbox
from inbox.services import cloudmail, transports
from inbox.services.cloudmail import cloud_mailbox_poll, cloud_mailbox_test
from inbox.tasks.cloudmail import cloud_mailboxes_poll_fanout_task
from inbox.tests.factories import MailboxFactory, raw_email
from inbox.tests.fakes import fixtures
from inbox.tests.fakes.microsoft365 import CLIENT_ID, CLIENT_SECRET, TENANT_ID

pytestmark = pytest.mark.django_db

ADDRESS = "help@contoso.example"
mail_ca, graph_fake, recorded_waits = fixtures.mail_ca, fixtures.graph_fake, fixtures.recorded_waits


def m365_mailbox(**overrides) -> Mailbox:
    mailbox = MailboxFactory(
        kind=Mailbox.Kind.MICROSOFT365,
        address=overrides.pop("address", ADDRESS),
        settings={"tenant_id": TENANT_ID, "client_id": CLIENT_ID},
        **overrides,
    )
    mailbox.secrets_set({"client_secret": overrides.pop("secret", CLIENT_SECRET)})
    mailbox.save()
    return mailbox


def test_a_delta_poll_imports_new_mail_once_and_the_next_poll_fetches_only_what_is_new(graph_fake):
    for number in range(3):
        graph_fake.deliver(ADDRESS, raw_email(message_id=f"<m{number}@customer.test>", subject=f"Hello {number}"))
    mailbox = m365_mailbox()

    first = graph_poll(mailbox)
    again = graph_poll(mailbox)
    graph_fake.deliver(ADDRESS, raw_email(message_id="<late@customer.test>", subject="Later"))
    third = graph_poll(mailbox)

    assert (first.imported, again.imported, again.seen, third.imported) == (3, 0, 0, 1)
    received = InboundEmail.objects.filter(mailbox=mailbox, source="graph")
    assert sorted(received.values_list("message_id", flat=True)) == [
        "<late@customer.test>",
        "<m0@customer.test>",
        "<m1@customer.test>",
        "<m2@customer.test>",
    ]
    mailbox.refresh_from_db()
    assert "$deltatoken=" in mailbox.cursor["delta_link"]
    # One token for the three polls (msal keeps it until near expiry), the raw MIME of each message fetched once.
    assert len(graph_fake.token_requests) == 1 and len(graph_fake.requests_to("/$value")) == 4


def test_a_delta_round_follows_next_links_and_moves_the_cursor_page_by_page(graph_fake, monkeypatch):
    monkeypatch.setattr(graph, "PAGE_SIZE", 2)  # sent as Prefer: odata.maxpagesize
    for number in range(5):
        graph_fake.deliver(ADDRESS, raw_email(message_id=f"<p{number}@customer.test>"))
    mailbox = m365_mailbox()

    result = graph_poll(mailbox, budget=2)  # stops after one page: the next poll continues from its nextLink
    assert (result.imported, result.complete) == (2, False)
    mailbox.refresh_from_db()
    assert "$skiptoken=" in mailbox.cursor["next_link"]

    rest = graph_poll(mailbox)
    assert rest.imported == 3 and InboundEmail.objects.count() == 5
    assert "delta_link" in mailbox.cursor


def test_a_rate_limited_poll_waits_as_graph_asks_and_recovers(graph_fake, recorded_waits):
    graph_fake.deliver(ADDRESS, raw_email())
    graph_fake.enqueue_throttle(2, path="/messages/delta")
    graph_fake.enqueue_throttle(1, path="/$value", status=503)

    result = graph_poll(m365_mailbox())

    assert result.imported == 1 and recorded_waits == [2.0, 1.0] and result.waited == 3.0


def test_a_long_retry_after_ends_the_poll_and_the_next_polls_wait_for_it(graph_fake, recorded_waits, settings):
    settings.CLOUDMAIL_MAX_WAIT_SECONDS = 5
    graph_fake.deliver(ADDRESS, raw_email())
    graph_fake.enqueue_throttle(120, path="/messages/delta")
    mailbox = m365_mailbox()

    first, second = cloud_mailbox_poll(mailbox.pk), cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert first.startswith("rate-limited:") and second.startswith("skipped: waiting")
    assert len(graph_fake.requests_to("/messages/delta")) == 1 and recorded_waits == []
    assert mailbox.status == Mailbox.Status.NEW and "throttling" in mailbox.last_error
    assert mailbox.cursor["not_before"] > time.time() + 100
    with pytest.raises(RateLimited):
        graph_fake.enqueue_throttle(120, path="/messages/delta")
        graph_poll(mailbox)


def test_a_cached_token_that_expired_early_is_replaced_once(graph_fake):
    mailbox = m365_mailbox()
    graph_fake.deliver(ADDRESS, raw_email())
    graph_poll(mailbox)
    graph_fake.expire_tokens()  # revoked or expired before msal thought it would
    graph_fake.deliver(ADDRESS, raw_email(message_id="<second@customer.test>"))

    result = graph_poll(mailbox)

    assert result.imported == 1 and len(graph_fake.token_requests) == 2
    assert [request.path.endswith("/delta") for request in graph_fake.graph_requests].count(True) == 3


def test_a_token_rejected_mid_poll_is_replaced_and_the_request_repeated(graph_fake):
    graph_fake.deliver(ADDRESS, raw_email())
    graph_fake.enqueue(
        401, graph_fake.error_body(401, "Access token has expired or is not yet valid."), path="/messages/delta"
    )
    mailbox = m365_mailbox()

    result = graph_poll(mailbox)

    assert result.imported == 1 and len(graph_fake.token_requests) == 2
    delta_calls = graph_fake.requests_to("/messages/delta")
    assert len(delta_calls) == 2 and delta_calls[0].credential != delta_calls[1].credential


def test_a_delta_link_graph_no_longer_knows_restarts_the_sync_without_duplicates(graph_fake):
    graph_fake.deliver(ADDRESS, raw_email(message_id="<a@customer.test>"))
    mailbox = m365_mailbox()
    graph_poll(mailbox)
    graph_fake.reset_sync_state()
    graph_fake.deliver(ADDRESS, raw_email(message_id="<b@customer.test>"))

    result = graph_poll(mailbox)

    assert graph_fake.requests_to("/messages/delta")[-2].query.get("$deltatoken")  # the stale link was tried
    assert (result.seen, result.imported) == (2, 1) and InboundEmail.objects.count() == 2


def test_send_through_graph_delivers_the_mime_with_hidden_recipients_as_bcc(graph_fake):
    graph_fake.add_mailbox(ADDRESS)
    raw = raw_email(message_id="<reply-1@contoso.example>", subject="Re: Hello").replace(
        b"To: support@workspace.test", b"To: ann@customer.test"
    )

    answer = graph_send(m365_mailbox(), raw, ADDRESS, ["ann@customer.test", "boss@customer.test"])

    assert answer == "202 Accepted by Microsoft Graph"
    [(address, mime)] = graph_fake.sent
    assert address == ADDRESS and mime == b"Bcc: boss@customer.test\r\n" + raw
    assert graph_fake.requests_to("/sendMail")[0].headers["content-type"] == "text/plain"


def test_a_wrong_client_secret_marks_the_mailbox_failing_with_a_readable_error(graph_fake):
    mailbox = m365_mailbox()
    mailbox.secrets_set({"client_secret": "not-the-secret"})
    mailbox.save()

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("failed:") and mailbox.status == Mailbox.Status.FAILING
    assert mailbox.consecutive_failures == 1
    assert mailbox.last_error.startswith("Microsoft Entra ID refused a token (invalid_client): AADSTS7000215")
    assert "not-the-secret" not in mailbox.last_error and mailbox.cursor["not_before"]


def test_a_failing_mailbox_never_blocks_the_others(graph_fake):
    graph_fake.deliver(ADDRESS, raw_email())
    graph_fake.denied.add("blocked@contoso.example")
    graph_fake.deliver("blocked@contoso.example", raw_email(message_id="<x@customer.test>"))
    blocked, healthy = m365_mailbox(address="blocked@contoso.example"), m365_mailbox()

    assert cloud_mailbox_poll(blocked.pk).startswith("failed:")
    assert cloud_mailbox_poll(healthy.pk) == "imported:1"

    blocked.refresh_from_db()
    healthy.refresh_from_db()
    assert blocked.status == Mailbox.Status.FAILING and "Mail.Read" in blocked.last_error
    assert healthy.status == Mailbox.Status.CONNECTED and healthy.last_error == ""


def test_the_connection_test_reads_the_inbox(graph_fake):
    graph_fake.deliver(ADDRESS, raw_email())
    mailbox = m365_mailbox()

    verdict = cloud_mailbox_test(mailbox)

    assert verdict.ok and verdict.message == f"Connected: the app reads {ADDRESS} (1 messages in the inbox)."
    assert mailbox.status == Mailbox.Status.CONNECTED


def test_the_connection_test_names_an_unknown_mailbox(graph_fake):
    verdict = cloud_mailbox_test(m365_mailbox(address="nobody@contoso.example"))

    assert not verdict.ok and "ErrorInvalidUser" in verdict.message and "nobody@contoso.example" in verdict.message


def test_links_to_another_host_are_not_followed(graph_fake):
    graph_fake.deliver(ADDRESS, raw_email())
    mailbox = m365_mailbox()
    mailbox.cursor = {"delta_link": "https://attacker.example/v1.0/users/x/delta"}

    with pytest.raises(CloudMailError, match="another host"):
        graph_poll(mailbox)
    assert not graph_fake.graph_requests


def test_every_microsoft_call_goes_through_the_egress_guard(graph_fake, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False  # as in production: the fake on 127.0.0.1 is off-limits
    mailbox = m365_mailbox()

    outcome = cloud_mailbox_poll(mailbox.pk)

    mailbox.refresh_from_db()
    assert outcome.startswith("failed:") and "Switchboard does not connect there" in mailbox.last_error
    assert graph_fake.requests == []


def test_beat_fans_out_to_every_workspace_and_polls_each_cloud_mailbox(
    graph_fake, tenant, django_capture_on_commit_callbacks
):
    graph_fake.deliver(ADDRESS, raw_email())
    mailbox = m365_mailbox()
    MailboxFactory(kind=Mailbox.Kind.IMAP)  # not a cloud mailbox: the IMAP poller's
    MailboxFactory(kind=Mailbox.Kind.MICROSOFT365, active=False)

    with django_capture_on_commit_callbacks(execute=True):
        workspaces = cloud_mailboxes_poll_fanout_task.delay().get()

    connection.set_tenant(tenant)
    mailbox.refresh_from_db()
    assert workspaces >= 2 and mailbox.status == Mailbox.Status.CONNECTED
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 1
    assert len(graph_fake.requests_to("/messages/delta")) == 1


def test_a_poll_already_running_for_the_mailbox_is_not_doubled(graph_fake):
    mailbox = m365_mailbox()
    cache.add(f"inbox:cloudmail-poll:{mailbox.pk}", "1")

    assert cloud_mailbox_poll(mailbox.pk) == "skipped: another poll is running"
    assert graph_fake.requests == []


def test_a_crash_in_a_fetcher_is_recorded_and_does_not_escape(graph_fake, monkeypatch):
    def broken(mailbox, **options):
        raise KeyError("value")

    monkeypatch.setitem(cloudmail.FETCHERS, Mailbox.Kind.MICROSOFT365, broken)
    mailbox = m365_mailbox()

    assert cloud_mailbox_poll(mailbox.pk) == "failed: unexpected error"
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING
    assert mailbox.last_error == "Unexpected error while fetching mail (KeyError)."
    assert not cache.get(f"inbox:cloudmail-poll:{mailbox.pk}")  # the lock is released


def test_a_throttled_send_says_when_to_try_again(graph_fake, recorded_waits, settings):
    settings.CLOUDMAIL_MAX_WAIT_SECONDS = 5
    graph_fake.add_mailbox(ADDRESS)
    graph_fake.enqueue_throttle(90, path="/sendMail")

    with pytest.raises(RateLimited) as throttled:
        graph_send(m365_mailbox(), raw_email(), ADDRESS, ["ann@customer.test"])

    assert throttled.value.temporary and throttled.value.retry_after == 90 and graph_fake.sent == []


def test_a_new_mailbox_imports_only_recent_mail(graph_fake, settings):
    settings.MICROSOFT365_INITIAL_DAYS = 7
    graph_fake.deliver(ADDRESS, raw_email(message_id="<ancient@customer.test>"), received=time.time() - 30 * 86400)
    graph_fake.deliver(ADDRESS, raw_email(message_id="<recent@customer.test>"), received=time.time() - 86400)

    result = graph_poll(m365_mailbox())

    assert result.imported == 1 and InboundEmail.objects.get().message_id == "<recent@customer.test>"
    first = graph_fake.requests_to("/messages/delta")[0].query
    assert first["changeType"] == "created" and first["$filter"].startswith("receivedDateTime ge ")


def test_the_outbound_service_sends_a_microsoft365_mailboxs_mail_through_graph(graph_fake):
    graph_fake.add_mailbox(ADDRESS)
    raw = raw_email(message_id="<reply-3@contoso.example>")

    answer = transports.send(m365_mailbox(), raw, ADDRESS, ["support@workspace.test"])

    assert answer == "202 Accepted by Microsoft Graph" and graph_fake.sent == [(ADDRESS, raw)]


def test_graph_refusals_reach_the_outbound_service_as_retry_or_give_up(graph_fake, settings):
    settings.CLOUDMAIL_MAX_WAIT_SECONDS = 5
    graph_fake.add_mailbox(ADDRESS)
    mailbox = m365_mailbox()
    graph_fake.enqueue_throttle(60, path="/sendMail")

    with pytest.raises(transports.TransientSendError, match="throttling"):
        transports.send(mailbox, raw_email(), ADDRESS, ["ann@customer.test"])
    graph_fake.denied.add(ADDRESS)
    with pytest.raises(transports.PermanentSendError, match=r"Mail\.Send application permissions"):
        transports.send(mailbox, raw_email(), ADDRESS, ["ann@customer.test"])


def test_an_agents_reply_leaves_through_graph_and_the_message_shows_it_sent(
    graph_fake, make_user, django_capture_on_commit_callbacks
):
    graph_fake.add_mailbox(ADDRESS)
    m365_mailbox(is_default=True, display_name="Contoso Support")
    ticket = TicketFactory(subject="Printer", requester__email="ann@customer.test", channel=Ticket.Channel.EMAIL)

    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_services.message_add(ticket=ticket, actor=make_user("agent", name="Ada"), body="On it.")

    [(address, mime)] = graph_fake.sent
    sent = email.message_from_bytes(mime, policy=email.policy.default)
    assert address == ADDRESS and sent["From"].addresses[0].addr_spec == ADDRESS
    assert sent["To"].addresses[0].addr_spec == "ann@customer.test" and sent["Subject"] == f"[#{ticket.pk}] Printer"
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_detail) == ("sent", "202 Accepted by Microsoft Graph")
