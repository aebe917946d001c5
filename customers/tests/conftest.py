"""Fixtures for customers' tests."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.realtime import topic_group, workspace_group
from customers import live


@pytest.fixture
def listen():
    """A test channel following what the customer list page follows (the workspace group and the list topic);
    returns a function that reads the next message pushed to it."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    groups = (workspace_group(), topic_group(live.LIST_TOPIC))
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)

    def receive() -> dict:
        return async_to_sync(layer.receive)(channel)

    yield receive
    for group in groups:
        async_to_sync(layer.group_discard)(group, channel)
