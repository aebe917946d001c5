"""Lead intelligence and pipeline metrics in the browser: the lead page loads its intelligence card (probability,
risks, a dated outreach plan with an email draft), and the pipeline's metrics page shows velocity and its bars."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def _pipeline(live_data, owner):
    """A pipeline of its own with an open lead (a contact at a company), one won and one lost."""
    from django.utils import timezone

    from customers.tests.factories import ContactFactory
    from leads import services
    from leads.models import Lead, Pipeline

    name = f"Intel {uuid.uuid4().hex[:6]}"

    def make():
        pipeline = services.pipeline_create(name=name, is_default=False)
        stages = {stage.name: stage for stage in pipeline.stages.all()}
        contact = ContactFactory(name="Fox Mulder", customer__name=f"{name} Corp")
        lead = services.lead_create(actor=None, title="Live chat rollout", stage=stages["Qualified"], owner=owner,
                                    customer=contact.customer, contact=contact, value=8000)  # fmt: skip
        for title, stage in (("Won deal", "Won"), ("Lost deal", "Lost")):
            closed = services.lead_create(actor=None, title=title, stage=stages["Prospect"], owner=owner, value=5000)
            Lead.objects.filter(pk=closed.pk).update(created=timezone.now() - timedelta(days=20))
            closed.refresh_from_db()
            reason = {"lost_reason": "Price too high"} if stage == "Lost" else {}
            services.lead_move(lead=closed, stage=stages[stage], position=0, actor=None, **reason)
        return pipeline, lead

    pipeline, lead = live_data.run(make)

    def clean_up():
        Lead.objects.filter(stage__pipeline_id=pipeline.pk).delete()
        Pipeline.objects.filter(pk=pipeline.pk).delete()

    live_data.add_cleanup(clean_up)
    return pipeline, lead


def test_the_lead_page_loads_its_intelligence_card(live_stack, live_data, browser):
    sam = live_data.create_user("sales", name="Sam Seller")
    _, lead = _pipeline(live_data, sam.user)
    page = new_page(browser)
    sign_in(page, live_stack, sam, next_path=f"/leads/{lead.pk}/")

    card = page.locator("[data-testid=lead-intelligence]")
    expect(card.locator("[data-testid=lead-summary]")).to_contain_text("Live chat rollout")
    expect(card.locator("[data-testid=lead-probability]")).to_contain_text("%")
    expect(card.locator("[data-testid=lead-risks] li").first).to_be_visible()
    plan = card.locator("[data-testid=lead-plan] > li")
    expect(plan).to_have_count(4)
    expect(card).to_contain_text("drafted from templates")
    plan.first.locator("summary").click()
    expect(plan.first.locator("pre")).to_contain_text("Hi Fox,")


def test_the_pipeline_metrics_page_shows_velocity_and_bars(live_stack, live_data, browser):
    sam = live_data.create_user("sales", name="Sam Seller")
    pipeline, _ = _pipeline(live_data, sam.user)
    page = new_page(browser)
    sign_in(page, live_stack, sam, next_path=f"/leads/pipelines/{pipeline.pk}/metrics/")

    expect(page.locator("h1")).to_have_text(f"{pipeline.name} metrics")
    expect(page.locator("[data-testid=metrics-velocity]")).to_contain_text("per day")
    expect(page.get_by_text("(1 won, 1 lost since", exact=False)).to_be_visible()
    expect(page.locator("[data-testid=metrics-by-source] dt").first).to_be_visible()
    expect(page.locator("[data-testid=metrics-by-owner]")).to_contain_text("Sam Seller")

    page.select_option("#metrics-days", index=0)
    with page.expect_navigation():
        page.locator("[data-testid=metrics-period] [type=submit]").click()
    assert "days=" in page.url
    expect(page.locator("[data-testid=metrics-velocity]")).to_be_visible()
