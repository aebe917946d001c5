"""Sending a quote in the browser, through the real parts: the send dialog (filled in from the contact), one click,
the email queued on commit and sent by the real worker through the platform's transport into var/mail, with the
PDF whose sha256 is the revision's, the customer's link on the workspace's host and the workspace's address; the
quote page then shows the email delivered."""

from __future__ import annotations

import email
import email.policy
import hashlib
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from core.emails import workspace_name
from core.links import workspace_url
from core.testing.browser import new_page, sign_in

from .test_builder_browser import _quote

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

# The live servers run the real settings: the platform's transport is the file backend, writing here.
MAIL_DIR = Path(settings.BASE_DIR) / "var" / "mail"


def _until(condition, *, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.1)
    return result


def _written(message_id: str) -> email.message.EmailMessage | None:
    for path in MAIL_DIR.glob("*.log") if MAIL_DIR.exists() else ():
        raw = path.read_bytes()
        if message_id.encode() in raw:
            return email.message_from_bytes(raw.rsplit(b"-" * 79, 1)[0], policy=email.policy.default)
    return None


def test_send_a_quote_from_the_dialog_and_see_it_delivered(live_stack, live_data, browser):
    from customers.models import Contact
    from inbox.models import Mailbox, OutboundEmail
    from inbox.tests.factories import MailboxFactory
    from quotes import services
    from quotes.models import Quote, QuoteRevision

    seller = live_data.create_user("sales", name="Sam Seller")
    product, quote = _quote(live_data)

    def prepare():
        contact = Contact.objects.create(customer_id=quote.customer_id, name="Dana Lee", email="dana@buyer.test")
        services.quote_update(quote=quote, actor=None, data={"contact": contact})
        services.quote_line_add(quote=Quote.objects.get(pk=quote.pk), actor=None, product=product)
        return MailboxFactory(address="sales@alpha.test", display_name="Alpha Sales", is_default=True)

    mailbox = live_data.run(prepare)
    workspace, link_start = live_data.run(lambda: (workspace_name(), workspace_url("/q/")))
    live_data.add_cleanup(lambda: Mailbox.objects.filter(pk=mailbox.pk).delete())
    live_data.add_cleanup(lambda: OutboundEmail.objects.filter(reference__startswith=f"quote:{quote.pk}:").delete())

    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    sign_in(page, live_stack, seller, next_path=f"/quotes/{quote.pk}/")
    page.locator("[data-testid=quote-send]").click()
    dialog = page.locator("[data-testid=quote-send-form]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=to]")).to_have_value("dana@buyer.test")
    expect(dialog.locator("input[name=subject]")).to_have_value(f"Quote {quote.reference} from {workspace}")
    expect(dialog.locator("textarea[name=message]")).to_contain_text(link_start)
    expect(dialog.locator("[data-testid=send-attachment-note]")).to_contain_text(f"{quote.reference}-rev1.pdf")
    dialog.locator("input[name=cc]").fill("not an address")
    dialog.locator("[data-testid=quote-send-submit]").click()
    expect(dialog).to_contain_text("is not an email address")
    dialog.locator("input[name=cc]").fill("")
    dialog.locator("[data-testid=quote-send-submit]").click()
    expect(page.locator("[data-testid=quote-status]")).to_contain_text("Sent · revision 1")

    outbound = _until(
        lambda: live_data.run(
            lambda: OutboundEmail.objects.filter(reference=f"quote:{quote.pk}:1", status="sent").first()
        ),
        what="the worker's delivery",
    )
    page.reload()
    expect(page.locator("[data-testid=delivery-status]")).to_have_text("Sent")
    expect(page.locator("[data-testid=quote-send]")).to_contain_text("Send again")

    message = _until(lambda: _written(outbound.message_id), what="the message in var/mail")
    revision = live_data.run(lambda: QuoteRevision.objects.get(quote_id=quote.pk, number=1))
    assert message["From"].addresses[0].addr_spec == "sales@alpha.test"
    assert message["To"].addresses[0].addr_spec == "dana@buyer.test"
    text = message.get_body(("plain",)).get_content()
    assert link_start in text and revision.snapshot["print"]["public_url"].startswith(link_start)
    (pdf,) = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename() == f"{quote.reference}-rev1.pdf"
    assert hashlib.sha256(pdf.get_content()).hexdigest() == revision.pdf_sha256
