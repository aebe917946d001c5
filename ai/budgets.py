"""Monthly spend per provider configuration, and telling the workspace once when a budget runs out.

The month's spend is summed from the ledger once, then kept as a counter in the (schema-prefixed) cache and
increased by every recorded run, so checking a budget on each call costs one cache read, not a SUM query.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from core.outbox import enqueue_on_commit

from . import kv
from .models import AIRun, ProviderConfig
from .selectors import ProviderEntry

SPEND_KEY = "ai:spend:{config_id}:{month}"
TOLD_KEY = "ai:budget-told:{config_id}:{month}"
MICRO = Decimal("1000000")
SPEND_TTL = 40 * 24 * 3600

logger = logging.getLogger(__name__)


def month_label(now: datetime | None = None) -> str:
    return (now or timezone.now()).strftime("%Y-%m")


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent_usd(config_id: int, now: datetime | None = None) -> Decimal:
    now = now or timezone.now()
    key = SPEND_KEY.format(config_id=config_id, month=month_label(now))
    micro = kv.get(key)
    if micro is None:
        total = AIRun.objects.filter(provider_config_id=config_id, created__gte=_month_start(now)).aggregate(
            total=Sum("cost_usd")
        )["total"] or Decimal("0")
        micro = int(total * MICRO)
        kv.add(key, micro, timeout=SPEND_TTL)
    return Decimal(micro) / MICRO


def spend_add(config_id: int, cost: Decimal, now: datetime | None = None) -> None:
    if cost <= 0:
        return
    key = SPEND_KEY.format(config_id=config_id, month=month_label(now))
    kv.incr(key, int(cost * MICRO))


def is_exhausted(entry: ProviderEntry, now: datetime | None = None) -> bool:
    if entry.monthly_budget_usd is None:
        return False
    return spent_usd(entry.id, now) >= entry.monthly_budget_usd


def report_exhausted(entry: ProviderEntry, now: datetime | None = None) -> bool:
    """Marks the configuration's budget as spent for this month and logs it, once; True the first time.

    The mark (`budget_exhausted_month`) is what the settings page shows administrators; it is written with
    update(), so it does not invalidate the workspace's AI cache. The owners and admins also get an email.
    """
    month = month_label(now)
    # The cache answers "already told" cheaply; without it the conditional update below still tells only once.
    if kv.add(TOLD_KEY.format(config_id=entry.id, month=month), True, timeout=SPEND_TTL) is False:
        return False
    updated = ProviderConfig.objects.filter(pk=entry.id).exclude(budget_exhausted_month=month)
    if not updated.update(budget_exhausted_month=month):
        return False
    from .tasks import ai_budget_exhausted_notify_task  # the task module imports the facade, which imports us

    enqueue_on_commit(ai_budget_exhausted_notify_task, entry.id, month)
    logger.warning(
        "AI budget of %s (%s) is spent for %s (limit %s USD): its runs go to the next provider until next month",
        entry.label,
        entry.provider,
        month,
        entry.monthly_budget_usd,
    )
    return True
