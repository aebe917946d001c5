"""The quote builder in the browser: a product from the catalog search, an inline quantity edit that updates the
totals, a heading moved up from the keyboard, and a second editor's stale change answered with the conflict."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def _quote(live_data):
    from customers.models import Customer
    from quotes import catalog, services
    from quotes.models import Product, Quote

    sku = f"LIVE-{uuid.uuid4().hex[:6]}".upper()

    def make():
        product = catalog.product_create(
            sku=sku, name=f"Livewire seat {sku}", tax_rate=Decimal(20), cost=Decimal(10), prices={"USD": Decimal(49)}
        )
        customer = Customer.objects.create(name=f"Live buyer {sku}")
        quote = services.quote_create(actor=None, customer_id=customer.pk, title="Live quote")
        return product, customer, quote

    product, customer, quote = live_data.run(make)

    def clean_up():
        Quote.objects.filter(pk=quote.pk).delete()
        Product.objects.filter(pk=product.pk).delete()
        Customer.objects.filter(pk=customer.pk).delete()

    live_data.add_cleanup(clean_up)
    return product, quote


def test_build_a_quote_with_live_totals_keyboard_reorder_and_a_conflict(live_stack, live_data, browser):
    seller = live_data.create_user("sales", name="Sam Seller")
    _product, quote = _quote(live_data)
    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    sign_in(page, live_stack, seller, next_path=f"/quotes/{quote.pk}/")

    page.locator("[data-testid=product-search]").fill("Livewire")
    page.locator("[data-testid=product-result]").first.click()
    line = page.locator("[data-testid=quote-line]").first
    expect(line).to_contain_text("Livewire seat")
    expect(page.locator("[data-testid=total-total]")).to_have_text("58.80")

    line.locator("[data-testid=line-quantity]").fill("3")
    expect(page.locator("[data-testid=total-subtotal]")).to_have_text("147.00")
    expect(page.locator("[data-testid=total-total]")).to_have_text("176.40")
    expect(line.locator("[data-testid=line-amount]")).to_have_text("147.00")

    page.locator("#free-line").fill("Licences")
    page.locator("[data-testid=add-section]").click()
    expect(page.locator("[data-testid=quote-line]")).to_have_count(2)
    heading = page.locator("[data-testid=quote-line]").nth(1)
    heading.locator("input[name=description]").focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("[data-testid=quote-line]").first).to_have_attribute(
        "data-line-id", heading.get_attribute("data-line-id")
    )

    # Someone else changes the quote: this page's next edit is refused with the conflict, then applied on request.
    def elsewhere():
        from quotes import services
        from quotes.models import QuoteLine

        item = QuoteLine.objects.get(quote_id=quote.pk, kind="item")
        services.quote_line_update(line=item, actor=None, data={"discount": "10"})

    live_data.run(elsewhere)
    item = page.locator("[data-testid=quote-line]").nth(1)
    item.locator("[data-testid=line-quantity]").fill("4")
    expect(page.locator("[data-testid=quote-conflict]")).to_be_visible()
    page.locator("[data-testid=conflict-retry]").click()
    expect(page.locator("[data-testid=total-subtotal]")).to_have_text("176.40")  # 4 × 49 − 10 %
