"""Pipeline and stage settings: the pipeline_*/stage_* services' rules, their pages for managers, and who may not."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads import selectors, services
from leads.models import Lead, LeadStageChange, Pipeline, Stage

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"leads:{name}", args=args)


def names(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.order_by("order", "id").values_list("name", flat=True))


# --- Services -----------------------------------------------------------------------------------


def test_pipeline_rename_collapses_spaces_and_refuses_an_empty_name(pipeline):
    services.pipeline_rename(pipeline=pipeline, name="  Enterprise   sales ", actor=None)
    assert Pipeline.objects.get(pk=pipeline.pk).name == "Enterprise sales"
    with pytest.raises(ValidationError) as refused:
        services.pipeline_rename(pipeline=pipeline, name="  ", actor=None)
    assert "name" in refused.value.message_dict


def test_the_default_pipeline_cannot_be_archived_until_another_is_default(pipeline):
    other = services.pipeline_create(name="Partners", is_default=False)
    with pytest.raises(ValidationError, match="default"):
        services.pipeline_archive(pipeline=pipeline, actor=None)

    services.pipeline_set_default(pipeline=other, actor=None)
    services.pipeline_archive(pipeline=pipeline, actor=None)

    assert [each.name for each in selectors.pipeline_list()] == ["Partners"]
    assert selectors.pipeline_default() == other
    with pytest.raises(ValidationError, match="Restore"):
        services.pipeline_set_default(pipeline=Pipeline.objects.get(pk=pipeline.pk), actor=None)


def test_stage_create_puts_an_open_stage_before_won_and_lost(pipeline):
    services.stage_create(pipeline=pipeline, name="Demo", kind="open", probability=40, actor=None)
    services.stage_create(pipeline=pipeline, name="On hold", kind="lost", probability=0, actor=None)
    assert names(pipeline) == ["Prospect", "Qualified", "Proposal", "Negotiation", "Demo", "Won", "Lost", "On hold"]


@pytest.mark.parametrize(
    ("name", "kind", "probability", "field"),
    [("qualified", "open", 10, "name"), ("New", "maybe", 10, "kind"), ("New", "open", 101, "probability")],
)
def test_stage_create_refuses_duplicates_unknown_kinds_and_bad_probabilities(pipeline, name, kind, probability, field):
    with pytest.raises(ValidationError) as refused:
        services.stage_create(pipeline=pipeline, name=name, kind=kind, probability=probability, actor=None)
    assert field in refused.value.message_dict


def test_stage_update_renames_and_keeps_the_kind_of_a_stage_with_leads(pipeline, stages):
    stage = stages["Proposal"]
    LeadFactory(stage=stage)
    services.stage_update(stage=stage, name="Offer", kind="open", probability=60, actor=None)
    stage.refresh_from_db()
    assert (stage.name, stage.probability) == ("Offer", 60)

    with pytest.raises(ValidationError) as refused:
        services.stage_update(stage=stage, name="Offer", kind="won", probability=60, actor=None)
    assert "move them out" in refused.value.message_dict["kind"][0]


def test_a_pipeline_keeps_one_open_stage(pipeline, stages):
    for name in ("Qualified", "Proposal", "Negotiation"):
        services.stage_delete(stage=stages[name], actor=None)
    with pytest.raises(ValidationError, match="at least one open stage"):
        services.stage_delete(stage=stages["Prospect"], actor=None)
    with pytest.raises(ValidationError, match="at least one open stage"):
        services.stage_update(stage=stages["Prospect"], name="Prospect", kind="lost", probability=0, actor=None)


def test_stage_reorder_takes_exactly_the_pipelines_stages(pipeline, stages):
    ids = [stages[name].pk for name in ("Won", "Lost", "Prospect", "Qualified", "Proposal", "Negotiation")]
    services.stage_reorder(pipeline=pipeline, stage_ids=ids, actor=None)
    assert names(pipeline) == ["Won", "Lost", "Prospect", "Qualified", "Proposal", "Negotiation"]

    other = services.pipeline_create(name="Other", is_default=False)
    with pytest.raises(ValidationError, match="reload"):
        services.stage_reorder(pipeline=pipeline, stage_ids=[*ids[:-1], other.stages.first().pk], actor=None)
    with pytest.raises(ValidationError, match="reload"):
        services.stage_reorder(pipeline=pipeline, stage_ids=ids[:-1], actor=None)


def test_stage_move_steps_one_place_and_stops_at_the_ends(pipeline, stages):
    services.stage_move(stage=stages["Qualified"], offset=-1, actor=None)
    assert names(pipeline)[:2] == ["Qualified", "Prospect"]
    services.stage_move(stage=stages["Qualified"], offset=-1, actor=None)
    assert names(pipeline)[0] == "Qualified"


def test_a_stage_with_leads_is_deleted_only_by_moving_them_first(pipeline, stages):
    source, target = stages["Proposal"], stages["Qualified"]
    kept = LeadFactory(title="Kept", stage=target, position=10)
    moved = [services.lead_create(actor=None, title=f"Deal {n}", stage=source) for n in range(2)]

    with pytest.raises(ValidationError) as refused:
        services.stage_delete(stage=source, actor=None)
    assert "2 leads are in “Proposal”" in refused.value.message_dict["move_to"][0]
    with pytest.raises(ValidationError, match="another open stage"):
        services.stage_delete(stage=source, actor=None, move_to=stages["Won"])

    assert services.stage_delete(stage=source, actor=None, move_to=target) == 2

    assert not Stage.objects.filter(pk=source.pk).exists()
    column = list(Lead.objects.filter(stage=target).order_by("position", "id"))
    assert [lead.title for lead in column] == ["Kept", *[lead.title for lead in reversed(moved)]]
    assert all(lead.probability == target.probability for lead in column if lead.pk != kept.pk)
    # The history of moves into the deleted stage is kept, credited to the stage that took its leads.
    assert LeadStageChange.objects.filter(lead__in=moved, to_stage=target).count() == 2


# --- Pages --------------------------------------------------------------------------------------


def test_managers_see_the_settings_and_the_boards_link(client, login, pipeline):
    login("admin")
    html = client.get(url("pipeline_settings")).content.decode()
    assert "Sales" in html and 'data-testid="pipeline-create"' in html
    assert 'data-testid="pipeline-settings-link"' in client.get(url("lead_board")).content.decode()

    html = client.get(url("pipeline_edit", pipeline.pk)).content.decode()
    assert html.count('data-testid="stage-row"') == 6 and "Sortable.min.js" in html and "leads_pipelines.js" in html


def test_create_a_pipeline_then_rename_it(client, login, pipeline):
    login("admin")
    response = client.post(url("pipeline_create"), {"name": "Partners"})
    created = Pipeline.objects.get(name="Partners")
    assert response.status_code == 302 and response["Location"] == url("pipeline_edit", created.pk)
    assert not created.is_default and created.stages.count() == 6

    client.post(url("pipeline_rename", created.pk), {"name": "Partner deals"})
    assert Pipeline.objects.get(pk=created.pk).name == "Partner deals"


def test_archive_refusal_is_a_message_not_an_error(client, login, pipeline):
    login("admin")
    response = client.post(url("pipeline_archive", pipeline.pk), follow=True)
    assert "make another one the default" in response.content.decode()
    assert not Pipeline.objects.get(pk=pipeline.pk).archived


def test_stage_forms_answer_with_the_stage_list(client, login, pipeline, stages):
    login("admin")
    response = client.post(
        url("stage_create", pipeline.pk), {"new-name": "Demo", "new-kind": "open", "new-probability": "35"}, **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="stage-list"') and html.count('data-testid="stage-row"') == 7

    stage = stages["Proposal"]
    prefix = f"stage-{stage.pk}"
    response = client.post(
        url("stage_update", stage.pk),
        {f"{prefix}-name": "Qualified", f"{prefix}-kind": "open", f"{prefix}-probability": "50"},
        **HTMX,
    )
    assert "already has a stage called “Qualified”" in response.content.decode()

    response = client.post(url("stage_move", stage.pk), {"offset": "-1"}, **HTMX)
    assert "autofocus" in response.content.decode()
    assert names(pipeline).index("Proposal") == 1


def test_reorder_posts_the_dragged_order(client, login, pipeline, stages):
    login("admin")
    order = [stages[name].pk for name in ("Qualified", "Prospect", "Proposal", "Negotiation", "Won", "Lost")]
    response = client.post(url("stage_reorder", pipeline.pk), {"stage": order}, **HTMX)
    assert response.status_code == 200 and names(pipeline)[:2] == ["Qualified", "Prospect"]

    response = client.post(url("stage_reorder", pipeline.pk), {"stage": order[:2]}, **HTMX)
    assert "reload the page" in response.content.decode()


def test_stage_delete_modal_asks_where_the_leads_go(client, login, pipeline, stages):
    login("admin")
    stage = stages["Proposal"]
    LeadFactory(stage=stage)
    html = client.get(url("stage_delete", stage.pk), **HTMX).content.decode()
    assert "1 lead is in this stage" in html and "Negotiation" in html and "Won" not in html.split("<select", 1)[1]

    response = client.post(url("stage_delete", stage.pk), {}, **HTMX)
    assert "choose the stage to move them to first" in response.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()

    response = client.post(url("stage_delete", stage.pk), {"move_to": stages["Negotiation"].pk}, **HTMX)
    assert response["HX-Redirect"] == url("pipeline_edit", pipeline.pk)
    assert Lead.objects.get().stage == stages["Negotiation"]


@pytest.mark.parametrize("role", ["sales", "agent", "viewer"])
def test_only_managers_change_pipelines(client, login, pipeline, stages, role):
    login(role)
    stage = stages["Proposal"]
    assert client.get(url("pipeline_settings")).status_code == 403
    assert client.get(url("pipeline_edit", pipeline.pk)).status_code == 403
    assert client.post(url("pipeline_create"), {"name": "Sneaky"}).status_code == 403
    assert client.post(url("pipeline_archive", pipeline.pk)).status_code == 403
    assert client.post(url("stage_move", stage.pk), {"offset": "-1"}).status_code == 403
    assert client.post(url("stage_delete", stage.pk), {"move_to": stages["Qualified"].pk}).status_code == 403
    assert Pipeline.objects.count() == 1 and Stage.objects.filter(pk=stage.pk).exists()
    assert 'data-testid="pipeline-settings-link"' not in client.get(url("lead_board")).content.decode()


def test_sales_managers_capability_goes_to_owners_and_admins_only():
    from accounts.roles import roles_with

    assert set(roles_with("leads.manage")) == {"owner", "admin"}
