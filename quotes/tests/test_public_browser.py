"""The customer's quote link in a phone-sized anonymous browser: no sideways scroll, readable (axe), an option
ticked changes the total, a drawn signature and a typed name accept it; then the seller sees it accepted and the lead
won."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def _sent_quote(live_data) -> tuple[int, int, str]:
    """A quote from a lead, sent: 2 seats (98.00 + 20 % tax) and an unticked optional onboarding (150.00 + 10 %)."""
    from customers.models import Customer
    from leads import services as lead_services
    from quotes import catalog, services
    from quotes.models import Product, Quote
    from quotes.public import PUBLIC_PATH, quote_token_make

    sku = f"PUB-{uuid.uuid4().hex[:6]}".upper()

    def make():
        seat = catalog.product_create(
            sku=sku, name=f"Pro seat {sku}", tax_rate=Decimal(20), cost=Decimal(10), prices={"USD": Decimal(49)}
        )
        onboarding = catalog.product_create(
            sku=f"{sku}-ON", name="Onboarding day", tax_rate=Decimal(10), prices={"USD": Decimal(150)}
        )
        customer = Customer.objects.create(name=f"Phone buyer {sku}")
        lead = lead_services.lead_create(actor=None, title=f"Phone deal {sku}", customer=customer)
        quote = services.quote_create(actor=None, lead_id=lead.pk, title="Support rollout", terms="Net 30.")
        services.quote_line_add(quote=quote, actor=None, kind="section", data={"description": "Licences"})
        services.quote_line_add(quote=quote, actor=None, product=seat, data={"quantity": "2"})
        services.quote_line_add(quote=quote, actor=None, product=onboarding, data={"optional": True, "selected": False})
        quote = services.quote_status_set(quote=quote, status=Quote.Status.SENT, actor=None)
        return quote.pk, lead.pk, customer.pk, PUBLIC_PATH.format(token=quote_token_make(quote=quote))

    quote_id, lead_id, customer_id, path = live_data.run(make)

    def clean_up():
        from leads.models import Lead

        Quote.objects.filter(pk=quote_id).delete()
        Lead.objects.filter(pk=lead_id).delete()
        Product.objects.filter(sku__startswith=sku).delete()
        Customer.objects.filter(pk=customer_id).delete()

    live_data.add_cleanup(clean_up)
    return quote_id, lead_id, path


def test_a_customer_accepts_on_a_phone_and_the_seller_sees_it(live_stack, live_data, browser):
    seller = live_data.create_user("sales", name="Sam Seller")
    quote_id, lead_id, path = _sent_quote(live_data)
    page = new_page(browser, **PHONE)
    problems = watch_page_errors(page)

    page.goto(live_stack.url("alpha", path))
    expect(page.locator("[data-testid=public-total]")).to_have_text("$117.60")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    assert not axe_violations(page), axe_violations(page)

    page.locator("[data-testid=public-option]").check()
    expect(page.locator("[data-testid=public-total]")).to_have_text("$282.60")  # 248.00 + 19.60 + 15.00

    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=8)
    page.mouse.move(box["x"] + 220, box["y"] + 30, steps=8)
    page.mouse.up()
    page.get_by_label("Your full name").fill("Jane Doe")
    page.locator("[data-testid=accept-terms]").check()
    page.locator("[data-testid=accept-submit]").click()

    expect(page.locator("[data-testid=quote-accepted]")).to_contain_text("Accepted by Jane Doe")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not problems, problems

    staff = new_page(browser, viewport={"width": 1400, "height": 900})
    sign_in(staff, live_stack, seller, next_path=f"/quotes/{quote_id}/")
    expect(staff.locator("[data-testid=quote-status]")).to_contain_text("Accepted")
    expect(staff.locator("[data-testid=acceptance-name]")).to_have_text("Jane Doe")
    expect(staff.locator("[data-testid=acceptance-signature]")).to_be_visible()
    expect(staff.locator("[data-testid=total-total]")).to_have_text("282.60")
    assert not axe_violations(staff), axe_violations(staff)

    # A link that is not valid: its own page, readable too.
    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + "/"
    assert page.goto(live_stack.url("alpha", tampered)).status == 404
    expect(page.locator("[data-testid=quote-refused]")).to_contain_text("This link is not valid")
    assert not axe_violations(page), axe_violations(page)

    def lead_stage():
        from leads.models import Lead

        return Lead.objects.select_related("stage").get(pk=lead_id).stage.kind

    assert live_data.run(lead_stage) == "won"
