"""The chat widget's HTTP side: CORS only for listed origins, identity verified by HMAC, the offline form filing an
email ticket, article suggestions and deflection records, rate limits, and the admins' settings page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.realtime import socket_closed, socket_opened
from helpdesk.models import DeflectionEvent, Ticket
from helpdesk.tests.factories import ArticleFactory, TicketFactory
from inbox.models import ChatConversation, ChatWidget
from inbox.models.chat import token_hash
from inbox.services import chat as services
from inbox.tests.factories import ChatWidgetFactory

pytestmark = pytest.mark.django_db

SITE = "https://shop.example.com"


@pytest.fixture
def widget():
    widget = ChatWidgetFactory(allowed_origins=[SITE])
    services.widget_secret_rotate(widget=widget)
    return widget


def post(client, path: str, widget: ChatWidget, data: dict, origin: str = SITE):
    return client.post(
        f"/chat/{path}?key={widget.public_key}", json.dumps(data), content_type="application/json", HTTP_ORIGIN=origin
    )


def test_the_widget_script_is_served_to_any_page(client):
    response = client.get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"attachShadow" in response.content


def test_cors_headers_go_only_to_listed_origins(client, widget):
    allowed = client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == SITE
    assert allowed.json()["greeting"] == widget.greeting

    refused = client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN="https://evil.example.com")
    assert refused.status_code == 403
    assert "not allowed" in refused.json()["error"]
    assert "Access-Control-Allow-Origin" not in refused

    preflight = client.options(f"/chat/session/?key={widget.public_key}", HTTP_ORIGIN=SITE)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SITE
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert client.options(f"/chat/session/?key={widget.public_key}", HTTP_ORIGIN="https://x.test").status_code == 403


def test_an_unknown_or_disabled_widget_answers_404(client, widget):
    assert client.get("/chat/config/?key=pk_nope", HTTP_ORIGIN=SITE).status_code == 404
    widget.enabled = False
    widget.save()
    assert client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).status_code == 404


def test_a_signed_in_visitor_is_identified_by_the_sites_hmac(client, widget):
    user_hash = services.identity_hash(widget.identity_secret(), "Ann@Shop.test")  # signed as the site writes it
    response = post(client, "session/", widget, {"email": "Ann@Shop.test", "user_hash": user_hash, "name": "Ann"})
    assert response.status_code == 201
    body = response.json()
    assert (body["identified"], body["email"]) == (True, "ann@shop.test")
    conversation = ChatConversation.objects.get(token_hash=token_hash(body["token"]))
    assert (conversation.identified, conversation.origin) == (True, SITE)


def test_a_wrong_identity_hash_is_refused_and_creates_nothing(client, widget):
    wrong = services.identity_hash("another secret", "ann@shop.test")
    response = post(client, "session/", widget, {"email": "ann@shop.test", "user_hash": wrong})
    assert response.status_code == 403
    assert "could not be verified" in response.json()["error"]
    # A hash for another address does not vouch for this one either.
    other = services.identity_hash(widget.identity_secret(), "bob@shop.test")
    assert post(client, "session/", widget, {"email": "ann@shop.test", "user_hash": other}).status_code == 403
    assert not ChatConversation.objects.exists()


def test_a_rotated_secret_stops_the_old_hashes_and_is_stored_encrypted(widget):
    old = widget.identity_secret()
    new = services.widget_secret_rotate(widget=widget)
    widget.refresh_from_db()
    assert new != old and new not in widget.identity_secret_encrypted
    assert not services.identity_verified(
        widget=widget, email="a@shop.test", user_hash=services.identity_hash(old, "a@shop.test")
    )
    assert services.identity_verified(
        widget=widget, email="a@shop.test", user_hash=services.identity_hash(new, "a@shop.test")
    )


def test_an_anonymous_visitor_gets_a_session_and_bad_input_a_clear_400(client, widget):
    response = post(client, "session/", widget, {"name": "Vera", "email": "vera@shop.test"})
    assert response.status_code == 201 and response.json()["identified"] is False
    assert post(client, "session/", widget, {"email": "not an address"}).status_code == 400
    garbage = client.post(
        f"/chat/session/?key={widget.public_key}", "[1,", content_type="application/json", HTTP_ORIGIN=SITE
    )
    assert garbage.status_code == 400


def test_with_no_agent_online_the_widget_says_so_and_the_question_becomes_an_email_ticket(client, widget, make_user):
    config = client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).json()
    assert config["online"] is False

    response = post(
        client, "offline/", widget, {"name": "Olga", "email": "olga@shop.test", "body": "Do you ship to Mars?"}
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(requester__email="olga@shop.test")
    assert (ticket.channel, ticket.description) == ("email", "Do you ship to Mars?")
    assert ChatConversation.objects.get(ticket_id=ticket.pk).by_email
    assert post(client, "offline/", widget, {"email": "", "body": "Hello"}).status_code == 400


def test_an_agent_with_a_page_open_makes_the_chat_online(client, widget, make_user, tenant):
    agent = make_user("agent")
    viewer = make_user("viewer")  # cannot answer tickets
    socket_opened(schema=tenant.schema_name, user_id=viewer.pk)
    assert client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).json()["online"] is False
    socket_opened(schema=tenant.schema_name, user_id=agent.pk)
    assert client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).json()["online"] is True
    socket_closed(schema=tenant.schema_name, user_id=agent.pk)
    assert client.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).json()["online"] is False


def test_matching_public_articles_are_suggested_and_whether_they_helped_is_recorded(client, widget):
    article = ArticleFactory(
        title="Reset your password", body="Open Settings, then Password, then Reset.", status="published",
        visibility="public",
    )  # fmt: skip
    ArticleFactory(
        title="Reset your password (internal)", body="Password reset", status="published", visibility="internal"
    )
    response = client.get(f"/chat/suggest/?key={widget.public_key}&q=reset+password", HTTP_ORIGIN=SITE)
    assert response.status_code == 200
    articles = response.json()["articles"]
    assert [found["id"] for found in articles] == [article.pk]
    assert articles[0]["url"].endswith(f"/help/articles/{article.slug}/")

    recorded = post(
        client, "deflection/", widget, {"query": "reset password", "article_ids": [article.pk], "helped": True}
    )
    assert recorded.status_code == 201
    assert post(client, "deflection/", widget, {"query": "x", "article_ids": ["1"], "helped": True}).status_code == 400
    assert post(client, "deflection/", widget, {"query": "x", "article_ids": [1], "helped": "yes"}).status_code == 400
    deflection = DeflectionEvent.objects.get()  # counted by the helpdesk with the help center's
    assert (deflection.source, deflection.article_id, deflection.outcome, deflection.suggested) == (
        "chat",
        article.pk,
        "helped",
        1,
    )


def test_the_public_endpoints_are_rate_limited_per_address(client, widget, monkeypatch):
    from inbox.views import chat as views

    monkeypatch.setitem(views.LIMITS, "session", (2, 3600))
    statuses = [post(client, "session/", widget, {"name": "V"}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_admins_set_up_the_widget_and_see_the_secret_once(client, login):
    login("admin")
    page = client.get("/settings/channels/chat/")
    assert page.status_code == 200
    widget = ChatWidget.objects.get()
    assert widget.public_key in page.content.decode()

    saved = client.post(
        "/settings/channels/chat/",
        {"enabled": "on", "allowed_origins": "https://Shop.Example.com/\nhttp://localhost:8080", "greeting": "Hello",
         "prechat_form": "on", "colour": "#112233"},
    )  # fmt: skip
    assert saved.status_code == 302
    widget.refresh_from_db()
    assert widget.allowed_origins == ["https://shop.example.com", "http://localhost:8080"]

    refused = client.post("/settings/channels/chat/", {"enabled": "on", "allowed_origins": "shop.example.com/path",
                                                       "greeting": "Hi", "colour": "#112233"})  # fmt: skip
    assert refused.status_code == 200 and "is not an origin" in refused.content.decode()

    rotated = client.post("/settings/channels/chat/rotate-secret/")
    widget.refresh_from_db()
    assert widget.identity_secret() in rotated.content.decode()
    assert widget.identity_secret() not in client.get("/settings/channels/chat/").content.decode()


def test_agents_typing_is_accepted_on_a_ticket_of_the_workspace_and_404_for_none(client, login):
    login("agent")
    ticket = TicketFactory()
    assert client.post(f"/chat/agent-typing/{ticket.pk}/").status_code == 204
    assert client.post("/chat/agent-typing/99999999/").status_code == 404


def test_a_widget_key_means_nothing_on_another_workspaces_host(widget, other_tenant):
    beta = Client(HTTP_HOST="beta.localhost")
    assert beta.get(f"/chat/config/?key={widget.public_key}", HTTP_ORIGIN=SITE).status_code == 404
