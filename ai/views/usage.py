"""What the workspace's AI did and cost: the usage page (KPIs, charts, the same figures as tables) and the run log
with each run's detail (provider chain, tokens, cost, errors in words, feedback).

The charts draw from one JSON block the view renders (`usage-charts`, read by static/js/charts.js): the template
touches no ORM, and the page costs the same number of queries for ten runs or a million.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.utils import dateformat
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.htmx import render_partial, wants_fragment

from .. import prompts, registry, selectors
from ..contracts import AIMetrics
from ..models import AIRun
from ..selectors import RunFilters, UsageSeries
from ..templatetags.ai_display import feature_label, milliseconds, percent, provider_name, usd

USAGE_TEMPLATE = "ai/usage.html"
RUN_LIST_TEMPLATE = "ai/run_list.html"
RUN_DETAIL_TEMPLATE = "ai/run_detail.html"
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
RUN_PAGE_SIZE = 50

PROVIDER_COLOURS = {
    "local": "#2f9e44",
    "openai": "#3b5bdb",
    "anthropic": "#e8590c",
    "google": "#1098ad",
    "copilot": "#7048e8",
    "": "#868e96",
}
OTHER_COLOURS = ("#f08c00", "#c2255c", "#5c940d", "#495057")
OUTCOME_COLOURS = {"accepted": "#2f9e44", "edited": "#f59f00", "rejected": "#e03131"}

# Error classes stored on runs (ai.providers.base, ai.orchestrator), in words for the run log.
ERROR_TITLES = {
    "AuthenticationFailed": "The provider refused the API key",
    "Misconfigured": "The provider is not set up correctly",
    "RateLimited": "The provider's rate limit was reached",
    "ProviderTimeout": "The provider did not answer in time",
    "ProviderUnavailable": "The provider could not be reached or was overloaded",
    "BadResponse": "The provider's answer could not be read",
    "Unsupported": "The provider cannot do this kind of task",
    "DecryptionFailed": "The stored API key could not be decrypted (the server's encryption key changed?)",
    "OutputRejected": "The answer failed the output checks",
    "Skipped": "The provider was skipped",
    "AIUnavailable": "No provider could answer",
}
# Problems an admin fixes on the settings page rather than by waiting.
SETTINGS_ERRORS = frozenset({"AuthenticationFailed", "Misconfigured", "DecryptionFailed", "Unsupported"})


# --- Usage page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    detail: str


def _period(request: HttpRequest) -> int | None:
    raw = request.GET.get("days", "")
    if not raw:
        return DEFAULT_PERIOD
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else None


def _colour(provider: str, position: int) -> str:
    return PROVIDER_COLOURS.get(provider) or OTHER_COLOURS[position % len(OTHER_COLOURS)]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _kpis(metrics: AIMetrics, series: UsageSeries) -> list[Kpi]:
    total = metrics.total
    return [
        Kpi("runs", "Runs", f"{total.runs:,}", f"{total.errors:,} failed or blocked"),
        Kpi("cost", "Cost", usd(total.cost_usd), f"{total.input_tokens + total.output_tokens:,} tokens"),
        Kpi(
            "latency",
            "Average latency",
            milliseconds(series.latency_avg_ms),
            f"p95 {milliseconds(total.latency_p95_ms)}",
        ),
        Kpi("cache", "Cache hit rate", percent(total.cache_hit_rate), "answers reused without a new call"),
        Kpi("acceptance", "Acceptance rate", percent(total.acceptance_rate), f"of {total.feedback_count:,} rated"),
        Kpi(
            "fallback",
            "Fallback rate",
            percent(_rate(series.fallback_runs, series.total_runs)),
            "answered by a backup provider",
        ),
    ]


def _chart_data(metrics: AIMetrics, series: UsageSeries) -> dict[str, Any]:
    """Chart.js-ready figures (see static/js/charts.js); the tables under the charts show the same numbers."""
    days = [dateformat.format(day, "M j") for day in series.days]
    features = [feature_label(row.key) for row in metrics.by_feature]
    return {
        "runs": {
            "type": "bar",
            "stacked": True,
            "unit": "runs",
            "labels": days,
            "dates": [day.isoformat() for day in series.days],
            "datasets": [
                {"label": provider_name(name), "key": name, "data": list(series.runs[name]), "color": _colour(name, i)}
                for i, name in enumerate(series.providers)
            ],
        },
        "cost": {
            "type": "line",
            "unit": "usd",
            "labels": days,
            "datasets": [
                {"label": "Cost (USD)", "data": [round(float(cost), 6) for cost in series.cost_usd], "color": "#3b5bdb"}
            ],
        },
        "latency": {
            "type": "bar",
            "unit": "ms",
            "labels": features,
            "datasets": [
                {"label": label, "data": [_ms(getattr(row, field)) for row in metrics.by_feature], "color": colour}
                for label, field, colour in (
                    ("p50", "latency_p50_ms", "#74c0fc"),
                    ("p95", "latency_p95_ms", "#1864ab"),
                )
            ],
        },
        "acceptance": {
            "type": "bar",
            "stacked": True,
            "unit": "ratings",
            "labels": features,
            "datasets": [
                {
                    "label": outcome.title(),
                    "data": [getattr(row, outcome) for row in metrics.by_feature],
                    "color": colour,
                }
                for outcome, colour in OUTCOME_COLOURS.items()
            ],
        },
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _daily_rows(series: UsageSeries) -> list[dict[str, Any]]:
    """Newest day first, as people read a log."""
    rows = []
    for position, day in reversed(list(enumerate(series.days))):
        counts = [series.runs[name][position] for name in series.providers]
        rows.append({"day": day, "counts": counts, "total": sum(counts), "cost": series.cost_usd[position]})
    return rows


@require_GET
@capability_required("ai.usage.view")
def ai_usage(request: HttpRequest) -> HttpResponse:
    days = _period(request)
    if days is None:
        return HttpResponseBadRequest(f"Choose a period of {', '.join(map(str, PERIODS))} days.")
    metrics = selectors.ai_metrics(days=days)
    series = selectors.ai_usage_series(days=days)
    context = {
        "days": days,
        "periods": PERIODS,
        "metrics": metrics,
        "series": series,
        "providers": [(name, provider_name(name)) for name in series.providers],
        "kpis": _kpis(metrics, series),
        "charts": _chart_data(metrics, series),
        "daily_rows": _daily_rows(series),
    }
    return render(request, USAGE_TEMPLATE, context)


# --- Run log ------------------------------------------------------------------------------------


class BadFilter(ValueError):
    pass


def _run_filters(params: QueryDict) -> RunFilters:
    status = params.get("status", "")
    if status and status not in AIRun.Status.values:
        raise BadFilter(f"Unknown status {status!r}: use one of {', '.join(AIRun.Status.values)}.")
    cached = params.get("cached", "")
    if cached not in {"", "yes", "no"}:
        raise BadFilter('Filter cached runs with "yes" or "no".')
    return RunFilters(
        feature=params.get("feature", "").strip(),
        provider=params.get("provider", "").strip(),
        status=status,
        cached=None if not cached else cached == "yes",
    )


@require_GET
@capability_required("ai.usage.view")
def run_list(request: HttpRequest) -> HttpResponse:
    try:
        filters = _run_filters(request.GET)
    except BadFilter as error:
        return HttpResponseBadRequest(str(error))
    page = selectors.ai_run_page(filters=filters, cursor=request.GET.get("cursor"), page_size=RUN_PAGE_SIZE)
    context = {"page": page, "filters": filters, "cached": request.GET.get("cached", "")}
    if wants_fragment(request, "run-table"):
        return render_partial(request, RUN_LIST_TEMPLATE, "run-table", context)
    features = selectors.ai_run_features()
    if filters.feature and filters.feature not in features:
        features.append(filters.feature)
    context |= {
        "features": features,
        "provider_options": [(name, provider_name(name)) for name in registry.provider_names()],
        "status_options": AIRun.Status.choices,
    }
    return render(request, RUN_LIST_TEMPLATE, context)


# --- Run detail ---------------------------------------------------------------------------------


def _provider_chain(run: AIRun) -> list[dict[str, Any]]:
    """Each provider tried, in order, with what happened to it, and the one that answered last; empty when the
    first provider answered (the page then says so in a sentence)."""
    details = (run.flags or {}).get("providers", [])
    if not details:
        return []
    chain = []
    for detail in details:
        error = detail.get("error", "")
        chain.append(
            {
                "provider": detail.get("provider", ""),
                "config": detail.get("config", ""),
                "outcome": "skipped" if detail.get("skipped") else "failed",
                "title": ERROR_TITLES.get(error, error) if error else "Skipped",
                "message": detail.get("skipped") or detail.get("message", ""),
                "attempts": detail.get("attempts", 1),
                "fix_in_settings": error in SETTINGS_ERRORS,
            }
        )
    if run.status in {AIRun.Status.OK, AIRun.Status.FALLBACK} and run.provider:
        config = run.provider_config.label if run.provider_config else provider_name(run.provider)
        chain.append({"provider": run.provider, "config": config, "outcome": "answered", "attempts": 1})
    return chain


def _output_json(run: AIRun) -> str:
    if run.output_data in (None, {}, []):
        return ""
    return json.dumps(run.output_data, indent=2, ensure_ascii=False, sort_keys=True)


@require_GET
@capability_required("ai.usage.view")
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run = selectors.ai_run_detail(run_id=run_id)
    except AIRun.DoesNotExist:
        raise Http404("No such AI run in this workspace.") from None
    context = {
        "run": run,
        "chain": _provider_chain(run),
        "error_title": ERROR_TITLES.get(run.error_class, run.error_class),
        "fix_in_settings": run.error_class in SETTINGS_ERRORS,
        "output_json": _output_json(run),
        "feedback": list(run.feedback.all()),
        "prompt_editable": bool(run.prompt_key)
        and prompts.system_prompt(run.prompt_key) is not None
        and user_can(request.user, "ai.configure"),
    }
    return render(request, RUN_DETAIL_TEMPLATE, context)
