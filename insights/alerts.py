"""Alerts: a new spiking defect and a key account's health drop go to the chosen people, once per trend.

"Once" is the TrendAlert unique constraint (trend, kind): the row is written in the same transaction as the notice is
queued (sent on commit), so overlapping runs, retries and later spikes of the same trend never send it again.
Recipients: active people of INSIGHTS_ALERT_ROLES who hold `insights.view`; each hears through the notifications
service, on the channels they chose (the centre, email, push…), in the workspace's wording of the alert.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import facade as accounts
from core.emails import workspace_name
from core.links import workspace_url
from notifications import facade as notifications

from . import churn, trends
from .models import Trend, TrendAlert

logger = logging.getLogger(__name__)
DEFECT_EMAIL = "insights/email/trend_alert"
HEALTH_EMAIL = "insights/email/health_alert"
DEFECT_EVENT = "insights.trend_alert"
HEALTH_EVENT = "insights.health_alert"
EVENTS = {DEFECT_EMAIL: DEFECT_EVENT, HEALTH_EMAIL: HEALTH_EVENT}
HEALTH_MEMORY_DAYS = 30  # a key account whose drop was last seen longer ago than this starts a new episode


def alert_event_types_register() -> None:
    """Insights' event types (InsightsConfig.ready). `alert.details` is the figures, tickets and deals behind the
    alert, written by the product (not by the workspace), so a workspace's wording can keep or drop it."""
    notifications.event_type_register(
        notifications.EventType(
            DEFECT_EVENT,
            "Recurring problem spiking",
            "A cluster of similar tickets is spiking, with the companies, leads and quotes it touches.",
            default_channels=(notifications.IN_APP, notifications.EMAIL),
            sample_context={
                "trend": {"name": "CSV export times out", "recent": "9", "expected": "0.4"},
                "alert": {"details": "9 tickets in the last day, against 0.4 expected…"},
            },
            title="Recurring problem: {{ trend.name }} ({{ trend.recent }} tickets in a day)",
            body="{{ alert.details }}",
        )
    )
    notifications.event_type_register(
        notifications.EventType(
            HEALTH_EVENT,
            "Key account's health dropped",
            "A key account's health score fell sharply.",
            default_channels=(notifications.IN_APP, notifications.EMAIL),
            sample_context={
                "customer": {"name": "Initech", "tier": "Enterprise"},
                "health": {"was": "82", "now": "51"},
                "alert": {"details": "A key account's health dropped…"},
            },
            title="{{ customer.name }}: health fell from {{ health.was }} to {{ health.now }}",
            body="{{ alert.details }}",
        )
    )


def alert_recipients() -> list[str]:
    return [email for _pk, _name, email in _recipients()]


def _recipients() -> list[tuple[int, str, str]]:
    return accounts.capability_contacts("insights.view", roles=settings.INSIGHTS_ALERT_ROLES)


def trend_alert_send(trend: Trend, *, context: dict, template: str, fields: dict | None = None) -> bool:
    """Notifies the trend's alert unless it went out before; True when it is queued now. `fields` are the plain
    values the alert's templates may use; `context` renders its details (the product's own template)."""
    people = _recipients()
    if not people or TrendAlert.objects.filter(trend=trend, kind=trend.kind).exists():
        return False
    details = render_to_string(f"{template}_message.txt", context).strip()
    try:
        with transaction.atomic():
            TrendAlert.objects.create(trend=trend, kind=trend.kind, recipients=[email for _pk, _name, email in people])
            Trend.objects.filter(pk=trend.pk).update(last_alerted=timezone.now())
            notifications.notify(
                recipients=[pk for pk, _name, _email in people],
                event=EVENTS[template],
                context={**(fields or {}), "alert": {"details": details}},
                link=context.get("path", ""),
                dedupe_key=f"insights:{trend.kind}:{trend.pk}",
            )
    except IntegrityError:  # another run alerted it between the check and the insert
        return False
    return True


def defect_alerts_send(run: trends.DefectRun) -> int:
    """The alert of each spiking defect trend that has none yet (new ones, or ones that had no recipient then)."""
    sent = 0
    for trend in run.spiking:
        path = reverse("insights:trend_list")
        context = {
            "trend": trend,
            "impact": trends.trend_impact(trend, ticket_limit=10),
            "url": workspace_url(path),
            "path": path,
            "workspace_name": workspace_name(),
        }
        figures = trend.figures or {}
        fields = {
            "trend": {
                "name": trend.name,
                "recent": str(figures.get("recent", "")),
                "expected": str(figures.get("expected", "")),
            }
        }
        sent += trend_alert_send(trend, context=context, template=DEFECT_EMAIL, fields=fields)
    return sent


def health_alerts_send(*, now: datetime | None = None) -> int:
    """A Trend (kind health_drop, key = the company) per key account whose health dropped, alerted once."""
    now = now or timezone.now()
    sent = 0
    for signal in churn.health_drop_signals(now=now, min_drop=settings.INSIGHTS_HEALTH_DROP_POINTS):
        if not signal.is_key_account:
            continue
        trend = _health_trend(signal, now)
        context = {"signal": signal, "trend": trend, "workspace_name": workspace_name()}
        context["path"] = reverse("customers:customer_detail", args=[signal.customer.id])
        context["url"] = workspace_url(context["path"])
        fields = {
            "customer": {"name": signal.customer.name, "tier": str(signal.customer.tier)},
            "health": {"was": str(signal.was), "now": str(signal.now)},
        }
        sent += trend_alert_send(trend, context=context, template=HEALTH_EMAIL, fields=fields)
    return sent


def _health_trend(signal: churn.ChurnSignal, now: datetime) -> Trend:
    figures = {"was": signal.was, "now": signal.now, "at": now.isoformat()}
    recent = now - timedelta(days=HEALTH_MEMORY_DAYS)
    trend = Trend.objects.filter(
        kind=Trend.Kind.HEALTH_DROP, key=str(signal.customer.id), last_seen__gte=recent
    ).first()
    if trend is None:
        trend = Trend(kind=Trend.Kind.HEALTH_DROP, key=str(signal.customer.id), first_seen=now)
        trend.name = f"{signal.customer.name}: health {signal.was} → {signal.now}"[:200]
        trend.customer_ids = [signal.customer.id]
    trend.figures, trend.last_seen, trend.status = figures, now, Trend.Status.SPIKING
    trend.save()
    return trend
