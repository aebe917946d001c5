"""HTML fragments that keep every open board of a pipeline in step: pushed over the websocket after a change
commits, and sent back to the person who made it in the HTMX reply, so both see the same thing.

Every fragment is out-of-band (htmx swaps each top-level element by its `hx-swap-oob`):
* a moved or changed card first deletes itself by id (`lead-card-<id>`), then is inserted next to the card it now
  follows or precedes (`afterend:#lead-card-<before>` / `beforebegin:#lead-card-<after>`), or at the top of an
  empty column. A board that has not loaded that neighbour (it sits beyond the column's "load more") gets no
  card: it would be beyond what that board shows anyway.
* the headers (`stage-summary-<id>`: count and total value) of the columns it left and joined are replaced.
Boards follow the topic `leads.pipeline.<id>` (core.realtime), so other pages never receive cards.
"""

from __future__ import annotations

from collections import Counter

from django.template.loader import render_to_string
from django.utils.html import format_html

from core.realtime import notify_on_commit, topic_group, workspace_group

from . import selectors
from .models import Lead, Pipeline, Stage

CARD_TEMPLATE = "leads/_card.html"
SUMMARY_TEMPLATE = "leads/_stage_summary.html"


def board_topic(pipeline_id: int) -> str:
    return f"leads.pipeline.{pipeline_id}"


def display_name(user) -> str:
    return user.get_full_name() if user is not None else "Someone"


def card_html(lead: Lead, *, is_new: bool = False) -> str:
    return render_to_string(CARD_TEMPLATE, {"lead": lead, "is_new": is_new})


def card_placed_oob(
    lead: Lead, *, is_new: bool = False, neighbours: tuple[int | None, int | None] | None = None
) -> str:
    """Removes the card wherever it is on the board, then puts it where it now belongs in its column (between
    `neighbours`, the ids of the cards before and after it, when the caller knows them)."""
    before, after = neighbours if neighbours is not None else selectors.lead_neighbours(lead=lead)
    card = card_html(lead, is_new=is_new)
    if after is not None:
        place = f"beforebegin:#lead-card-{after}"
    elif before is not None:
        place = f"afterend:#lead-card-{before}"
    else:
        place = f"afterbegin:#stage-cards-{lead.stage_id}"
    removed = format_html('<div id="lead-card-{}" hx-swap-oob="delete"></div>', lead.pk)
    return f'{removed}<div hx-swap-oob="{place}">{card}</div>'


def card_replaced_oob(lead: Lead) -> str:
    """The card changed in place (title, value, owner…)."""
    return f'<div hx-swap-oob="outerHTML:#lead-card-{lead.pk}">{card_html(lead)}</div>'


def summaries_oob(stages: list[Stage]) -> str:
    summaries = selectors.stage_summaries(stage_ids=[stage.pk for stage in stages])
    return "".join(
        render_to_string(SUMMARY_TEMPLATE, {"stage": stage, "summary": summaries[stage.pk], "oob": True})
        for stage in stages
    )


def toast_oob(text: str, level: str = "info") -> str:
    toast = render_to_string("components/toast.html", {"text": text, "level": level})
    return f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>'


def moved_html(*, lead_id: int, stages: list[Stage]) -> str:
    """What a board shows after a move: the card in its new place and the headers of both columns."""
    lead = selectors.lead_card(lead_id=lead_id)
    return card_placed_oob(lead) + summaries_oob(stages)


def added_html(*, lead_id: int) -> str:
    lead = selectors.lead_card(lead_id=lead_id)
    return card_placed_oob(lead, is_new=True) + summaries_oob([lead.stage])


def changed_html(*, lead_id: int) -> str:
    lead = selectors.lead_card(lead_id=lead_id)
    return card_replaced_oob(lead) + summaries_oob([lead.stage])


def _push(pipeline: Pipeline | int, render, *, actor, toast: str = "") -> None:
    """After commit, other viewers of the pipeline's board get the fragments; the actor already has them."""
    pipeline_id = pipeline if isinstance(pipeline, int) else pipeline.pk
    exclude = getattr(actor, "pk", None)
    notify_on_commit(topic_group(board_topic(pipeline_id)), render, exclude_user_id=exclude)
    if toast and actor is not None:
        notify_on_commit(workspace_group(), toast_oob(f"{display_name(actor)} {toast}"), exclude_user_id=exclude)


def lead_moved(
    *, lead: Lead, from_stage: Stage, to_stage: Stage, actor, neighbours: tuple[int | None, int | None]
) -> None:
    """Pushed at commit. The fragments are kept on `lead` (as `live_html`) too: the mover's reply is the same
    HTML, so the view sends it rather than render it again.

    A drag is the board's most frequent request, so this reads as little as it can: the card comes from `lead` as
    the move locked it (company, contact and owner joined), its place from `neighbours` found while positioning
    it, and the column headers are read only when it changed column (a reorder changes no count or total)."""

    def render() -> str:
        html = card_placed_oob(lead, neighbours=neighbours)
        if from_stage.pk != to_stage.pk:
            html += summaries_oob([from_stage, to_stage])
        lead.live_html = html
        return html

    _push(to_stage.pipeline_id, render, actor=actor)


def lead_added(*, lead: Lead, actor) -> None:
    _push(lead.stage.pipeline_id, lambda: added_html(lead_id=lead.pk), actor=actor, toast=f"added the lead {lead}")


def leads_added(*, leads: list[Lead], actor) -> None:
    """A batch (an import), one push per pipeline: the new cards on top of their columns (at most a board's first
    page of each column), the headers of those columns, and one toast for the batch."""
    by_pipeline: dict[int, list[Lead]] = {}
    for lead in leads:
        by_pipeline.setdefault(lead.stage.pipeline_id, []).append(lead)
    for pipeline_id, batch in by_pipeline.items():
        count = len(batch)
        toast = f"added {count} lead{'s' if count != 1 else ''}"
        _push(pipeline_id, lambda batch=batch: _batch_html(batch), actor=actor, toast=toast)


def _batch_html(leads: list[Lead]) -> str:
    per_stage = Counter(lead.stage_id for lead in leads)
    seen: Counter[int] = Counter()
    cards = []
    for lead in leads:  # each goes on top, so a column's last row ends topmost, as its position says
        seen[lead.stage_id] += 1
        if seen[lead.stage_id] > per_stage[lead.stage_id] - selectors.BOARD_PER_COLUMN:
            card = card_html(lead, is_new=True)
            cards.append(f'<div hx-swap-oob="afterbegin:#stage-cards-{lead.stage_id}">{card}</div>')
    stages = list({lead.stage_id: lead.stage for lead in leads}.values())
    return "".join(cards) + summaries_oob(stages)


def lead_changed(*, lead: Lead, actor) -> None:
    _push(lead.stage.pipeline_id, lambda: changed_html(lead_id=lead.pk), actor=actor)
