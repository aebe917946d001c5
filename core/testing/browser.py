"""Playwright on Debian's chromium: launch flags, pages with short timeouts, signing in through the real form."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from .live import LiveStack, LiveUser

# Debian's chromium; SWITCHBOARD_CHROMIUM points elsewhere (the test of "CI fails without a browser" names none).
CHROMIUM = Path(os.environ.get("SWITCHBOARD_CHROMIUM") or "/usr/bin/chromium")
# Headless, offline and quiet: no sandbox (containers run as root), no GPU, no QUIC, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def launch_chromium(playwright: Any) -> Any:
    from playwright.sync_api import expect

    # Live pushes cross daphne, Redis and the browser on a busy CI box: allow more than the default 5 s.
    expect.set_options(timeout=TIMEOUT_MS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def new_page(browser: Any, **context_options: Any) -> Any:
    """A page in a fresh context (its own cookies), failing fast instead of waiting Playwright's 30 s.

    Pages run under the real Content-Security-Policy: give `wait_for_function` a function ("() => …"); an expression
    string is compiled with eval inside the page, which the policy refuses."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    track_requests(context)
    return context.new_page()


def track_requests(context: Any) -> None:
    """Keeps the context's HTTP requests that have no answer yet (see `requests_answered`)."""
    in_flight: set[Any] = set()
    # Functions, not bound builtins: Playwright marks the handlers it is given with an attribute.
    context.on("request", lambda request: in_flight.add(request))
    context.on("requestfinished", lambda request: in_flight.discard(request))
    context.on("requestfailed", lambda request: in_flight.discard(request))
    context._switchboard_in_flight = in_flight


def requests_answered(context: Any, *, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Waits (at most `timeout` seconds) until every request the context sent has its answer: a test's last click may
    have sent one (htmx posting feedback, say) that the server is still handling, and its clean-up must not delete
    rows under that request. Closing the browser used to give it that time by chance."""
    from playwright.sync_api import Error

    in_flight = getattr(context, "_switchboard_in_flight", set())
    deadline = time.monotonic() + timeout
    while in_flight and context.pages and time.monotonic() < deadline:
        # Events (answers, failures) are only dispatched while Playwright waits; a timeout, or a request that failed
        # instead of finishing, ends this wait early: look again.
        with contextlib.suppress(Error):
            context.wait_for_event("requestfinished", timeout=250)


def sign_in(page: Any, stack: LiveStack, user: LiveUser, *, slug: str = "alpha", next_path: str = "/") -> None:
    """Signs in through the workspace's real login form and waits until the session cookie is set."""
    page.goto(stack.url(slug, f"/accounts/login/?next={next_path}"))
    page.fill("[name=login]", user.email)
    page.fill("[name=password]", user.password)
    with page.expect_navigation():
        page.locator("form:has([name=password]) [type=submit]").first.click()
    if not any(cookie["name"] == settings.SESSION_COOKIE_NAME for cookie in page.context.cookies()):
        raise AssertionError(f"Signing in as {user.email} failed; the page says:\n{page.inner_text('body')[:500]}")


# Reports every Content-Security-Policy violation on the console, where `watch_page_errors` collects it.
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile}:${event.lineNumber} (${event.sample || ""})`);
});"""


def watch_page_errors(page: Any) -> list[str]:
    """A list that fills with the page's console errors, uncaught exceptions and CSP violations, across navigations."""
    problems: list[str] = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on("console", lambda message: message.type == "error" and problems.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught {error}"))
    # The console says only "Failed to load resource"; this names it.
    page.on(
        "response", lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}")
    )
    return problems


# --- Accessibility: axe-core (vendored for this check only; no page loads it) ------------------------------------

AXE_SOURCE = Path(settings.BASE_DIR, "static/vendor/axe-core-4.14.1/axe.min.js")
# What a person meets first: text too faint to read, fields and controls without a name, headings out of order.
AXE_RULES = [
    "color-contrast",
    "label",
    "select-name",
    "heading-order",
    "page-has-heading-one",
    "link-name",
    "button-name",
]


# Every request a page makes after its load event goes through htmx (static/js uses htmx.ajax, never fetch): htmx
# marks the requesting element (or its indicator) `htmx-request` from the moment it sends until the response is
# swapped in, and the swapped content `htmx-settling` until it settled, during which the new content's own
# `hx-trigger="load"` requests start. So no such class left means nothing more is coming, without sitting out
# Playwright's "networkidle" (half a second without traffic, on every page).
SETTLED = """() => document.readyState === "complete" && document.fonts.status === "loaded"
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")"""


def settle(page: Any) -> None:
    """Waits until the page stops changing: loaded, fonts loaded, htmx's requests on load answered and settled."""
    page.wait_for_load_state("load")
    page.wait_for_function(SETTLED)


def axe_violations(page: Any, rules: list[str] = AXE_RULES) -> list[str]:
    """One line per element that breaks one of `rules` on the page as it is now.

    axe is evaluated through DevTools, which the page's Content-Security-Policy does not govern, so the page runs
    under its real policy (a <script> tag would be refused)."""
    settle(page)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text())
    results = page.evaluate(
        """rules => axe.run(document, {runOnly: {type: "rule", values: rules}, resultTypes: ["violations"]})""",
        rules,
    )
    return [
        f"{page.url} {violation['id']}: {node['target']} {_one_line(node['failureSummary'])} {node['html'][:160]}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())
