"""The builder's Copilot panel in the browser: opened on request, a cross-sell added with one click (the line and
the totals appear), a question dismissed, each recorded as AI feedback."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def _history_and_quote(live_data):
    """Three accepted quotes with seat + chat and two with only a kiosk (so seat → chat beats chance), and a draft
    quote with the seat alone."""
    from django.utils import timezone

    from customers.models import Customer
    from quotes import catalog, selectors, services
    from quotes.models import Product, Quote, QuoteLine

    tag = uuid.uuid4().hex[:6].upper()

    def make():
        def product(name: str, category: str, price: int):
            return catalog.product_create(
                sku=f"{name[:4].upper()}-{tag}", name=f"{name} {tag}", category=category, tax_rate=Decimal(20),
                cost=Decimal(1), prices={"USD": Decimal(price)},
            )  # fmt: skip

        seat, chat, kiosk = product("Seat", "Licences", 49), product("Chat", "Add-ons", 150), product("Kiosk", "HW", 9)
        customer = Customer.objects.create(name=f"Copilot buyer {tag}")
        for index, basket in enumerate([(seat, chat)] * 3 + [(kiosk,)] * 2):
            accepted = services.quote_create(actor=None, customer_id=customer.pk, title=f"History {tag}")
            for item in basket:
                QuoteLine.objects.create(quote=accepted, product=item, description=item.name)
            Quote.objects.filter(pk=accepted.pk).update(
                status=Quote.Status.ACCEPTED, accepted_at=timezone.now() - timedelta(days=10 - index)
            )
        quote = services.quote_create(actor=None, customer_id=customer.pk, title=f"Copilot {tag}")
        services.quote_line_add(quote=quote, actor=None, product=selectors.product_for_quote(product_id=seat.pk))
        return chat, customer, quote

    chat, customer, quote = live_data.run(make)

    def clean_up():
        Quote.objects.filter(customer=customer).delete()
        Product.objects.filter(sku__endswith=tag).delete()
        Customer.objects.filter(pk=customer.pk).delete()

    live_data.add_cleanup(clean_up)
    return chat, quote


def test_open_the_copilot_add_a_cross_sell_and_dismiss_a_question(live_stack, live_data, browser):
    seller = live_data.create_user("sales", name="Sam Seller")
    chat, quote = _history_and_quote(live_data)
    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    sign_in(page, live_stack, seller, next_path=f"/quotes/{quote.pk}/")

    page.locator("[data-testid=copilot-open]").click()
    panel = page.locator("[data-testid=copilot-panel]")
    expect(panel.locator("[data-testid=copilot-scope]")).to_contain_text("1 line")
    suggestion = panel.locator("[data-testid=copilot-suggestion][data-kind=cross_sell]", has_text=chat.name)
    expect(suggestion).to_contain_text("In 100% of accepted quotes with Seat")

    suggestion.locator("[data-testid=copilot-add]").click()
    expect(page.locator("[data-testid=quote-line]")).to_have_count(2)
    expect(page.locator("[data-testid=quote-lines]")).to_contain_text(chat.name)
    expect(page.locator("[data-testid=total-total]")).to_have_text("238.80")  # (49 + 150) × 1.2
    expect(panel.locator("[data-testid=copilot-done]")).to_have_text("Added to the quote.")

    question = panel.locator("[data-testid=copilot-question]").first
    question.locator("[data-testid=copilot-dismiss]").click()
    expect(panel.locator("[data-testid=copilot-done]")).to_have_count(2)
    expect(page.locator("[data-testid=copilot-email]")).to_contain_text("Hi there,")

    def verdicts():
        from ai.models import AIFeedback

        return sorted(AIFeedback.objects.filter(user_id=seller.user.pk).values_list("outcome", flat=True))

    assert live_data.run(verdicts) == ["accepted", "rejected"]
