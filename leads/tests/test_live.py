"""Live board updates: other viewers of the pipeline get the moved card and both column headers, after commit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import services
from leads.models import Lead

from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_move_pushes_the_card_in_its_new_place_and_both_summaries(
    stages, listen_board, django_capture_on_commit_callbacks
):
    actor = UserFactory(role="sales")
    with django_capture_on_commit_callbacks(execute=True):
        neighbour = services.lead_create(actor=actor, title="Already there", stage=stages["Qualified"])
        lead = services.lead_create(actor=actor, title="Moving")
    listen_board(), listen_board()  # the two creations

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.lead_move(lead=lead, stage=stages["Qualified"], position=0, actor=actor)
    assert callbacks  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()

    message = listen_board()
    html = message["html"]
    assert message["type"] == "push.html" and message["exclude_user_id"] == actor.pk
    assert html.index(f'id="lead-card-{lead.pk}" hx-swap-oob="delete"') < html.index("Moving")
    assert f'hx-swap-oob="beforebegin:#lead-card-{neighbour.pk}"' in html
    prospect_summary = html[html.index(f'id="stage-summary-{stages["Prospect"].pk}"') :]
    assert 'hx-swap-oob="true"' in prospect_summary.split(">", 1)[0]
    assert f'id="stage-summary-{stages["Qualified"].pk}"' in html
    assert ">2</span> leads" in html  # Qualified now holds both


def test_a_refused_move_pushes_nothing(stages, django_capture_on_commit_callbacks):
    lead = services.lead_create(actor=None, title="Deal")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        services.lead_move(lead=lead, stage=stages["Lost"], position=0, actor=None)
    assert callbacks == []


@pytest.mark.parametrize(
    ("target", "queries"),
    [
        # savepoint, lock (card joined), neighbours, history row, update, release, both headers, and automation's
        # rules for the stage change (read once per workspace and process; each test has a cache of its own)
        ("Qualified", 8),
        # savepoint, lock, neighbours, update, release: a reorder changes no header
        ("Prospect", 5),
    ],
)
def test_a_drag_and_its_push_read_the_card_and_its_neighbours_once(
    stages, listen_board, target, queries, django_assert_num_queries, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    actor = UserFactory(role="sales")
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(5):
            LeadFactory(title=f"Other {index}", stage=stages[target], customer=customer)
        lead = services.lead_create(
            actor=actor, title="Moving", customer=customer, contact=ContactFactory(customer=customer), owner=actor
        )
    listen_board()

    with django_assert_num_queries(queries), django_capture_on_commit_callbacks(execute=True):
        services.lead_move(lead=lead, stage=stages[target], position=2, actor=actor)

    html = listen_board()["html"]
    assert "Moving" in html and customer.name in html and actor.initials in html
    others = list(Lead.objects.filter(stage=stages[target]).exclude(pk=lead.pk).order_by("position", "id"))
    assert f'hx-swap-oob="beforebegin:#lead-card-{others[2].pk}"' in html
    assert ('id="stage-summary-' in html) == (target != "Prospect")
