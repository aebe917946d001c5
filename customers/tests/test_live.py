"""Teammates see customer changes live: after commit, their sockets get a toast and the changed table row."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from core.consumers import LiveConsumer
from core.realtime import topics_query
from customers import live, services

from .factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_pushes_toast_and_row_after_commit(make_user, listen, django_capture_on_commit_callbacks):
    actor = make_user("agent", name="Dana Scully")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer = services.customer_create(actor=actor, name="Acme", domain="acme.test")
    assert callbacks  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()

    row, toast = listen(), listen()
    html = row["html"]
    assert row["type"] == toast["type"] == "push.html"
    assert row["exclude_user_id"] == toast["exclude_user_id"] == actor.pk
    assert toast["html"].startswith('<div id="toasts" hx-swap-oob="beforeend">')
    assert "Dana Scully added Acme</div>" in toast["html"]
    assert html.startswith('<tbody hx-swap-oob="afterbegin:#customer-rows">')
    assert f'<tr id="customer-row-{customer.pk}" data-testid="customer-row"' in html
    assert "acme.test" in html


def test_customer_update_and_delete_push_row_changes(make_user, listen, django_capture_on_commit_callbacks):
    actor = make_user("agent", name="Dana Scully")
    customer = CustomerFactory(name="Acme")
    customer_id = customer.pk
    ContactFactory(customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_update(customer=customer, actor=actor, data={"name": "Acme Corp"})
    updated = listen()["html"] + listen()["html"]
    assert "Dana Scully updated Acme Corp" in updated
    assert f'<tr id="customer-row-{customer.pk}" data-testid="customer-row" hx-swap-oob="true">' in updated

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_delete(customer=customer, actor=actor)
    deleted = listen()["html"] + listen()["html"]
    assert "Dana Scully deleted Acme Corp" in deleted
    assert f'<tr id="customer-row-{customer_id}" hx-swap-oob="delete"></tr>' in deleted


def test_contact_changes_refresh_the_row_count(make_user, listen, django_capture_on_commit_callbacks):
    actor = make_user("agent", name="Dana Scully")
    customer = CustomerFactory(name="Acme")

    with django_capture_on_commit_callbacks(execute=True):
        services.contact_create(actor=actor, customer=customer, name="Jane")

    html = listen()["html"] + listen()["html"]
    assert "Dana Scully added Jane to Acme" in html
    assert '<td class="text-end">1</td>' in html


def test_rolled_back_changes_are_never_announced(make_user, django_capture_on_commit_callbacks):
    actor = make_user("agent")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Exception):  # noqa: B017
        services.customer_create(actor=actor, name="Acme", tier="not-a-tier")

    assert callbacks == []


def test_teammates_socket_gets_the_push_and_the_actors_does_not(
    make_user, channels_db, django_capture_on_commit_callbacks
):
    """Both follow the list (its topic in their socket URL, as the customer list page opens it)."""
    actor = make_user("agent", name="Dana Scully")
    teammate = make_user("viewer")
    schema = connection.schema_name
    follow = {user.pk: topics_query(live.LIST_TOPIC, user_id=user.pk) for user in (actor, teammate)}

    def create_customer() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.customer_create(actor=actor, name="Acme")

    async def scenario() -> tuple[str, bool]:
        sockets = {}
        for user in (actor, teammate):
            socket = WebsocketCommunicator(LiveConsumer.as_asgi(), f"/ws/live/?{follow[user.pk]}")
            socket.scope.update(user=user, schema_name=schema)
            connected, _ = await socket.connect()
            assert connected
            sockets[user.pk] = socket
        await sync_to_async(create_customer)()
        received = await sockets[teammate.pk].receive_from(timeout=2)
        received += await sockets[teammate.pk].receive_from(timeout=2)
        actor_got_nothing = await sockets[actor.pk].receive_nothing(timeout=0.3)
        for socket in sockets.values():
            await socket.disconnect()
        return received, actor_got_nothing

    html, actor_got_nothing = async_to_sync(scenario)()

    assert "Dana Scully added Acme" in html
    assert 'data-testid="customer-row"' in html
    assert actor_got_nothing


def test_import_announces_a_count_not_every_row(make_user, listen, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    actor = make_user("agent", name="Dana Scully")

    with django_capture_on_commit_callbacks(execute=True):
        services.customers_import_csv(file=ContentFile(b"name\nA\nB\nC\n"), actor=actor)

    html = listen()["html"]
    assert "Dana Scully imported 3 customers. Reload to see them." in html
    assert "customer-row" not in html
