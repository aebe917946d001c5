"""The live socket and its groups: who may connect, which workspace's pushes reach whom, and when pushes leave.

Scenarios run through `config.asgi.application` (the ASGI app daphne serves) on the in-memory layer,
via `async_to_sync` from sync tests so the middleware's database calls share the test transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from core.realtime import USER, WORKSPACE, group_name, notify_on_commit, user_group, workspace_group

pytestmark = pytest.mark.usefixtures("channels_db")

SENTINEL = "<p>sentinel</p>"


def run(scenario: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    return async_to_sync(scenario)(*args)


def session_cookie(client: Client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


SAME_ORIGIN = object()


def live_socket(host: str, cookie: str = "", origin: str | object | None = SAME_ORIGIN) -> WebsocketCommunicator:
    """What the htmx ws extension opens from a page on `host` (or, given `origin`, from a page there; None: none)."""
    origin = f"http://{host}" if origin is SAME_ORIGIN else origin
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(import_string(settings.ASGI_APPLICATION), "/ws/live/", headers=headers)


async def connects(host: str, cookie: str = "", origin: str | object | None = SAME_ORIGIN) -> bool:
    socket = live_socket(host, cookie, origin)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return connected


async def push(group: str, html: str, exclude_user_id: int | None = None) -> None:
    """Exactly what `notify_on_commit` sends once the transaction commits."""
    await get_channel_layer().group_send(group, {"type": "push.html", "html": html, "exclude_user_id": exclude_user_id})


def signed_in_cookie(host: str, user) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return session_cookie(client)


@pytest.fixture
def beta_user(tenant, beta, make_user):
    with tenant_context(beta):
        user = make_user("agent")
        cookie = signed_in_cookie("beta.localhost", user)
    return user, cookie


# --- Who may connect -----------------------------------------------------------------------------


def test_anonymous_socket_is_closed(tenant):
    assert run(connects, "alpha.localhost") is False


def test_socket_with_unknown_session_key_is_closed(tenant):
    assert run(connects, "alpha.localhost", f"{settings.SESSION_COOKIE_NAME}=not-a-session") is False


def test_signed_in_member_joins_workspace_and_own_user_groups(client, login):
    user = login("agent")
    cookie = session_cookie(client)

    async def scenario() -> list[str]:
        socket = live_socket("alpha.localhost", cookie)
        connected, _ = await socket.connect()
        assert connected
        await push("t_alpha.workspace", "<p>to everyone</p>")
        await push(f"t_alpha.user.{user.pk}", "<p>to you</p>")
        received = [await socket.receive_from(), await socket.receive_from()]
        await socket.disconnect()
        return received

    assert run(scenario) == ["<p>to everyone</p>", "<p>to you</p>"]


def test_socket_leaves_its_groups_on_disconnect(client, login):
    user = login("agent")
    cookie = session_cookie(client)
    layer = get_channel_layer()

    def members(group: str) -> set[str]:
        return set(layer.groups.get(group, {}))

    async def scenario() -> None:
        before = members("t_alpha.workspace")
        socket = live_socket("alpha.localhost", cookie)
        await socket.connect()
        joined = members("t_alpha.workspace") - before
        assert len(joined) == 1
        assert joined == members(f"t_alpha.user.{user.pk}")
        await socket.disconnect()
        assert not joined & (members("t_alpha.workspace") | members(f"t_alpha.user.{user.pk}"))

    run(scenario)


def test_alpha_session_cookie_is_anonymous_on_beta_host(client, login, beta):
    """Sessions live in each workspace's schema: alpha's session key means nothing to beta."""
    login("agent")
    cookie = session_cookie(client)

    assert run(connects, "alpha.localhost", cookie) is True
    assert run(connects, "beta.localhost", cookie) is False


def test_unknown_host_is_closed(client, login):
    login("agent")
    cookie = session_cookie(client)

    assert run(connects, "nowhere.localhost", cookie) is False


def test_public_host_is_closed(client, login):
    login("agent")

    assert run(connects, "localhost", session_cookie(client)) is False


def test_suspended_workspace_is_closed(client, login, tenant):
    login("agent")
    cookie = session_cookie(client)
    tenant.status = "suspended"
    tenant.save()  # the host → workspace cache is dropped on save
    try:
        assert run(connects, "alpha.localhost", cookie) is False
    finally:
        tenant.status = "active"
        tenant.save()


def test_deactivated_user_is_closed(client, login):
    user = login("agent")
    cookie = session_cookie(client)
    user.is_active = False
    user.save()

    assert run(connects, "alpha.localhost", cookie) is False


# --- Which pushes reach whom ---------------------------------------------------------------------


def test_push_to_beta_never_reaches_alpha_socket(client, login, beta_user):
    login("agent")
    alpha_cookie = session_cookie(client)
    _, beta_cookie = beta_user

    async def scenario() -> tuple[str, str]:
        alpha, beta = live_socket("alpha.localhost", alpha_cookie), live_socket("beta.localhost", beta_cookie)
        assert (await alpha.connect())[0] and (await beta.connect())[0]
        await push("t_beta.workspace", "<p>beta news</p>")
        # The layer delivers in order: if beta's push had reached alpha, it would come before the sentinel.
        await push("t_alpha.workspace", SENTINEL)
        received = await alpha.receive_from(), await beta.receive_from()
        await alpha.disconnect()
        await beta.disconnect()
        return received

    assert run(scenario) == (SENTINEL, "<p>beta news</p>")


def test_excluded_user_does_not_receive_own_push(client, login, make_user):
    actor = login("agent")
    actor_cookie = session_cookie(client)
    colleague_cookie = signed_in_cookie("alpha.localhost", make_user("agent"))

    async def scenario() -> tuple[str, str]:
        mine, theirs = live_socket("alpha.localhost", actor_cookie), live_socket("alpha.localhost", colleague_cookie)
        assert (await mine.connect())[0] and (await theirs.connect())[0]
        await push("t_alpha.workspace", "<p>Ada added Acme</p>", exclude_user_id=actor.pk)
        await push("t_alpha.workspace", SENTINEL)
        received = await mine.receive_from(), await theirs.receive_from()
        await mine.disconnect()
        await theirs.disconnect()
        return received

    assert run(scenario) == (SENTINEL, "<p>Ada added Acme</p>")


def test_user_group_push_reaches_only_that_user(client, login, make_user):
    user = login("agent")
    cookie = session_cookie(client)
    colleague_cookie = signed_in_cookie("alpha.localhost", make_user("agent"))

    async def scenario() -> tuple[str, str]:
        mine, theirs = live_socket("alpha.localhost", cookie), live_socket("alpha.localhost", colleague_cookie)
        assert (await mine.connect())[0] and (await theirs.connect())[0]
        await push(f"t_alpha.user.{user.pk}", "<p>for you only</p>")
        await push("t_alpha.workspace", SENTINEL)
        received = [await mine.receive_from(), await mine.receive_from(), await theirs.receive_from()]
        await mine.disconnect()
        await theirs.disconnect()
        return received

    assert run(scenario) == ["<p>for you only</p>", SENTINEL, SENTINEL]


def test_socket_ignores_what_clients_send(client, login):
    login("agent")
    cookie = session_cookie(client)

    async def scenario() -> str:
        socket = live_socket("alpha.localhost", cookie)
        await socket.connect()
        await socket.send_to(text_data='{"type": "push.html", "html": "<script>"}')
        await push("t_alpha.workspace", SENTINEL)
        received = await socket.receive_from()
        await socket.disconnect()
        return received

    assert run(scenario) == SENTINEL


# --- notify_on_commit and group names ------------------------------------------------------------


def subscribe(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def next_message(channel: str) -> dict:
    async def receive() -> dict:
        return await asyncio.wait_for(get_channel_layer().receive(channel), timeout=1)

    return async_to_sync(receive)()


def test_group_names_start_with_the_current_schema(db, beta):
    assert workspace_group() == "t_alpha.workspace"
    assert user_group(7) == "t_alpha.user.7"
    with tenant_context(beta):
        assert workspace_group() == "t_beta.workspace"
        assert user_group(7) == "t_beta.user.7"
    connection.set_schema_to_public()
    assert workspace_group() == "public.workspace"
    assert group_name(WORKSPACE, schema="t_beta") == "t_beta.workspace"
    assert group_name(USER, 3, schema="t_beta") == "t_beta.user.3"


def test_notify_on_commit_sends_nothing_when_the_transaction_rolls_back(db, django_capture_on_commit_callbacks):
    channel = subscribe(workspace_group())

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify_on_commit(workspace_group(), "<p>never</p>")
        raise RuntimeError("the write failed")
    async_to_sync(push)(workspace_group(), SENTINEL)

    assert callbacks == []
    assert next_message(channel)["html"] == SENTINEL


def test_notify_on_commit_sends_only_after_commit(db, django_capture_on_commit_callbacks):
    channel = subscribe(workspace_group())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify_on_commit(workspace_group(), "<p>Acme added</p>", exclude_user_id=5)
        async_to_sync(push)(workspace_group(), SENTINEL)  # still inside the transaction

    assert len(callbacks) == 1
    assert next_message(channel)["html"] == SENTINEL
    assert next_message(channel) == {"type": "push.html", "html": "<p>Acme added</p>", "exclude_user_id": 5}


def test_notify_on_commit_refuses_another_workspaces_group(db):
    with pytest.raises(ValueError, match=r"t_beta\.workspace"):
        notify_on_commit(group_name(WORKSPACE, schema="t_beta"), "<p>leak</p>")
