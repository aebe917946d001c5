"""The "Leads" block on the company page: its open leads with stage and value, read-only, for whoever sees leads."""

from __future__ import annotations

from typing import Any

from accounts.roles import user_can
from customers.contracts import CompanyPanel
from customers.facade import company_panel_register

from .models import Lead

PANEL_LEADS = 10


def panel_context(customer_id: int, user: Any) -> dict[str, object] | None:
    """Open leads of the company, biggest first (one query); None for users without `leads.view`."""
    if not user_can(user, "leads.view"):
        return None
    rows = list(
        Lead.objects.open()
        .filter(customer_id=customer_id)
        .order_by("-value", "-id")
        .values("id", "title", "value", "currency", "stage__name", "expected_close")[: PANEL_LEADS + 1]
    )
    return {
        "customer_id": customer_id,
        "leads": rows[:PANEL_LEADS],
        "more": len(rows) > PANEL_LEADS,
        "can_create": user_can(user, "leads.edit"),
    }


def register() -> None:
    company_panel_register(CompanyPanel(name="leads", template="leads/_company_panel.html", context=panel_context))
