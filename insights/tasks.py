"""Celery entry points of insights: rollup upkeep per event (queued on commit by insights.receivers), the nightly
rollup repair, trend detection with its alerts (hourly), the weekly trend report and the scheduled dashboard reports
(every 15 minutes, those due). Beat runs the fan-outs in the public schema; they queue one copy per workspace
(tenants.services)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import alerts, live, report, report_email, services, trends


@shared_task
def trends_detect_task() -> dict:
    """Embeds the window's new tickets, detects spiking defects, alerts new ones and key accounts' health drops."""
    embedded = trends.ticket_topics_index()
    run = trends.recurring_defects_detect()
    return {
        "embedded": embedded,
        "spiking": len(run.spiking),
        "defect_alerts": alerts.defect_alerts_send(run),
        "health_alerts": alerts.health_alerts_send(),
    }


@shared_task
def trends_detect_fanout_task() -> int:
    return tenants_fan_out(trends_detect_task)


@shared_task
def trend_report_send_task() -> int:
    return report.trend_report_send()


@shared_task
def trend_report_send_fanout_task() -> int:
    return tenants_fan_out(trend_report_send_task)


@shared_task
def rollups_refresh_task(kind: str, ids: list[int]) -> int:
    changed = services.rollups_refresh(kind=kind, ids=ids)
    live.dashboards_changed(lambda delay: dashboards_live_push_task.apply_async(countdown=delay))
    return changed


@shared_task
def dashboards_live_push_task() -> bool:
    return live.dashboards_push()


@shared_task
def rollups_repair_task(days: int = services.REPAIR_DAYS) -> int:
    return services.rollups_repair_recent(days=days).sources


@shared_task
def rollups_repair_fanout_task() -> int:
    return tenants_fan_out(rollups_repair_task)


@shared_task
def report_schedules_send_task() -> int:
    """The scheduled dashboard reports of this workspace that are due (insights/report_email.py)."""
    return report_email.report_schedules_send_due()


@shared_task
def report_schedules_send_fanout_task() -> int:
    return tenants_fan_out(report_schedules_send_task)


@shared_task
def report_schedule_send_now_task(schedule_id: int, user_id: int | None = None) -> int:
    """Send now, from the schedules page: to `user_id`, or to the schedule's recipients."""
    return report_email.report_schedule_send_now(schedule_id=schedule_id, user_id=user_id)
