"""Every non-trivial read of leads: the kanban board, a column's further pages, the filtered list, one lead.

The board costs three queries whatever the number of leads: the stages, one grouped aggregate (count and value
per stage and currency), and the first cards of every column as one UNION of per-column LIMITs, each served by
the (stage, position, id) index, so 10,000 leads in a column cost what 25 do.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core.day_ranges import day_range_q
from core.keyset import KeysetOrder, Page, count_up_to, cursor_after, paginate

from .models import Lead, LeadActivity, LeadSavedView, LeadStageChange, Pipeline, Stage, StageKind

BOARD_PER_COLUMN = 20
# Won and lost columns are history: fewer cards on first paint (they page like the others).
BOARD_PER_CLOSED_COLUMN = 10
MAX_PER_COLUMN = 100
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 10_000
COLUMN_CURSOR_SALT = "leads.column"
LIST_CURSOR_SALT = "leads.lead_list"
COLUMN_ORDER = KeysetOrder(keys=("position", "id"))
OWNER_FIELDS_UNSHOWN = ("owner__password", "owner__last_login", "owner__date_joined")
# What a card or a row never shows of the rows joined to a lead.
CARD_UNSHOWN = (*OWNER_FIELDS_UNSHOWN, "customer__search_text")
LIST_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "updated": ("updated", "id"),
    "created": ("created", "id"),
    "value": ("value", "id"),
    "expected_close": ("close_rank", "id"),
}
# Leads without an expected close date sort after every dated one (latest first: before them): a keyset cannot
# seek past NULLs, and dropping them from the list would hide deals.
NO_CLOSE_DATE = date(9999, 12, 31)


@dataclass(frozen=True)
class StageSummary:
    count: int = 0
    totals: tuple[tuple[str, Decimal], ...] = ()  # (currency, total value), largest first


@dataclass
class Column:
    stage: Stage
    summary: StageSummary
    cards: list[Lead] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class Board:
    pipeline: Pipeline
    columns: list[Column]


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    stage_id: int | None = None
    owner_id: int | None = None
    unowned: bool = False
    source: str = ""
    status: str = ""  # "open", "won", "lost" or "" for all
    pipeline_id: int | None = None
    customer_id: int | None = None
    tag: str = ""
    value_min: int | None = None  # whole units
    value_max: int | None = None
    close_from: date | None = None
    close_to: date | None = None
    # Leads nobody touched (no edit, no move) since this moment.
    untouched_since: datetime | None = None
    # Days in settings.TIME_ZONE, inclusive, as insights' rollups of lead_rollup_facts count them: a dashboard's
    # figure drills down to the same leads. Won / lost: in a won / lost stage, by won_at / lost_at.
    won_from: date | None = None
    won_to: date | None = None
    created_from: date | None = None
    created_to: date | None = None
    lost_from: date | None = None
    lost_to: date | None = None
    currency: str = ""

    @property
    def active(self) -> bool:
        return any(dataclasses.astuple(self))


# What a board card shows (templates/leads/_card.html): a board reads a hundred of them, so nothing else is loaded.
CARD_FIELDS = (
    "id", "title", "stage_id", "position", "value", "currency", "probability", "expected_close", "lost_reason",
    "customer__id", "customer__name", "contact__id", "contact__name", "owner__id", "owner__name", "owner__email",
)  # fmt: skip


def _board_cards(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads as board cards: company, contact and owner joined, only the fields a card shows."""
    return queryset.select_related("customer", "contact", "owner").only(*CARD_FIELDS)


def _cards(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads as a card or a list row shows them: company, contact and owner joined, the owner's secrets left out."""
    return queryset.select_related("customer", "contact", "owner", "stage").defer(*CARD_UNSHOWN)


# --- Pipelines and stages -----------------------------------------------------------------------


def pipeline_default() -> Pipeline | None:
    return Pipeline.objects.order_by("-is_default", "id").first()


def pipeline_get(*, pipeline_id: int) -> Pipeline:
    return Pipeline.objects.get(pk=pipeline_id)


def pipeline_list(*, include_archived: bool = False) -> list[Pipeline]:
    pipelines = Pipeline.objects.all()
    return list(pipelines if include_archived else pipelines.filter(archived=False))


def stage_list(*, pipeline: Pipeline | None = None) -> list[Stage]:
    queryset = Stage.objects.select_related("pipeline")
    if pipeline is not None:
        queryset = queryset.filter(pipeline=pipeline)
    return list(queryset.order_by("pipeline__is_default", "pipeline_id", "order", "id"))


def stage_get(*, stage_id: int) -> Stage:
    return Stage.objects.select_related("pipeline").get(pk=stage_id)


# --- The board ----------------------------------------------------------------------------------


def stage_summaries(*, stage_ids: list[int]) -> dict[int, StageSummary]:
    """Count and total value per stage (one grouped query)."""
    rows = (
        Lead.objects.filter(stage_id__in=stage_ids)
        .values("stage_id", "currency")
        .annotate(count=Count("id"), total=Sum("value"))
        .order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    totals: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for row in rows:
        counts[row["stage_id"]] += row["count"]
        totals[row["stage_id"]].append((row["currency"], row["total"] or Decimal(0)))
    return {
        stage_id: StageSummary(
            count=counts.get(stage_id, 0),
            totals=tuple(sorted(totals.get(stage_id, []), key=lambda item: (-item[1], item[0]))),
        )
        for stage_id in stage_ids
    }


def lead_board(
    *, pipeline: Pipeline, per_column: int = BOARD_PER_COLUMN, per_closed_column: int = BOARD_PER_CLOSED_COLUMN
) -> Board:
    """Every column of `pipeline` with its count, total value and first cards (`per_column` in open stages,
    `per_closed_column` in won and lost ones): three queries."""
    per_column = max(1, min(per_column, MAX_PER_COLUMN))
    per_closed_column = max(1, min(per_closed_column, per_column))

    def limit(stage: Stage) -> int:
        return per_column if stage.kind == StageKind.OPEN else per_closed_column

    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    if not stages:
        return Board(pipeline=pipeline, columns=[])
    summaries = stage_summaries(stage_ids=[stage.pk for stage in stages])
    # One LIMIT per column, fetched one past the page to know whether "load more" is needed.
    parts = [
        _board_cards(Lead.objects.filter(stage_id=stage.pk)).order_by("position", "id")[: limit(stage) + 1]
        for stage in stages
        if summaries[stage.pk].count
    ]
    cards: dict[int, list[Lead]] = defaultdict(list)
    if parts:
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for lead in union:
            cards[lead.stage_id].append(lead)
    columns = []
    stage_by_id = {stage.pk: stage for stage in stages}
    for stage in stages:
        column_cards = sorted(cards.get(stage.pk, []), key=lambda lead: (lead.position, lead.pk))
        more = len(column_cards) > limit(stage)
        column_cards = column_cards[: limit(stage)]
        for lead in column_cards:
            lead.stage = stage_by_id[stage.pk]
        cursor = cursor_after(column_cards[-1], order=COLUMN_ORDER, salt=COLUMN_CURSOR_SALT) if more else None
        columns.append(Column(stage=stage, summary=summaries[stage.pk], cards=column_cards, next_cursor=cursor))
    return Board(pipeline=pipeline, columns=columns)


def lead_column_page(*, stage: Stage, cursor: str | None, page_size: int = BOARD_PER_COLUMN) -> Page[Lead]:
    """The next cards of one column after `cursor` (keyset on position and id): one query."""
    page_size = max(1, min(page_size, MAX_PER_COLUMN))
    return paginate(
        _board_cards(Lead.objects.filter(stage=stage)),
        order=COLUMN_ORDER,
        cursor=cursor,
        page_size=page_size,
        salt=COLUMN_CURSOR_SALT,
    )


# --- The list -----------------------------------------------------------------------------------


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """ "-value" → ("value", True); anything unknown is the newest changes first."""
    sort = (sort or "").strip()
    name = sort.lstrip("-")
    if name not in LIST_SORT_KEYS:
        return "updated", True
    return name, sort.startswith("-")


def _lead_q(filters: LeadFilters) -> Q:
    """The filters as one condition: a list's WHERE, or the FILTER of one count among a rail's (lead_counts)."""
    conditions = Q()
    if filters.q.strip():
        text = filters.q.strip()
        conditions &= Q(title__icontains=text) | Q(customer__name__icontains=text) | Q(company_name__icontains=text)
    exact = {
        "stage_id": filters.stage_id,
        "stage__pipeline_id": filters.pipeline_id,
        "owner_id": None if filters.unowned else filters.owner_id,
        "customer_id": filters.customer_id,
        "value__gte": filters.value_min,
        "value__lte": filters.value_max,
        "expected_close__gte": filters.close_from,
        "expected_close__lte": filters.close_to,
        "updated__lt": filters.untouched_since,
    }
    conditions &= Q(**{lookup: value for lookup, value in exact.items() if value is not None})
    conditions &= day_range_q("created", filters.created_from, filters.created_to)
    if filters.won_from or filters.won_to:
        conditions &= Q(stage__kind=StageKind.WON) & day_range_q("won_at", filters.won_from, filters.won_to)
    if filters.lost_from or filters.lost_to:
        conditions &= Q(stage__kind=StageKind.LOST) & day_range_q("lost_at", filters.lost_from, filters.lost_to)
    if filters.currency:
        conditions &= Q(currency=filters.currency)
    if filters.status:
        conditions &= Q(stage__kind=filters.status)
    if filters.unowned:
        conditions &= Q(owner__isnull=True)
    if filters.source:
        conditions &= Q(source=filters.source)
    if filters.tag:
        conditions &= Q(tags__contains=[filters.tag])  # served by the GIN index on tags
    return conditions


def _matching(filters: LeadFilters) -> QuerySet[Lead]:
    return Lead.objects.filter(_lead_q(filters))


def lead_counts(filters: list[LeadFilters]) -> list[int]:
    """How many leads each of several filters matches (a rail of views): one query, one pass over the leads."""
    if not filters:
        return []
    counts = Lead.objects.aggregate(
        **{f"view_{index}": Count("id", filter=_lead_q(each)) for index, each in enumerate(filters)}
    )
    return [counts[f"view_{index}"] for index in range(len(filters))]


def lead_queryset(*, filters: LeadFilters | None = None) -> QuerySet[Lead]:
    """Filtered leads as rows show them (the API pages them itself)."""
    return _cards(_matching(filters or LeadFilters()))


def lead_list(
    *,
    filters: LeadFilters | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Page[Lead]:
    """One page of leads (1 query) and how many match, counted up to COUNT_CAP (1 query)."""
    matches = _matching(filters or LeadFilters())
    name, descending = parse_sort(sort)
    order = KeysetOrder(keys=LIST_SORT_KEYS[name], descending=descending)
    rows = _cards(matches)
    if name == "expected_close":
        rows = rows.annotate(close_rank=Coalesce("expected_close", Value(NO_CLOSE_DATE)))
    page = paginate(
        rows,
        order=order,
        cursor=cursor,
        page_size=max(1, min(page_size, MAX_PAGE_SIZE)),
        salt=LIST_CURSOR_SALT,
    )
    total, capped = count_up_to(matches, COUNT_CAP)
    return dataclasses.replace(page, total=total, total_capped=capped)


def lead_get(*, lead_id: int) -> Lead:
    """The lead with its company, contact, owner, stage (and pipeline), stage history and activities.
    Raises Lead.DoesNotExist."""
    history = LeadStageChange.objects.select_related("from_stage", "to_stage", "actor").order_by("-at", "-id")
    activities = LeadActivity.objects.select_related("created_by").order_by("done", "due_at", "id")
    return (
        _cards(Lead.objects.all())
        .select_related("stage__pipeline")
        .prefetch_related(Prefetch("stage_changes", queryset=history), Prefetch("activities", queryset=activities))
        .get(pk=lead_id)
    )


def lead_card(*, lead_id: int) -> Lead:
    """A lead as its board card shows it, for live updates."""
    return _board_cards(Lead.objects.all()).get(pk=lead_id)


def lead_row(*, lead_id: int) -> Lead:
    """A lead with its stage, company, contact and owner (a list row, an API answer). Raises Lead.DoesNotExist."""
    return _cards(Lead.objects.all()).get(pk=lead_id)


def lead_for_move(*, lead_id: int) -> Lead:
    """A lead as its move needs it before the move locks it: title and stage (the move form and modal)."""
    return Lead.objects.select_related("stage").only("id", "title", "stage").get(pk=lead_id)


def lead_neighbours(*, lead: Lead) -> tuple[int | None, int | None]:
    """The ids of the cards just before and just after `lead` in its column (for placing it on others' boards)."""
    column = Lead.objects.filter(stage_id=lead.stage_id).exclude(pk=lead.pk)
    before = (
        column.filter(Q(position__lt=lead.position) | Q(position=lead.position, id__lt=lead.pk))
        .order_by("-position", "-id")
        .values_list("id", flat=True)
        .first()
    )
    after = (
        column.filter(Q(position__gt=lead.position) | Q(position=lead.position, id__gt=lead.pk))
        .order_by("position", "id")
        .values_list("id", flat=True)
        .first()
    )
    return before, after


def activity_get(*, activity_id: int) -> LeadActivity:
    return LeadActivity.objects.select_related("lead").get(pk=activity_id)


def owner_choices() -> QuerySet[Any]:
    """Active teammates who may own leads."""
    return get_user_model().objects.filter(is_active=True).order_by("name", "email")


# --- Pipeline settings --------------------------------------------------------------------------


def pipeline_settings_list() -> list[Pipeline]:
    """Every pipeline, archived ones last, each with its stages in order and its number of leads (2 queries)."""
    stages = Stage.objects.annotate(lead_count=Count("leads")).order_by("order", "id")
    return list(
        Pipeline.objects.prefetch_related(Prefetch("stages", queryset=stages)).order_by(
            "archived", "-is_default", "name", "id"
        )
    )


def pipeline_with_stages(*, pipeline_id: int) -> Pipeline:
    """A pipeline with its stages in order, each with its number of leads. Raises Pipeline.DoesNotExist."""
    stages = Stage.objects.annotate(lead_count=Count("leads")).order_by("order", "id")
    return Pipeline.objects.prefetch_related(Prefetch("stages", queryset=stages)).get(pk=pipeline_id)


# --- Saved views of the list --------------------------------------------------------------------


def lead_view_list(*, user) -> list[LeadSavedView]:
    """The lead views this person sees: their own and the shared ones."""
    return list(LeadSavedView.objects.filter(Q(owner=user) | Q(shared=True)).order_by("position", "name", "id"))


def lead_view_get(*, view_id: int, user) -> LeadSavedView:
    """One of the views `user` sees (theirs or a shared one). Raises LeadSavedView.DoesNotExist."""
    return LeadSavedView.objects.filter(Q(owner=user) | Q(shared=True)).get(pk=view_id)
