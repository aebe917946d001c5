"""Every write to leads: create, edit, move between stages (with its history), activities; live boards after commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from . import conversion, live
from .models import Lead, LeadActivity, LeadStageChange, Pipeline, Stage, StageKind
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
