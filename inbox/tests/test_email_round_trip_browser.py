"""The email loop with an agent in the browser: a customer's email (IMAP, dovecot) becomes a ticket through the real
worker, the agent answers it on the ticket page, the reply reaches the customer by SMTP (aiosmtpd) threaded, and
the customer's answer appears on the agent's open page without a reload."""

from __future__ import annotations

import re
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in
from helpdesk.models import Ticket
from inbox.models import InboundEmail, Mailbox, OutboundEmail
from inbox.reply_address import ticket_from_address
from inbox.tasks.mailboxes import mailbox_poll_task
from inbox.tests.factories import MailboxFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

MESSAGES = "#ticket-thread [data-testid=thread-message]"
TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def _until(condition, *, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.2)
    return result


def _email(*, sender: str, to: str, subject: str, body: str, **headers: str) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = message_id = make_msgid(domain="customer.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(), message_id


def _support(imap_account, smtp_server, address: str) -> Mailbox:
    mailbox = MailboxFactory(
        address=address,
        display_name="Acme Support",
        is_default=True,
        settings={
            "host": "127.0.0.1",
            "port": imap_account.server.port,
            "security": "ssl",
            "username": imap_account.username,
            "after_import": "seen",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        },
    )
    mailbox.secrets_set({"password": imap_account.password})
    mailbox.save()
    return mailbox


def test_an_emailed_request_is_answered_in_the_browser_and_the_answer_arrives_live(
    live_stack, live_celery, live_data, browser, imap_account, smtp_server
):
    tag = uuid.uuid4().hex[:8]
    customer = f"ann-{tag}@customer.test"
    subject = f"Printer on fire {tag}"
    agent = live_data.create_user("agent", name="Ada Lovelace")
    mailbox = live_data.run(lambda: _support(imap_account, smtp_server, f"help-{tag}@acme.test"))
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=mailbox.pk).delete())
    live_data.add_cleanup(lambda: InboundEmail.objects.filter(mailbox_id=mailbox.pk).delete())
    live_data.add_cleanup(lambda: OutboundEmail.objects.filter(mailbox_id=mailbox.pk).delete())

    raw, first_id = _email(sender=f"Ann <{customer}>", to=mailbox.address, subject=subject, body="It smokes.")
    imap_account.deliver(raw)
    # What beat does every minute, on the live worker (live_celery): it fetches, stores and files the mail.
    live_data.run(lambda: mailbox_poll_task.delay(mailbox.pk))
    ticket_id = _until(
        lambda: live_data.run(lambda: Ticket.objects.filter(subject=subject).values_list("pk", flat=True).first()),
        what="the emailed request becoming a ticket",
    )

    page = new_page(browser)
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ticket_id}/")
    page.wait_for_function("() => window.sbSocketOpen === true")
    expect(page.locator("[data-testid=composer-to]")).to_have_value(re.compile(re.escape(customer)))
    page.locator("[data-testid=composer-body]").fill("Unplug it **now**, please.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(MESSAGES).filter(has_text="Unplug it")).to_have_count(1)

    reply = _until(
        lambda: next((m.message for m in smtp_server.received if "Unplug it" in m.content.decode()), None),
        what="the reply reaching the customer's mail server",
    )
    assert live_data.run(lambda: ticket_from_address(reply["Reply-To"])) == ticket_id
    assert first_id in reply["References"]
    expect(page.locator(MESSAGES).filter(has_text="Unplug it")).to_contain_text("Sent")

    answer, _ = _email(
        sender=f"Ann <{customer}>",
        to=reply["Reply-To"],
        subject=f"Re: {reply['Subject']}",
        body="Unplugged, thanks!\n\nOn Monday Ada wrote:\n> Unplug it now, please.",
        In_Reply_To=reply["Message-ID"],
        References=f"{reply['References']} {reply['Message-ID']}",
    )
    imap_account.deliver(answer)
    live_data.run(lambda: mailbox_poll_task.delay(mailbox.pk))

    expect(page.locator(MESSAGES).filter(has_text="Unplugged, thanks!")).to_have_count(1, timeout=30_000)
    expect(page.locator(MESSAGES).filter(has_text="Unplugged, thanks!")).not_to_contain_text("On Monday Ada wrote")
    assert live_data.run(lambda: Ticket.objects.filter(subject__endswith=tag).count()) == 1
