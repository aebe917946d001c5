"""Blocks other apps add to the company page, registered from their `AppConfig.ready` like timeline providers.

customers imports no other app: an app that has something to show about a company (leads today, quotes later)
registers a panel through customers.facade, and the page renders whatever is registered, in name order.
"""

from __future__ import annotations

from dataclasses import dataclass

from .contracts import CompanyPanel

_panels: dict[str, CompanyPanel] = {}


def panel_register(panel: CompanyPanel) -> None:
    """Adds (or replaces, on a reload) a panel."""
    _panels[panel.name] = panel


def panel_unregister(name: str) -> None:
    _panels.pop(name, None)


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: object


def company_panels(*, customer_id: int, user) -> list[ShownPanel]:
    """The panels this user sees on the company's page, each with its context."""
    shown = []
    for name in sorted(_panels):
        panel = _panels[name]
        context = panel.context(customer_id, user)
        if context is not None:
            shown.append(ShownPanel(template=panel.template, context=context))
    return shown
