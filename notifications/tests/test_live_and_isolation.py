"""The bell follows live (pushes to the recipient's user group, after commit), and notifications stay in their
workspace: rows, templates and websocket groups are per schema."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django_tenants.utils import tenant_context

from core.realtime import user_group
from notifications import services
from notifications.models import Notification
from notifications.tests.conftest import TEST_EVENT

pytestmark = pytest.mark.usefixtures("channels_db")
CONTEXT = {"thing": {"name": "Boiler"}}


@pytest.fixture
def sockets():
    """`sockets(user)` puts a test channel in the user's group; `.receive()` the next push (or None)."""
    layer = get_channel_layer()
    joined = []

    class Socket:
        def __init__(self, group: str) -> None:
            self.group = group
            self.channel = async_to_sync(layer.new_channel)()
            async_to_sync(layer.group_add)(group, self.channel)
            joined.append(self)

        def receive(self, seconds: float = 0.5) -> dict | None:
            import asyncio

            async def wait():
                try:
                    return await asyncio.wait_for(layer.receive(self.channel), seconds)
                except TimeoutError:
                    return None

            return async_to_sync(wait)()

    yield lambda user: Socket(user_group(user.pk))
    for socket in joined:
        async_to_sync(layer.group_discard)(socket.group, socket.channel)


def test_the_bell_count_and_a_toast_are_pushed_to_the_recipient_after_commit(make_user, sockets, fan_out):
    ann, bob = make_user(), make_user()
    ann_socket, bob_socket = sockets(ann), sockets(bob)
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    push = ann_socket.receive()
    assert push is not None
    assert 'id="notification-count"' in push["html"] and 'data-count="1"' in push["html"]
    assert "Boiler happened" in push["html"]
    assert bob_socket.receive(0.1) is None


def test_marking_read_pushes_the_new_count(make_user, sockets, fan_out, django_capture_on_commit_callbacks):
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    socket = sockets(ann)
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_mark_all_read(user=ann)
    push = socket.receive()
    assert push is not None and 'data-count="0"' in push["html"]


def test_notifications_stay_in_their_workspace(make_user, fan_out, other_tenant, tenant):
    ann = make_user()
    fan_out(recipients=[ann.pk], event=TEST_EVENT, context=CONTEXT)
    services.template_save(event=TEST_EVENT, channel="in_app", subject="Alpha's wording", body="")
    with tenant_context(other_tenant):
        assert not Notification.objects.filter(title="Boiler happened").exists()
        from notifications.events import event_type_get
        from notifications.rendering import wordings

        assert wordings(event_type_get(TEST_EVENT), ["in_app"])["in_app"].subject == "{{ thing.name }} happened"
    assert connection.schema_name == tenant.schema_name


def test_a_beta_user_id_in_alphas_recipients_reaches_nobody_in_beta(make_user, fan_out, other_tenant):
    from accounts.tests.factories import UserFactory

    with tenant_context(other_tenant):
        beta_user = UserFactory()
        beta_before = Notification.objects.count()
    # Alpha names beta's id: the fan-out reads alpha's users only (the id is nobody, or an alpha person).
    fan_out(recipients=[beta_user.pk + 10_000_000], event=TEST_EVENT, context=CONTEXT)
    with tenant_context(other_tenant):
        assert Notification.objects.count() == beta_before


def test_pushes_go_to_groups_of_the_current_schema(make_user, tenant, other_tenant):
    ann = make_user()
    assert user_group(ann.pk).startswith(f"{tenant.schema_name}.")
    with tenant_context(other_tenant):
        assert user_group(ann.pk).startswith(f"{other_tenant.schema_name}.")
