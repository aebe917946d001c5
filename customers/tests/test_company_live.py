"""The company page stays current: when someone else adds or completes a note or task, or the health is recomputed,
readers of the page get a push (after commit) that makes it fetch that panel again for them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse
from django.utils import timezone

from core.realtime import topic_group
from customers import health, live, services
from customers.models import Customer
from helpdesk.models import Ticket
from helpdesk.tests.factories import TicketFactory

from .factories import ContactFactory, CustomerFactory, NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def company() -> Customer:
    return CustomerFactory(name="Acme")


@pytest.fixture
def listen_company(company):
    """A test channel following the company page's topic; `listen_company()` reads the next push, or None."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = topic_group(live.company_topic(company.pk))
    async_to_sync(layer.group_add)(group, channel)

    async def receive(timeout: float) -> dict | None:
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None

    yield lambda timeout=2.0: async_to_sync(receive)(timeout)
    async_to_sync(layer.group_discard)(group, channel)


def test_a_note_added_makes_other_readers_reload_notes_and_tasks(
    company, make_user, listen_company, django_capture_on_commit_callbacks
):
    actor = make_user("agent", name="Dana Scully")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.note_create(actor=actor, customer=company, body="Called them")
    assert listen_company(timeout=0.1) is None  # nothing before the commit
    for callback in callbacks:
        callback()

    push = listen_company()
    assert push["exclude_user_id"] == actor.pk  # the actor's own page already shows it
    html = push["html"]
    assert f'hx-get="{reverse("customers:customer_live_notes_tasks", args=[company.pk])}"' in html
    assert 'id="customer-live-notes" hx-swap-oob="true"' in html and 'hx-target="#notes-tasks"' in html
    assert "Dana Scully added a note on Acme" in html


def test_a_note_about_a_person_reaches_their_company_page(
    company, make_user, listen_company, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.note_create(actor=make_user("agent"), contact=ContactFactory(customer=company), body="Hello")

    assert "customer-live-notes" in listen_company()["html"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda task, actor: services.task_complete(task=task, actor=actor), "completed a task: Send the quote"),
        (lambda task, actor: services.task_update(task=task, actor=actor, data={"title": "X"}), "changed a task: X"),
    ],
)
def test_task_changes_push_to_the_company_page(
    company, make_user, listen_company, django_capture_on_commit_callbacks, change, said
):
    actor = make_user("agent", name="Dana Scully")
    task = TaskFactory(customer=company, title="Send the quote")

    with django_capture_on_commit_callbacks(execute=True):
        change(task, actor)

    assert f"Dana Scully {said}" in listen_company()["html"]


def test_a_note_deleted_and_a_task_added_push_too(
    company, make_user, listen_company, django_capture_on_commit_callbacks
):
    actor = make_user("agent")
    note = NoteFactory(customer=company)

    with django_capture_on_commit_callbacks(execute=True):
        services.note_delete(note=note, actor=actor)
        services.task_create(actor=actor, customer=company, title="Call back")

    assert "deleted a note" in listen_company()["html"]
    assert "added a task: Call back" in listen_company()["html"]


def test_a_health_change_makes_readers_reload_the_health_card_and_an_unchanged_one_does_not(
    company, listen_company, django_capture_on_commit_callbacks
):
    requester = ContactFactory(customer=company)
    made = TicketFactory(requester=requester, customer=company, priority=Ticket.Priority.URGENT)
    Ticket.objects.filter(pk=made.pk).update(created=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        health.customer_health_analyze(customer_ids=[company.pk])
    push = listen_company()
    assert f'hx-get="{reverse("customers:customer_live_health", args=[company.pk])}"' in push["html"]
    assert 'hx-target="#customer-health"' in push["html"] and push["exclude_user_id"] is None

    with django_capture_on_commit_callbacks(execute=True):
        health.customer_health_analyze(customer_ids=[company.pk])  # the same data: the same score
    assert listen_company(timeout=0.3) is None


def test_the_company_page_follows_its_topic_and_has_the_placeholders(client, login, company):
    login("agent")

    html = client.get(reverse("customers:customer_detail", args=[company.pk])).content.decode()

    assert '<div id="customer-live-notes" hidden></div>' in html
    assert '<div id="customer-live-health" hidden></div>' in html
    assert "?topic=" in html  # the socket URL carries the signed topic token


def test_the_notes_and_tasks_fragment_renders_for_the_reader_and_reloads_the_timeline(client, login, company):
    NoteFactory(customer=company, body="Renewal next month")
    login("viewer")

    response = client.get(reverse("customers:customer_live_notes_tasks", args=[company.pk]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="notes-tasks"')
    assert "Renewal next month" in html and 'data-testid="note-form"' not in html  # a viewer cannot write
    assert response["HX-Trigger"] == "timeline-changed"


def test_the_health_fragment_brings_the_churn_card_out_of_band(client, login, company):
    Customer.objects.filter(pk=company.pk).update(health_score=42, health_band="at_risk", churn_risk=0.3)
    login("agent")

    html = client.get(reverse("customers:customer_live_health", args=[company.pk]), **HTMX).content.decode()

    assert html.lstrip().startswith('<section id="customer-health"')
    assert 'id="customer-churn"' in html and 'hx-swap-oob="true"' in html


def test_an_unknown_company_is_a_404(client, login):
    login("agent")

    assert client.get(reverse("customers:customer_live_health", args=[999_999])).status_code == 404
    assert client.get(reverse("customers:customer_live_notes_tasks", args=[999_999])).status_code == 404


def test_the_sweep_of_every_company_pushes_nothing(company, listen_company, django_capture_on_commit_callbacks):
    requester = ContactFactory(customer=company)
    made = TicketFactory(requester=requester, customer=company, priority=Ticket.Priority.URGENT)
    Ticket.objects.filter(pk=made.pk).update(created=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert health.customer_health_analyze() >= 1  # the beat job: scores move as time passes, nobody is told

    assert Customer.objects.get(pk=company.pk).health_score is not None
    assert listen_company(timeout=0.3) is None
