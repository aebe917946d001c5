"""Knowledge-base pages for agents: list (filters, sort, search, pages), article page, editor and preview,
review, "Create article from this ticket", categories; who may do what."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from helpdesk.models import Article, ArticleCategory, Ticket
from helpdesk.services import kb as services
from helpdesk.tests.factories import ArticleCategoryFactory, ArticleFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def rows(response) -> list[str]:
    return [article.title for article in response.context["page"].object_list]


# --- List ---------------------------------------------------------------------------------------


def test_the_list_filters_by_status_visibility_category_tag_and_review(client, login):
    login("viewer")
    billing = ArticleCategoryFactory(name="Billing")
    ArticleFactory(title="Published public", tags=["vip"], category=billing)
    ArticleFactory(title="Internal", visibility=Article.Visibility.INTERNAL)
    ArticleFactory(title="Draft by AI", status=Article.Status.DRAFT, ai_generated=True)
    url = reverse("kb:article_list")

    assert rows(client.get(url)) == ["Draft by AI", "Internal", "Published public"]
    assert rows(client.get(url, {"status": "draft"})) == ["Draft by AI"]
    assert rows(client.get(url, {"visibility": "internal"})) == ["Internal"]
    assert rows(client.get(url, {"category": billing.pk})) == ["Published public"]
    assert rows(client.get(url, {"tag": "vip"})) == ["Published public"]
    assert rows(client.get(url, {"review": "1"})) == ["Draft by AI"]
    # A stale or hand-edited link is ignored, not an error.
    assert client.get(url, {"status": "bogus", "category": "x", "page": "-3", "sort": "nope"}).status_code == 200


def test_sorting_and_pages(client, login, monkeypatch):
    from helpdesk.views import kb as views

    login("agent")
    for title, helpful in (("Alpha", 1), ("Bravo", 9), ("Charlie", 5)):
        ArticleFactory(title=title, helpful_yes=helpful)
    url = reverse("kb:article_list")

    assert rows(client.get(url, {"sort": "-helpful"})) == ["Bravo", "Charlie", "Alpha"]
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first, second = client.get(url), client.get(url, {"page": 2})
    assert rows(first) == ["Alpha", "Bravo"] and rows(second) == ["Charlie"]
    assert b"Page 1 of 2" in first.content


def test_search_shows_which_search_matched_and_the_fragment_alone_for_htmx(client, login):
    login("agent")
    article = ArticleFactory(title="Exporting invoices as CSV", body="Billing, Invoices, Export.")
    services.article_index(article_id=article.pk)

    response = client.get(reverse("kb:article_list"), {"q": "invoices"}, HTTP_HX_TARGET="article-table", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="article-table"')
    assert 'data-matched="keyword"' in html and 'data-matched="semantic"' in html
    assert "Exporting invoices as CSV" in html


def test_the_list_costs_a_fixed_number_of_queries(client, login, django_assert_max_num_queries):
    login("agent")
    ArticleFactory.create_batch(30, category=ArticleCategoryFactory())
    with django_assert_max_num_queries(12):
        assert client.get(reverse("kb:article_list")).status_code == 200


# --- Article page and editor --------------------------------------------------------------------


def test_the_article_page_renders_markdown_safely(client, login):
    login("viewer")
    article = ArticleFactory(body="**Bold** <script>alert(1)</script>")

    html = client.get(reverse("kb:article_detail", args=[article.pk])).content.decode()

    assert "<strong>Bold</strong>" in html and "<script>alert(1)" not in html
    assert "article-edit" not in html  # viewers read only


def test_create_then_edit_an_article(client, login):
    login("agent")
    category = ArticleCategoryFactory()
    data = {"title": "VPN setup", "slug": "", "body": "Install **the** client.", "status": "published",
            "visibility": "public", "category": category.pk, "tags": "vpn, network"}  # fmt: skip

    response = client.post(reverse("kb:article_create"), data)

    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("kb:article_detail", args=[article.pk])
    assert (article.slug, article.tags, article.category, article.published_at is not None) == (
        "vpn-setup", ["vpn", "network"], category, True
    )  # fmt: skip
    edit = data | {"title": "VPN on Linux", "slug": "vpn-setup"}  # the editor keeps the address it showed
    response = client.post(reverse("kb:article_update", args=[article.pk]), edit)
    article.refresh_from_db()
    assert response.status_code == 302 and article.title == "VPN on Linux" and article.slug == "vpn-setup"


def test_invalid_input_comes_back_with_messages_and_400(client, login):
    login("agent")
    ArticleFactory(slug="taken")
    data = {"title": "", "slug": "taken", "body": "", "status": "draft", "visibility": "public"}

    response = client.post(reverse("kb:article_create"), data)
    assert response.status_code == 400 and {"title", "body"} <= set(response.context["form"].errors)

    response = client.post(reverse("kb:article_create"), data | {"title": "T", "body": "B"})
    assert response.status_code == 400 and "already used" in str(response.context["form"].errors["slug"])
    assert Article.objects.count() == 1


def test_the_live_preview_renders_sanitised_markdown(client, login):
    login("agent")
    response = client.post(reverse("kb:article_preview"), {"body": "# Hi\n\n<img src=x onerror=alert(1)>"}, **HTMX)

    html = response.content.decode()
    assert '<div id="article-preview"' in html and "<h1>Hi</h1>" in html and "<img" not in html


def test_review_and_delete(client, login, make_user):
    agent = login("agent")
    article = ArticleFactory(ai_generated=True)

    response = client.post(reverse("kb:article_review", args=[article.pk]))
    article.refresh_from_db()
    assert response.status_code == 302 and not article.ai_generated and article.reviewed_by == agent

    assert client.get(reverse("kb:article_delete", args=[article.pk]), **HTMX).status_code == 200
    response = client.post(reverse("kb:article_delete", args=[article.pk]), **HTMX)
    assert response["HX-Redirect"] == reverse("kb:article_list") and not Article.objects.exists()


def test_viewers_cannot_write(client, login):
    login("viewer")
    article = ArticleFactory()
    for url in (reverse("kb:article_create"), reverse("kb:article_update", args=[article.pk])):
        assert client.post(url, {"title": "x", "body": "y"}).status_code == 403
    assert client.post(reverse("kb:article_review", args=[article.pk])).status_code == 403


# --- Create article from this ticket ------------------------------------------------------------


def _button(ticket, user) -> str:
    request = RequestFactory().get(f"/tickets/{ticket.pk}/")
    request.user = user
    return render_to_string("helpdesk/_kb_from_ticket.html", {"ticket": ticket, "user": user}, request=request)


def test_the_button_shows_on_solved_tickets_for_writers_only(make_user):
    solved, open_ticket = TicketFactory(status=Ticket.Status.SOLVED), TicketFactory(status=Ticket.Status.OPEN)

    assert reverse("kb:article_from_ticket", args=[solved.pk]) in _button(solved, make_user("agent"))
    assert "Create article" not in _button(open_ticket, make_user("agent"))
    assert "Create article" not in _button(solved, make_user("viewer"))


def test_the_button_drafts_the_article_and_opens_its_editor(client, login):
    agent = login("agent")
    ticket = TicketFactory(status=Ticket.Status.SOLVED, original_description="The mobile app crashes on start.")
    TicketMessageFactory(ticket=ticket, author=agent, body="Update the app to the latest version.")

    response = client.post(reverse("kb:article_from_ticket", args=[ticket.pk]), {"next": "/tickets/1/"})

    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("kb:article_update", args=[article.pk])
    assert article.ai_generated and article.source_ticket == ticket
    editor = client.get(response["Location"]).content.decode()
    assert "An AI draft from ticket" in editor


def test_a_ticket_that_cannot_become_an_article_sends_you_back_with_the_reason(client, login):
    login("agent")
    ticket = TicketFactory(status=Ticket.Status.OPEN)

    response = client.post(reverse("kb:article_from_ticket", args=[ticket.pk]), {"next": "https://evil.test/"})

    assert response.status_code == 302 and response["Location"] == reverse("kb:article_list")  # no open redirect
    assert "solve it first" in client.get(response["Location"]).content.decode()
    assert client.post(reverse("kb:article_from_ticket", args=[999_999])).status_code == 404


# --- Categories ---------------------------------------------------------------------------------


def test_categories_are_managed_in_modals(client, login):
    login("agent")
    response = client.post(reverse("kb:category_create"), {"name": "Getting started", "position": 1}, **HTMX)
    category = ArticleCategory.objects.get()
    assert response["HX-Trigger"] == "modal:close" and 'id="category-table"' in response.content.decode()

    invalid = client.post(reverse("kb:category_update", args=[category.pk]), {"name": "", "position": 1}, **HTMX)
    assert invalid.status_code == 200 and "This field is required" in invalid.content.decode()

    client.post(reverse("kb:category_delete", args=[category.pk]), **HTMX)
    assert not ArticleCategory.objects.exists()
    assert client.get(reverse("kb:category_list")).status_code == 200
