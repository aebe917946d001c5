"""IMAP polling through the real parts: beat's fan-out queues on the Redis broker, a real worker polls dovecot in
the workspace's schema, and the mail becomes tickets."""

from __future__ import annotations

import time
import uuid

import pytest

from inbox.tests.factories import raw_email

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("live"), pytest.mark.django_db]


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not done within {timeout:.0f} s")


def test_beat_s_fan_out_has_the_worker_turn_new_mail_into_tickets(live_celery, live_data, imap_account):
    from customers.facade import INDIVIDUALS
    from customers.models import Contact, Customer
    from helpdesk.models import Ticket
    from inbox.models import InboundEmail, Mailbox
    from inbox.tasks.mailboxes import mailboxes_poll_fanout_task

    tag = uuid.uuid4().hex[:8]
    sender = f"ann-{tag}@customer.test"
    for n in range(2):
        imap_account.deliver(raw_email(message_id=f"<{tag}-{n}@customer.test>", sender=sender, subject=f"Help {tag}"))

    def create() -> Mailbox:
        settings = {"host": "127.0.0.1", "port": imap_account.server.port, "security": "ssl"}
        mailbox = Mailbox(name="Support", kind="imap", address=f"help-{tag}@alpha.test")
        mailbox.settings = settings | {"username": imap_account.username, "folder": "INBOX", "after_import": "seen"}
        mailbox.secrets_set({"password": imap_account.password})
        mailbox.save()
        return mailbox

    mailbox = live_data.run(create)
    live_data.add_cleanup(lambda: Customer.objects.filter(name=INDIVIDUALS, contacts__isnull=True).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email=sender).delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(subject=f"Help {tag}").delete())
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=mailbox.pk).delete())
    live_data.add_cleanup(lambda: InboundEmail.objects.filter(mailbox_id=mailbox.pk).delete())

    assert live_data.run(mailboxes_poll_fanout_task) >= 2  # queued for every workspace; the worker does the rest

    imported = InboundEmail.Status.IMPORTED
    _wait(
        lambda: live_data.run(lambda: InboundEmail.objects.filter(mailbox_id=mailbox.pk, status=imported).count()) == 2
    )
    assert live_data.run(lambda: Ticket.objects.filter(subject=f"Help {tag}").count()) == 2
    status = live_data.run(lambda: Mailbox.objects.get(pk=mailbox.pk).status)
    assert status == Mailbox.Status.CONNECTED
    assert all("\\Seen" in flags for flags in imap_account.flags())
