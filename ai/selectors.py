"""Reads of the AI app: the workspace's AI settings as one cached snapshot, the ledger, usage figures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from . import cache as ai_cache
from . import prompts
from .contracts import AIMetrics, DailyUsage, RunMeta, RunRecord, UsageRow
from .models import AIFeedback, AIPolicy, AIRun, FeatureRoute, PromptOverride, ProviderConfig
from .models.config import DEFAULT_CACHE_TTL_SECONDS, DEFAULT_MAX_INPUT_CHARS

# --- The settings snapshot the orchestrator reads on every call ---------------------------------


@dataclass(frozen=True)
class ProviderEntry:
    """A ProviderConfig as plain data (the key still encrypted)."""

    id: int
    provider: str
    label: str
    model: str
    base_url: str
    api_key_encrypted: str
    priority: int
    enabled: bool
    timeout_seconds: float
    extra: dict[str, Any]
    monthly_budget_usd: Decimal | None
    budget_exhausted_month: str


@dataclass(frozen=True)
class PolicyEntry:
    allow_external_providers: bool = True
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS
    cache_ttl_seconds: int = DEFAULT_CACHE_TTL_SECONDS


@dataclass(frozen=True)
class WorkspaceAISettings:
    policy: PolicyEntry
    providers: tuple[ProviderEntry, ...]
    routes: dict[str, tuple[int, ...]]
    overrides: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (text, version) of active ones

    def provider(self, config_id: int) -> ProviderEntry | None:
        return next((entry for entry in self.providers if entry.id == config_id), None)


_snapshots: dict[tuple[str, str], WorkspaceAISettings] = {}
_latest: dict[str, WorkspaceAISettings] = {}
_snapshots_lock = threading.Lock()
MAX_SNAPSHOTS = 512


def ai_settings_get(workspace_generation: str | None = None) -> WorkspaceAISettings:
    """The workspace's AI settings, read from the database once per settings generation and process.

    Any change to them makes a new workspace generation (ai.cache.invalidate_soon): a stale snapshot is never used.
    """
    token = workspace_generation or ai_cache.read("-")[0].workspace
    key = (connection.schema_name, token)
    snapshot = _snapshots.get(key)
    if snapshot is None:
        snapshot = _ai_settings_load()
        with _snapshots_lock:
            if len(_snapshots) >= MAX_SNAPSHOTS:
                _snapshots.clear()
                _latest.clear()
            _snapshots[key] = snapshot
    _latest[connection.schema_name] = snapshot
    return snapshot


def ai_settings_latest() -> WorkspaceAISettings | None:
    """The snapshot this process used last for the current workspace, possibly outdated: only for guesses."""
    return _latest.get(connection.schema_name)


def _ai_settings_load() -> WorkspaceAISettings:
    policy = AIPolicy.objects.order_by("-id").first()
    providers = tuple(
        ProviderEntry(
            id=config.id,
            provider=config.provider,
            label=config.label,
            model=config.model,
            base_url=config.base_url,
            api_key_encrypted=config.api_key_encrypted,
            priority=config.priority,
            enabled=config.enabled,
            timeout_seconds=config.timeout_seconds,
            extra=dict(config.extra or {}),
            monthly_budget_usd=config.monthly_budget_usd,
            budget_exhausted_month=config.budget_exhausted_month,
        )
        for config in ProviderConfig.objects.order_by("priority", "id")
    )
    routes = {route.feature: tuple(route.provider_config_ids) for route in FeatureRoute.objects.all()}
    overrides = {row.feature: (row.text, row.version) for row in PromptOverride.objects.filter(active=True)}
    return WorkspaceAISettings(
        policy=PolicyEntry(policy.allow_external_providers, policy.max_input_chars, policy.cache_ttl_seconds)
        if policy
        else PolicyEntry(),
        providers=providers,
        routes=routes,
        overrides=overrides,
    )


# --- Settings pages -----------------------------------------------------------------------------


def ai_policy_get() -> AIPolicy:
    """The policy in force (an unsaved default row when the workspace never changed it)."""
    return AIPolicy.objects.select_related("changed_by").order_by("-id").first() or AIPolicy()


def provider_config_list() -> QuerySet[ProviderConfig]:
    return ProviderConfig.objects.order_by("priority", "id")


def provider_config_get(*, config_id: int) -> ProviderConfig:
    return ProviderConfig.objects.get(pk=config_id)


def feature_route_list() -> QuerySet[FeatureRoute]:
    return FeatureRoute.objects.order_by("feature")


@dataclass(frozen=True)
class PromptEntry:
    key: str
    description: str
    system_version: str
    active_override: PromptOverride | None

    @property
    def version_in_use(self) -> str:
        return self.active_override.version_label if self.active_override else self.system_version


def prompt_list() -> list[PromptEntry]:
    """Every shipped prompt with the workspace's active override, if any (the prompt editor's index)."""
    active = {row.feature: row for row in PromptOverride.objects.filter(active=True).select_related("author")}
    return [
        PromptEntry(key, template.description, template.version, active.get(key))
        for key, template in sorted(prompts.system_prompts().items())
    ]


def prompt_override_history(*, feature: str) -> QuerySet[PromptOverride]:
    return PromptOverride.objects.filter(feature=feature).select_related("author").order_by("-version")


# --- Ledger -------------------------------------------------------------------------------------


def ai_run_list(*, feature: str | None = None, status: str | None = None, limit: int = 100) -> QuerySet[AIRun]:
    runs = AIRun.objects.select_related("user", "provider_config")
    if feature:
        runs = runs.filter(feature=feature)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created", "-id")[:limit]


def ai_run_get(*, run_id: int) -> RunRecord:
    """Raises AIRun.DoesNotExist for an id that is not in this workspace."""
    run = AIRun.objects.get(pk=run_id)
    meta = RunMeta(
        feature=run.feature,
        provider=run.provider,
        model=run.model,
        run_id=run.pk,
        prompt_key=run.prompt_key,
        prompt_version=run.prompt_version,
        cached=run.cached,
        latency_ms=float(run.latency_ms),
        fallback_from=tuple(run.fallback_from),
    )
    error = f"{run.error_class}: {run.error_message}" if run.status == AIRun.Status.ERROR else ""
    return RunRecord(run.pk, run.status, run.output_text, run.output_data, meta, error)


# --- Usage figures: a fixed number of queries whatever the period or volume ---------------------


class PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    name = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, percentile: float, **extra) -> None:
        super().__init__(expression, percentile=float(percentile), **extra)


_FAILED = Q(status__in=[AIRun.Status.ERROR, AIRun.Status.BLOCKED])
_RUN_FIGURES = {
    "runs": Count("id"),
    "errors": Count("id", filter=_FAILED),
    "cost": Sum("cost_usd"),
    "input_tokens": Sum("input_tokens"),
    "output_tokens": Sum("output_tokens"),
    "cached_runs": Count("id", filter=Q(cached=True)),
    # Latency of the calls that produced an answer; failures would skew it towards timeouts.
    "p50": PercentileCont("latency_ms", 0.5, filter=~_FAILED),
    "p95": PercentileCont("latency_ms", 0.95, filter=~_FAILED),
}
_FEEDBACK_FIGURES = {
    "rated": Count("id"),
    "accepted": Count("id", filter=Q(outcome=AIFeedback.Outcome.ACCEPTED)),
    "edited": Count("id", filter=Q(outcome=AIFeedback.Outcome.EDITED)),
    "rejected": Count("id", filter=Q(outcome=AIFeedback.Outcome.REJECTED)),
}


def _usage_row(key: str, runs: dict, feedback: dict | None) -> UsageRow:
    feedback = feedback or {}
    count = runs.get("runs") or 0
    return UsageRow(
        key=key,
        runs=count,
        errors=runs.get("errors") or 0,
        cost_usd=runs.get("cost") or Decimal("0"),
        input_tokens=runs.get("input_tokens") or 0,
        output_tokens=runs.get("output_tokens") or 0,
        latency_p50_ms=runs.get("p50"),
        latency_p95_ms=runs.get("p95"),
        cache_hit_rate=(runs.get("cached_runs") or 0) / count if count else None,
        feedback_count=feedback.get("rated") or 0,
        accepted=feedback.get("accepted") or 0,
        edited=feedback.get("edited") or 0,
        rejected=feedback.get("rejected") or 0,
    )


def _grouped(runs: QuerySet, feedback: QuerySet, field_name: str) -> tuple[UsageRow, ...]:
    run_rows = {row[field_name]: row for row in runs.values(field_name).annotate(**_RUN_FIGURES)}
    feedback_rows = {
        row["key"]: row for row in feedback.values(key=F(f"run__{field_name}")).annotate(**_FEEDBACK_FIGURES)
    }
    rows = [_usage_row(key, run_rows[key], feedback_rows.get(key)) for key in run_rows]
    return tuple(sorted(rows, key=lambda row: (-row.runs, row.key)))


def ai_metrics(*, days: int = 30) -> AIMetrics:
    """Runs, cost, latency percentiles, cache hit and acceptance rates: in total, per feature, per provider and
    per day over the last `days` days. Seven queries, whatever the volume (indexes on created)."""
    days = max(1, int(days))
    since = timezone.now() - timedelta(days=days)
    runs = AIRun.objects.filter(created__gte=since).order_by()
    feedback = AIFeedback.objects.filter(run__created__gte=since).order_by()
    total = _usage_row("all", runs.aggregate(**_RUN_FIGURES), feedback.aggregate(**_FEEDBACK_FIGURES))
    daily = tuple(
        DailyUsage(row["day"], row["runs"], row["cost"] or Decimal("0"), row["cached"], row["errors"])
        for row in runs.annotate(day=TruncDate("created"))
        .values("day")
        .annotate(
            runs=Count("id"),
            cost=Sum("cost_usd"),
            cached=Count("id", filter=Q(cached=True)),
            errors=Count("id", filter=_FAILED),
        )
        .order_by("day")
    )
    return AIMetrics(
        days=days,
        total=total,
        by_feature=_grouped(runs, feedback, "feature"),
        by_provider=_grouped(runs, feedback, "provider"),
        daily=daily,
    )
