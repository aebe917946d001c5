"""Insights pages next to the trends: quote hurdles (why deals are lost, what customers need answered) and churn
signals (which accounts may leave, whose they are, what to do next)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from . import churn, hurdles

PRODUCTS_SHOWN = 10
# Discount levels read from none to the largest, so the bars show whether bigger discounts lose more.
LEVEL_ORDER = {label: index for index, (_, _, label) in enumerate(hurdles.DISCOUNT_LEVELS)}


@require_GET
@capability_required("insights.view")
def quote_hurdles(request: HttpRequest) -> HttpResponse:
    """Computed at most every few minutes per workspace (insights.hurdles.quote_hurdles_cached): the page says when."""
    computed, found = hurdles.quote_hurdles_cached()
    context = {
        "hurdles": found,
        "computed": computed,
        "products": found.products[:PRODUCTS_SHOWN],
        "discounts": sorted(found.discounts, key=lambda rate: LEVEL_ORDER.get(rate.label, len(LEVEL_ORDER))),
        "stall_days": hurdles.STALL_DAYS,
        "empty": not (found.reasons or found.questions or found.products or found.stages or found.waiting),
    }
    return render(request, "insights/hurdles.html", context)


@require_GET
@capability_required("insights.view")
def churn_signals(request: HttpRequest) -> HttpResponse:
    """Computed on each visit: a few indexed reads, well under the time a cache would save."""
    signals = churn.churn_signals_detect()
    context = {
        "signals": signals,
        "drop_points": settings.INSIGHTS_HEALTH_DROP_POINTS,
        "ticket_days": churn.TICKET_DAYS,
    }
    return render(request, "insights/churn.html", context)
