"""A quote from start to finish through the real parts: a seller builds it from a lead in the browser and sends it
from the dialog; the real worker emails it (with its PDF) through the platform's transport into var/mail; the
customer opens the emailed link anonymously on a phone, ticks an option and accepts; the lead turns won and the
lead's and the company's pages show it. Also: the customer's page has no sideways scroll and passes axe, and a
tampered link gets its own readable page."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from core.links import workspace_url
from core.testing.browser import axe_violations, new_page, settle, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

# The live servers run the real settings: the platform's transport is the file backend, writing here.
MAIL_DIR = Path(settings.BASE_DIR) / "var" / "mail"
PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1600, "height": 1000}}


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


def _a_lead_to_quote(live_data) -> dict:
    """A lead for a company whose contact has an email, two products (a seat at 49.00 + 20 % tax, an onboarding
    day at 150.00 + 10 %) and the workspace's default mailbox."""
    from customers.models import Contact, Customer
    from inbox.models import Mailbox
    from inbox.tests.factories import MailboxFactory
    from leads import services as lead_services
    from leads.models import Lead
    from quotes import catalog
    from quotes.models import Product, Quote

    sku = f"FLOW-{uuid.uuid4().hex[:6]}".upper()

    def make() -> dict:
        catalog.product_create(
            sku=sku, name=f"Flow seat {sku}", tax_rate=Decimal(20), cost=Decimal(10), prices={"USD": Decimal(49)}
        )
        catalog.product_create(
            sku=f"{sku}-ON", name=f"Flow onboarding {sku}", tax_rate=Decimal(10), prices={"USD": Decimal(150)}
        )
        customer = Customer.objects.create(name=f"Flow buyer {sku}")
        contact = Contact.objects.create(customer=customer, name="Dana Lee", email="dana@buyer.test")
        lead = lead_services.lead_create(actor=None, title=f"Flow deal {sku}", customer=customer, contact=contact)
        mailbox = MailboxFactory(address="sales@alpha.test", display_name="Alpha Sales", is_default=True)
        return {"sku": sku, "customer": customer.pk, "lead": lead.pk, "mailbox": mailbox.pk}

    made = live_data.run(make)

    def clean_up():
        # The quote's emails go with the rows live tests leave (conftest's LIVE_TABLES).
        Quote.objects.filter(lead_id=made["lead"]).delete()
        Lead.objects.filter(pk=made["lead"]).delete()
        Product.objects.filter(sku__startswith=sku).delete()
        Mailbox.objects.filter(pk=made["mailbox"]).delete()
        Customer.objects.filter(pk=made["customer"]).delete()

    live_data.add_cleanup(clean_up)
    return made


def _add_product(page, text: str) -> None:
    settle(page)  # a search typed before htmx has processed the box (the page just loaded) would send nothing
    count = page.locator("[data-testid=quote-line]").count()
    page.locator("[data-testid=product-search]").fill(text)
    result = page.locator("[data-testid=product-result]").first
    expect(result).to_contain_text(text)  # not the list the search box showed on focus
    result.click()
    expect(page.locator("[data-testid=quote-line]")).to_have_count(count + 1)


def _sign(page) -> None:
    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=8)
    page.mouse.move(box["x"] + 220, box["y"] + 30, steps=8)
    page.mouse.up()


def test_a_seller_builds_and_sends_a_quote_and_the_customer_accepts_it_on_a_phone(live_stack, live_data, browser):
    from inbox.models import OutboundEmail
    from leads.models import Lead
    from quotes.models import Quote, QuoteRevision

    made = _a_lead_to_quote(live_data)
    seller = live_data.create_user("sales", name="Sam Seller")

    # The seller: a new quote from the lead's page, two lines from the catalog, one of them optional.
    page = new_page(browser, **DESKTOP)
    sign_in(page, live_stack, seller, next_path=f"/leads/{made['lead']}/")
    page.locator("[data-testid=lead-new-quote]").click()
    page.locator("[data-testid=quote-create-submit]").click()
    expect(page.locator("[data-testid=product-search]")).to_be_visible()
    _add_product(page, f"Flow seat {made['sku']}")
    page.locator("[data-testid=quote-line]").first.locator("[data-testid=line-quantity]").fill("2")
    expect(page.locator("[data-testid=total-total]")).to_have_text("117.60")  # 98.00 + 19.60 tax
    _add_product(page, f"Flow onboarding {made['sku']}")
    page.locator("[data-testid=quote-line]").nth(1).get_by_label("Optional").check()
    expect(page.locator("[data-testid=total-total]")).to_have_text("117.60")  # an unticked option counts nothing
    quote = live_data.run(lambda: Quote.objects.get(lead_id=made["lead"]))

    # Sent from the dialog, prefilled from the lead's contact.
    page.locator("[data-testid=quote-send]").click()
    dialog = page.locator("[data-testid=quote-send-form]")
    expect(dialog.locator("input[name=to]")).to_have_value("dana@buyer.test")
    expect(dialog.locator("[data-testid=send-attachment-note]")).to_contain_text(f"{quote.reference}-rev1.pdf")
    dialog.locator("[data-testid=quote-send-submit]").click()
    expect(page.locator("[data-testid=quote-status]")).to_contain_text("Sent · revision 1")

    # The worker's email in var/mail: from the workspace's address, the PDF of the sent revision, the link.
    sent = OutboundEmail.objects.filter(reference=f"quote:{quote.pk}:1", status="sent")
    outbound = _until(lambda: live_data.run(sent.first), what="the worker's delivery")
    message = _until(lambda: _written(outbound.message_id), what="the message in var/mail")
    revision = live_data.run(lambda: QuoteRevision.objects.get(quote_id=quote.pk, number=1))
    assert message["From"].addresses[0].addr_spec == "sales@alpha.test"
    assert message["To"].addresses[0].addr_spec == "dana@buyer.test"
    (pdf,) = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_filename() == f"{quote.reference}-rev1.pdf"
    assert pdf.get_content().startswith(b"%PDF-")
    assert hashlib.sha256(pdf.get_content()).hexdigest() == revision.pdf_sha256
    link_start = live_data.run(lambda: workspace_url("/q/"))
    link = re.search(r"https?://\S+/q/\S+/", message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(link_start), f"{link} is not on the workspace's host"

    # The customer: anonymous, on a phone, from the emailed link (its path, on the live server's port).
    customer = new_page(browser, **PHONE)
    problems = watch_page_errors(customer)
    path = "/q/" + link.split("/q/", 1)[1]
    customer.goto(live_stack.url("alpha", path))
    expect(customer.locator("[data-testid=public-total]")).to_have_text("$117.60")
    assert customer.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    assert not axe_violations(customer), axe_violations(customer)
    customer.locator("[data-testid=public-option]").check()
    expect(customer.locator("[data-testid=public-total]")).to_have_text("$282.60")  # + 150.00 + 15.00 tax
    _sign(customer)
    customer.get_by_label("Your full name").fill("Jane Doe")
    customer.locator("[data-testid=accept-terms]").check()
    customer.locator("[data-testid=accept-submit]").click()
    expect(customer.locator("[data-testid=quote-accepted]")).to_contain_text("Accepted by Jane Doe")
    assert not problems, problems

    # The seller sees it accepted, with the customer's option, and the lead won; the lead's and the company's
    # pages show the accepted quote.
    page.reload()
    expect(page.locator("[data-testid=quote-status]")).to_contain_text("Accepted")
    expect(page.locator("[data-testid=acceptance-name]")).to_have_text("Jane Doe")
    expect(page.locator("[data-testid=acceptance-signature]")).to_be_visible()
    expect(page.locator("[data-testid=total-total]")).to_have_text("282.60")
    assert live_data.run(lambda: Lead.objects.select_related("stage").get(pk=made["lead"]).stage.kind) == "won"
    page.goto(live_stack.url("alpha", f"/leads/{made['lead']}/"))
    expect(page.locator("[data-testid=lead-quotes] [data-testid=panel-quote]")).to_contain_text("Accepted")
    expect(page.locator("[data-testid=lead-quote-events]")).to_contain_text("accepted")
    page.goto(live_stack.url("alpha", f"/customers/{made['customer']}/"))
    expect(page.locator("[data-testid=customer-quotes] [data-testid=panel-quote]")).to_contain_text("Accepted")

    # A link that is not valid: its own page, readable too.
    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + "/"
    assert customer.goto(live_stack.url("alpha", tampered)).status == 404
    expect(customer.locator("[data-testid=quote-refused]")).to_contain_text("This link is not valid")
    assert not axe_violations(customer), axe_violations(customer)
