"""Live dashboards: rollup upkeep nudges open dashboards over their topic, one push per burst of changes, and the
dashboard page follows that topic (and only dashboard pages do)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.urls import reverse

from core.realtime import topic_group
from helpdesk.tests.factories import TicketFactory
from insights import live, tasks
from insights.dashboards import PRESETS

pytestmark = pytest.mark.django_db


@pytest.fixture
def dashboard_socket():
    """A channel in the dashboards' topic group; returns a function reading the next message (or None)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = topic_group(live.DASHBOARD_TOPIC)
    async_to_sync(layer.group_add)(group, channel)

    def receive() -> dict | None:
        async def read():
            import asyncio

            try:
                return await asyncio.wait_for(layer.receive(channel), timeout=0.2)
            except TimeoutError:
                return None

        return async_to_sync(read)()

    yield receive
    async_to_sync(layer.group_discard)(group, channel)


@pytest.fixture(autouse=True)
def _no_pending_push():
    cache.delete(live.PENDING_KEY)
    yield
    cache.delete(live.PENDING_KEY)


def test_a_burst_of_changes_schedules_one_push(monkeypatch):
    scheduled = []
    monkeypatch.setattr(tasks.dashboards_live_push_task, "apply_async", lambda countdown: scheduled.append(countdown))
    tickets = [TicketFactory() for _ in range(3)]
    for ticket in tickets:
        tasks.rollups_refresh_task("ticket", [ticket.pk])
    assert scheduled == [live.LIVE_DELAY_SECONDS]
    assert live.LIVE_WINDOW_SECONDS < live.LIVE_DELAY_SECONDS  # a change in the window committed before the push


def test_the_push_nudges_dashboards_to_refresh_their_live_widgets(dashboard_socket):
    assert live.dashboards_push()
    message = dashboard_socket()
    assert message["type"] == "push.html"
    assert message["html"].startswith('<span id="insights-live" hx-swap-oob="true"')
    assert dashboard_socket() is None


def test_the_dashboard_page_follows_the_dashboards_topic_and_its_numbers_listen(client, login):
    login("agent")
    html = client.get(reverse("insights:dashboard", args=["support"])).content.decode()
    assert "ws-connect=" in html and "topic=" in html
    assert 'id="insights-live"' in html
    numbers = [slot for slot in PRESETS["support"].slots if slot.entry.kind == "number"]
    assert html.count('hx-trigger="insights:changed from:body"') == len(numbers) > 0


def test_other_pages_do_not_follow_the_dashboards_topic(client, login):
    login("agent")
    html = client.get(reverse("tickets:ticket_list")).content.decode()
    assert "insights-live" not in html
