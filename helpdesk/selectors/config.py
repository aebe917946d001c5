"""The helpdesk configuration every ticket write reads (its settings, the active SLA policies, the default business
calendar), from one per-process copy of core.workspace_config: one cache read per use instead of three queries.
Read-only objects shared by threads; edit forms read rows afresh."""

from __future__ import annotations

from dataclasses import dataclass

from core.workspace_config import workspace_config_get, workspace_config_watch

from ..models import BusinessCalendar, BusinessHours, HelpdeskSettings, Holiday, SLAPolicy


@dataclass(frozen=True)
class HelpdeskConfig:
    settings: HelpdeskSettings
    sla_policies: tuple[SLAPolicy, ...]  # active ones in matching order, each with its calendar
    default_calendar: BusinessCalendar | None  # None until its first use creates it (services.sla.calendars)


def helpdesk_config_watch() -> None:
    """Called once at start-up (HelpdeskConfig.ready): any change to these rows renews every process's copies."""
    workspace_config_watch(HelpdeskSettings, SLAPolicy, BusinessCalendar, BusinessHours, Holiday)


def helpdesk_config_get() -> HelpdeskConfig:
    return workspace_config_get("helpdesk:config", _helpdesk_config_load)


def helpdesk_settings_get() -> HelpdeskSettings:
    return helpdesk_config_get().settings


def sla_policies_active() -> tuple[SLAPolicy, ...]:
    return helpdesk_config_get().sla_policies


def _helpdesk_config_load() -> HelpdeskConfig:
    return HelpdeskConfig(
        settings=HelpdeskSettings.current(),
        sla_policies=tuple(SLAPolicy.objects.filter(active=True).select_related("calendar")),
        default_calendar=BusinessCalendar.objects.filter(is_default=True).first(),
    )
