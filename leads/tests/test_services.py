"""Lead writes: creation on top of the column, moves (positions, history, probabilities, the lost reason)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from customers.tests.factories import ContactFactory, CustomerFactory
from leads import services
from leads.models import Lead, LeadActivity, LeadStageChange

from .factories import LeadFactory, PipelineFactory, StageFactory

pytestmark = pytest.mark.django_db


def column(stage) -> list[str]:
    return list(Lead.objects.filter(stage=stage).order_by("position", "id").values_list("title", flat=True))


def test_lead_create_puts_the_lead_on_top_of_the_first_open_stage_with_its_probability(stages):
    actor = UserFactory(role="sales")
    services.lead_create(actor=actor, title="Older")
    lead = services.lead_create(actor=actor, title="Newer", value="1200.50", currency="eur", tags="B, a,b")

    assert lead.stage == stages["Prospect"]
    assert lead.probability == 10
    assert lead.value == Decimal("1200.50") and lead.currency == "EUR" and lead.tags == ["a", "b"]
    assert column(stages["Prospect"]) == ["Newer", "Older"]
    change = LeadStageChange.objects.get(lead=lead)
    assert change.from_stage is None and change.to_stage == stages["Prospect"] and change.actor == actor


def test_lead_create_makes_the_default_pipeline_when_the_workspace_has_none(db):
    lead = services.lead_create(actor=None, title="First")

    assert lead.stage.pipeline.is_default
    assert [stage.name for stage in lead.stage.pipeline.stages.order_by("order")] == [
        "Prospect", "Qualified", "Proposal", "Negotiation", "Won", "Lost",
    ]  # fmt: skip


def test_lead_create_fills_the_company_from_the_contact_and_refuses_a_contact_of_another_company(stages):
    contact = ContactFactory()
    lead = services.lead_create(actor=None, title="Via contact", contact=contact)
    assert lead.customer_id == contact.customer_id

    with pytest.raises(ValidationError) as error:
        services.lead_create(actor=None, title="Mismatch", contact=contact, customer=CustomerFactory())
    assert "contact" in error.value.message_dict


def test_lead_move_to_another_stage_records_the_change_and_takes_the_stage_probability(stages):
    actor = UserFactory(role="sales")
    lead = services.lead_create(actor=actor, title="Deal")

    services.lead_move(lead=lead, stage=stages["Proposal"], position=0, actor=actor)

    lead.refresh_from_db()
    assert lead.stage == stages["Proposal"] and lead.probability == 50
    changes = list(LeadStageChange.objects.filter(lead=lead).order_by("at", "id"))
    assert [(c.from_stage_id, c.to_stage_id) for c in changes] == [
        (None, stages["Prospect"].pk),
        (stages["Prospect"].pk, stages["Proposal"].pk),
    ]
    assert changes[-1].actor == actor


def test_lead_move_to_lost_without_a_reason_is_refused_and_changes_nothing(stages):
    lead = services.lead_create(actor=None, title="Deal")

    with pytest.raises(ValidationError) as error:
        services.lead_move(lead=lead, stage=stages["Lost"], position=0, actor=None, lost_reason="  ")

    assert error.value.message_dict["lost_reason"] == ["Say why the lead was lost before moving it to “Lost”."]
    lead.refresh_from_db()
    assert lead.stage == stages["Prospect"]
    assert LeadStageChange.objects.filter(lead=lead).count() == 1


def test_lead_move_to_lost_keeps_the_reason_and_the_date_and_leaving_lost_clears_them(stages):
    lead = services.lead_create(actor=None, title="Deal")

    services.lead_move(lead=lead, stage=stages["Lost"], position=0, actor=None, lost_reason="Went with a rival")
    lead.refresh_from_db()
    assert lead.lost_reason == "Went with a rival" and lead.lost_at is not None and lead.probability == 0

    services.lead_move(lead=lead, stage=stages["Won"], position=0, actor=None)
    lead.refresh_from_db()
    assert lead.lost_reason == "" and lead.lost_at is None and lead.won_at is not None and lead.probability == 100


def test_lead_move_places_the_card_at_the_index_among_the_other_cards(stages):
    target = stages["Qualified"]
    for title in ("A", "B", "C"):
        LeadFactory(title=title, stage=target, position={"A": 0, "B": 1024, "C": 2048}[title])
    lead = services.lead_create(actor=None, title="Moved")

    services.lead_move(lead=lead, stage=target, position=2, actor=None)
    assert column(target) == ["A", "B", "Moved", "C"]

    services.lead_move(lead=lead, stage=target, position=0, actor=None)
    assert column(target) == ["Moved", "A", "B", "C"]

    services.lead_move(lead=lead, stage=target, position=99, actor=None)
    assert column(target) == ["A", "B", "C", "Moved"]


def test_lead_move_within_a_column_records_no_stage_change(stages):
    stage = stages["Prospect"]
    first = services.lead_create(actor=None, title="First")
    services.lead_create(actor=None, title="Second")  # on top

    services.lead_move(lead=first, stage=stage, position=0, actor=None)

    assert column(stage) == ["First", "Second"]
    assert LeadStageChange.objects.filter(lead=first).count() == 1


def test_lead_move_renumbers_the_column_when_neighbours_leave_no_room(stages):
    target = stages["Qualified"]
    LeadFactory(title="A", stage=target, position=1.0)
    LeadFactory(title="B", stage=target, position=1.0 + 1e-9)
    lead = services.lead_create(actor=None, title="Between")

    services.lead_move(lead=lead, stage=target, position=1, actor=None)

    assert column(target) == ["A", "Between", "B"]
    positions = list(Lead.objects.filter(stage=target).order_by("position").values_list("position", flat=True))
    assert all(b - a > 1 for a, b in itertools.pairwise(positions))


def test_lead_move_refuses_a_stage_of_another_pipeline(stages):
    lead = services.lead_create(actor=None, title="Deal")
    other = StageFactory(pipeline=PipelineFactory())

    with pytest.raises(ValidationError) as error:
        services.lead_move(lead=lead, stage=other, position=0, actor=None)
    assert "stage" in error.value.message_dict


def test_lead_update_changes_only_the_given_fields(stages):
    lead = services.lead_create(actor=None, title="Deal", value=100)

    services.lead_update(lead=lead, actor=None, data={"title": " Bigger deal ", "value": "5000"})

    lead.refresh_from_db()
    assert lead.title == "Bigger deal" and lead.value == Decimal("5000") and lead.stage == stages["Prospect"]
    with pytest.raises(TypeError):
        services.lead_update(lead=lead, actor=None, data={"stage": stages["Won"]})


def test_activities_are_created_and_completed_and_reopened(stages):
    actor = UserFactory(role="sales")
    lead = services.lead_create(actor=actor, title="Deal")

    activity = services.lead_activity_create(lead=lead, actor=actor, kind="call", subject=" Discovery call ")
    assert activity.subject == "Discovery call" and not activity.done

    services.lead_activity_complete(activity=activity, actor=actor)
    activity.refresh_from_db()
    assert activity.done and activity.done_at is not None

    services.lead_activity_complete(activity=activity, actor=actor, done=False)
    activity.refresh_from_db()
    assert not activity.done and activity.done_at is None
    assert LeadActivity.objects.filter(lead=lead).count() == 1
