"""The composer on the ticket page: Markdown preview (sanitised), To/CC/BCC prefilled and checked, the channel a
reply goes by, and "send and next" through the agent's list."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import ContactFactory
from helpdesk.models import Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-composer"}


def url(name: str, *args) -> str:
    return reverse(f"tickets:{name}", args=args)


def reply(client, ticket, **data):
    return client.post(url("ticket_reply", ticket.pk), data, **HTMX)


# --- Preview ------------------------------------------------------------------------------------


def test_the_preview_renders_markdown(client, login):
    login("agent")
    ticket = TicketFactory()

    response = client.post(url("reply_preview", ticket.pk), {"body": "**Bold** and a [link](https://example.com)"})

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="composer-preview"')
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.com" rel="noopener noreferrer nofollow"' in html


def test_the_preview_shows_no_script_nor_javascript_link(client, login):
    login("agent")
    ticket = TicketFactory()
    body = "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))"

    html = client.post(url("reply_preview", ticket.pk), {"body": body}).content.decode()

    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html  # raw HTML shows as text


def test_an_empty_preview_says_so(client, login):
    login("agent")

    html = client.post(url("reply_preview", TicketFactory().pk), {"body": "  "}).content.decode()

    assert "Nothing to preview yet." in html


def test_a_viewer_cannot_preview(client, login):
    login("viewer")

    assert client.post(url("reply_preview", TicketFactory().pk), {"body": "x"}).status_code == 403


# --- Recipients and channel ---------------------------------------------------------------------


def test_the_composer_is_prefilled_with_the_requester_and_the_tickets_ccs(client, login):
    login("agent")
    requester = ContactFactory(email="jane@acme.test", name="Jane Roe")
    ticket = TicketFactory(requester=requester, channel=Ticket.Channel.EMAIL, cc=["boss@acme.test", "it@acme.test"])

    html = client.get(url("ticket_detail", ticket.pk)).content.decode()

    assert 'name="to" id="composer-to" value="jane@acme.test"' in html
    assert 'name="cc" id="composer-cc" value="boss@acme.test, it@acme.test"' in html
    assert 'name="bcc" id="composer-bcc" value=""' in html
    assert "Reply by email to Jane Roe &lt;jane@acme.test&gt;" in html


@pytest.mark.parametrize(
    ("channel", "says"), [(Ticket.Channel.SMS, "Reply by SMS to +15550001111"), (Ticket.Channel.CHAT, "Reply in chat")]
)
def test_a_chat_or_sms_ticket_says_its_channel_and_has_no_address_boxes(client, login, channel, says):
    login("agent")
    ticket = TicketFactory(channel=channel, requester=ContactFactory(phone="+15550001111"))

    html = client.get(url("ticket_detail", ticket.pk)).content.decode()

    assert says in html and 'name="cc"' not in html and 'name="bcc"' not in html


def test_a_bad_cc_is_shown_on_its_box_and_what_was_typed_is_kept(client, login):
    login("agent")
    ticket = TicketFactory(channel=Ticket.Channel.EMAIL)

    response = reply(client, ticket, kind="reply", body="Hello", to="jane@acme.test", cc="ok@acme.test, not-an-address")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-cc">CC: “not-an-address” is not an email address.' in html
    assert 'value="ok@acme.test, not-an-address"' in html and ">Hello</textarea>" in html
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_a_reply_goes_to_the_chosen_recipients_and_a_new_cc_joins_the_ticket(client, login):
    login("agent")
    ticket = TicketFactory(channel=Ticket.Channel.EMAIL, cc=["boss@acme.test"])

    reply(client, ticket, kind="reply", body="Hi", to="Jane@acme.test", cc="boss@acme.test, Finance@Acme.test", bcc="")

    message = TicketMessage.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert (message.to, message.cc, message.bcc) == (["jane@acme.test"], ["boss@acme.test", "finance@acme.test"], [])
    assert ticket.cc == ["boss@acme.test", "finance@acme.test"]
    html = client.get(url("ticket_detail", ticket.pk)).content.decode()
    assert "To jane@acme.test · CC boss@acme.test, finance@acme.test</div>" in html


def test_a_reply_on_an_sms_ticket_ignores_stray_address_boxes(client, login):
    login("agent")
    ticket = TicketFactory(channel=Ticket.Channel.SMS)

    reply(client, ticket, kind="reply", body="On our way", cc="someone@acme.test")

    message = TicketMessage.objects.get(ticket=ticket)
    assert (message.to, message.cc) == ([], [])


def test_an_agents_reply_shows_as_markdown_in_the_thread_and_a_customers_as_typed(client, login):
    agent = login("agent")
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, kind="reply", body="Use **Settings**", author=agent)
    TicketMessage.objects.create(ticket=ticket, kind="reply", body="I typed **this**", author_contact=ticket.requester)

    html = client.get(url("ticket_detail", ticket.pk)).content.decode()

    assert "Use <strong>Settings</strong>" in html and "I typed **this**" in html


# --- Send and next ------------------------------------------------------------------------------


def queue(agent, other):
    """Four tickets, newest first: mine, someone else's, pending (unassigned), unassigned."""
    now = timezone.now()
    mine = TicketFactory(assignee=agent, status="open", created=now - timedelta(minutes=1))
    theirs = TicketFactory(assignee=other, status="open", created=now - timedelta(minutes=2))
    waiting = TicketFactory(status="pending", created=now - timedelta(minutes=3))
    free = TicketFactory(status="new", created=now - timedelta(minutes=4))
    return mine, theirs, waiting, free


def test_send_and_next_opens_the_next_open_ticket_for_me_in_the_lists_order(client, login, make_user):
    agent = login("agent")
    mine, _theirs, _waiting, free = queue(agent, make_user("agent"))
    list_params = urlencode({"status": "unsolved"})

    response = reply(client, mine, kind="reply", body="Done", then="next", list=list_params)

    assert response.status_code == 200
    assert response["HX-Redirect"] == url("ticket_detail", free.pk) + "?" + urlencode({"list": list_params})
    assert TicketMessage.objects.filter(ticket=mine, body="Done").exists()


def test_send_and_next_past_the_end_starts_again_at_the_top(client, login, make_user):
    agent = login("agent")
    mine, _theirs, _waiting, free = queue(agent, make_user("agent"))

    response = reply(client, free, kind="reply", body="Done", then="next", list="")

    assert response["HX-Redirect"] == url("ticket_detail", mine.pk)


def test_send_and_next_follows_the_lists_filters_and_sort(client, login, make_user):
    agent = login("agent")
    mine, _theirs, _waiting, _free = queue(agent, make_user("agent"))
    other_mine = TicketFactory(assignee=agent, status="open", created=timezone.now() - timedelta(minutes=9))

    # Oldest first, mine only: after `other_mine` (the oldest) comes `mine`.
    list_params = urlencode({"assignee": "me", "sort": "created"})
    response = reply(client, other_mine, kind="note", body="Noted", then="next", list=list_params)

    assert response["HX-Redirect"].startswith(url("ticket_detail", mine.pk) + "?")


def test_send_and_next_with_nothing_left_goes_back_to_the_list(client, login):
    login("agent")
    only = TicketFactory(status="open")

    response = reply(client, only, kind="reply", body="Done", then="next", list="status=unsolved")

    assert response["HX-Redirect"] == url("ticket_list") + "?status=unsolved"
