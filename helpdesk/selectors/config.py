"""The helpdesk configuration every ticket write reads (its settings, the active SLA policies), from the
per-process copies of core.workspace_config: read-only objects shared by threads; edit forms read rows afresh.
(The default calendar's copy is in services.sla.calendars, which creates it on first use.)"""

from __future__ import annotations

from core.workspace_config import workspace_config_get, workspace_config_watch

from ..models import BusinessCalendar, BusinessHours, HelpdeskSettings, Holiday, SLAPolicy


def helpdesk_config_watch() -> None:
    """Called once at start-up (HelpdeskConfig.ready): any change to these rows renews every process's copies."""
    workspace_config_watch(HelpdeskSettings, SLAPolicy, BusinessCalendar, BusinessHours, Holiday)


def helpdesk_settings_get() -> HelpdeskSettings:
    return workspace_config_get("helpdesk:settings", HelpdeskSettings.current)


def sla_policies_active() -> tuple[SLAPolicy, ...]:
    """Active policies in matching order, each with its calendar."""
    return workspace_config_get(
        "helpdesk:sla-policies",
        lambda: tuple(SLAPolicy.objects.filter(active=True).select_related("calendar")),
    )
