"""Insights pages: the trends list (recurring defects with the companies, leads and quotes they touch)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required

from . import selectors


@require_GET
@capability_required("insights.view")
def trend_list(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/trend_list.html", {"rows": selectors.trend_list()})
