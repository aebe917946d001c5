"""The web form in the browser: a shop's page on another origin frames the workspace's form; a visitor sends it, and
the lead appears live on the seller's board. A site not on the form's list cannot show it at all. An owner makes a
form and copies its snippet."""

from __future__ import annotations

import functools
import threading
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from core.testing.browser import axe_violations, new_page, sign_in, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

TRACK_SOCKET = "document.addEventListener('htmx:wsOpen', () => { window.sbSocketOpen = true; });"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def shop_site(tmp_path):
    """A static site on its own origin (127.0.0.1 and a free port, while the workspace is alpha.localhost)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, server.server_address[1]
    server.shutdown()
    server.server_close()


def _capture_form(live_data, origin: str, owner):
    """A pipeline of its own (the default one may belong to other tests) and a form adding leads to it."""
    from leads import capture, services
    from leads.models import Lead, LeadCaptureForm, Pipeline

    def make():
        pipeline = services.pipeline_create(name=f"Web {uuid.uuid4().hex[:6]}", is_default=False)
        first = pipeline.stages.order_by("order").first()
        form = capture.capture_form_create(
            name="Contact us", enabled=True, allowed_origins=[origin], stage=first, default_owner=owner
        )
        return pipeline, first, form

    pipeline, stage, form = live_data.run(make)

    def clean_up():
        LeadCaptureForm.objects.filter(pk=form.pk).delete()
        Lead.objects.filter(stage__pipeline_id=pipeline.pk).delete()
        Pipeline.objects.filter(pk=pipeline.pk).delete()

    live_data.add_cleanup(clean_up)
    return pipeline, stage, form


def _shop_page(folder, src: str) -> None:
    (folder / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href='data:,'><title>Shop</title>"
        f"</head><body><h1>The shop</h1><iframe src='{src}' title='Contact us' width='100%' height='560' "
        "referrerpolicy='strict-origin' sandbox='allow-forms allow-same-origin'></iframe></body></html>"
    )


def test_a_visitor_sends_the_embedded_form_and_the_lead_appears_on_the_board(live_stack, live_data, browser, shop_site):
    folder, port = shop_site
    origin = f"http://127.0.0.1:{port}"
    sam = live_data.create_user("sales", name="Sam Seller")
    pipeline, stage, form = _capture_form(live_data, origin, sam.user)
    _shop_page(folder, live_stack.url("alpha", f"/leads/capture/{form.public_key}/"))
    token = uuid.uuid4().hex[:8]

    seller = new_page(browser, viewport={"width": 1900, "height": 1000})
    seller.add_init_script(TRACK_SOCKET)
    sign_in(seller, live_stack, sam, next_path=f"/leads/pipelines/{pipeline.pk}/")
    seller.wait_for_function("() => window.sbSocketOpen === true")

    visitor = new_page(browser)
    problems = watch_page_errors(visitor)
    visitor.goto(f"{origin}/index.html")
    frame = visitor.frame_locator("iframe[title='Contact us']")
    frame.locator("[name=name]").fill("Vera Visitor")
    frame.locator("[name=email]").fill(f"vera@shop-{token}.example.org")
    frame.locator("[name=company]").fill(f"Shop {token}")
    frame.locator("[name=message]").fill("Please send a quote for 10 seats.")
    frame.locator("[data-testid=capture-submit]").click()
    expect(frame.locator("[data-testid=capture-thanks]")).to_contain_text(form.thank_you)

    column = seller.locator(f"#stage-cards-{stage.pk}")
    expect(column).to_contain_text(f"Shop {token} (web form)")
    expect(seller.locator(f"#stage-summary-{stage.pk} [data-testid=stage-count]")).to_have_text("1")
    assert problems == []


def test_a_site_not_on_the_list_cannot_show_the_form(live_stack, live_data, browser, shop_site):
    folder, port = shop_site
    sam = live_data.create_user("sales")
    _, _, form = _capture_form(live_data, f"http://127.0.0.1:{port}", sam.user)
    _shop_page(folder, live_stack.url("alpha", f"/leads/capture/{form.public_key}/"))

    visitor = new_page(browser)
    # The same page from "localhost": another origin than the one listed.
    visitor.goto(f"http://localhost:{port}/index.html", wait_until="load")  # "load" waits for the frame too

    frame = visitor.frame_locator("iframe[title='Contact us']")
    expect(frame.locator("[data-testid=capture-form]")).to_have_count(0)
    expect(frame.locator("[name=email]")).to_have_count(0)


def test_an_owner_makes_a_form_and_copies_its_snippet(live_stack, live_data, browser):
    from leads.models import LeadCaptureForm

    name = f"Contact {uuid.uuid4().hex[:6]}"
    live_data.add_cleanup(lambda: LeadCaptureForm.objects.filter(name=name).delete())
    owner = live_data.create_user("owner")
    page = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
    problems = watch_page_errors(page)
    sign_in(page, live_stack, owner, next_path="/leads/forms/new/")

    page.locator("[name=name]").fill(name)
    page.locator("[name=allowed_origins]").fill("https://www.example.org")
    page.locator("[data-testid=capture-settings-save]").click()
    snippet = page.locator("[data-testid=capture-snippet]")
    expect(snippet).to_contain_text("/leads/capture/lf_")
    assert axe_violations(page) == []
    page.locator("[data-testid=capture-copy]").click()
    expect(page.locator("#capture-copy-status")).to_have_text("The snippet is on your clipboard.")
    assert page.evaluate("() => navigator.clipboard.readText()") == snippet.input_value()

    # The form itself, as the preview link opens it.
    page.goto(page.locator("text=Preview the form").get_attribute("href"))
    expect(page.locator("[data-testid=capture-form]")).to_be_visible()
    assert axe_violations(page) == []
    assert problems == []
