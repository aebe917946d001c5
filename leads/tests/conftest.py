"""Fixtures for leads' tests: a pipeline with the usual stages, and a listener on its board's topic."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.realtime import topic_group
from leads import live, services


@pytest.fixture
def pipeline(db):
    return services.pipeline_create(name="Sales", is_default=True)


@pytest.fixture
def stages(pipeline) -> dict:
    """The pipeline's stages by name: Prospect, Qualified, Proposal, Negotiation, Won, Lost."""
    return {stage.name: stage for stage in pipeline.stages.order_by("order")}


@pytest.fixture
def listen_board(pipeline):
    """A test channel following the pipeline's board; returns a function reading the next push."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = topic_group(live.board_topic(pipeline.pk))
    async_to_sync(layer.group_add)(group, channel)

    def receive() -> dict:
        return async_to_sync(layer.receive)(channel)

    yield receive
    async_to_sync(layer.group_discard)(group, channel)
