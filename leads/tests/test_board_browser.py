"""The lead board in the browser: a drag in one context is seen live in another; a drop on "Lost" asks why
(cancel puts the card back); keyboard moves."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


def _board(live_data, owner):
    """A pipeline of its own (the workspace's default one may belong to other tests) with two leads."""
    from leads import services
    from leads.models import Lead, Pipeline

    name = f"Live {uuid.uuid4().hex[:6]}"

    def make():
        pipeline = services.pipeline_create(name=name, is_default=False)
        stages = {stage.name: stage for stage in pipeline.stages.all()}
        first = services.lead_create(actor=None, title="Dragged deal", stage=stages["Prospect"], owner=owner)
        second = services.lead_create(actor=None, title="Keyboard deal", stage=stages["Prospect"], owner=owner)
        return pipeline, stages, first, second

    pipeline, stages, first, second = live_data.run(make)

    def clean_up():
        Lead.objects.filter(stage__pipeline_id=pipeline.pk).delete()
        Pipeline.objects.filter(pk=pipeline.pk).delete()

    live_data.add_cleanup(clean_up)
    return pipeline, stages, first, second


def _open(browser, live_stack, user, path):
    # Wide enough for all six columns: a native drag does not scroll the board sideways.
    page = new_page(browser, viewport={"width": 1900, "height": 1000})
    page.add_init_script(TRACK_SOCKET)
    sign_in(page, live_stack, user, next_path=path)
    page.wait_for_function("() => window.sbSocketOpen === true")
    return page


def test_a_drag_on_one_board_is_seen_live_on_another(live_stack, live_data, browser):
    sam = live_data.create_user("sales", name="Sam Seller")
    dana = live_data.create_user("sales", name="Dana Dealer")
    pipeline, stages, first, second = _board(live_data, sam.user)
    path = f"/leads/pipelines/{pipeline.pk}/"
    watcher = _open(browser, live_stack, dana, path)
    page = _open(browser, live_stack, sam, path)
    qualified, lost, prospect = stages["Qualified"].pk, stages["Lost"].pk, stages["Prospect"].pk

    page.locator(f"#lead-card-{first.pk}").drag_to(page.locator(f"#stage-cards-{qualified}"))

    expect(page.locator(f"#stage-cards-{qualified} #lead-card-{first.pk}")).to_have_count(1)
    expect(watcher.locator(f"#stage-cards-{qualified} #lead-card-{first.pk}")).to_have_count(1)
    expect(watcher.locator(f"#stage-cards-{prospect} #lead-card-{first.pk}")).to_have_count(0)
    expect(watcher.locator(f"#stage-summary-{qualified} [data-testid=stage-count]")).to_have_text("1")
    expect(watcher.locator(f"#stage-summary-{prospect} [data-testid=stage-count]")).to_have_text("1")

    # A drop on "Lost" asks why; cancelling puts the card back where it was.
    page.locator(f"#lead-card-{first.pk}").drag_to(page.locator(f"#stage-cards-{lost}"))
    modal = page.locator("#modal")
    expect(modal.locator("[name=lost_reason]")).to_be_visible()
    modal.locator("[data-testid=lead-move-cancel]").click()
    expect(modal).to_be_hidden()
    expect(page.locator(f"#stage-cards-{qualified} #lead-card-{first.pk}")).to_have_count(1)

    # Keyboard: Alt+→ moves the focused card to the next stage, and the other board follows.
    page.locator(f"#lead-card-{second.pk}").focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(page.locator(f"#stage-cards-{qualified} #lead-card-{second.pk}")).to_have_count(1)
    expect(watcher.locator(f"#stage-cards-{qualified} #lead-card-{second.pk}")).to_have_count(1)
    expect(watcher.locator(f"#stage-summary-{qualified} [data-testid=stage-count]")).to_have_text("2")
