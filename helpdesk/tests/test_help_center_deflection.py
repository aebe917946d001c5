"""The request form suggests public articles as the visitor types, and counts whether they helped: "This solved my
problem" (no ticket) or sent anyway ("not helped"); admins read the rate on the helpdesk settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from helpdesk.models import Article, DeflectionEvent, Ticket
from helpdesk.selectors import help_center as help_selectors
from helpdesk.services import kb as kb_services
from helpdesk.tests.factories import ArticleFactory, DeflectionEventFactory

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "request-suggestions"}
REQUEST = {
    "name": "Jane Doe",
    "email": "jane@example.test",
    "subject": "Cannot download my invoice",
    "description": "The invoice download button does nothing.",
}


def indexed(**fields) -> Article:
    article = ArticleFactory(**fields)
    kb_services.article_index(article_id=article.pk)
    return article


def suggest(client, **params):
    return client.get(reverse("help_center:request_suggestions"), params, **FRAGMENT)


def test_typing_suggests_matching_public_articles_only(client):
    shown = indexed(title="Downloading invoices", body="Open Billing, then Invoices, and choose Download.")
    indexed(title="Invoices for staff", body="Download invoices internally.", visibility=Article.Visibility.INTERNAL)
    indexed(title="Changing your avatar", body="Open Profile and upload a picture.")

    response = suggest(client, subject="invoice download", description="the button does nothing")

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="request-suggestions"')
    assert "Downloading invoices" in html and "staff" not in html and "avatar" not in html
    assert f'name="first_suggestion" value="{shown.pk}"' in html and 'name="suggested" value="1"' in html
    assert "This solved my problem" in html


def test_too_little_text_suggests_nothing(client):
    indexed(title="Downloading invoices")

    html = suggest(client, subject="inv", description="").content.decode()

    assert 'data-testid="request-suggestion"' not in html and 'name="suggested"' not in html


def test_this_solved_my_problem_counts_as_helped_and_creates_no_ticket(client):
    article = indexed(title="Downloading invoices")

    response = client.post(
        reverse("help_center:request_solved"), {"article": article.pk, "suggested": 2}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200 and b"Glad that helped" in response.content
    event = DeflectionEvent.objects.get()
    assert (event.outcome, event.article, event.suggested, event.ticket) == ("helped", article, 2, None)
    assert not Ticket.objects.exists()


def test_an_internal_article_cannot_be_credited(client):
    hidden = ArticleFactory(visibility=Article.Visibility.INTERNAL)

    response = client.post(reverse("help_center:request_solved"), {"article": hidden.pk})

    assert response.status_code == 404 and not DeflectionEvent.objects.exists()


def test_sending_the_request_after_seeing_articles_counts_as_not_helped(client):
    article = ArticleFactory()

    response = client.post(
        reverse("help_center:request_new"), {**REQUEST, "suggested": 3, "first_suggestion": article.pk}
    )

    assert response.status_code == 302
    event = DeflectionEvent.objects.get()
    assert (event.outcome, event.article, event.suggested) == ("not_helped", article, 3)
    assert event.ticket == Ticket.objects.get()


def test_a_request_without_suggestions_counts_nothing(client):
    assert client.post(reverse("help_center:request_new"), REQUEST).status_code == 302
    assert not DeflectionEvent.objects.exists()


def test_the_rate_counts_the_last_30_days_and_shows_on_the_settings_page(client, login):
    DeflectionEventFactory.create_batch(3, outcome="helped")
    DeflectionEventFactory(outcome="not_helped")
    rate = help_selectors.deflection_rate(days=30)
    assert (rate.helped, rate.not_helped, rate.percent) == (3, 1, 75)

    login("admin")
    html = client.get(reverse("helpdesk_settings:general")).content.decode()

    assert "<strong>75%</strong> of 4 visitors shown articles found their answer" in html


def test_the_chat_widget_counts_through_the_facade():
    from helpdesk import facade

    article = ArticleFactory()

    facade.deflection_record(helped=True, source="chat", article_id=article.pk, suggested=2)
    facade.deflection_record(helped=False, source="chat")

    assert sorted(DeflectionEvent.objects.values_list("source", "outcome", "article_id")) == [
        ("chat", "helped", article.pk),
        ("chat", "not_helped", None),
    ]
