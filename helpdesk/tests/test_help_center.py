"""The public help center: what anonymous visitors may read, "Was this helpful?", the request form (ticket and
email), the request status page and its signed link, replies that reopen, rate limits and the honeypot."""

from __future__ import annotations

import random
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from customers.tests.factories import ContactFactory
from helpdesk.models import Article, HelpdeskSettings, Ticket, TicketEvent, TicketMessage
from helpdesk.selectors import help_center as help_selectors
from helpdesk.services import kb as kb_services
from helpdesk.services import tickets as ticket_services
from helpdesk.tests.factories import ArticleCategoryFactory, ArticleFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

REQUEST = {
    "name": "Jane Doe",
    "email": "Jane@Example.test",
    "subject": "Cannot download my invoice",
    "description": "The download button does nothing in Firefox.",
}


def settings_set(**values) -> None:
    settings = HelpdeskSettings.current()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


def submit(client, data=None, **extra):
    return client.post(reverse("help_center:request_new"), data or REQUEST, **extra)


# --- Articles -----------------------------------------------------------------------------------


def test_home_shows_the_title_categories_and_popular_public_articles(client, tenant):
    category = ArticleCategoryFactory(name="Billing")
    ArticleFactory(title="Public guide", category=category, view_count=3)
    ArticleFactory(title="Staff only", visibility=Article.Visibility.INTERNAL, category=category)
    ArticleFactory(title="Unfinished", status=Article.Status.DRAFT, category=category)
    ArticleCategoryFactory(name="Empty section")

    html = client.get(reverse("help_center:home")).content.decode()

    assert f"{tenant.name} Help Center" in html
    assert "Public guide" in html and "Billing" in html and "1 article" in html
    assert "Staff only" not in html and "Unfinished" not in html and "Empty section" not in html
    settings_set(help_center_title="Acme Support")
    assert "Acme Support" in client.get(reverse("help_center:home")).content.decode()


def test_internal_draft_and_archived_articles_are_not_found(client):
    hidden = [
        ArticleFactory(visibility=Article.Visibility.INTERNAL),
        ArticleFactory(status=Article.Status.DRAFT),
        ArticleFactory(status=Article.Status.ARCHIVED),
    ]
    public = ArticleFactory(body="Use **Settings**.")

    for article in hidden:
        assert client.get(reverse("help_center:article", args=[article.slug])).status_code == 404
        vote = client.post(reverse("help_center:article_vote", args=[article.slug]), {"helpful": "yes"})
        assert vote.status_code == 404
    response = client.get(reverse("help_center:article", args=[public.slug]))
    assert response.status_code == 200 and "<strong>Settings</strong>" in response.content.decode()
    public.refresh_from_db()
    assert public.view_count == 1


def test_a_category_lists_only_its_public_articles(client):
    category = ArticleCategoryFactory()
    ArticleFactory(title="Shown", category=category)
    ArticleFactory(title="Hidden", category=category, visibility=Article.Visibility.INTERNAL)

    html = client.get(reverse("help_center:category", args=[category.slug])).content.decode()
    assert "Shown" in html and "Hidden" not in html
    assert client.get(reverse("help_center:category", args=["no-such"])).status_code == 404


def test_search_finds_public_articles_only(client):
    shown = ArticleFactory(title="Exporting invoices as CSV")
    hidden = ArticleFactory(title="Exporting invoices internally", visibility=Article.Visibility.INTERNAL)
    for article in (shown, hidden):
        kb_services.article_index(article_id=article.pk)

    response = client.get(reverse("help_center:home"), {"q": "export invoices"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="help-results")  # fmt: skip

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="help-results"')
    assert "Exporting invoices as CSV" in html and "internally" not in html


def test_a_closed_help_center_is_not_found_but_emailed_links_still_work(client):
    article = ArticleFactory()
    ticket = TicketFactory()
    settings_set(help_center_enabled=False)

    for url in (reverse("help_center:home"), reverse("help_center:article", args=[article.slug]),
                reverse("help_center:request_new")):  # fmt: skip
        assert client.get(url).status_code == 404
    assert submit(client).status_code == 404 and not Ticket.objects.filter(channel="help_center").exists()
    assert (
        client.get(reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])).status_code
        == 200
    )


def test_signed_in_agents_see_the_public_page_too(client, login):
    login("agent")
    assert client.get(reverse("help_center:home")).status_code == 200


def test_another_workspaces_article_and_category_are_not_found(client, other_tenant):
    with tenant_context(other_tenant):
        article = ArticleFactory(slug="beta-only-article")
        category = ArticleCategoryFactory(slug="beta-only-category")
    assert client.get(reverse("help_center:article", args=[article.slug])).status_code == 404
    assert client.get(reverse("help_center:category", args=[category.slug])).status_code == 404


# --- Was this helpful? --------------------------------------------------------------------------


def test_a_vote_counts_once_per_address_and_article(client):
    article = ArticleFactory()
    url = reverse("help_center:article_vote", args=[article.slug])

    first = client.post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    again = client.post(url, {"helpful": "no"}, HTTP_HX_REQUEST="true")
    other_visitor = Client(HTTP_HOST=client.defaults["HTTP_HOST"], REMOTE_ADDR="10.1.2.3")
    other_visitor.post(url, {"helpful": "no"})

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert "Thanks for your feedback" in first.content.decode()
    assert "already have your answer" in again.content.decode()
    assert client.post(url, {"helpful": "maybe"}).status_code == 400


def test_votes_are_rate_limited_per_address(client, monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "vote", (3, 3600))
    articles = ArticleFactory.create_batch(4)
    statuses = [
        client.post(reverse("help_center:article_vote", args=[a.slug]), {"helpful": "yes"}).status_code
        for a in articles
    ]

    assert statuses == [302, 302, 302, 429]
    assert sum(Article.objects.values_list("helpful_yes", flat=True)) == 3


# --- The request form ---------------------------------------------------------------------------


def test_a_request_becomes_a_ticket_and_the_requester_gets_an_acknowledgement(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client)

    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.HELP_CENTER and ticket.subject == REQUEST["subject"]
    assert ticket.requester.email == "jane@example.test" and ticket.requester.name == "Jane Doe"
    # Status links are stamped when made (they expire): the page's and the email's open this ticket.
    status_path = reverse("help_center:request_status", args=["TOKEN"]).replace("TOKEN/", "")
    assert response.status_code == 302 and response["Location"].startswith(status_path)
    assert response["Location"].endswith("/?sent=1")
    token = response["Location"].removeprefix(status_path).removesuffix("/?sent=1")
    assert help_selectors.help_request_get_by_token(token) == ticket

    (email,) = mail.outbox
    assert email.to == ["jane@example.test"]
    assert f"#{ticket.pk}" in email.subject and REQUEST["subject"] in email.subject
    emailed = re.search(rf"http://{client.defaults['HTTP_HOST']}{status_path}(\S+)/", email.body).group(1)
    assert help_selectors.help_request_get_by_token(emailed) == ticket

    page = client.get(response["Location"]).content.decode()
    assert f"We received your request #{ticket.pk}" in page


def test_invalid_requests_are_refused_with_messages(client):
    response = submit(client, {"name": "", "email": "not-an-address", "subject": "", "description": " "})

    assert response.status_code == 400
    assert {"name", "email", "subject", "description"} <= set(response.context["form"].errors)
    assert not Ticket.objects.exists() and not mail.outbox


def test_attachments_are_kept_within_the_size_and_type_limits(client, settings, django_capture_on_commit_callbacks):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 20
    script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    big = SimpleUploadedFile("big.txt", b"x" * 21, content_type="text/plain")

    for upload in (script, big):
        response = submit(client, REQUEST | {"attachments": [upload]})
        assert response.status_code == 400 and "attachments" in response.context["form"].errors
    assert not Ticket.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        submit(client, REQUEST | {"attachments": [SimpleUploadedFile("log.txt", b"error 42")]})
    message = TicketMessage.objects.get()
    assert [a.filename for a in message.attachments.all()] == ["log.txt"] and message.author_contact is not None


def test_the_honeypot_drops_bots_silently(client):
    response = submit(client, REQUEST | {"website": "http://spam.test"})

    assert response.status_code == 200 and b"Thank you" in response.content
    assert not Ticket.objects.exists() and not mail.outbox


def test_requests_are_rate_limited_per_address(client, monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "request", (2, 3600))
    statuses = [submit(client).status_code for _ in range(3)]

    assert statuses == [302, 302, 429] and Ticket.objects.count() == 2
    limited = submit(client)
    assert limited["Retry-After"] == "3600" and b"Please wait a little" in limited.content
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"], REMOTE_ADDR="10.9.8.7")
    assert submit(other).status_code == 302


# --- The request status page --------------------------------------------------------------------


def test_the_status_page_shows_the_public_thread_and_never_internal_notes(client, make_user):
    agent = make_user("agent", name="Sam Agent")
    ticket = TicketFactory(subject="Printer offline", status=Ticket.Status.PENDING)
    TicketMessageFactory(ticket=ticket, author=agent, body="Could you restart the printer?")
    TicketMessageFactory(ticket=ticket, author=agent, body="SECRET: the customer is on a legacy plan", kind="note")

    response = client.get(reverse("help_center:request_status", args=[help_selectors.request_token(ticket)]))

    html = response.content.decode()
    assert response.status_code == 200 and "Printer offline" in html and "Awaiting your reply" in html
    assert "Could you restart the printer?" in html and "Sam" in html
    assert "SECRET" not in html and "legacy plan" not in html


def test_the_token_cannot_be_guessed_edited_or_used_for_another_ticket(client):
    ticket, other = TicketFactory(), TicketFactory()
    token = help_selectors.request_token(ticket)

    for bad in ("1", str(ticket.pk), token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "a" * 80):
        assert client.get(reverse("help_center:request_status", args=[bad])).status_code == 404
    assert help_selectors.help_request_get_by_token(token) == ticket
    assert help_selectors.request_token(other) != token and help_selectors.help_request_get_by_token(token) != other
    # A token whose payload names another ticket needs a signature nobody outside has.
    from django.core import signing

    forged = signing.Signer(salt="helpdesk.request-status").sign_object([other.pk, other.requester_id])
    assert client.get(reverse("help_center:request_status", args=[forged])).status_code == 404


def test_a_token_from_another_workspace_does_not_open_the_same_ticket_number_here(client, other_tenant):
    """Both workspaces have ticket #N of contact #M: beta's link must not open alpha's ticket."""
    number = 9_000_000 + random.randint(0, 99_999)
    with tenant_context(other_tenant):
        foreign_token = help_selectors.request_token(TicketFactory(id=number, requester=ContactFactory(id=number)))
    mine = TicketFactory(id=number, requester=ContactFactory(id=number))

    assert client.get(reverse("help_center:request_status", args=[foreign_token])).status_code == 404
    assert (
        client.get(reverse("help_center:request_status", args=[help_selectors.request_token(mine)])).status_code == 200
    )


def test_a_reply_from_the_status_page_reopens_a_solved_ticket(client):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    url = reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])

    response = client.post(url, {"body": "It broke again this morning."})

    ticket.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == url + "?replied=1"
    assert ticket.status == Ticket.Status.OPEN
    message = ticket.messages.get()
    assert message.author_contact == ticket.requester and message.channel == Ticket.Channel.HELP_CENTER
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.REOPENED).exists()
    assert "It broke again this morning." in client.get(url).content.decode()


def test_a_closed_request_takes_no_reply_and_empty_replies_are_refused(client):
    open_ticket, closed = TicketFactory(status=Ticket.Status.OPEN), TicketFactory(status=Ticket.Status.CLOSED)

    empty = client.post(
        reverse("help_center:request_status", args=[help_selectors.request_token(open_ticket)]), {"body": ""}
    )
    assert empty.status_code == 400 and not open_ticket.messages.exists()

    page = client.get(reverse("help_center:request_status", args=[help_selectors.request_token(closed)]))
    assert b"reply-form" not in page.content
    late = client.post(
        reverse("help_center:request_status", args=[help_selectors.request_token(closed)]), {"body": "Hi?"}
    )
    assert late.status_code == 400 and "closed" in late.content.decode() and not closed.messages.exists()


def test_replies_are_rate_limited_and_the_typed_reply_comes_back(client, monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "reply", (1, 3600))
    ticket = TicketFactory()
    url = reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])

    assert client.post(url, {"body": "one"}).status_code == 302
    limited = client.post(url, {"body": "A second reply the requester would hate to type again."})

    html = limited.content.decode()
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    assert 'data-testid="reply-limited"' in html and "about 60 minutes" in html
    assert "A second reply the requester would hate to type again." in html
    assert ticket.messages.count() == 1


def test_refused_replies_do_not_use_up_the_reply_limit(client, monkeypatch):
    from helpdesk.views import help_center as views

    monkeypatch.setitem(views.LIMITS, "reply", (1, 3600))
    ticket = TicketFactory()
    url = reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])

    for _ in range(3):
        assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "Now with words."}).status_code == 302
    assert ticket.messages.count() == 1


def test_an_agents_public_reply_shows_on_the_status_page(client, make_user):
    ticket = TicketFactory()
    ticket_services.message_add(ticket=ticket, actor=make_user("agent"), body="We fixed it on our side.")

    html = client.get(
        reverse("help_center:request_status", args=[help_selectors.request_token(ticket)])
    ).content.decode()
    assert "We fixed it on our side." in html
