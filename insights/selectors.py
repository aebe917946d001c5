"""Reads of insights' own tables for its pages: trends, and the dashboards a person may see or change."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.roles import user_can

from .dashboards import PRESETS, Layout, layout_of
from .models import Dashboard, Trend
from .trends import TrendImpact, trend_impacts

PAGE_SIZE = 20


def trend_list(*, kind: str = Trend.Kind.DEFECT, limit: int = PAGE_SIZE) -> list[tuple[Trend, TrendImpact]]:
    """The latest trends of one kind, spiking first, each with its support-to-revenue link (5 queries in all)."""
    rows = list(Trend.objects.filter(kind=kind).order_by("status", "-last_seen", "-id")[:limit])
    return list(zip(rows, trend_impacts(rows, ticket_limit=10), strict=True))


def dashboards_visible(*, user) -> QuerySet[Dashboard]:
    """The custom dashboards `user` sees: their own and the shared ones, by name."""
    return Dashboard.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner").order_by("name", "id")


def dashboards_editable(*, user) -> QuerySet[Dashboard]:
    """The custom dashboards `user` may change: their own, and the shared ones when they manage insights."""
    mine = Q(owner=user)
    if user_can(user, "insights.manage"):
        mine |= Q(shared=True)
    return Dashboard.objects.filter(mine)


def dashboard_layout(*, user, slug: str) -> Layout:
    """A preset by name, or a custom dashboard `user` may see by id (Dashboard.DoesNotExist otherwise)."""
    if slug in PRESETS:
        return PRESETS[slug]
    if not slug.isdigit():
        raise Dashboard.DoesNotExist(slug)
    return layout_of(dashboards_visible(user=user).prefetch_related("widgets").get(pk=int(slug)))


def can_edit(*, user, layout: Layout) -> bool:
    return layout.dashboard is not None and dashboards_editable(user=user).filter(pk=layout.dashboard.pk).exists()
