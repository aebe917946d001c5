"""Reads of the automation pages: rules with their run counts and last firing, a rule's runs, its versions."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet

from .models import Rule, RuleRun, RuleVersion
from .services import SNAPSHOT_FIELDS


def rule_list() -> QuerySet[Rule]:
    """Every rule in evaluation order with `runs_count` and `last_fired`: one query."""
    return Rule.objects.annotate(runs_count=Count("runs"), last_fired=Max("runs__created")).order_by("position", "id")


def rule_get(*, rule_id: int) -> Rule:
    return Rule.objects.get(pk=rule_id)


def rule_runs(*, rule: Rule, limit: int = 100) -> list[RuleRun]:
    return list(RuleRun.objects.filter(rule=rule).order_by("-created", "-id")[:limit])


def rule_versions(*, rule: Rule) -> list[dict[str, Any]]:
    """Versions newest first, each with the fields it changed against the one before (`diff`: [(field, old, new)])."""
    versions = list(RuleVersion.objects.filter(rule=rule).select_related("author").order_by("number"))
    shown = []
    previous: dict[str, Any] = {}
    for version in versions:
        diff = [
            (name, previous.get(name), version.snapshot.get(name))
            for name in SNAPSHOT_FIELDS
            if previous.get(name) != version.snapshot.get(name) and (previous or name in ("name", "trigger"))
        ]
        shown.append({"version": version, "diff": diff})
        previous = version.snapshot
    return list(reversed(shown))


def rule_version_get(*, version_id: int) -> RuleVersion:
    return RuleVersion.objects.select_related("rule").get(pk=version_id)
