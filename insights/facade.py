"""What other apps (and later insights' own pages, exports and reports) may ask of insights: the metrics, each
taking MetricFilters and returning this and the previous period's figures (insights.contracts)."""

from __future__ import annotations

from .contracts import MetricFilters
from .metrics import (
    agent_performance_metrics,
    ai_usage_metrics,
    csat_metrics,
    daily_counts,
    lead_velocity_metrics,
    quote_cycle_time_metrics,
    sla_metrics,
    ticket_volume_metrics,
)

__all__ = [
    "MetricFilters",
    "agent_performance_metrics",
    "ai_usage_metrics",
    "csat_metrics",
    "daily_counts",
    "lead_velocity_metrics",
    "quote_cycle_time_metrics",
    "sla_metrics",
    "ticket_volume_metrics",
]
