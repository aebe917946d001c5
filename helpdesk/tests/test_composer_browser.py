"""The composer in a browser: Markdown previewed on the server (tabs by keyboard), a file dropped and an image
pasted into the reply (one removed again), then Ctrl+Shift+Enter sends and opens the next ticket of the list."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()

DROP = """([name, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], name, { type: "text/plain" }));
  const zone = document.querySelector("[data-composer-drop]");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}"""

PASTE = """(png) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
  const body = document.querySelector("[data-composer-body]");
  body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
}"""


def test_preview_attach_by_drop_and_paste_then_send_and_next(live_stack, live_data, browser):
    from helpdesk.models import Attachment, Ticket, TicketMessage
    from helpdesk.tests.factories import TicketFactory

    agent = live_data.create_user("agent", name="Ada Lovelace")
    marker = f"c{uuid.uuid4().hex[:8]}"

    def tickets() -> tuple[int, int]:
        first = TicketFactory(subject=f"First {marker}", status="open", tags=[marker])
        second = TicketFactory(subject=f"Second {marker}", status="new", tags=[marker])
        Ticket.objects.filter(pk=first.pk).update(created=second.created.replace(year=second.created.year + 1))
        return first.pk, second.pk

    first, second = live_data.run(tickets)
    live_data.add_cleanup(lambda: Ticket.objects.filter(tags__contains=[marker]).delete())

    page = new_page(browser)
    problems = watch_page_errors(page)
    sign_in(page, live_stack, agent, next_path=f"/tickets/?tag={marker}")
    with page.expect_navigation():
        page.locator("#ticket-rows").get_by_text(f"First {marker}").click()

    body = page.locator("[data-testid=composer-body]")
    body.fill("Try **Settings** then <script>alert(1)</script>")
    page.locator("[data-testid=composer-write-tab]").focus()
    page.keyboard.press("ArrowRight")  # tabs move with the arrow keys
    preview = page.locator("#composer-preview")
    expect(preview.locator("strong")).to_have_text("Settings")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    expect(page.locator("[data-testid=composer-preview-tab]")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(body).to_be_visible()

    page.evaluate(DROP, ["notes.txt", "dropped notes"])
    page.evaluate(DROP, ["wrong.txt", "not this one"])
    page.evaluate(PASTE, PNG)
    files = page.locator("[data-testid=composer-file]")
    expect(files).to_have_count(3)
    page.get_by_role("button", name="Remove wrong.txt").click()
    expect(files).to_have_count(2)
    expect(files.nth(1)).to_contain_text(re.compile(r"pasted-.*\.png"))

    body.focus()
    with page.expect_navigation(url=re.compile(rf"/tickets/{second}/\?list=tag%3D{marker}$")):
        page.keyboard.press("Control+Shift+Enter")

    expect(page.locator("[data-testid=ticket-subject]")).to_have_value(f"Second {marker}")
    expect(page.locator("#toasts")).to_contain_text(f"Reply sent on #{first}. Next: #{second}.")

    def sent() -> tuple[str, list[str]]:
        message = TicketMessage.objects.get(ticket_id=first)
        return message.body, sorted(Attachment.objects.filter(message=message).values_list("filename", flat=True))

    text, names = live_data.run(sent)
    assert text.startswith("Try **Settings**")
    assert names[0] == "notes.txt" and re.fullmatch(r"pasted-[\d-]+\.png", names[1]), names
    assert problems == []
