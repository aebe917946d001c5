"""Knowledge-base writes: articles (slugs, publishing, review), categories, votes, drafts from solved tickets."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from ai import facade as ai
from helpdesk.models import Article, ArticleCategory, Ticket, TicketMessage
from helpdesk.services import kb as services
from helpdesk.tests.factories import (
    ArticleCategoryFactory,
    ArticleFactory,
    CategoryFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db


# --- Articles -----------------------------------------------------------------------------------


def test_create_makes_a_unique_slug_from_the_title(make_user):
    agent = make_user("agent")
    first = services.article_create(actor=agent, title="Reset your Password!", body="Steps.")
    second = services.article_create(actor=agent, title="Reset your password", body="Other steps.")

    assert (first.slug, second.slug) == ("reset-your-password", "reset-your-password-2")
    assert first.status == Article.Status.DRAFT and first.published_at is None and first.author == agent


def test_a_chosen_slug_must_be_valid_and_free(make_user):
    agent = make_user("agent")
    services.article_create(actor=agent, title="One", body="x", slug="taken")

    with pytest.raises(ValidationError) as taken:
        services.article_create(actor=agent, title="Two", body="x", slug="taken")
    with pytest.raises(ValidationError) as invalid:
        services.article_create(actor=agent, title="Two", body="x", slug="Not a slug!")

    assert "already used" in taken.value.message_dict["slug"][0]
    assert "lower-case" in invalid.value.message_dict["slug"][0]


def test_empty_title_and_body_and_bad_choices_are_field_errors(make_user):
    with pytest.raises(ValidationError) as error:
        services.article_create(actor=make_user("agent"), title=" ", body="", status="live", visibility="secret")

    assert set(error.value.message_dict) == {"title", "body", "status", "visibility"}
    assert not Article.objects.exists()


def test_publishing_stamps_the_first_publication_only(make_user):
    agent = make_user("agent")
    article = services.article_create(actor=agent, title="Guide", body="Text.")
    services.article_update(article=article, actor=agent, data={"status": "published"})
    first = article.published_at
    services.article_update(article=article, actor=agent, data={"status": "archived"})
    services.article_update(article=article, actor=agent, data={"status": "published"})

    assert first is not None and article.published_at == first


def test_update_keeps_the_slug_unless_asked_and_refuses_unknown_fields(make_user):
    agent = make_user("agent")
    article = services.article_create(actor=agent, title="Guide", body="Text.", tags="Billing, VIP ,billing")
    services.article_update(article=article, actor=agent, data={"body": "New text."})
    assert article.slug == "guide" and article.tags == ["billing", "vip"]

    services.article_update(article=article, actor=agent, data={"title": "Better guide", "slug": ""})
    assert article.slug == "better-guide"
    with pytest.raises(ValidationError):
        services.article_update(article=article, actor=agent, data={"view_count": 1_000})


def test_review_clears_the_ai_mark_and_records_who(make_user):
    reviewer = make_user("agent")
    article = ArticleFactory(ai_generated=True)

    services.article_review(article=article, actor=reviewer)
    article.refresh_from_db()
    assert not article.ai_generated and article.reviewed_by == reviewer


def test_votes_and_views_count_up():
    article = ArticleFactory()
    services.article_vote(article=article, helpful=True)
    services.article_vote(article=article, helpful=True)
    services.article_vote(article=article, helpful=False)
    services.article_view_record(article=article)

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no, article.view_count) == (2, 1, 1)


# --- Categories ---------------------------------------------------------------------------------


def test_category_create_update_delete_keeps_the_articles():
    category = services.article_category_create(name="Billing & Plans", description="Money matters")
    assert category.slug == "billing-plans"
    with pytest.raises(ValidationError):
        services.article_category_create(name="billing & plans")

    services.article_category_update(category=category, data={"name": "Billing", "slug": "money"})
    assert (category.name, category.slug) == ("Billing", "money")

    article = ArticleFactory(category=category)
    assert services.article_category_delete(category=category) == 1
    article.refresh_from_db()
    assert article.category is None and not ArticleCategory.objects.filter(pk=category.pk).exists()


# --- Drafting an article from a solved ticket ---------------------------------------------------

DESCRIPTION = """Hello team,

Since this morning the CSV export of our invoices fails with error 500. I tried Chrome and Firefox.
We need the export for month-end closing. You can reach me at jane.doe@acme.test or +1 555 010 9999.

Thanks, Jane"""

DIAGNOSIS = """Hi Jane,

Thanks for the details! Could you tell us which invoice period you picked?

Best regards, Sam"""

SOLUTION = """Hi Jane,

The export failed because one invoice had an empty currency field. We fixed the invoice on our side.
To export again:
1. Open Billing, then Invoices.
2. Pick the period and click Export.
3. Choose CSV and wait for the download.

Let us know if anything else comes up.
Kind regards, Sam"""

SECRET_NOTE = "Customer is on the legacy plan, do not offer a discount. Internal escalation code 7741."


def _solved_ticket(make_user, **fields):
    agent = make_user("agent")
    ticket = TicketFactory(
        subject="Re: CSV export fails with error 500",
        original_description=DESCRIPTION,
        status=Ticket.Status.SOLVED,
        tags=["billing", "export"],
        **fields,
    )
    TicketMessageFactory(ticket=ticket, author=agent, body=DIAGNOSIS)
    TicketMessageFactory(ticket=ticket, author=None, author_contact=ticket.requester, body="January 2026.")
    TicketMessageFactory(ticket=ticket, author=agent, body=SECRET_NOTE, kind=TicketMessage.Kind.NOTE)
    TicketMessageFactory(ticket=ticket, author=agent, body=SOLUTION)
    return ticket, agent


def _sentences(markdown: str) -> list[str]:
    """The content of a draft without its structure (headings, list numbers)."""
    found = []
    for line in markdown.splitlines():
        line = re.sub(r"^\s*(?:#+\s*|\d+\.\s+)", "", line).strip()
        if line and line not in {"Problem", "Cause", "Solution"}:
            found.extend(part for part in re.split(r"(?<=[.!?])\s+", line) if part)
    return found


def test_the_draft_is_extractive_every_sentence_comes_from_the_ticket(make_user):
    ticket, agent = _solved_ticket(make_user)

    article = services.article_create_from_ticket(ticket=ticket, actor=agent)

    source = " ".join([ticket.subject, DESCRIPTION, DIAGNOSIS, SOLUTION])
    flat = " ".join(source.split())
    sentences = _sentences(article.body)
    assert sentences
    for sentence in sentences:
        assert " ".join(sentence.split()) in flat, f"not in the ticket: {sentence!r}"


def test_the_draft_has_problem_cause_and_solution_sections(make_user):
    ticket, agent = _solved_ticket(make_user)

    body = services.article_create_from_ticket(ticket=ticket, actor=agent).body

    assert body.index("## Problem") < body.index("## Cause") < body.index("## Solution")
    problem = body[body.index("## Problem") : body.index("## Cause")]
    cause = body[body.index("## Cause") : body.index("## Solution")]
    solution = body[body.index("## Solution") :]
    assert "CSV export of our invoices fails with error 500" in problem
    assert "because one invoice had an empty currency field" in cause
    assert "1. Open Billing, then Invoices.\n2. Pick the period and click Export.\n3. Choose CSV" in solution


def test_the_draft_leaves_out_notes_questions_greetings_and_personal_details(make_user):
    ticket, agent = _solved_ticket(make_user)

    body = services.article_create_from_ticket(ticket=ticket, actor=agent).body

    for absent in ("legacy plan", "7741", "Could you tell us", "January 2026", "Hello team", "Kind regards",
                   "jane.doe@acme.test", "555", "Let us know"):  # fmt: skip
        assert absent not in body


def test_without_a_stated_cause_there_is_no_cause_section(make_user):
    agent = make_user("agent")
    ticket = TicketFactory(status=Ticket.Status.SOLVED, original_description="The printer on floor two is offline.")
    TicketMessageFactory(ticket=ticket, author=agent, body="Restart the printer and reconnect it to the Wi-Fi.")

    body = services.article_create_from_ticket(ticket=ticket, actor=agent).body

    assert "## Cause" not in body
    assert body == (
        "## Problem\n\nThe printer on floor two is offline.\n\n"
        "## Solution\n\nRestart the printer and reconnect it to the Wi-Fi.\n"
    )


def test_the_article_is_an_internal_ai_draft_linked_to_the_ticket(make_user):
    category = CategoryFactory(name="Billing")
    article_category = ArticleCategoryFactory(name="billing", slug="billing")
    ticket, agent = _solved_ticket(make_user, category=category)

    article = services.article_create_from_ticket(ticket=ticket, actor=agent)

    assert article.title == "CSV export fails with error 500"  # the "Re:" goes
    assert article.status == Article.Status.DRAFT and article.visibility == Article.Visibility.INTERNAL
    assert article.ai_generated and article.source_ticket == ticket and article.author == agent
    assert article.tags == ["billing", "export"] and article.category == article_category


def test_long_texts_are_shortened_by_the_summarizer_but_stay_extractive(make_user, monkeypatch):
    agent = make_user("agent")
    sentences = [f"Step {n} of the report describes what happened at minute {n}." for n in range(1, 10)]
    ticket = TicketFactory(status=Ticket.Status.SOLVED, original_description=" ".join(sentences))
    TicketMessageFactory(ticket=ticket, author=agent, body="Clear the cache and sign in again.")

    problem = services.article_create_from_ticket(ticket=ticket, actor=agent).body.split("## Solution")[0]

    kept = _sentences(problem)
    assert 1 <= len(kept) <= services.PROBLEM_SENTENCES and set(kept) <= set(sentences)


def test_a_paraphrasing_model_cannot_put_new_sentences_in_the_draft(make_user, monkeypatch):
    agent = make_user("agent")
    sentences = [f"Detail number {n} about the broken sync job is here." for n in range(1, 8)]
    ticket = TicketFactory(status=Ticket.Status.SOLVED, original_description=" ".join(sentences))
    TicketMessageFactory(ticket=ticket, author=agent, body="Re-run the sync job from the admin page.")

    class Invented:
        text = "The customer's synchronisation is broken due to a server outage."

    monkeypatch.setattr(ai, "summarize", lambda *args, **kwargs: Invented())
    body = services.article_create_from_ticket(ticket=ticket, actor=agent).body

    assert "outage" not in body and set(_sentences(body.split("## Solution")[0])) <= set(sentences)


def test_the_ai_being_down_does_not_stop_the_draft(make_user, monkeypatch):
    agent = make_user("agent")
    ticket = TicketFactory(status=Ticket.Status.SOLVED, original_description=" ".join(["Long sentence here."] * 9))
    TicketMessageFactory(ticket=ticket, author=agent, body="Reinstall the app from the store.")

    def down(*args, **kwargs):
        raise ai.AIUnavailable("no provider")

    monkeypatch.setattr(ai, "summarize", down)
    assert "Reinstall the app" in services.article_create_from_ticket(ticket=ticket, actor=agent).body


def test_only_solved_tickets_with_an_agent_reply_become_articles(make_user):
    agent = make_user("agent")
    open_ticket = TicketFactory(status=Ticket.Status.OPEN)
    silent = TicketFactory(status=Ticket.Status.SOLVED)
    TicketMessageFactory(ticket=silent, author=agent, body="Internal only.", kind=TicketMessage.Kind.NOTE)

    with pytest.raises(ValidationError, match="solve it first"):
        services.article_create_from_ticket(ticket=open_ticket, actor=agent)
    with pytest.raises(ValidationError, match="no public reply"):
        services.article_create_from_ticket(ticket=silent, actor=agent)
    assert not Article.objects.exists()
