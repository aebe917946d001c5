"""Reads of the AI app: the workspace's AI settings as one cached snapshot, the ledger, usage figures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.keyset import KeysetOrder, Page, paginate

from . import cache as ai_cache
from . import prompts
from .contracts import AIMetrics, DailyUsage, RunMeta, RunRecord, UsageRow
from .models import AIFeedback, AIPolicy, AIRun, FeatureRoute, PromptOverride, ProviderConfig
from .models.config import DEFAULT_CACHE_TTL_SECONDS, DEFAULT_MAX_INPUT_CHARS
from .operations import OPERATIONS

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
    if token == ai_cache.UNREACHABLE:
        return _ai_settings_load()  # no generation to tell a stale snapshot by: read the rows every time
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


def prompts_unused_reason() -> str:
    """Why no prompt is used at all, or "" when one may be: the local provider writes no text and reads no prompt,
    so prompts take effect only through an enabled external provider the policy allows."""
    if not ProviderConfig.objects.filter(enabled=True).exists():
        return "no provider that writes text is set up"
    if not ai_policy_get().allow_external_providers:
        return "the AI policy allows no external provider"
    return ""


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


# --- Prompt editor, usage charts and run log pages ----------------------------------------------


def prompt_override_get(*, feature: str, version: int) -> PromptOverride:
    """Raises PromptOverride.DoesNotExist when the workspace has no such version."""
    return PromptOverride.objects.get(feature=feature, version=version)


def prompt_override_counts() -> dict[str, int]:
    """How many versions the workspace saved of each prompt (the prompt list shows it). One query."""
    rows = PromptOverride.objects.order_by().values("feature").annotate(saved=Count("id"))
    return {row["feature"]: row["saved"] for row in rows}


@dataclass(frozen=True)
class UsageSeries:
    """Runs per day and provider, cost per day, over the period of `ai_metrics`, for the usage charts.

    Days are calendar days in the workspace's time zone (settings.TIME_ZONE), every day present (zero if idle).
    """

    days: tuple[date, ...]
    providers: tuple[str, ...]  # most runs first; "" for runs no provider answered
    runs: dict[str, tuple[int, ...]]  # provider -> runs on each day
    cost_usd: tuple[Decimal, ...]  # all providers, each day
    fallback_runs: int
    answered_runs: int
    latency_avg_ms: float | None  # of the runs that produced an answer

    @property
    def total_runs(self) -> int:
        return sum(sum(counts) for counts in self.runs.values())


def ai_usage_series(*, days: int = 30, now: datetime | None = None) -> UsageSeries:
    """One aggregate query grouped by (local day, provider); average latency and fallbacks come with it."""
    days = max(1, int(days))
    zone = ZoneInfo(settings.TIME_ZONE)
    now = now or timezone.now()
    since = now - timedelta(days=days)
    rows = list(
        AIRun.objects.filter(created__gte=since)
        .order_by()
        .annotate(day=TruncDate("created", tzinfo=zone))
        .values("day", "provider")
        .annotate(
            runs=Count("id"),
            cost=Sum("cost_usd"),
            fallbacks=Count("id", filter=Q(status=AIRun.Status.FALLBACK)),
            answered=Count("id", filter=~_FAILED),
            latency=Sum("latency_ms", filter=~_FAILED),
        )
    )
    first, last = since.astimezone(zone).date(), now.astimezone(zone).date()
    day_list = tuple(first + timedelta(days=offset) for offset in range((last - first).days + 1))
    index = {day: position for position, day in enumerate(day_list)}
    runs: dict[str, list[int]] = {}
    cost = [Decimal("0")] * len(day_list)
    for row in rows:
        position = index.get(row["day"])
        if position is None:  # created in the future (clock skew): not part of the period
            continue
        runs.setdefault(row["provider"], [0] * len(day_list))[position] += row["runs"]
        cost[position] += row["cost"] or Decimal("0")
    providers = tuple(sorted(runs, key=lambda name: (-sum(runs[name]), name)))
    answered = sum(row["answered"] for row in rows)
    latency = sum(row["latency"] or 0 for row in rows)
    return UsageSeries(
        days=day_list,
        providers=providers,
        runs={name: tuple(runs[name]) for name in providers},
        cost_usd=tuple(cost),
        fallback_runs=sum(row["fallbacks"] for row in rows),
        answered_runs=answered,
        latency_avg_ms=latency / answered if answered else None,
    )


@dataclass(frozen=True)
class RunFilters:
    feature: str = ""
    provider: str = ""
    status: str = ""
    cached: bool | None = None

    @property
    def active(self) -> bool:
        return bool(self.feature or self.provider or self.status or self.cached is not None)


RUN_ORDER = KeysetOrder(("created", "id"), descending=True)


def ai_run_page(*, filters: RunFilters, cursor: str | None = None, page_size: int = 50) -> Page[AIRun]:
    """Newest first, keyset-paginated; the stored outputs stay in the database until a run is opened."""
    runs = AIRun.objects.select_related("user").defer("output_text", "output_data", "flags")
    if filters.feature:
        runs = runs.filter(feature=filters.feature)
    if filters.provider:
        runs = runs.filter(provider=filters.provider)
    if filters.status:
        runs = runs.filter(status=filters.status)
    if filters.cached is not None:
        runs = runs.filter(cached=filters.cached)
    return paginate(runs, order=RUN_ORDER, cursor=cursor, page_size=page_size, salt="ai.run_list")


def ai_run_features(*, days: int = 90) -> list[str]:
    """Features that ran lately, for the run log's filter (the index on created keeps it to the period)."""
    since = timezone.now() - timedelta(days=days)
    return list(
        AIRun.objects.filter(created__gte=since).order_by("feature").values_list("feature", flat=True).distinct()
    )


def ai_run_detail(*, run_id: int) -> AIRun:
    """The ledger row with its user, configuration and feedback. Raises AIRun.DoesNotExist if not in this workspace."""
    return (
        AIRun.objects.select_related("user", "provider_config")
        .prefetch_related(Prefetch("feedback", queryset=AIFeedback.objects.select_related("user")))
        .get(pk=run_id)
    )


# --- Settings page: feature routing and policy history ------------------------------------------

# Prompts the orchestrator uses itself, not features a workspace routes.
INTERNAL_PROMPTS = frozenset({"json_repair"})
FEATURE_DESCRIPTIONS = {"embed": "Turn texts into vectors for search and similar-ticket suggestions."}


@dataclass(frozen=True)
class FeatureInfo:
    """A feature the routing table offers: a facade operation, or a prompt that `generate()` fills."""

    name: str
    operation: str
    description: str
    local_first: bool  # without a route of its own it runs on the local provider only


def routable_features() -> list[FeatureInfo]:
    """Every feature of the facade, then every `generate()` prompt, then routes saved for anything else."""
    features: dict[str, FeatureInfo] = {}
    shipped = prompts.system_prompts()
    operation_prompts = {operation.prompt_key for operation in OPERATIONS.values()}
    for name, operation in OPERATIONS.items():
        if name != "generate":
            prompt = shipped.get(operation.prompt_key)
            description = prompt.description if prompt else FEATURE_DESCRIPTIONS.get(name, "")
            features[name] = FeatureInfo(name, name, description, operation.local_first)
    for key, template in sorted(shipped.items()):
        if key not in operation_prompts and key not in INTERNAL_PROMPTS:
            features[key] = FeatureInfo(key, "generate", template.description, OPERATIONS["generate"].local_first)
    for feature in FeatureRoute.objects.exclude(feature__in=features).values_list("feature", flat=True):
        features[feature] = FeatureInfo(feature, "", "", False)
    return list(features.values())


def ai_policy_history(*, limit: int = 20) -> QuerySet[AIPolicy]:
    return AIPolicy.objects.select_related("changed_by").order_by("-id")[:limit]
