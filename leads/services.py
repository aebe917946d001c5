"""Every write to leads: create, edit, move between stages (with its history), activities; live boards after commit;
pipeline and stage settings; the list's saved views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from core.changes import event_send_on_commit
from core.saved_views import view_name_clean

from . import conversion, live
from .contracts import LEAD_STAGE_CHANGED, automation_event
from .models import Lead, LeadActivity, LeadSavedView, LeadStageChange, Pipeline, Stage, StageKind
from .selectors import CARD_UNSHOWN

PROSPECT_FIELDS = ("company_name", "company_domain", "contact_name", "contact_email")
LEAD_FIELDS = frozenset(
    {"title", "customer", "contact", "source", "owner", "value", "currency", "expected_close", "probability", "tags"}
    | {*PROSPECT_FIELDS, "source_ref"}
)
# Gap between neighbouring cards' positions: a column takes ~50 moves into the same gap before renumbering.
POSITION_STEP = 1024.0
POSITION_EPSILON = 1e-6
DEFAULT_STAGES = (
    ("Prospect", 10, StageKind.OPEN),
    ("Qualified", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
)


# --- Pipelines ----------------------------------------------------------------------------------


@transaction.atomic
def pipeline_create(
    *, name: str, stages: Iterable[tuple[str, int, str]] = DEFAULT_STAGES, is_default: bool | None = None
) -> Pipeline:
    """A pipeline with its stages, in order. The workspace's first pipeline becomes its default."""
    if is_default is None:
        is_default = not Pipeline.objects.exists()
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline(name=name.strip(), is_default=is_default)
    pipeline.full_clean()
    pipeline.save()
    Stage.objects.bulk_create(
        Stage(pipeline=pipeline, name=stage_name, probability=probability, kind=kind, order=order)
        for order, (stage_name, probability, kind) in enumerate(stages)
    )
    return pipeline


def pipeline_default_get_or_create() -> Pipeline:
    """The default pipeline, made with the usual stages the first time a workspace needs one."""
    pipeline = Pipeline.objects.order_by("-is_default", "id").first()
    return pipeline or pipeline_create(name="Sales")


def _first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(f"The pipeline {pipeline} has no open stage to add leads to.", code="no_open_stage")
    return stage


# --- Leads --------------------------------------------------------------------------------------


def _clean_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - LEAD_FIELDS
    if unknown:
        raise TypeError(f"Leads have no field(s) {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    if "title" in cleaned:
        cleaned["title"] = (cleaned["title"] or "").strip()
    if "currency" in cleaned:
        cleaned["currency"] = (cleaned["currency"] or "USD").strip().upper()
    if "value" in cleaned:
        cleaned["value"] = Decimal(cleaned["value"] or 0)
    for name in (*PROSPECT_FIELDS, "source_ref"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "contact_email" in cleaned:
        cleaned["contact_email"] = cleaned["contact_email"].lower()
    if "tags" in cleaned:
        tags = cleaned["tags"]
        if isinstance(tags, str):
            tags = tags.split(",")
        cleaned["tags"] = sorted({tag.strip().lower()[:40] for tag in tags if tag and tag.strip()})
    return cleaned


def _check_contact(lead: Lead) -> None:
    if lead.contact_id and lead.customer_id and lead.contact.customer_id != lead.customer_id:
        raise ValidationError({"contact": "This contact works at another company than the lead's."})
    if lead.contact_id and not lead.customer_id:
        lead.customer_id = lead.contact.customer_id


def _stamp_stage(lead: Lead, stage: Stage, at: datetime) -> None:
    """Won/lost dates follow the stage; leaving "Lost" keeps no stale reason."""
    lead.won_at = at if stage.kind == StageKind.WON else None
    lead.lost_at = at if stage.kind == StageKind.LOST else None
    if stage.kind != StageKind.LOST:
        lead.lost_reason = ""


@transaction.atomic
def lead_create(
    *,
    actor,
    title: str,
    stage: Stage | None = None,
    customer=None,
    contact=None,
    source: str = Lead.Source.OTHER,
    owner=None,
    value: Decimal | int | str = 0,
    currency: str = "USD",
    expected_close: date | None = None,
    probability: int | None = None,
    tags: Iterable[str] | str = (),
    lost_reason: str = "",
    company_name: str = "",
    company_domain: str = "",
    contact_name: str = "",
    contact_email: str = "",
    source_ref: str = "",
) -> Lead:
    """A new lead on top of its column (the default pipeline's first open stage unless `stage` is given)."""
    if stage is None:
        stage = _first_open_stage(pipeline_default_get_or_create())
    values = _clean_values(
        {
            "title": title,
            "customer": customer,
            "contact": contact,
            "source": source,
            "owner": owner,
            "value": value,
            "currency": currency,
            "expected_close": expected_close,
            "tags": tags,
            "company_name": company_name,
            "company_domain": company_domain,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "source_ref": source_ref,
        }
    )
    lost_reason = (lost_reason or "").strip()
    if stage.kind == StageKind.LOST and not lost_reason:
        raise ValidationError({"lost_reason": "Say why the lead was lost."}, code="lost_reason_required")
    now = timezone.now()
    lead = Lead(**values, stage=stage, probability=stage.probability if probability is None else probability)
    lead.position = _top_position(stage)
    lead.created = lead.updated = now
    _stamp_stage(lead, stage, now)
    lead.lost_reason = lost_reason if stage.kind == StageKind.LOST else ""
    _check_contact(lead)
    lead.full_clean()
    lead.save()
    LeadStageChange.objects.create(lead=lead, from_stage=None, to_stage=stage, actor=actor, at=now)
    live.lead_added(lead=lead, actor=actor)
    return lead


@transaction.atomic
def lead_bulk_create(*, actor, rows: list[Mapping[str, Any]]) -> list[Lead]:
    """Many new open leads at once (an import): what `lead_create` does for each row, in a fixed number of queries.

    Each row's `stage` (default: the default pipeline's first open stage), `customer`, `contact` and `owner` are
    instances the caller already read, so they are not looked up again. Like successive `lead_create` calls, each
    lead lands on top of its column, the last row topmost; boards get one push for the whole batch."""
    if not rows:
        return []
    default_stage = None
    if any(row.get("stage") is None for row in rows):
        default_stage = _first_open_stage(pipeline_default_get_or_create())
    now = timezone.now()
    leads = []
    for row in rows:
        values = _clean_values({name: value for name, value in row.items() if name != "stage"})
        stage = row.get("stage") or default_stage
        if stage.kind != StageKind.OPEN:
            raise ValidationError({"stage": f"“{stage.name}” is a closed stage."}, code="closed_stage")
        lead = Lead(**values, stage=stage, probability=stage.probability, created=now, updated=now)
        _check_contact(lead)
        # The related rows are the caller's instances: checking each foreign key again would cost a query each.
        lead.full_clean(exclude=["stage", "customer", "contact", "owner"])
        leads.append(lead)
    tops = _top_positions({lead.stage_id for lead in leads})
    for lead in leads:
        top = tops.get(lead.stage_id)
        lead.position = tops[lead.stage_id] = 0.0 if top is None else top - POSITION_STEP
    Lead.objects.bulk_create(leads)
    LeadStageChange.objects.bulk_create(
        LeadStageChange(lead=lead, from_stage=None, to_stage=lead.stage, actor=actor, at=now) for lead in leads
    )
    live.leads_added(leads=leads, actor=actor)
    return leads


def _top_positions(stage_ids: set[int]) -> dict[int, float]:
    """The topmost card's position in each of these columns that has cards (one query)."""
    rows = Lead.objects.filter(stage_id__in=stage_ids).values("stage_id").annotate(top=Min("position")).order_by()
    return {row["stage_id"]: row["top"] for row in rows}


@transaction.atomic
def lead_update(*, lead: Lead, actor, data: Mapping[str, Any]) -> Lead:
    """Changes only the fields in `data` (a PATCH as well as a full form). Stages change through lead_move."""
    values = _clean_values(data)
    changed = [name for name, value in values.items() if getattr(lead, name) != value]
    if not changed:
        return lead
    for name in changed:
        setattr(lead, name, values[name])
    _check_contact(lead)
    lead.updated = timezone.now()
    lead.full_clean()
    fields = {*changed, "updated"} | ({"customer"} if "contact" in changed else set())
    lead.save(update_fields=sorted(fields))
    live.lead_changed(lead=lead, actor=actor)
    return lead


@transaction.atomic
def lead_move(
    *, lead: Lead, stage: Stage, position: int, actor, lost_reason: str | None = None, at: datetime | None = None
) -> Lead:
    """Puts the lead at index `position` (0 = top) of `stage`'s column, recording the stage change if any.

    A move to a "lost" stage needs the reason (ValidationError on `lost_reason` otherwise); the lead takes the
    stage's win probability when it changes stage. Other boards of the pipeline see the move after commit.
    """
    # Locked and read with what its card shows: the card is rendered from this row, at commit, without reading again.
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("stage", "customer", "contact", "owner")
        .defer(*CARD_UNSHOWN)
        .get(pk=lead.pk)
    )
    from_stage = lead.stage
    if stage.pipeline_id != from_stage.pipeline_id:
        raise ValidationError({"stage": "That stage belongs to another pipeline."}, code="other_pipeline")
    if position < 0:
        raise ValidationError({"position": "The position must be 0 (the top) or more."}, code="bad_position")
    reason = (lost_reason or "").strip()
    if stage.kind == StageKind.LOST and stage.pk != from_stage.pk and not reason:
        raise ValidationError(
            {"lost_reason": f"Say why the lead was lost before moving it to “{stage.name}”."},
            code="lost_reason_required",
        )
    now = at or timezone.now()
    lead.position, before, after = _place_at(stage, position, exclude_id=lead.pk)
    fields = ["position"]
    if stage.pk != from_stage.pk:
        lead.stage = stage
        lead.probability = stage.probability
        _stamp_stage(lead, stage, now)
        if stage.kind == StageKind.LOST:
            lead.lost_reason = reason[: Lead._meta.get_field("lost_reason").max_length]
        lead.updated = now
        fields += ["stage", "probability", "won_at", "lost_at", "lost_reason", "updated"]
        LeadStageChange.objects.create(lead=lead, from_stage=from_stage, to_stage=stage, actor=actor, at=now)
        event_send_on_commit(
            automation_event, event=LEAD_STAGE_CHANGED, object_id=lead.pk, changed=("stage", "probability")
        )
        if stage.kind == StageKind.WON:
            conversion.lead_convert(lead=lead, actor=actor)
    elif reason and stage.kind == StageKind.LOST:
        lead.lost_reason = reason[: Lead._meta.get_field("lost_reason").max_length]
        fields.append("lost_reason")
    lead.save(update_fields=fields)
    live.lead_moved(lead=lead, from_stage=from_stage, to_stage=stage, actor=actor, neighbours=(before, after))
    return lead


def _top_position(stage: Stage) -> float:
    first = Lead.objects.filter(stage=stage).order_by("position", "id").values_list("position", flat=True).first()
    return 0.0 if first is None else first - POSITION_STEP


def _place_at(
    stage: Stage, index: int, *, exclude_id: int, renumbered: bool = False
) -> tuple[float, int | None, int | None]:
    """A position that sorts at `index` among the column's other cards (the midpoint of its two neighbours), and
    the ids of those neighbours (None at either end), which place the card on the other boards."""
    column = Lead.objects.filter(stage=stage).exclude(pk=exclude_id).order_by("position", "id")
    if index == 0:
        first = column.values_list("position", "id").first()
        return (0.0, None, None) if first is None else (first[0] - POSITION_STEP, None, first[1])
    around = list(column.values_list("position", "id")[index - 1 : index + 1])
    if not around:  # past the end: the bottom of the column
        last = column.reverse().values_list("position", "id").first()
        return (0.0, None, None) if last is None else (last[0] + POSITION_STEP, last[1], None)
    if len(around) == 1:
        return around[0][0] + POSITION_STEP, around[0][1], None
    (before, before_id), (after, after_id) = around
    if after - before > POSITION_EPSILON:
        return (before + after) / 2, before_id, after_id
    if renumbered:  # cannot happen after a renumbering, but never loop
        return before, before_id, after_id
    _renumber(stage)
    return _place_at(stage, index, exclude_id=exclude_id, renumbered=True)


def _renumber(stage: Stage) -> None:
    """Spreads the column's positions evenly again (one UPDATE), keeping their order."""
    table = Lead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET position = numbered.rank * %s
                FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rank FROM {table} WHERE stage_id = %s)
                AS numbered WHERE {table}.id = numbered.id""",
            [POSITION_STEP, stage.pk],
        )


# --- Activities ---------------------------------------------------------------------------------


@transaction.atomic
def lead_activity_create(
    *,
    lead: Lead,
    actor,
    kind: str = LeadActivity.Kind.TASK,
    subject: str,
    notes: str = "",
    due_at: datetime | None = None,
    remind_at: datetime | None = None,
) -> LeadActivity:
    if remind_at is not None and due_at is not None and remind_at > due_at:
        raise ValidationError({"remind_at": "The reminder should come before the due date."}, code="late_reminder")
    activity = LeadActivity(
        lead=lead,
        kind=kind,
        subject=(subject or "").strip(),
        notes=(notes or "").strip(),
        due_at=due_at,
        remind_at=remind_at,
        created_by=actor,
    )
    activity.full_clean()
    activity.save()
    Lead.objects.filter(pk=lead.pk).update(updated=timezone.now())
    return activity


@transaction.atomic
def lead_activity_complete(*, activity: LeadActivity, actor, done: bool = True) -> LeadActivity:
    """Marks the activity done (or not done again)."""
    if activity.done == done:
        return activity
    activity.done = done
    activity.done_at = timezone.now() if done else None
    activity.save(update_fields=["done", "done_at"])
    Lead.objects.filter(pk=activity.lead_id).update(updated=timezone.now())
    return activity


# --- Pipeline and stage settings ----------------------------------------------------------------
# Managers shape the sales process here (leads/views_pipelines.py); the rules hold for every caller: a name per
# pipeline, names unique within a pipeline, at least one open stage so new leads have somewhere to go, and no
# stage disappears with leads in it.

PIPELINE_NAME_MAX = Pipeline._meta.get_field("name").max_length
STAGE_NAME_MAX = Stage._meta.get_field("name").max_length


def _name(value: str | None, *, limit: int, what: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError({"name": f"Give the {what} a name."}, code="required")
    if len(name) > limit:
        raise ValidationError({"name": f"Keep the name under {limit} characters."}, code="too_long")
    return name


def _probability(value: int | None) -> int:
    if value is None or not 0 <= int(value) <= 100:
        raise ValidationError({"probability": "The win probability is a percentage, 0 to 100."}, code="bad_probability")
    return int(value)


def _kind(value: str) -> str:
    if value not in StageKind.values:
        raise ValidationError({"kind": "A stage is open, won or lost."}, code="bad_kind")
    return value


@transaction.atomic
def pipeline_rename(*, pipeline: Pipeline, name: str, actor) -> Pipeline:
    pipeline.name = _name(name, limit=PIPELINE_NAME_MAX, what="pipeline")
    pipeline.save(update_fields=["name"])
    return pipeline


@transaction.atomic
def pipeline_set_default(*, pipeline: Pipeline, actor) -> Pipeline:
    """The pipeline the board opens on and new leads join (an archived one cannot be)."""
    if pipeline.archived:
        raise ValidationError("Restore the pipeline before making it the default.", code="archived")
    Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    pipeline.is_default = True
    pipeline.save(update_fields=["is_default"])
    return pipeline


@transaction.atomic
def pipeline_archive(*, pipeline: Pipeline, actor, archived: bool = True) -> Pipeline:
    """Archive (or restore) a pipeline: it leaves the board's menu and takes no new leads; nothing is deleted."""
    pipeline.is_default = Pipeline.objects.select_for_update().values_list("is_default", flat=True).get(pk=pipeline.pk)
    if archived and pipeline.is_default:
        raise ValidationError(
            "This is the default pipeline: make another one the default before archiving it.", code="default"
        )
    pipeline.archived = archived
    pipeline.save(update_fields=["archived"])
    return pipeline


def _stage_name(pipeline: Pipeline, name: str | None, *, exclude_id: int | None = None) -> str:
    name = _name(name, limit=STAGE_NAME_MAX, what="stage")
    taken = Stage.objects.filter(pipeline=pipeline, name__iexact=name).exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"name": f"{pipeline.name} already has a stage called “{name}”."}, code="duplicate")
    return name


def _keeps_an_open_stage(pipeline: Pipeline, *, without_id: int) -> None:
    if not Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).exclude(pk=without_id).exists():
        raise ValidationError("A pipeline needs at least one open stage for new leads.", code="last_open_stage")


@transaction.atomic
def stage_create(*, pipeline: Pipeline, name: str, actor, kind: str = StageKind.OPEN, probability: int = 0) -> Stage:
    """A stage at the end of the pipeline's open stages (before won and lost ones), or at the very end."""
    Pipeline.objects.select_for_update().get(pk=pipeline.pk)  # one reorder or addition at a time
    stage = Stage(
        pipeline=pipeline,
        name=_stage_name(pipeline, name),
        kind=_kind(kind),
        probability=_probability(probability),
    )
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    closed = [index for index, each in enumerate(stages) if each.kind != StageKind.OPEN]
    at = closed[0] if kind == StageKind.OPEN and closed else len(stages)
    stages.insert(at, stage)
    stage.order = at
    stage.save()
    _write_order(stages)
    return stage


@transaction.atomic
def stage_update(*, stage: Stage, actor, name: str, kind: str, probability: int) -> Stage:
    """Rename a stage, change its kind or win probability. The kind of a stage with leads stays: their won and
    lost dates follow it, so the leads move out first."""
    stage.name = _stage_name(stage.pipeline, name, exclude_id=stage.pk)
    kind = _kind(kind)
    if kind != stage.kind:
        if Lead.objects.filter(stage=stage).exists():
            raise ValidationError(
                {"kind": "Leads are in this stage: move them out before changing whether it is open, won or lost."},
                code="kind_with_leads",
            )
        if stage.kind == StageKind.OPEN:
            _keeps_an_open_stage(stage.pipeline, without_id=stage.pk)
    stage.kind = kind
    stage.probability = _probability(probability)
    stage.save(update_fields=["name", "kind", "probability"])
    return stage


@transaction.atomic
def stage_reorder(*, pipeline: Pipeline, stage_ids: list[int], actor) -> list[Stage]:
    """The pipeline's stages in the order given; the ids must be exactly its stages."""
    Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    stages = {stage.pk: stage for stage in Stage.objects.filter(pipeline=pipeline)}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationError("The stages changed meanwhile: reload the page and try again.", code="stale_order")
    ordered = [stages[stage_id] for stage_id in stage_ids]
    _write_order(ordered)
    return ordered


@transaction.atomic
def stage_move(*, stage: Stage, offset: int, actor) -> list[Stage]:
    """One step up (-1) or down (+1): the keyboard's way to reorder."""
    ids = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id").values_list("id", flat=True))
    index = ids.index(stage.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    return stage_reorder(pipeline=stage.pipeline, stage_ids=ids, actor=actor)


def _write_order(stages: list[Stage]) -> None:
    for order, stage in enumerate(stages):
        stage.order = order
    Stage.objects.bulk_update(stages, ["order"])


@transaction.atomic
def stage_delete(*, stage: Stage, actor, move_to: Stage | None = None) -> int:
    """Delete a stage, first moving its leads (appended to the column's end) to `move_to`, a stage of the same
    pipeline and kind. Its history of moves is credited to `move_to` too, so reports keep every move.
    Returns how many leads moved. Refused while leads are left with nowhere to go."""
    count = Lead.objects.filter(stage=stage).count()
    history = LeadStageChange.objects.filter(Q(to_stage=stage) | Q(from_stage=stage))
    if move_to is None:
        if count:
            raise ValidationError(
                {
                    "move_to": f"{count} lead{'s are' if count != 1 else ' is'} in “{stage.name}”: "
                    "choose the stage to move them to first."
                },
                code="stage_has_leads",
            )
        if history.exists():
            raise ValidationError(
                {"move_to": f"Leads went through “{stage.name}”: choose the stage their history moves to."},
                code="stage_has_history",
            )
    else:
        if move_to.pk == stage.pk or move_to.pipeline_id != stage.pipeline_id:
            raise ValidationError({"move_to": "Choose another stage of the same pipeline."}, code="bad_target")
        if move_to.kind != stage.kind:
            raise ValidationError(
                {"move_to": f"Choose another {stage.get_kind_display().lower()} stage: won and lost dates follow it."},
                code="other_kind",
            )
    if stage.kind == StageKind.OPEN:
        _keeps_an_open_stage(stage.pipeline, without_id=stage.pk)
    if move_to is not None:
        _move_column(stage, move_to)
        LeadStageChange.objects.filter(to_stage=stage).update(to_stage=move_to)
        LeadStageChange.objects.filter(from_stage=stage).update(from_stage=move_to)
    stage.delete()
    return count


def _move_column(stage: Stage, move_to: Stage) -> None:
    """Every lead of `stage` to the end of `move_to`'s column, in their order (one UPDATE)."""
    last = Lead.objects.filter(stage=move_to).order_by("-position", "-id").values_list("position", flat=True).first()
    table = Lead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} SET stage_id = %s, probability = %s, updated = %s,
                       position = %s + numbered.rank * %s
                FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rank FROM {table} WHERE stage_id = %s)
                AS numbered WHERE {table}.id = numbered.id""",
            [move_to.pk, move_to.probability, timezone.now(), last or 0.0, POSITION_STEP, stage.pk],
        )


# --- Saved views of the lead list ---------------------------------------------------------------

MAX_VIEWS_PER_PERSON = 50


@transaction.atomic
def lead_view_create(*, owner, name: str, filters: Mapping[str, str], shared: bool = False) -> LeadSavedView:
    """`filters` are the list's parameters as leads.forms.LeadFilterForm normalised them."""
    name = view_name_clean(name)
    if LeadSavedView.objects.filter(owner=owner).count() >= MAX_VIEWS_PER_PERSON:
        raise ValidationError({"name": f"You have {MAX_VIEWS_PER_PERSON} views already; delete one first."})
    return LeadSavedView.objects.create(owner=owner, name=name, filters=dict(filters), shared=bool(shared))


@transaction.atomic
def lead_view_update(*, view: LeadSavedView, actor, name: str, shared: bool | None = None) -> LeadSavedView:
    """Rename a view and, when `shared` is given, share it with the workspace or take it back."""
    view.name = view_name_clean(name)
    fields = ["name"]
    if shared is not None:
        view.shared = bool(shared)
        fields.append("shared")
    view.save(update_fields=fields)
    return view


@transaction.atomic
def lead_view_delete(*, view: LeadSavedView, actor) -> None:
    view.delete()
