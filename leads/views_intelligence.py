"""The lead page's intelligence card (lazy-loaded HTMX fragment) and the pipeline metrics page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from . import intelligence, metrics, panels, selectors
from .models import Lead, Pipeline

CARD_TEMPLATE = "leads/_intelligence_card.html"
METRICS_TEMPLATE = "leads/pipeline_metrics.html"


@require_GET
@capability_required("leads.view")
def lead_intelligence(request: HttpRequest, lead_id: int) -> HttpResponse:
    try:
        report = intelligence.lead_intelligence(lead_id=lead_id, user=request.user)
    except Lead.DoesNotExist:
        raise Http404("No such lead in this workspace.") from None
    return render(request, CARD_TEMPLATE, {"intel": report, "lead_id": lead_id})


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", metrics.DEFAULT_PERIOD))
    except ValueError:
        return metrics.DEFAULT_PERIOD
    return days if days in metrics.PERIODS else metrics.DEFAULT_PERIOD


@require_GET
@capability_required("leads.view")
def pipeline_metrics(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    try:
        pipeline = selectors.pipeline_get(pipeline_id=pipeline_id)
    except Pipeline.DoesNotExist:
        raise Http404("No such pipeline in this workspace.") from None
    days = _days(request)
    context = {
        "pipeline": pipeline,
        "metrics": metrics.pipeline_metrics(pipeline=pipeline, days=days),
        "periods": metrics.PERIODS,
        "days": days,
        "cards": panels.pipeline_metric_cards(pipeline_id=pipeline.pk, days=days, user=request.user),
    }
    return render(request, METRICS_TEMPLATE, context)
