"""In the browser: the AI panel fills in after create (worker + websocket), Apply updates the ticket, "Draft reply"
shows a cited reply that Insert puts into the composer, a question goes into the reply, Improve opens side by side."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in
from customers.models import Contact, Customer
from helpdesk.models import Article, Category, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

QUESTION = "How do I reset my password? I forgot it and the sign-in page says my password is wrong."


def test_agent_uses_the_ai_panel_and_the_composer(live_stack, live_data, browser):
    agent = live_data.create_user("agent", name="Ada Agent")
    tag = uuid.uuid4().hex[:8]
    domain = f"ai-browser-{tag}.test"

    def seed() -> int:
        from helpdesk.services import kb
        from helpdesk.services.tickets import ticket_create

        Category.objects.create(name=f"Login {tag}", description="login and access: password reset, cannot sign in")
        Category.objects.create(name=f"Billing {tag}", description="billing: invoices, payments, refunds")
        Article.objects.create(
            title=f"Reset a forgotten password {tag}",
            slug=f"reset-password-{tag}",
            body="Open the sign-in page and click **Forgot password**. We email you a link to choose a new one.",
            status=Article.Status.PUBLISHED,
        )
        kb.articles_reindex()
        return ticket_create(subject="Forgot my password", description=QUESTION, requester_email=f"kim@{domain}").pk

    ticket_id = live_data.run(seed)
    live_data.add_cleanup(lambda: Category.objects.filter(name__endswith=tag).delete())
    live_data.add_cleanup(lambda: Article.objects.filter(slug__endswith=tag).delete())
    live_data.add_cleanup(lambda: Customer.objects.filter(domain=domain).delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email=f"kim@{domain}").delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk=ticket_id).delete())

    page = new_page(browser)
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ticket_id}/")
    panel = page.locator(f"#ai-panel-{ticket_id}")
    expect(panel).to_have_attribute("data-state", "done", timeout=90_000)  # pushed live, or polled
    expect(panel.locator("[data-testid=ai-provenance]").first).to_contain_text("Made offline by the local model")

    category = panel.locator("[data-testid=ai-chip][data-kind=category]")
    expect(category).to_contain_text(f"Login {tag}")
    category.locator("[data-testid=ai-apply]").click()
    expect(panel.locator("[data-testid=ai-chip][data-kind=category]")).to_have_attribute("data-status", "applied")
    expect(page.locator("#field-category option:checked")).to_have_text(f"Login {tag}")

    page.click("[data-testid=ai-draft-reply]")
    # The web server loads the embedding model on its first semantic search: allow for it on a busy machine.
    sources = page.locator("[data-testid=composer-ai-sources]")
    expect(sources).to_contain_text(f"Reset a forgotten password {tag}", timeout=60_000)
    body = page.locator("#composer-body")
    assert body.input_value() == ""  # a draft goes into the reply box only on Insert
    page.click("[data-testid=ai-insert]")
    page.wait_for_function("() => document.querySelector('#composer-body').value.includes('[1]')")
    assert "Forgot password" in body.input_value()
    assert page.locator("input[name=ai_run_id]").input_value().isdigit()

    page.evaluate(
        "window.__improveShown = false; document.getElementById('modal').addEventListener("
        "'shown.bs.modal', () => { window.__improveShown = true; }, {once: true})"
    )
    page.click("[data-testid=ai-improve]")
    modal = page.locator("#modal")
    # A question and one statement: restructuring would only repeat it, so there is nothing to accept.
    expect(modal.locator("[data-testid=ai-improve-nothing]")).to_contain_text("Nothing to improve")
    expect(modal.locator("[data-testid=ai-improve-accept]")).to_have_count(0)
    page.wait_for_function("() => window.__improveShown === true")  # Bootstrap ignores a Close while the modal fades in
    modal.locator(".modal-footer [data-bs-dismiss=modal]").click()
    expect(modal).to_be_hidden()
