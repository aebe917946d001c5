"""Live ticket updates and presence: fragments reach the right groups after commit, sockets follow a ticket only
with a token the server signed for that user in that workspace, and agents on one ticket see each other."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, quote

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from core import realtime
from core.realtime import topic_from_token, topic_group, topic_token, user_group, workspace_group
from customers.tests.factories import ContactFactory
from helpdesk import live
from helpdesk.services import tickets as services
from helpdesk.tests.factories import TicketFactory

pytestmark = pytest.mark.usefixtures("channels_db")

HOST = "alpha.localhost"


class Listener:
    """A test channel in a group: call it for the next message; `nothing()` says whether none arrives."""

    def __init__(self, layer, channel: str) -> None:
        self.layer, self.channel = layer, channel

    def __call__(self, seconds: float = 5.0) -> dict:
        async def wait() -> dict:
            try:
                return await asyncio.wait_for(self.layer.receive(self.channel), seconds)
            except TimeoutError:
                raise AssertionError(f"no message within {seconds} s") from None

        return async_to_sync(wait)()

    def nothing(self, seconds: float = 0.1) -> bool:
        try:
            self(seconds)
        except AssertionError:
            return True
        return False


@pytest.fixture
def listen():
    """`listen(group)` puts a test channel in `group`."""
    layer = get_channel_layer()
    joined = []

    def subscribe(group: str) -> Listener:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel)
        joined.append((group, channel))
        return Listener(layer, channel)

    yield subscribe
    for group, channel in joined:
        async_to_sync(layer.group_discard)(group, channel)


def commit(django_capture_on_commit_callbacks, write):
    """Runs `write`, then its after-commit callbacks (and those they add, such as the new ticket's intake)."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = write()
    assert callbacks, "nothing may be sent before the transaction commits"  # they were deferred, then run
    return result


# --- What the services push --------------------------------------------------------------------------


def test_a_new_ticket_goes_on_top_of_every_list_and_the_toast_skips_its_author(
    make_user, listen, django_capture_on_commit_callbacks
):
    actor = make_user("agent", name="Dana Scully")
    ContactFactory(email="x@globex.test")  # a known requester: no new customer row is pushed first
    lists, everyone = listen(live.list_group()), listen(workspace_group())

    ticket = commit(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_create(
            subject="VPN down", description="Since 9am.", requester_email="x@globex.test", actor=actor, tags=["vpn"]
        ),
    )

    row, toast = lists(), everyone()
    assert row["exclude_user_id"] is None  # the author's other list tabs get the row too
    assert row["html"].startswith('<tbody hx-swap-oob="afterbegin:#ticket-rows">')
    assert f'<tr id="ticket-row-{ticket.pk}" data-testid="ticket-row" class="sb-ticket-row sb-row-new"' in row["html"]
    assert 'data-status="new"' in row["html"] and 'data-tags="vpn"' in row["html"]
    assert toast["exclude_user_id"] == actor.pk and f"New ticket #{ticket.pk}: VPN down" in toast["html"]
    assert lists.nothing() and everyone.nothing()  # no row for pages without a list, no toast for lists twice


def test_rows_render_at_commit_with_what_the_transaction_did_after_the_push_was_asked_for(
    make_user, listen, django_capture_on_commit_callbacks
):
    agent = make_user("agent", name="Fox Mulder")
    ContactFactory(email="x@globex.test")  # a known requester: no new customer row is pushed first
    receive = listen(live.list_group())

    def create_then_assign():
        ticket = services.ticket_create(subject="Laptop", description="Broken.", requester_email="x@globex.test")
        return services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)

    ticket = commit(django_capture_on_commit_callbacks, create_then_assign)

    inserted = receive()["html"]
    assert f'id="ticket-row-{ticket.pk}"' in inserted and f'data-assignee="{agent.pk}"' in inserted


def test_a_push_whose_ticket_is_gone_at_commit_sends_nothing(listen, django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    receive = listen(live.list_group())

    def change_then_delete():
        services.ticket_update(ticket=ticket, actor=None, data={"priority": "low"})
        ticket.delete()

    commit(django_capture_on_commit_callbacks, change_then_delete)

    assert receive.nothing()


def test_a_field_change_replaces_the_row_and_refreshes_other_readers_of_the_ticket(
    make_user, listen, django_capture_on_commit_callbacks
):
    actor = make_user("agent", name="Dana Scully")
    ticket = TicketFactory()
    lists = listen(live.list_group())
    readers = listen(topic_group(f"ticket.{ticket.pk}"))
    other_ticket = listen(topic_group("ticket.999999"))

    commit(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_update(ticket=ticket, actor=actor, data={"priority": "urgent"}),
    )

    row = lists()
    assert (
        f'<tr id="ticket-row-{ticket.pk}" data-testid="ticket-row" class="sb-ticket-row" hx-swap-oob="true"'
        in (row["html"])
    )
    assert 'data-priority="urgent"' in row["html"]
    refresh = readers()
    assert refresh["exclude_user_id"] == actor.pk
    assert '<div id="ticket-refresh" hx-swap-oob="true"' in refresh["html"]
    assert f'hx-get="{reverse("tickets:ticket_refresh", args=[ticket.pk])}"' in refresh["html"]
    assert 'data-by="Dana Scully"' in refresh["html"]
    assert other_ticket.nothing() and lists.nothing() and readers.nothing()


def test_replies_refresh_readers_and_a_customer_reply_toasts_the_assignee(
    make_user, listen, django_capture_on_commit_callbacks
):
    agent = make_user("agent", name="Fox Mulder")
    ticket = TicketFactory(assignee=agent)
    readers = listen(topic_group(f"ticket.{ticket.pk}"))
    assignee = listen(user_group(agent.pk))

    commit(django_capture_on_commit_callbacks, lambda: services.message_add(ticket=ticket, actor=agent, body="On it"))
    assert readers()["exclude_user_id"] == agent.pk

    commit(django_capture_on_commit_callbacks, lambda: services.customer_message_add(ticket=ticket, body="Thanks!"))
    assert readers()["exclude_user_id"] is None  # the requester is nobody's socket: every agent refreshes
    assert f"replied on #{ticket.pk}" in assignee()["html"]


def test_assignment_toasts_the_new_assignee_and_updates_lists(make_user, listen, django_capture_on_commit_callbacks):
    actor = make_user("agent", name="Dana Scully")
    assignee = make_user("agent")
    ticket = TicketFactory()
    lists = listen(live.list_group())
    personal = listen(user_group(assignee.pk))

    commit(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_assign(ticket=ticket, assignee=assignee, actor=actor),
    )

    assert f'data-assignee="{assignee.pk}"' in lists()["html"]
    assert f"Dana Scully assigned you #{ticket.pk}" in personal()["html"]


def test_pushes_never_leave_for_another_workspaces_groups(other_tenant):
    with tenant_context(other_tenant):
        beta_topic = topic_group("ticket.1")
    with pytest.raises(ValueError, match="does not belong to the current schema"):
        realtime.notify_on_commit(beta_topic, "<p>leak</p>")


# --- Topic tokens ------------------------------------------------------------------------------------


def test_a_topic_token_names_its_topic_for_its_user_in_its_workspace(tenant, make_user):
    user = make_user("agent")
    token = topic_token("ticket.42", user_id=user.pk)

    assert topic_from_token(token, schema=tenant.schema_name, user_id=user.pk) == "ticket.42"
    assert topic_from_token(token, schema="t_beta", user_id=user.pk) is None
    assert topic_from_token(token, schema=tenant.schema_name, user_id=user.pk + 1) is None


def test_forged_or_garbled_tokens_grant_nothing(tenant, make_user):
    user = make_user("agent")
    token = topic_token("ticket.42", user_id=user.pk)
    _, timestamp, signature = token.split(":")
    claims = {"s": tenant.schema_name, "t": "ticket.43", "u": user.pk}
    other_claims = signing.b64_encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
    forged = [
        f"{other_claims}:{timestamp}:{signature}",  # another ticket under the genuine signature
        signing.dumps(claims, salt="another.salt"),  # signed for another purpose
        signing.dumps(claims, salt=realtime.TOPIC_SALT, key="not-our-secret"),
        json.dumps(claims),
        token[:-3] + "abc",
    ]

    for bad in [*forged, "", None, 42, {"subscribe": token}, "x" * 600]:
        assert topic_from_token(bad, schema=tenant.schema_name, user_id=user.pk) is None, bad


def test_an_expired_token_grants_nothing(tenant, make_user, monkeypatch):
    user = make_user("agent")
    token = topic_token("ticket.42", user_id=user.pk)
    monkeypatch.setattr(realtime, "TOPIC_TOKEN_MAX_AGE", -1)

    assert topic_from_token(token, schema=tenant.schema_name, user_id=user.pk) is None


def test_topic_names_are_checked(make_user):
    with pytest.raises(ValueError):
        topic_token("Ticket 42; drop", user_id=1)
    assert topic_group("ticket.42").endswith(".topic.ticket.42")


# --- The socket: subscriptions and presence ----------------------------------------------------------


def cookie_for(user, host: str = HOST) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def socket_for(cookie: str, host: str = HOST) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode()), (b"cookie", cookie.encode())]
    return WebsocketCommunicator(import_string(settings.ASGI_APPLICATION), "/ws/live/", headers=headers)


async def joined(group: str) -> None:
    """Waits until a socket is in `group` (the consumer handles what a socket sends in its own time)."""
    layer = get_channel_layer()
    for _ in range(100):
        if layer.groups.get(group):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nobody joined {group}")


async def push(group: str, html: str) -> None:
    await get_channel_layer().group_send(group, {"type": "push.html", "html": html, "exclude_user_id": None})


def test_a_socket_follows_a_topic_only_with_a_valid_token(make_user, other_tenant):
    user = make_user("agent")
    cookie = cookie_for(user)
    good = topic_token("ticket.7", user_id=user.pk)
    with tenant_context(other_tenant):
        beta_token = topic_token("ticket.8", user_id=user.pk)  # same user id, another workspace
    someone_elses = topic_token("ticket.9", user_id=user.pk + 1)
    groups = {number: topic_group(f"ticket.{number}") for number in (7, 8, 9)}

    async def scenario() -> None:
        socket = socket_for(cookie)
        connected, _ = await socket.connect()
        assert connected
        await socket.send_to(text_data="{not json")
        await socket.send_to(text_data=json.dumps(["subscribe", good]))
        for token in (beta_token, someone_elses, "not a token", good):
            await socket.send_to(text_data=json.dumps({"subscribe": token}))
        await joined(groups[7])
        for number in (8, 9):
            await push(groups[number], "<p>leak</p>")
        await push(groups[7], "<p>ticket 7 changed</p>")
        assert await socket.receive_from(timeout=1) == "<p>ticket 7 changed</p>"
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_agents_on_one_ticket_see_who_views_and_who_replies(make_user):
    dana = make_user("agent", name="Dana Scully")
    fox = make_user("agent", name="Fox Mulder")
    topic = "ticket.5"

    async def join(user):
        socket = socket_for(cookie_for_sync[user.pk])
        assert (await socket.connect())[0]
        await socket.send_to(text_data=json.dumps({"subscribe": tokens[user.pk]}))
        await socket.send_to(text_data=json.dumps({"presence": "viewing"}))
        return socket

    async def scenario() -> None:
        dana_socket = await join(dana)
        assert await dana_socket.receive_nothing(timeout=0.2)  # nobody else here yet
        fox_socket = await join(fox)
        seen_by_dana = await dana_socket.receive_from(timeout=1)
        assert '<div id="presence-ticket-5" hx-swap-oob="true"' in seen_by_dana
        assert "Fox Mulder is viewing" in seen_by_dana and "Dana Scully" not in seen_by_dana
        seen_by_fox = await fox_socket.receive_from(timeout=1)  # Dana answered Fox's arrival
        assert "Dana Scully is viewing" in seen_by_fox

        await fox_socket.send_to(text_data=json.dumps({"presence": "replying", "topic": topic}))
        assert "Fox Mulder is replying…" in await dana_socket.receive_from(timeout=1)
        await fox_socket.send_to(text_data=json.dumps({"presence": "dancing"}))  # not a state: ignored
        assert await dana_socket.receive_nothing(timeout=0.2)

        await fox_socket.disconnect()
        gone = await dana_socket.receive_from(timeout=1)
        assert "Fox Mulder" not in gone and 'id="presence-ticket-5"' in gone
        await dana_socket.disconnect()

    cookie_for_sync = {dana.pk: cookie_for(dana), fox.pk: cookie_for(fox)}
    tokens = {user.pk: topic_token(topic, user_id=user.pk) for user in (dana, fox)}
    async_to_sync(scenario)()


def test_presence_without_a_subscription_tells_nobody(make_user):
    dana, fox = make_user("agent", name="Dana Scully"), make_user("agent", name="Fox Mulder")
    dana_cookie, fox_cookie = cookie_for(dana), cookie_for(fox)
    dana_token = topic_token("ticket.6", user_id=dana.pk)

    async def scenario() -> None:
        dana_socket, fox_socket = socket_for(dana_cookie), socket_for(fox_cookie)
        await dana_socket.connect()
        await fox_socket.connect()
        await dana_socket.send_to(text_data=json.dumps({"subscribe": dana_token}))
        await fox_socket.send_to(text_data=json.dumps({"presence": "replying", "topic": "ticket.6"}))
        assert await dana_socket.receive_nothing(timeout=0.2)
        await dana_socket.disconnect()
        await fox_socket.disconnect()

    async_to_sync(scenario)()


def page_socket(client: Client, url: str) -> WebsocketCommunicator:
    """The socket a page opens: its ws-connect URL (with the topics the page follows), this client's session."""
    html = client.get(url).content.decode()
    path = html.split('ws-connect="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    headers = [
        (b"host", HOST.encode()),
        (b"origin", f"http://{HOST}".encode()),
        (b"cookie", session_of(client).encode()),
    ]
    return WebsocketCommunicator(import_string(settings.ASGI_APPLICATION), path, headers=headers)


def session_of(client: Client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_only_the_ticket_list_page_receives_ticket_rows(client, login, tenant, django_capture_on_commit_callbacks):
    login("admin")
    ticket = TicketFactory()
    pages = {
        name: page_socket(client, url)
        for name, url in {
            "list": reverse("tickets:ticket_list"),
            "team": reverse("people:members"),
            "ticket": reverse("tickets:ticket_detail", args=[ticket.pk]),
        }.items()
    }

    def change() -> None:
        connection.set_tenant(tenant)  # the sockets' tenant middleware left the shared test connection elsewhere
        commit(
            django_capture_on_commit_callbacks,
            lambda: services.ticket_update(ticket=ticket, actor=None, data={"priority": "urgent"}),
        )

    async def scenario() -> dict[str, list[str]]:
        for socket in pages.values():
            assert (await socket.connect())[0]
        await sync_to_async(change)()
        received = {}
        for name, socket in pages.items():
            received[name] = []
            while not await socket.receive_nothing(timeout=0.3):
                received[name].append(await socket.receive_from())
            await socket.disconnect()
        return received

    received = async_to_sync(scenario)()

    assert len(received["list"]) == 1 and f'id="ticket-row-{ticket.pk}"' in received["list"][0]
    assert received["team"] == []
    assert len(received["ticket"]) == 1 and 'id="ticket-refresh"' in received["ticket"][0]  # but no row


def test_a_socket_url_follows_only_topics_signed_for_its_user_and_workspace(client, login, other_tenant):
    user = login("agent")
    with tenant_context(other_tenant):
        beta_token = topic_token(live.LIST_TOPIC, user_id=user.pk)
    someone_elses = topic_token(live.LIST_TOPIC, user_id=user.pk + 1)
    query = "&".join(f"topic={quote(token)}" for token in (beta_token, someone_elses, "forged"))
    headers = [
        (b"host", HOST.encode()),
        (b"origin", f"http://{HOST}".encode()),
        (b"cookie", session_of(client).encode()),
    ]
    socket = WebsocketCommunicator(import_string(settings.ASGI_APPLICATION), f"/ws/live/?{query}", headers=headers)

    async def scenario() -> bool:
        assert (await socket.connect())[0]
        await push(live.list_group(), "<p>row</p>")
        nothing = await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()
        return nothing

    assert async_to_sync(scenario)()


def test_the_ticket_page_gives_its_socket_a_token_for_its_ticket_only(client, login, tenant):
    user = login("agent")
    ticket = TicketFactory()

    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    query = html.split('ws-connect="', 1)[1].split('"', 1)[0].split("?", 1)[1]
    (token,) = parse_qs(query)["topic"]
    assert topic_from_token(token, schema=tenant.schema_name, user_id=user.pk) == live.ticket_topic(ticket.pk)
