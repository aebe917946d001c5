"""Live board updates: other viewers of the pipeline get the moved card and both column headers after commit."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from leads import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_move_pushes_the_card_in_its_new_place_and_both_summaries(pipeline, stages, listen_board):
    actor = UserFactory(role="sales")
    neighbour = services.lead_create(actor=actor, title="Already there", stage=stages["Qualified"])
    lead = services.lead_create(actor=actor, title="Moving")
    listen_board()  # the two creations
    listen_board()

    services.lead_move(lead=lead, stage=stages["Qualified"], position=0, actor=actor)

    message = listen_board()
    html = message["html"]
    assert message["type"] == "push.html" and message["exclude_user_id"] == actor.pk
    assert html.index(f'id="lead-card-{lead.pk}" hx-swap-oob="delete"') < html.index("Moving")
    assert f'hx-swap-oob="beforebegin:#lead-card-{neighbour.pk}"' in html
    prospect_summary = html[html.index(f'id="stage-summary-{stages["Prospect"].pk}"') :]
    assert 'hx-swap-oob="true"' in prospect_summary.split(">", 1)[0]
    assert f'id="stage-summary-{stages["Qualified"].pk}"' in html
    assert ">2</span> leads" in html  # Qualified now holds both


def test_a_refused_move_pushes_nothing(pipeline, stages, listen_board):
    from django.core.exceptions import ValidationError

    lead = services.lead_create(actor=None, title="Deal")
    listen_board()
    with pytest.raises(ValidationError):
        services.lead_move(lead=lead, stage=stages["Lost"], position=0, actor=None)
    services.lead_create(actor=None, title="Next")
    assert "Next" in listen_board()["html"]  # the next push is the creation: the refused move sent nothing
