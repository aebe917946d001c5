"""Alert emails: a new spiking defect and a key account's health drop go to the chosen people, once per trend.

"Once" is the TrendAlert unique constraint (trend, kind): the row is written in the same transaction as the email is
queued (sent on commit), so overlapping runs, retries and later spikes of the same trend never send it again.
Recipients, for now: active people of INSIGHTS_ALERT_ROLES who hold `insights.view` (a notification service with
per-person choices replaces this when the automation issue lands).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import facade as accounts
from core.emails import templated_email_send, workspace_name
from core.links import workspace_url

from . import churn, trends
from .models import Trend, TrendAlert

logger = logging.getLogger(__name__)
DEFECT_EMAIL = "insights/email/trend_alert"
HEALTH_EMAIL = "insights/email/health_alert"
HEALTH_MEMORY_DAYS = 30  # a key account whose drop was last seen longer ago than this starts a new episode


def alert_recipients() -> list[str]:
    return accounts.capability_emails("insights.view", roles=settings.INSIGHTS_ALERT_ROLES)


def trend_alert_send(trend: Trend, *, context: dict, template: str) -> bool:
    """Emails the trend's alert unless it went out before; True when it is sent now."""
    recipients = alert_recipients()
    if not recipients or TrendAlert.objects.filter(trend=trend, kind=trend.kind).exists():
        return False
    try:
        with transaction.atomic():
            TrendAlert.objects.create(trend=trend, kind=trend.kind, recipients=recipients)
            Trend.objects.filter(pk=trend.pk).update(last_alerted=timezone.now())
            transaction.on_commit(lambda: _send(template, recipients, context))
    except IntegrityError:  # another run alerted it between the check and the insert
        return False
    return True


def _send(template: str, recipients: list[str], context: dict) -> None:
    for address in recipients:
        try:
            templated_email_send(template, address, context)
        except Exception:
            logger.exception("could not send the insights alert %s to %s", template, address)


def defect_alerts_send(run: trends.DefectRun) -> int:
    """The alert of each spiking defect trend that has none yet (new ones, or ones that had no recipient then)."""
    sent = 0
    for trend in run.spiking:
        context = {
            "trend": trend,
            "impact": trends.trend_impact(trend, ticket_limit=10),
            "url": workspace_url(reverse("insights:trend_list")),
            "workspace_name": workspace_name(),
        }
        sent += trend_alert_send(trend, context=context, template=DEFECT_EMAIL)
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
        context["url"] = workspace_url(reverse("customers:customer_detail", args=[signal.customer.id]))
        sent += trend_alert_send(trend, context=context, template=HEALTH_EMAIL)
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
