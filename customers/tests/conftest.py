"""Fixtures for customers' tests."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.realtime import workspace_group


@pytest.fixture
def listen():
    """A test channel in the workspace group; returns a function that reads the next message pushed to it."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(workspace_group(), channel)

    def receive() -> dict:
        return async_to_sync(layer.receive)(channel)

    yield receive
    async_to_sync(layer.group_discard)(workspace_group(), channel)
