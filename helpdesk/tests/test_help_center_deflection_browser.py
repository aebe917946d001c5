"""A visitor writing a request is offered a matching article as they type, and "This solved my problem" ends it
there: no ticket, one deflection counted."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from core.testing.browser import new_page, watch_page_errors

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def test_the_request_form_suggests_an_article_that_solves_the_problem(live_stack, live_data, browser):
    from helpdesk.models import Article, ArticleCategory, DeflectionEvent, Ticket
    from helpdesk.services import kb as kb_services
    from helpdesk.tests.factories import ArticleCategoryFactory, ArticleFactory

    word = f"quuxport{uuid.uuid4().hex[:6]}"
    title = f"Exporting {word} reports"

    def article() -> tuple[int, int]:
        category = ArticleCategoryFactory(name=f"Reports {word}")
        made = ArticleFactory(title=title, body=f"Open Reports, choose {word} and press Export.", category=category)
        kb_services.article_index(article_id=made.pk)
        return made.pk, made.category_id

    def remove() -> None:
        DeflectionEvent.objects.filter(article_id=article_id).delete()
        Article.objects.filter(pk=article_id).delete()
        ArticleCategory.objects.filter(pk=category_id).delete()
        kb_services.article_index(article_id=article_id)  # forgets the deleted article's embedding

    article_id, category_id = live_data.run(article)
    live_data.add_cleanup(remove)

    page = new_page(browser)
    problems = watch_page_errors(page)
    page.goto(live_stack.url("alpha", "/help/requests/new/"))
    form = page.locator("[data-testid=request-form]")
    form.locator("[name=subject]").press_sequentially(f"{word} export fails", delay=20)

    suggestion = page.locator("[data-testid=request-suggestion]")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text(title)
    expect(form.locator("[name=suggested]")).to_have_value("1")
    suggestion.get_by_role("button", name="This solved my problem").click()

    expect(page.locator("[data-testid=request-deflected]")).to_contain_text("Glad that helped")
    outcomes = live_data.run(lambda: list(DeflectionEvent.objects.filter(article_id=article_id).values_list(
        "outcome", flat=True)))  # fmt: skip
    assert outcomes == ["helped"]
    assert live_data.run(lambda: Ticket.objects.filter(subject__contains=word).count()) == 0
    assert problems == []
