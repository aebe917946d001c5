"""In the browser: "Draft reply" on a ticket whose best sources are internal shows the draft and its internal
sources in a card and leaves the reply box alone; Insert fills the box, Discard takes out exactly what it put in
(and asks first when the agent has changed it since). Keyboard only for the buttons.

With SWITCHBOARD_SCREENSHOTS=<dir> the card is saved as issue10-draft-internal-sources.png there (docs/screenshots).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ai import facade
from core.testing.browser import axe_violations, new_page, sign_in
from customers.models import Contact, Customer
from helpdesk.models import Article, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

QUESTION = "How do I reset my password? I forgot it and cannot sign in to the portal."
SOLVED_ANSWER = (
    "Hi Maria,\n\n"
    "I sent a new password reset link to your address; the link arrives within a few minutes. "
    "Maria, if it does not arrive please call me on +44 20 7946 0958. "
    "Steps are in /kb/62/ (internal: check before sending).\n"
    "Open the link in a private browser window if the portal keeps the old session.\n\n"
    "Kind regards,\nPriya Shah"
)
SCREENSHOT = "issue10-draft-internal-sources.png"


def _seed(live_data, tag: str) -> dict[str, int]:
    agent = live_data.create_user("agent", name="Priya Shah")
    other_domain = f"globex-{tag}.test"

    def seed() -> dict[str, int]:
        from helpdesk.models import TicketMessage
        from helpdesk.services import kb, ticket_ai
        from helpdesk.services.tickets import ticket_create

        internal = Article.objects.create(
            title="Reset a forgotten portal password (agents)",
            slug=f"reset-portal-agents-{tag}",
            body="When a customer forgot their portal password and cannot sign in, reset the password from the "
            "admin console under Users → Security. Verify the caller first and record it in an internal note.",
            status=Article.Status.PUBLISHED,
            visibility=Article.Visibility.INTERNAL,
        )
        public = Article.objects.create(
            title="Forgot your password?",
            slug=f"forgot-password-{tag}",
            body="Open the sign-in page of the portal and click **Forgot password**. "
            "We email you a link to choose a new password; it is valid for 24 hours.",
            status=Article.Status.PUBLISHED,
        )
        kb.articles_reindex()
        solved = ticket_create(
            subject="Forgot my portal password",
            description="I forgot my portal password and cannot sign in.",
            requester_email=f"maria.lopez@{other_domain}",
            requester_name="Maria Lopez",
        )
        TicketMessage.objects.create(
            ticket=solved, body=SOLVED_ANSWER, author=agent.user, kind=TicketMessage.Kind.REPLY
        )
        Ticket.objects.filter(pk=solved.pk).update(status=Ticket.Status.SOLVED)
        ticket_ai.solved_ticket_index(ticket_id=solved.pk)
        ticket = ticket_create(
            subject="Password reset for the portal",
            description=QUESTION,
            requester_email=f"kim@kim-{tag}.test",
            requester_name="Kim Novak",
        )
        return {"internal": internal.pk, "public": public.pk, "solved": solved.pk, "ticket": ticket.pk}

    ids = live_data.run(seed)
    live_data.add_cleanup(lambda: Customer.objects.filter(domain__endswith=f"-{tag}.test").delete())
    live_data.add_cleanup(lambda: Contact.objects.filter(email__endswith=f"-{tag}.test").delete())
    live_data.add_cleanup(lambda: Ticket.objects.filter(pk__in=[ids["solved"], ids["ticket"]]).delete())
    live_data.add_cleanup(lambda: Article.objects.filter(slug__endswith=tag).delete())
    return ids


def test_a_draft_from_internal_sources_goes_into_the_reply_only_on_insert(live_stack, live_data, browser):
    tag = uuid.uuid4().hex[:8]
    ids = _seed(live_data, tag)
    agent = live_data.create_user("agent", name="Sam Agent")

    page = new_page(browser, viewport={"width": 1280, "height": 1000})
    sign_in(page, live_stack, agent, next_path=f"/tickets/{ids['ticket']}/")
    box = page.locator("#composer-body")
    run_id = page.locator("input[name=ai_run_id]")

    page.click("[data-testid=ai-draft-reply]")
    # The web server loads the embedding model on its first semantic search: allow for it on a busy machine.
    card = page.locator("[data-testid=composer-ai-draft]")
    expect(card).to_be_visible(timeout=60_000)
    draft = card.locator("[data-testid=composer-ai-draft-text]")
    expect(draft).to_contain_text("the link arrives within a few minutes")
    expect(draft).to_contain_text(f"/help/articles/forgot-password-{tag}/")
    text = draft.inner_text()
    for hidden in ("/kb/", f"#{ids['solved']}", "internal", "Maria", "Priya", "7946", "Kind regards,\nPriya"):
        assert hidden not in text, hidden
    internal = card.locator("[data-testid=composer-ai-internal-sources]")
    expect(internal).to_contain_text("for you only, never sent")
    expect(internal.locator(f"a[href='/tickets/{ids['solved']}/']")).to_contain_text("Forgot my portal password")
    expect(internal.locator(f"a[href='/kb/{ids['internal']}/']")).to_contain_text("(agents)")
    assert box.input_value() == "" and run_id.input_value() == ""  # nothing in the box before Insert
    assert axe_violations(page, ["button-name", "link-name", "heading-order", "color-contrast"]) == []
    if os.environ.get("SWITCHBOARD_SCREENSHOTS"):
        card.screenshot(path=str(Path(os.environ["SWITCHBOARD_SCREENSHOTS"]) / SCREENSHOT))

    # Insert (from the keyboard) fills the box; Discard takes it out again.
    card.locator("[data-testid=ai-insert]").focus()
    page.keyboard.press("Enter")
    expect(box).to_have_value(re.compile(r"^Hello Kim,"))
    assert box.input_value() == card.locator("textarea[readonly]").input_value()
    assert run_id.input_value().isdigit()
    expect(card.locator("[data-testid=ai-draft-status]")).to_contain_text("Inserted into the reply box")
    inserted_run = int(run_id.input_value())
    card.locator("[data-testid=ai-discard]").focus()
    with page.expect_response(lambda response: "/tickets/ai/feedback/" in response.url):
        page.keyboard.press("Enter")
    expect(card).to_have_count(0)
    expect(box).to_have_value("")
    assert run_id.input_value() == ""
    assert [row.outcome for row in live_data.run(lambda: facade.get_feedback(inserted_run))] == ["rejected"]

    # The agent's own words survive: typed before, they stay; an edit after Insert makes Discard ask first.
    box.fill("Hi Kim,")
    page.click("[data-testid=ai-draft-reply]")
    expect(card).to_be_visible(timeout=60_000)
    expect(box).to_have_value("Hi Kim,")
    card.locator("[data-testid=ai-insert]").click()
    expect(box).to_have_value(re.compile(r"^Hi Kim,\n\nHello Kim,"))
    box.press("Control+End")
    box.type(" Thanks!")
    card.locator("[data-testid=ai-discard]").click()
    confirm = card.locator("[data-testid=ai-discard-confirm]")
    expect(confirm).to_be_visible()
    expect(confirm.locator("[data-testid=ai-discard-clear]")).to_be_focused()
    expect(box).to_have_value(re.compile(r"Thanks!$"))  # nothing removed yet
    confirm.locator("[data-testid=ai-discard-clear]").click()
    expect(card).to_have_count(0)
    expect(box).to_have_value("Hi Kim,")
