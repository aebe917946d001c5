"""The knowledge-base REST API: list, filters, search with scores, numbered pages, write with kb.edit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.models import Article
from helpdesk.tests.factories import ArticleCategoryFactory, ArticleFactory

pytestmark = pytest.mark.django_db

ARTICLES = reverse("helpdesk_api:article_list")


def article_url(article_id: int) -> str:
    return reverse("helpdesk_api:article_detail", args=[article_id])


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def patch(client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_list_filters_and_numbered_pages(client, login):
    login("viewer")
    billing = ArticleCategoryFactory(name="Billing")
    for index in range(3):
        ArticleFactory(title=f"Invoices {index}", category=billing, tags=["invoice"])
    ArticleFactory(title="Internal refunds", visibility="internal", status="draft")

    first = client.get(ARTICLES, {"category": billing.pk, "page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert titles_of(first) == ["Invoices 0", "Invoices 1"] and first["count"] == 3
    assert titles_of(second) == ["Invoices 2"] and second["next"] is None and second["previous"]
    assert titles(client.get(ARTICLES, {"visibility": "internal"})) == ["Internal refunds"]
    assert titles(client.get(ARTICLES, {"status": "draft"})) == ["Internal refunds"]
    assert len(titles(client.get(ARTICLES, {"tag": "invoice"}))) == 3
    assert first["results"][0]["score"] is None


def titles_of(body: dict) -> list[str]:
    return [row["title"] for row in body["results"]]


def test_search_ranks_and_scores_matches(client, login):
    login("viewer")
    ArticleFactory(title="Resetting your password", body="Click *Forgot password?* on the sign-in page.")
    ArticleFactory(title="Downloading invoices", body="Open Settings, then Billing.")

    body = client.get(ARTICLES, {"q": "password reset"}).json()

    assert titles_of(body) == ["Resetting your password"]
    assert 0 < body["results"][0]["score"] <= 1 and body["results"][0]["matched_by"] in {"keyword", "semantic"}


def test_list_rejects_invalid_filters(client, login):
    login("viewer")

    response = client.get(ARTICLES, {"status": "secret", "page": "first", "category": "none"})
    unknown_category = client.get(ARTICLES, {"category": 999_999})
    size = client.get(ARTICLES, {"page_size": 1000})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"status", "page", "category"}
    # A category id that names nothing is a filter that matches nothing, as for every other list.
    assert unknown_category.status_code == 200 and unknown_category.json()["results"] == []
    assert size.status_code == 400 and "page_size" in size.json()["error"]["fields"]


def test_create_update_and_delete_an_article(client, login):
    agent = login("agent")
    section = ArticleCategoryFactory()

    created = post(
        client,
        ARTICLES,
        {"title": "Setting up SSO", "body": "1. Open **Settings**", "category_id": section.pk, "tags": ["SSO"]},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["slug"], body["status"], body["tags"], body["author"]["id"]) == (
        "setting-up-sso",
        "draft",
        ["sso"],
        agent.pk,
    )

    changed = patch(client, article_url(body["id"]), {"status": "published", "visibility": "internal"})
    assert changed.status_code == 200
    article = Article.objects.get(pk=body["id"])
    assert (article.status, article.visibility, article.title) == ("published", "internal", "Setting up SSO")
    assert article.published_at is not None

    assert client.delete(article_url(body["id"])).status_code == 204
    assert not Article.objects.filter(pk=body["id"]).exists()
    assert client.get(article_url(body["id"])).status_code == 404


def test_create_validation_errors_are_400_with_field_messages(client, login):
    login("agent")

    response = post(client, ARTICLES, {"title": "", "body": "", "status": "live", "category_id": 999_999})

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["title"] == ["The title cannot be empty."]
    assert fields["body"] == ["The article cannot be empty."]
    assert fields["category_id"] == ["No article category has the id 999999 in this workspace."]
    assert "status" in fields
    assert not Article.objects.exists()


def test_viewers_read_but_do_not_write(client, login):
    login("viewer")
    article = ArticleFactory()

    assert client.get(article_url(article.pk)).json()["title"] == article.title
    refused = [
        post(client, ARTICLES, {"title": "x", "body": "y"}),
        patch(client, article_url(article.pk), {"title": "x"}),
        client.delete(article_url(article.pk)),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert "kb.edit" in refused[0].json()["error"]["message"]
    assert Article.objects.get().title == article.title
