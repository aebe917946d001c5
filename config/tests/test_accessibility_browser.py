"""axe-core on the main pages of every role, anonymous visitors included: text reaches WCAG AA contrast, every field,
menu, link and button has a name, and each page starts at one h1 with headings in order.

Pages render differently per role (a viewer's ticket has no composer, an owner's settings have every tab), so each
distinct rendering is walked once, by a role that sees it. One line per failing element names the page, the rule
and the markup.
"""

from __future__ import annotations

import uuid

import pytest

from core.testing.browser import axe_violations, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]

MEMBER_PAGES = [
    "/tickets/",
    "/tickets/{ticket}/",
    "/customers/",
    "/customers/{customer}/",
    "/customers/contacts/{contact}/",
    "/kb/",
    "/kb/{article}/",
]
WRITER_PAGES = [
    "/tickets/new/",
    "/tickets/macros/",
    "/tickets/macros/new/",
    "/customers/new/",
    "/customers/contacts/",
    "/kb/new/",
    "/kb/categories/",
]
MANAGER_PAGES = [
    "/people/",
    "/people/teams/",
    "/people/skills/",
    "/team/invitations/new/",
    "/settings/helpdesk/",
    "/settings/helpdesk/sla/",
    "/settings/helpdesk/sla/new/",
    "/settings/helpdesk/calendars/",
    "/settings/helpdesk/categories/",
    "/settings/ai/",
    "/settings/ai/providers/new/",
    "/settings/ai/prompts/",
    "/settings/ai/prompts/reply_draft/",
    "/settings/ai/usage/",
    "/settings/ai/runs/",
    "/settings/ai/runs/{run}/",
    "/leads/settings/pipelines/",
    "/quotes/settings/",
    "/insights/trends/",
    "/insights/hurdles/",
    "/insights/churn/",
]
OWN_ACCOUNT_PAGES = ["/accounts/password/change/", "/accounts/2fa/", "/team/api-token/"]
# A page a role shares with a role walked already renders the same markup (an admin's and an agent's member and
# writer pages are the owner's; a seller's tickets and companies are the viewer's, without a composer), so each
# markup is walked once: the owner for everything a writer and a manager see, the viewer for read-only pages, the
# seller for the sales pages.
ROLE_PAGES = {
    "owner": MEMBER_PAGES + WRITER_PAGES + MANAGER_PAGES + OWN_ACCOUNT_PAGES,
    "sales": ["/leads/", "/leads/list/", "/leads/new/", "/quotes/", "/quotes/{quote}/", "/quotes/catalog/"],
    "viewer": MEMBER_PAGES,
}
ANONYMOUS_PAGES = [
    ("alpha", "/help/"),
    ("alpha", "/help/articles/{slug}/"),
    ("alpha", "/help/requests/new/"),
    ("alpha", "/help/sign-in/"),
    ("alpha", "/accounts/login/"),
    ("alpha", "/accounts/password/reset/"),
    ("alpha", "/admin/login/"),
    (None, "/"),
    (None, "/signup/"),
    (None, "/signin/"),
    (None, "/admin/login/"),
]


def _pages_data(marker: str, author_id: int) -> dict[str, int | str]:
    """A ticket with each kind of message (pending, high priority), a solved one, a customer, a public article."""
    from django.contrib.auth import get_user_model

    from ai.tests.factories import AIRunFactory
    from customers.tests.factories import ContactFactory, NoteFactory, TaskFactory
    from helpdesk.models import Ticket, TicketMessage
    from helpdesk.tests.factories import ArticleFactory, TicketFactory, TicketMessageFactory

    author = get_user_model().objects.get(pk=author_id)
    contact = ContactFactory(customer__name=f"Accessible {marker}", customer__domain=f"a11y-{marker}.test")
    values = {"requester": contact, "customer": contact.customer}
    ticket = TicketFactory(
        subject=f"Accessible {marker}", status=Ticket.Status.PENDING, priority=Ticket.Priority.HIGH, **values
    )
    TicketFactory(subject=f"Accessible solved {marker}", status=Ticket.Status.SOLVED, **values)
    TicketMessageFactory(ticket=ticket, author=None, author_contact=contact, body="The printer is on fire.")
    TicketMessageFactory(ticket=ticket, author=author, body="Please unplug it.")
    TicketMessageFactory(ticket=ticket, author=author, kind=TicketMessage.Kind.NOTE, body="Call facilities.")
    # The company and contact pages' notes, tasks and timeline have something to show.
    NoteFactory(customer=contact.customer, contact=contact, body="Prefers **email**.", author=author, pinned=True)
    TaskFactory(customer=contact.customer, title="Call back about the printer", owner=author)
    article = ArticleFactory(title=f"Accessible article {marker}", slug=f"accessible-{marker}", tags=["printing"])
    run = AIRunFactory(provider="local", model="switchboard-local-1", cost_usd=0)
    quote = _quote_with_lines(contact, marker)
    return {
        "quote": quote.pk,
        "ticket": ticket.pk,
        "customer": contact.customer_id,
        "contact": contact.pk,
        "article": article.pk,
        "slug": article.slug,
        "run": run.pk,
        "category": article.category_id,
    }


def _quote_with_lines(contact, marker: str):
    """A quote with a heading, a catalog line and an optional line: the builder has every kind of row."""
    from quotes import services
    from quotes.tests.factories import ProductFactory, ProductPriceFactory

    product = ProductFactory(sku=f"A11Y-{marker}", name=f"Accessible seat {marker}")
    ProductPriceFactory(product=product)
    quote = services.quote_create(actor=None, customer_id=contact.customer_id, title=f"Accessible {marker}")
    services.quote_line_add(quote=quote, actor=None, kind="section", data={"description": "Licences"})
    services.quote_line_add(quote=quote, actor=None, product=product, data={"quantity": "3"})
    services.quote_line_add(quote=quote, actor=None, data={"description": "Training", "optional": True})
    return quote


def _delete_pages_data(marker: str, data: dict[str, int | str]) -> None:
    from ai.models import AIRun
    from customers.models import Customer
    from helpdesk.models import Article, ArticleCategory, Ticket
    from quotes.models import Product, Quote

    Quote.objects.filter(pk=data["quote"]).delete()
    Product.objects.filter(sku=f"A11Y-{marker}").delete()

    Ticket.objects.filter(subject__endswith=marker).delete()
    Customer.objects.filter(name=f"Accessible {marker}").delete()
    Article.objects.filter(pk=data["article"]).delete()
    ArticleCategory.objects.filter(pk=data["category"]).delete()
    AIRun.objects.filter(pk=data["run"]).delete()


@pytest.fixture
def pages_data(live_data):
    marker = uuid.uuid4().hex[:8]
    author = live_data.create_user("agent")
    data = live_data.run(lambda: _pages_data(marker, author.user.pk))
    live_data.add_cleanup(lambda: _delete_pages_data(marker, data))
    return data


def _write_a_note(page) -> None:
    """The composer's other tab: checked, the "Internal note" label is black on amber."""
    if page.locator("[data-testid=composer-tab-note]").count():
        page.click("[data-testid=composer-tab-note]")


def _open_the_add_provider_modal(page) -> None:
    page.click("[data-testid=provider-new]")
    page.locator("#modal.show details").evaluate("details => { details.open = true; }")


def _open_vendor_settings(page) -> None:
    page.locator("details").evaluate_all("all => all.forEach(details => { details.open = true; })")


def _open_the_shortcut_help(page) -> None:
    page.keyboard.press("?")
    page.locator("#shortcuts-modal.show").wait_for()


# Pages whose second state is checked too: after `step`, axe runs again.
STEPS = {
    "/customers/": _open_the_shortcut_help,
    "/tickets/{ticket}/": _write_a_note,
    "/settings/ai/": _open_the_add_provider_modal,
    "/settings/ai/providers/new/": _open_vendor_settings,
}


def _walk(page, pages: list[tuple[str, str]]) -> list[str]:
    """`pages`: (url, path as written above); a path with a step is checked again after it."""
    violations = []
    for url, path in pages:
        response = page.goto(url)
        assert response.status == 200, f"{url} answered {response.status}"
        violations += axe_violations(page)
        if path in STEPS:
            STEPS[path](page)
            violations += axe_violations(page)
    return violations


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_every_role_s_main_pages_pass_axe(role, live_stack, live_data, pages_data, browser):
    user = live_data.create_user(role)
    page = new_page(browser, reduced_motion="reduce")
    sign_in(page, live_stack, user, next_path="/customers/")

    pages = [(live_stack.url("alpha", path.format(**pages_data)), path) for path in ROLE_PAGES[role]]

    violations = _walk(page, pages)

    assert not violations, "\n".join(violations)


def test_the_pages_of_anonymous_visitors_pass_axe(live_stack, pages_data, browser):
    page = new_page(browser, reduced_motion="reduce")

    pages = [(live_stack.url(slug, path.format(**pages_data)), path) for slug, path in ANONYMOUS_PAGES]

    violations = _walk(page, pages)

    assert not violations, "\n".join(violations)


def test_the_check_finds_what_it_looks_for(live_stack, browser):
    """Faint text, a nameless field and a page without h1: the walk above would say so.

    (axe leaves text exactly as light as its background "to review" rather than failing it: the class check in
    config/tests/test_css_classes.py catches badges whose classes do not exist.)"""
    page = new_page(browser, reduced_motion="reduce")
    page.goto(live_stack.url("alpha", "/help/"))
    page.evaluate(
        """() => { document.querySelectorAll("h1").forEach(h => h.remove());
        document.body.insertAdjacentHTML("beforeend",
          '<p style="color:#999;background:#fff">faint</p><input type="text" id="nameless">'); }"""
    )

    found = {line.split(" ")[1].rstrip(":") for line in axe_violations(page)}

    assert {"color-contrast", "label", "page-has-heading-one"} <= found


# Every text colour the templates use, as text and as buttons, whether or not a walked page happens to show it.
PALETTE = [
    *(
        f'<span class="{name}">{name}</span>'
        for name in [
            "text-body-secondary",
            "text-body-tertiary",
            "text-primary",
            "text-secondary",
            "text-success",
            "text-danger",
            "text-warning-emphasis",
            "text-info-emphasis",
            "sb-due sb-due-soon",
            "sb-due sb-due-breached",
            "sb-due sb-due-ok",
            "sb-due sb-due-paused",
        ]
    ),
    *(f'<a class="{name}" href="#">{name}</a>' for name in ["link-primary", "link-secondary", "link-body-emphasis"]),
    *(
        f'<button type="button" class="btn {name}">{name}</button>'
        for name in [
            "btn-primary",
            "btn-secondary",
            "btn-success",
            "btn-danger",
            "btn-warning",
            "btn-outline-primary",
            "btn-outline-secondary",
            "btn-outline-success",
            "btn-outline-danger",
            "btn-outline-warning",
            "btn-link",
        ]
    ),
    *(
        f'<span class="badge {name}">{name}</span>'
        for name in [
            "text-bg-primary",
            "text-bg-secondary",
            "text-bg-success",
            "text-bg-danger",
            "text-bg-warning",
            "text-bg-info",
            "text-bg-light",
            "text-bg-dark",
            "sb-badge-reply",
            # The AI panel's and the composer's quiet badges ("internal", "your model", "dismissed", "applied").
            "bg-secondary-subtle text-secondary-emphasis",
            "bg-warning-subtle text-warning-emphasis",
            "bg-info-subtle text-info-emphasis",
            "bg-success-subtle text-success-emphasis",
            "bg-primary-subtle text-primary-emphasis",
        ]
    ),
    "<code>code</code>",
]


def test_every_text_colour_reads_on_the_page_background_and_on_cards(live_stack, browser):
    page = new_page(browser, reduced_motion="reduce")
    page.goto(live_stack.url("alpha", "/help/"))
    page.add_style_tag(url="/static/css/helpdesk.css")
    page.evaluate(
        """palette => document.querySelector("main").insertAdjacentHTML("beforeend",
          `<div>${palette}</div><div class="card"><div class="card-body">${palette}</div></div>`)""",
        " ".join(PALETTE),
    )

    violations = axe_violations(page, rules=["color-contrast"])

    assert not violations, "\n".join(violations)
