"""The "Quotes" block on the company page and on the lead page: the quotes, their latest events (the lead's quote
timeline) and "New quote" for whoever may edit quotes; and the quote card of the pipeline metrics page."""

from __future__ import annotations

from typing import Any

from accounts.roles import user_can
from customers.contracts import CompanyPanel
from customers.facade import company_panel_register
from leads.contracts import LeadPanel, PipelineMetricCard
from leads.facade import lead_panel_register, pipeline_metric_card_register

from . import metrics
from .models import Quote, QuoteEvent

PANEL_QUOTES = 10
PANEL_EVENTS = 10
QUOTE_FIELDS = ("id", "number", "title", "status", "total", "currency", "valid_until")


def _context(quotes, user, **about: int) -> dict[str, object]:
    rows = list(quotes.order_by("-number").values(*QUOTE_FIELDS)[: PANEL_QUOTES + 1])
    for row in rows:
        row["reference"] = f"Q-{row['number']:05d}"
    return {
        "quotes": rows[:PANEL_QUOTES],
        "more": len(rows) > PANEL_QUOTES,
        "can_create": user_can(user, "quotes.edit"),
        **about,
    }


def company_context(customer_id: int, user: Any) -> dict[str, object] | None:
    """The company's latest quotes (one query); None for users without `quotes.view`."""
    if not user_can(user, "quotes.view"):
        return None
    return _context(Quote.objects.filter(customer_id=customer_id), user, customer_id=customer_id)


def lead_context(lead_id: int, user: Any) -> dict[str, object] | None:
    """The lead's quotes and their latest events, newest first (two queries)."""
    if not user_can(user, "quotes.view"):
        return None
    context = _context(Quote.objects.filter(lead_id=lead_id), user, lead_id=lead_id)
    context["events"] = list(
        QuoteEvent.objects.filter(quote__lead_id=lead_id)
        .select_related("quote", "actor")
        .only("at", "kind", "to_status", "summary", "changes", "revision", "quote__number", "actor__name")
        .order_by("-at", "-id")[:PANEL_EVENTS]
    )
    return context


def pipeline_metrics_context(pipeline_id: int, days: int, user: Any) -> dict[str, object] | None:
    """The workspace's quote cycle time and win rate over the page's period (every quote, not only this pipeline's
    leads': a quote may be for a company alone); None for users without `quotes.view`."""
    if not user_can(user, "quotes.view"):
        return None
    return {"metrics": metrics.quote_metrics(days=days)}


def register() -> None:
    company_panel_register(CompanyPanel(name="quotes", template="quotes/_company_panel.html", context=company_context))
    lead_panel_register(LeadPanel(name="quotes", template="quotes/_lead_panel.html", context=lead_context))
    card = PipelineMetricCard(
        name="quotes", template="quotes/_pipeline_metrics_card.html", context=pipeline_metrics_context
    )
    pipeline_metric_card_register(card)
