"""Form pages open at one h1 and name every field, whether they come as a page or in a modal.

Each form is one template with a `modal-body` partial: htmx puts it in the page's modal, under that page's h1, and
without JavaScript it is a page of its own, which must then start at h1. Every control carries a label (or an
aria-label) that points at it, so a screen reader reads what to type.
"""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise

import pytest

from customers.tests.factories import ContactFactory
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "modal-body"}
FORM_PAGES = [
    "/tickets/new/",
    "/tickets/views/new/",
    "/customers/new/",
    "/customers/{customer}/edit/",
    "/customers/{customer}/delete/",
    "/customers/{customer}/contacts/new/",
    "/customers/contacts/{contact}/edit/",
    "/kb/categories/new/",
    "/team/invitations/new/",
    "/settings/helpdesk/sla/new/",
    "/settings/helpdesk/teams/new/",
    "/settings/helpdesk/skills/new/",
    "/settings/helpdesk/calendars/new/",
    "/settings/helpdesk/categories/new/",
    "/settings/ai/providers/new/",
    "/settings/channels/sms/new/",
]
# Forms that are always a page of their own, never a modal.
PAGE_ONLY_FORMS = [
    "/settings/channels/connect/?kind=microsoft365",
    "/settings/channels/connect/?kind=imap",
    "/leads/forms/new/",
    "/insights/reports/new/",
]
CONTROLS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Outline(HTMLParser):
    """The headings in order, and the form controls with nothing that names them."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.controls: list[dict[str, str]] = []
        self.label_targets: set[str] = set()
        self.label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(tag)
        elif tag == "label":
            self.label_depth += 1
            self.label_targets.add(values.get("for", ""))
        elif tag in CONTROLS and values.get("type", "text") not in UNLABELLED_TYPES:
            self.controls.append(values | {"_tag": tag, "_in_label": "1" if self.label_depth else ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1

    def unlabelled(self) -> list[str]:
        return [
            control.get("name") or control["_tag"]
            for control in self.controls
            if not (
                control["_in_label"]
                or control.get("aria-label")
                or control.get("aria-labelledby")
                or control.get("id", "\0") in self.label_targets
            )
        ]


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.fixture
def form_urls(login) -> list[str]:
    login("owner")
    contact = ContactFactory()
    return [path.format(customer=contact.customer_id, contact=contact.pk) for path in FORM_PAGES]


def test_the_outline_finds_unlabelled_fields_and_headings():
    found = outline(
        '<h2>x</h2><label for="a">A</label><input id="a" name="a"><input name="b"><select name="c"></select>'
    )

    assert found.headings == ["h2"] and found.unlabelled() == ["b", "c"]


def test_form_pages_start_at_one_h1(client, form_urls):
    urls = form_urls + PAGE_ONLY_FORMS
    starts = {url: outline(client.get(url).content.decode()).headings[:1] for url in urls}

    assert {url: start for url, start in starts.items() if start != ["h1"]} == {}
    assert all(outline(client.get(url).content.decode()).headings.count("h1") == 1 for url in urls)


def test_forms_in_a_modal_stay_below_the_page_s_h1(client, form_urls):
    headings = {url: outline(client.get(url, **HTMX).content.decode()).headings for url in form_urls}

    assert {url: found for url, found in headings.items() if found[:1] != ["h2"] or "h1" in found} == {}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "modal"])
def test_form_headings_go_down_one_level_at_a_time(client, form_urls, headers):
    skipping = {}
    for url in form_urls:
        levels = [int(tag[1]) for tag in outline(client.get(url, **headers).content.decode()).headings]
        if any(later > earlier + 1 for earlier, later in pairwise(levels)):
            skipping[url] = levels

    assert skipping == {}


def test_every_field_of_a_form_page_has_a_label(client, form_urls):
    urls = form_urls + PAGE_ONLY_FORMS
    unlabelled = {url: outline(client.get(url).content.decode()).unlabelled() for url in urls}

    assert {url: names for url, names in unlabelled.items() if names} == {}


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_a_ticket_page_has_one_h1_whether_its_subject_is_editable_or_not(client, login, role):
    login(role)
    ticket = TicketFactory(subject="Printer on fire")

    html = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert outline(html).headings.count("h1") == 1
    assert html.count("Printer on fire</h1>") == 1
