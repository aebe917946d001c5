"""The lead list and pipeline settings in the browser: filter the list, save it as a view, pick the view again from
the rail; reorder a pipeline's stages by dragging a handle and with the keyboard's up/down buttons."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

ACTIVE = re.compile(r"\bactive\b")


def _leads(live_data, owner, tag: str):
    from leads import services
    from leads.models import Lead

    def make():
        tagged = services.lead_create(actor=None, title=f"Tagged {tag}", owner=owner, tags=[tag])
        plain = services.lead_create(actor=None, title=f"Plain {tag}", owner=owner)
        return tagged, plain

    tagged, plain = live_data.run(make)
    live_data.add_cleanup(lambda: Lead.objects.filter(pk__in=[tagged.pk, plain.pk]).delete())
    return tagged, plain


def test_save_the_filtered_list_as_a_view_and_pick_it_again(live_stack, live_data, browser):
    seller = live_data.create_user("sales", name="Sam Seller")
    tag = f"t{uuid.uuid4().hex[:8]}"
    tagged, plain = _leads(live_data, seller.user, tag)
    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    sign_in(page, live_stack, seller, next_path=f"/leads/list/?owner=me&q={tag}")
    expect(page.locator(f"#lead-row-{plain.pk}")).to_have_count(1)

    page.locator("#lead-filters [name=tag]").fill(tag)
    page.locator("#lead-filters [name=tag]").press("Tab")  # "change" filters the table
    expect(page.locator(f"#lead-row-{plain.pk}")).to_have_count(0)
    expect(page.locator(f"#lead-row-{tagged.pk}")).to_have_count(1)

    page.locator("[data-testid=lead-view-save]").click()
    modal = page.locator("#modal")
    modal.locator("[name=name]").fill(f"Tag {tag}")
    modal.locator("[data-testid=lead-view-save-submit]").click()

    saved = page.locator("[data-testid=lead-rail-view]", has_text=f"Tag {tag}")
    expect(saved).to_have_class(ACTIVE)

    # Elsewhere in the list, the rail's link brings the view back: its filters, its table, marked as current.
    page.locator("[data-testid=lead-rail-view][data-view-key=all] a").click()
    expect(page.locator("[data-testid=lead-rail-view][data-view-key=all]")).to_have_class(ACTIVE)
    expect(page.locator("#lead-filters [name=tag]")).to_have_value("")
    saved.locator("a").click()
    expect(saved).to_have_class(ACTIVE)
    expect(page.locator("#lead-filters [name=tag]")).to_have_value(tag)
    expect(page.locator(f"#lead-row-{tagged.pk}")).to_have_count(1)
    expect(page.locator(f"#lead-row-{plain.pk}")).to_have_count(0)
    assert f"tag={tag}" in page.url


def _stage_names(page) -> list[str]:
    return page.locator("#stage-rows [data-testid=stage-row] input[name$='-name']").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )


def test_reorder_stages_by_drag_and_by_keyboard(live_stack, live_data, browser):
    from leads import services
    from leads.models import Pipeline

    manager = live_data.create_user("admin", name="Mia Manager")
    name = f"Order {uuid.uuid4().hex[:6]}"
    pipeline = live_data.run(lambda: services.pipeline_create(name=name, is_default=False))
    live_data.add_cleanup(lambda: Pipeline.objects.filter(pk=pipeline.pk).delete())
    page = new_page(browser, viewport={"width": 1400, "height": 1000})
    sign_in(page, live_stack, manager, next_path=f"/leads/settings/pipelines/{pipeline.pk}/")
    expect(page.locator("[data-testid=stage-row]")).to_have_count(6)
    assert _stage_names(page)[:2] == ["Prospect", "Qualified"]
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    # Drag "Qualified" by its handle above "Prospect": the order is saved and the list comes back in it.
    rows = page.locator("[data-testid=stage-row]")
    rows.nth(1).locator(".stage-handle").drag_to(rows.nth(0), target_position={"x": 40, "y": 4})
    expect(page.locator("#stage-rows [data-testid=stage-row]").first).to_have_attribute(
        "data-stage-id", str(_stage_id(live_data, pipeline.pk, "Qualified"))
    )
    # The server's list replaced the dragged one (it says so to screen readers).
    expect(page.locator("[data-testid=stage-order-status]")).to_have_text("Order saved.")
    assert _stage_names(page)[:2] == ["Qualified", "Prospect"]
    assert live_data.run(lambda: _order(pipeline.pk))[:2] == ["Qualified", "Prospect"]

    # Keyboard: focus "Move Proposal up", press Enter; the focus stays on the moved stage's button.
    page.get_by_role("button", name="Move Proposal up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#stage-rows [data-testid=stage-row]").nth(1)).to_have_attribute(
        "data-stage-id", str(_stage_id(live_data, pipeline.pk, "Proposal"))
    )
    expect(page.get_by_role("button", name="Move Proposal up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#stage-rows [data-testid=stage-row]").first).to_have_attribute(
        "data-stage-id", str(_stage_id(live_data, pipeline.pk, "Proposal"))
    )
    assert live_data.run(lambda: _order(pipeline.pk))[:3] == ["Proposal", "Qualified", "Prospect"]


def _order(pipeline_id: int) -> list[str]:
    from leads.models import Stage

    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("order", "id").values_list("name", flat=True))


def _stage_id(live_data, pipeline_id: int, name: str) -> int:
    from leads.models import Stage

    return live_data.run(lambda: Stage.objects.get(pipeline_id=pipeline_id, name=name).pk)
