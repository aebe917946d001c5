"""Knowledge-base search: keyword and semantic hits merged and ranked, recommendations and their threshold,
embeddings kept current on save and forgotten on delete, Markdown rendered safely."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from ai import facade as ai
from core.markdown import markdown_to_html, markdown_to_text
from helpdesk.models import Article, HelpdeskSettings
from helpdesk.selectors import kb as selectors
from helpdesk.selectors.kb import SOURCE, ArticleFilters
from helpdesk.services import kb as services
from helpdesk.tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

ARTICLES = {
    "password": (
        "How to reset your password",
        "Open Settings, then Security, choose Reset password and follow the link we email you. "
        "The link expires after one hour.",
    ),
    "csv": (
        "Exporting invoices as CSV",
        "Go to Billing, then Invoices, and click Export. Choose CSV for spreadsheets.",
    ),
    "printer": (
        "Printer setup on the second floor",
        "Install the driver from the intranet, then add the printer by its IP address.",
    ),
    "twofactor": (
        "Two-factor authentication",
        "Turn on two-factor authentication under Security to protect your account with a code from an app.",
    ),
    "plan": (
        "Changing your billing plan",
        "Owners can upgrade or downgrade the plan under Billing. Changes apply from the next invoice.",
    ),
}


@pytest.fixture
def library():
    """The five articles, published and embedded (as the index task would)."""
    articles = {}
    for key, (title, body) in ARTICLES.items():
        article = ArticleFactory(title=title, body=body, status=Article.Status.PUBLISHED)
        services.article_index(article_id=article.pk)
        articles[key] = article
    return articles


def search(query: str, **filters) -> list:
    page = selectors.article_list(filters=ArticleFilters(q=query, **filters), sort="relevance")
    return list(page.object_list)


# --- Hybrid search ------------------------------------------------------------------------------


def test_a_keyword_hit_in_the_title_ranks_first_and_says_it_matched_by_keyword(library):
    results = search("invoices csv")

    assert results[0] == library["csv"]
    assert "keyword" in results[0].match.matched


def test_the_last_word_is_a_prefix_so_results_come_while_typing(library):
    assert search("passw")[0] == library["password"]


def test_meaning_finds_an_article_that_shares_no_word_with_the_query(library):
    results = search("I forgot my login credentials")

    assert library["password"] in results
    hit = results[results.index(library["password"])].match
    assert hit.matched == ("semantic",) and hit.reason == "semantic" and hit.keyword == 0
    assert library["csv"] not in results  # unrelated articles stay out


def test_an_article_found_both_ways_outranks_one_found_one_way(library):
    results = search("invoice")

    both, keyword_only = library["csv"], library["plan"]
    assert set(results[results.index(both)].match.matched) == {"keyword", "semantic"}
    assert results.index(both) < results.index(keyword_only)
    scores = [article.match.score for article in results]
    assert scores == sorted(scores, reverse=True) and all(0 <= score <= 1 for score in scores)


def test_filters_apply_to_search_results(library):
    library["password"].status = Article.Status.ARCHIVED
    library["password"].save()

    assert library["password"] not in search("password", status=Article.Status.PUBLISHED)
    assert library["password"] in search("password", status=Article.Status.ARCHIVED)


def test_search_still_answers_by_keyword_when_the_vector_search_fails(library, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the embedding model is gone")

    monkeypatch.setattr(ai, "search_similar", broken)

    results = search("printer")
    assert results == [library["printer"]] and results[0].match.matched == ("keyword",)


def test_operators_in_the_query_are_words_not_syntax(library):
    assert search("password & | ! ( :*") == search("password")
    assert search("!!! ***") == []


# --- Recommendations ----------------------------------------------------------------------------


def test_recommendations_are_published_articles_above_the_threshold_best_first(library):
    draft = ArticleFactory(title="Password reset for admins", body=ARTICLES["password"][1], status="draft")
    services.article_index(article_id=draft.pk)
    library["twofactor"].visibility = Article.Visibility.INTERNAL
    library["twofactor"].save()

    matches = selectors.article_recommendations(
        text="Hi, I can't sign in because I forgot my password. Can you send me a new one?", threshold=0.2
    )

    articles = [match.article for match in matches]
    assert articles[0] == library["password"]
    assert draft not in articles  # drafts are never recommended
    assert all(0 <= match.score <= 1 and match.reason in {"semantic", "keyword"} for match in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_internal_published_articles_are_recommended_too(library):
    library["password"].visibility = Article.Visibility.INTERNAL
    library["password"].save()

    matches = selectors.article_recommendations(text="I forgot my password and cannot log in", threshold=0.3)
    assert matches[0].article == library["password"]


def test_the_threshold_defaults_to_the_workspace_setting_and_filters_weak_matches(library):
    text = "My printer on the second floor prints nothing"
    scores = {m.article.pk: m.score for m in selectors.article_recommendations(text=text, threshold=0.0, limit=50)}
    printer = scores[library["printer"].pk]

    settings = HelpdeskSettings.current()
    settings.kb_recommendation_threshold = printer + 0.01
    settings.save()
    assert selectors.article_recommendations(text=text) == []

    settings.kb_recommendation_threshold = printer
    settings.save()
    assert selectors.article_recommendations(text=text)[0].article == library["printer"]
    assert all(m.score >= printer for m in selectors.article_recommendations(text=text))


def test_limit_and_empty_text(library):
    assert len(selectors.article_recommendations(text="billing invoice plan password", threshold=0, limit=2)) == 2
    assert selectors.article_recommendations(text="   ") == []


def test_the_score_formula_blends_meaning_and_keywords():
    assert selectors.blend(1.0, 1.0) == (1.0, "semantic")
    assert selectors.blend(0.0, 1.0) == (0.3, "keyword")
    assert selectors.blend(-0.4, 0.0) == (0.0, "semantic")
    assert selectors.keyword_component(0.0) == 0
    assert 0.9 < selectors.keyword_component(0.6) < 1


# --- Embeddings follow the articles -------------------------------------------------------------


def test_saving_an_article_embeds_it_after_commit(django_capture_on_commit_callbacks, make_user):
    with django_capture_on_commit_callbacks(execute=True):
        article = services.article_create(
            actor=make_user("agent"), title="VPN drops every hour", body="Update the VPN client to version 5."
        )

    found = dict(ai.search_similar(source=SOURCE, text="VPN drops every hour", k=5))
    assert found[str(article.pk)] > 0.8


def test_editing_re_embeds_and_deleting_forgets(django_capture_on_commit_callbacks, make_user):
    agent = make_user("agent")
    with django_capture_on_commit_callbacks(execute=True):
        article = services.article_create(actor=agent, title="VPN drops every hour", body="Update the VPN client.")
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=article, actor=agent, data={"title": "Laptop battery drains fast"})

    new = dict(ai.search_similar(source=SOURCE, text="Laptop battery drains fast", k=5))[str(article.pk)]
    old = dict(ai.search_similar(source=SOURCE, text="VPN drops every hour", k=5))[str(article.pk)]
    assert new > 0.5 and new > old

    services.article_delete(article=article, actor=agent)
    assert str(article.pk) not in dict(ai.search_similar(source=SOURCE, text="Laptop battery drains fast", k=5))


def test_a_save_does_not_fail_when_the_queue_is_down(django_capture_on_commit_callbacks, make_user, monkeypatch):
    from helpdesk.tasks import kb as tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.article_index_task, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        article = services.article_create(actor=make_user("agent"), title="Offline save", body="Still saved.")

    assert Article.objects.filter(pk=article.pk).exists()
    assert services.articles_reindex() >= 1  # the periodic catch-up embeds it
    assert str(article.pk) in dict(ai.search_similar(source=SOURCE, text="Offline save", k=5))
    assert services.articles_reindex() == 0  # nothing changed since


def test_the_reindex_fan_out_queues_one_task_per_workspace(monkeypatch):
    from helpdesk.tasks import kb as tasks

    queued = []

    def queue(args, kwargs, **options):
        queued.append(connection.schema_name)
        return SimpleNamespace(id="queued")

    monkeypatch.setattr(tasks.kb_reindex_task, "apply_async", queue)  # what core.outbox.enqueue calls when eager
    assert tasks.kb_reindex_fanout_task() == len(queued) >= 2
    assert {"t_alpha", "t_beta"} <= set(queued)  # each copy queued from its workspace's schema


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_is_rendered_and_unsafe_html_never_survives():
    html = markdown_to_html(
        "# Title\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
        "[bad](javascript:alert(1)) [good](https://example.com)\n\n| a |\n|---|\n| 1 |"
    )

    assert "<h1>Title</h1>" in html and "<table" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # raw HTML is shown as text, not run
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">good</a>' in html


def test_plain_text_drops_markdown_syntax():
    assert markdown_to_text("## Steps\n\n1. Open **Settings**\n2. Click *Save* & wait") == (
        "Steps\nOpen Settings\nClick Save & wait"
    )
