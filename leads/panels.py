"""Blocks other apps add to the lead page and cards they add to the pipeline metrics page, registered from their
`AppConfig.ready` (like customers' panels)."""

from __future__ import annotations

from dataclasses import dataclass

from .contracts import LeadPanel, PipelineMetricCard

_panels: dict[str, LeadPanel] = {}
_metric_cards: dict[str, PipelineMetricCard] = {}


def panel_register(panel: LeadPanel) -> None:
    """Adds (or replaces, on a reload) a panel."""
    _panels[panel.name] = panel


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: object


def lead_panels(*, lead_id: int, user) -> list[ShownPanel]:
    """The panels this user sees on the lead's page, in name order, each with its context."""
    shown = []
    for name in sorted(_panels):
        context = _panels[name].context(lead_id, user)
        if context is not None:
            shown.append(ShownPanel(template=_panels[name].template, context=context))
    return shown


def metric_card_register(card: PipelineMetricCard) -> None:
    """Adds (or replaces, on a reload) a card of the pipeline metrics page."""
    _metric_cards[card.name] = card


def pipeline_metric_cards(*, pipeline_id: int, days: int, user) -> list[ShownPanel]:
    """The cards this user sees on the pipeline's metrics page for the last `days`, in name order."""
    shown = []
    for name in sorted(_metric_cards):
        context = _metric_cards[name].context(pipeline_id, days, user)
        if context is not None:
            shown.append(ShownPanel(template=_metric_cards[name].template, context=context))
    return shown
