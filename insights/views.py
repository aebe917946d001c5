"""Insights pages: the trends list (recurring defects with the companies, leads and quotes they touch)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from . import report, selectors


@require_GET
@capability_required("insights.view")
def trend_list(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/trend_list.html", {"rows": selectors.trend_list()})


@require_GET
@capability_required("insights.view")
def trend_report(request: HttpRequest) -> HttpResponse:
    """The weekly trend report on demand (the same one the Monday email carries), for the last 7 days."""
    return render(request, "insights/trend_report.html", {"report": report.trend_report_generate()})
