"""Blocks other apps add to the lead page, registered from their `AppConfig.ready` (like customers' panels)."""

from __future__ import annotations

from dataclasses import dataclass

from .contracts import LeadPanel

_panels: dict[str, LeadPanel] = {}


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
