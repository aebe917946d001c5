"""Settings as people meet them: one People section (members, teams, skills), every section's tabs laid out by the
same component, and pages that speak in words rather than in code identifiers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from ai.models import AIPolicy
from ai.tests.factories import AIRunFactory, PromptOverrideFactory
from helpdesk.tests.factories import SLARiskModelFactory, TeamFactory

pytestmark = pytest.mark.django_db

PEOPLE = ["people:members", "people:teams", "people:skills"]
HELPDESK = [
    "helpdesk_settings:general",
    "helpdesk_settings:policy_list",
    "helpdesk_settings:calendar_list",
    "helpdesk_settings:category_list",
]
AI = ["ai:settings", "ai:prompt_list", "ai:model_list", "ai:usage", "ai:run_list"]
# What code calls things, never what a person reads: prompt and operation keys, the risk model's score, seconds.
IDENTIFIERS = re.compile(
    r"\b(reply_draft|json_repair|classify_trained|helpdesk\.\w+|system:v\d+|AUC|86400|86,400|\w+_seconds)\b"
)


@pytest.fixture
def owner(login):
    return login("owner")


class VisibleText(HTMLParser):
    """The text a person sees: text nodes outside <script>/<style>, and the titles and labels they may hover."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden += 1
        self.parts += [value or "" for name, value in attrs if name in {"title", "aria-label", "placeholder"}]

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"}:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


# --- One People section --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/team/", "/people/"),
        ("/settings/helpdesk/teams/", "/people/teams/"),
        ("/settings/helpdesk/agents/", "/people/skills/"),
        ("/team/?page=2", "/people/?page=2"),
    ],
)
def test_old_people_addresses_send_bookmarks_to_the_people_section(client, owner, old, new):
    response = client.get(old)

    assert response.status_code == 301 and response["Location"] == new


@pytest.mark.parametrize("name", PEOPLE)
def test_each_people_page_shows_the_three_people_tabs(client, owner, name):
    TeamFactory(name="Billing")

    html = client.get(reverse(name)).content.decode()

    assert '<h1 class="h3 mb-0">People</h1>' in html
    tabs = html.split('data-testid="section-tabs"', 1)[1].split("</ul>", 1)[0]
    assert [reverse(tab) for tab in PEOPLE] == re.findall(r'href="([^"]+)"', tabs)
    assert tabs.count('aria-current="page"') == 1


def test_the_navigation_has_one_people_entry_and_helpdesk_settings_no_people_tabs(client, owner):
    html = client.get(reverse("helpdesk_settings:general")).content.decode()

    nav = html.split('id="main-nav"', 1)[1].split("</ul>", 1)[0]
    assert nav.count(f'href="{reverse("people:members")}"') == 1 and ">Team<" not in nav
    tabs = html.split('data-testid="section-tabs"', 1)[1].split("</ul>", 1)[0]
    assert reverse("people:teams") not in tabs and reverse("people:skills") not in tabs


# --- Tabs alike ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HELPDESK + AI + PEOPLE)
def test_every_settings_section_lays_out_its_heading_and_tabs_with_the_same_component(client, owner, name):
    html = client.get(reverse(name)).content.decode()

    heading = re.search(r'<div class="mb-2">\s*<h1 class="h3 mb-0">([^<]+)</h1>', html)
    assert heading and heading.group(1) in {"People", "Helpdesk settings", "AI settings"}
    assert html.count('<ul class="nav nav-underline mb-3"') == 1 and html.count("<h1") == 1
    assert re.search(r'class="nav-link active" aria-current="page" href="[^"]+" data-testid="tab-', html)


# --- Words, not identifiers ----------------------------------------------------------------------


def test_no_settings_page_shows_code_identifiers(client, owner):
    AIPolicy.objects.create(cache_ttl_seconds=86400)
    PromptOverrideFactory(feature="reply_draft")
    AIRunFactory(feature="helpdesk.reply_draft", operation="generate", prompt_key="reply_draft")
    AIRunFactory(feature="json_repair", operation="generate", prompt_key="json_repair")
    SLARiskModelFactory(auc=0.8, heuristic_auc=0.62, holdout_samples=80)
    pages = [reverse(name) for name in HELPDESK + AI + PEOPLE]
    pages += [reverse("ai:prompt_edit", args=[key]) for key in ("reply_draft", "json_repair")]

    shown = {page: IDENTIFIERS.findall(visible_text(client.get(page).content.decode())) for page in pages}

    assert {page: found for page, found in shown.items() if found} == {}


def test_settings_say_it_in_words(client, owner):
    AIPolicy.objects.create(cache_ttl_seconds=86400)
    SLARiskModelFactory(auc=0.8, heuristic_auc=0.62, holdout_samples=80)

    ai_page = visible_text(client.get(reverse("ai:settings")).content.decode())
    sla_page = visible_text(client.get(reverse("helpdesk_settings:policy_list")).content.decode())
    prompts = visible_text(client.get(reverse("ai:prompt_list")).content.decode())

    assert "Reuse identical answers for" in ai_page and "1 day" in ai_page
    assert "right 8 times in 10" in sla_page and "the rule of thumb: right 6 times in 10" in sla_page
    assert "Reply drafts" in prompts and "Fixing malformed AI answers" in prompts
