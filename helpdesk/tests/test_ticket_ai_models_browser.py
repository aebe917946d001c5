"""The AI models page in a real browser with a real worker: an admin trains a version of the ticket-category model,
watches its progress, and sees the evaluation next to the majority baseline once the job is done."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

NAME = "helpdesk.category"
# Where the page's picture goes for the closing note (var/ is not tracked).
SCREENSHOT = Path(os.environ.get("MODELS_SCREENSHOT", Path(__file__).resolve().parents[2] / "var" / "models.png"))


def _categorised_tickets() -> dict[str, list[int]]:
    """Committed rows (the live servers see them): what the cleanup must delete again."""
    from helpdesk.models import Category
    from helpdesk.tests.factories import TicketFactory
    from helpdesk.tests.ticket_ai_support import categories, labelled

    existing = set(Category.objects.values_list("pk", flat=True))
    found = categories()
    rows = [row for row in labelled(14) if row["label"] in ("billing", "login", "shipping")]
    tickets = [
        TicketFactory(subject=row["text"][:60], original_description=row["text"], category=found[row["label"]])
        for row in rows
    ]
    return {
        "tickets": [ticket.pk for ticket in tickets],
        "contacts": [ticket.requester_id for ticket in tickets],
        "customers": [ticket.customer_id for ticket in tickets],
        "categories": [category.pk for category in found.values() if category.pk not in existing],
    }


def _forget(created: dict[str, list[int]]) -> None:
    from ai.models import Dataset, ModelVersion
    from customers.models import Contact, Customer
    from helpdesk.models import Category, Ticket

    ModelVersion.objects.filter(name=NAME).delete()
    Dataset.objects.filter(name=NAME).delete()
    Ticket.objects.filter(pk__in=created["tickets"]).delete()
    Contact.objects.filter(pk__in=created["contacts"]).delete()
    Customer.objects.filter(pk__in=created["customers"]).delete()
    Category.objects.filter(pk__in=created["categories"]).delete()


def test_an_admin_trains_a_version_and_sees_its_evaluation(live_stack, live_data, browser):
    admin = live_data.create_user("admin")
    created = live_data.run(_categorised_tickets)
    live_data.add_cleanup(lambda: _forget(created))

    page = new_page(browser, viewport={"width": 1440, "height": 1000})
    errors = watch_page_errors(page)
    sign_in(page, live_stack, admin, next_path=f"/settings/ai/models/?classifier={NAME}")
    expect(page.get_by_test_id("versions-empty")).to_be_visible()

    page.get_by_test_id("model-train").click()

    version = page.locator('[data-testid="model-version"][data-version="1"]')
    expect(version).to_have_attribute("data-status", "ready", timeout=180_000)  # the page reloads itself when done
    expect(version.get_by_test_id("model-deployed")).to_be_visible()
    expect(page.get_by_test_id("model-progress")).to_have_count(0)
    page.get_by_test_id("model-evaluation").first.locator("summary").click()
    expect(page.get_by_test_id("score-baseline")).to_be_visible()
    expect(page.get_by_test_id("model-confusion")).to_be_visible()
    expect(page.get_by_test_id("model-datasets")).to_contain_text("billing")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert errors == []
