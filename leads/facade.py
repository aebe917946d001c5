"""What other apps may ask of leads: a lead's summary and its notes (logged activities), the open leads to pick
from, winning a lead (through leads.services, so history, conversion and live boards follow), and blocks on the
lead page and the pipeline metrics page."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q

from core.compiled import RowsById

from . import panels, selectors, services
from .contracts import LeadNote, LeadPanel, LeadRollupFact, LeadSummary, PipelineMetricCard, leads_changed
from .models import Lead, LeadActivity, LeadStageChange, StageKind

__all__ = [
    "lead_choices",
    "lead_notes",
    "lead_panel_register",
    "lead_rollup_facts",
    "lead_stage_facts",
    "lead_summaries",
    "lead_summary",
    "lead_win",
    "leads_changed",
    "open_leads_for_customers",
    "pipeline_metric_card_register",
]


def _summary(lead: Lead) -> LeadSummary:
    return LeadSummary(
        id=lead.pk,
        title=lead.title,
        customer_id=lead.customer_id,
        contact_id=lead.contact_id,
        owner_id=lead.owner_id,
        value=lead.value,
        currency=lead.currency,
        status=lead.stage.kind,
        created=lead.created,
        closed_at=lead.won_at or lead.lost_at,
        lost_reason=lead.lost_reason,
    )


def lead_summary(*, lead_id: int) -> LeadSummary | None:
    """The lead with this id, None when there is none in this workspace."""
    lead = Lead.objects.select_related("stage").filter(pk=lead_id).first()
    return _summary(lead) if lead is not None else None


def lead_summaries(*, limit: int = 1000) -> list[LeadSummary]:
    """The newest leads' summaries (demo data, reports): one query."""
    return [_summary(lead) for lead in Lead.objects.select_related("stage").order_by("-created", "-id")[:limit]]


def lead_notes(*, lead_id: int, limit: int = 20) -> list[LeadNote]:
    """The lead's activities with their notes, newest first (one query); empty for an unknown lead."""
    rows = LeadActivity.objects.filter(lead_id=lead_id).order_by("-created", "-id")[:limit]
    return [LeadNote(row.kind, row.get_kind_display(), row.subject, row.notes, row.done, row.created) for row in rows]


def lead_choices(*, limit: int = 500) -> list[tuple[int, str]]:
    """(id, title) of the open leads, most recently changed first, for a chooser."""
    rows = Lead.objects.open().order_by("-updated", "-id").values_list("id", "title")[:limit]
    return list(rows)


def lead_win(*, lead_id: int, actor) -> bool:
    """Moves an open lead to its pipeline's won stage (recorded, converted, pushed to boards); False when the lead is
    gone, already closed, or its pipeline has no won stage."""
    lead = Lead.objects.select_related("stage").filter(pk=lead_id).first()
    if lead is None or lead.stage.kind != StageKind.OPEN:
        return False
    won = next((s for s in selectors.stage_list(pipeline=lead.stage.pipeline) if s.kind == StageKind.WON), None)
    if won is None:
        return False
    services.lead_move(lead=lead, stage=won, position=0, actor=actor)
    return True


def lead_panel_register(panel: LeadPanel) -> None:
    """Adds a block to every lead page; call it from the app's `AppConfig.ready`. See leads.contracts.LeadPanel."""
    panels.panel_register(panel)


def pipeline_metric_card_register(card: PipelineMetricCard) -> None:
    """Adds a card to every pipeline metrics page; call it from the app's `AppConfig.ready`. See
    leads.contracts.PipelineMetricCard."""
    panels.metric_card_register(card)


def open_leads_for_customers(*, customer_ids: list[int]) -> list[LeadSummary]:
    """The open leads of these companies, most valuable first (one query): what a support problem puts at risk."""
    rows = Lead.objects.open().filter(customer_id__in=customer_ids).select_related("stage")
    return [_summary(lead) for lead in rows.order_by("-value", "-id")]


def lead_stage_facts(*, since, now) -> list[tuple[int, str, str, float, str]]:
    """(lead id, stage name, status, days in its current stage, stage it was lost from or "") of the open leads and
    of those lost since `since`: where deals stall and where they are lost. Two queries."""
    from django.db.models import Max

    leads = list(
        Lead.objects.filter(Q(stage__kind=StageKind.OPEN) | Q(stage__kind=StageKind.LOST, lost_at__gte=since))
        .select_related("stage")
        .annotate(moved=Max("stage_changes__at"))
    )
    lost_ids = [lead.pk for lead in leads if lead.stage.kind == StageKind.LOST]
    lost_from = dict(
        LeadStageChange.objects.filter(lead_id__in=lost_ids, to_stage__kind=StageKind.LOST, from_stage__isnull=False)
        .order_by("lead_id", "at")
        .values_list("lead_id", "from_stage__name")
    )
    return [
        (
            lead.pk,
            lead.stage.name,
            lead.stage.kind,
            max(0.0, (now - (lead.moved or lead.created)).total_seconds() / 86400),
            lost_from.get(lead.pk, ""),
        )
        for lead in leads
    ]


# An event's few rows by a statement compiled once (core.compiled): the ORM's compile costs more than the query.
_LEAD_ROWS = RowsById(Lead, lambda of_ids: Lead.objects.filter(of_ids).values_list(*_ROLLUP_FIELDS))


def lead_rollup_facts(*, ids: Iterable[int] | None = None, since: datetime | None = None) -> Iterator[LeadRollupFact]:
    """Leads with `ids`, or (`since`) every lead created, changed or closed since then; all without either. One
    query, read in chunks."""
    if ids is not None and since is None:
        rows: Iterable[tuple] = _LEAD_ROWS(list(ids))
    else:
        leads = Lead.objects.order_by()
        if ids is not None:
            leads = leads.filter(pk__in=list(ids))
        if since is not None:
            leads = leads.filter(
                Q(created__gte=since) | Q(updated__gte=since) | Q(won_at__gte=since) | Q(lost_at__gte=since)
            )
        rows = leads.values_list(*_ROLLUP_FIELDS).iterator(chunk_size=5000)
    for pk, created, owner, source, currency, value, kind, won, lost in rows:
        cents = int((value or 0) * 100)
        yield LeadRollupFact(pk, created, owner, source, currency, cents, kind, won, lost)


_ROLLUP_FIELDS = ("id", "created", "owner_id", "source", "currency", "value", "stage__kind", "won_at", "lost_at")


# --- automation ---
# What automation rules test of a lead (automation/sources.py): field descriptions for the builder, values of many
# leads in one query, and the newest leads for a dry run.


def lead_automation_fields() -> list[dict]:
    from .models import Stage

    stages = [
        (str(pk), f"{pipeline} · {name}")
        for pk, name, pipeline in Stage.objects.order_by("pipeline__name", "order").values_list(
            "pk", "name", "pipeline__name"
        )
    ]
    sources = [(str(value), str(label)) for value, label in Lead._meta.get_field("source").choices]

    def field(name: str, label: str, kind: str, choices=(), ai: bool = False) -> dict:
        return {"name": name, "label": label, "kind": kind, "choices": list(choices), "ai": ai}

    return [
        field("stage", "Stage", "choice", stages),
        field("stage_kind", "Stage kind", "choice", [(k, str(label)) for k, label in StageKind.choices]),
        field("title", "Title", "text"),
        field("company_name", "Company", "text"),
        field("source", "Source", "choice", sources),
        field("value", "Value", "number"),
        field("owner", "Owner", "user"),
        field("tags", "Tags", "tags"),
        field("probability", "AI: win probability (%)", "number", ai=True),
    ]


def lead_automation_values(ids: Iterable[int], *, now: datetime | None = None) -> dict[int, dict]:
    rows = Lead.objects.filter(pk__in=list(ids)).values_list(
        "pk", "stage_id", "stage__kind", "title", "company_name", "source", "value", "owner_id", "tags", "probability"
    )
    return {
        pk: {
            "stage": str(stage),
            "stage_kind": kind,
            "title": title,
            "company_name": company,
            "source": source,
            "value": value,
            "owner": "" if owner is None else str(owner),
            "tags": list(tags or ()),
            "probability": probability,
        }
        for pk, stage, kind, title, company, source, value, owner, tags, probability in rows
    }


def leads_recent_ids(*, limit: int = 50) -> list[int]:
    return list(Lead.objects.order_by("-updated", "-id").values_list("pk", flat=True)[: max(1, int(limit))])
