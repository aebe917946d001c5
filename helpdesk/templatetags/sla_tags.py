"""SLA countdowns for templates: `{% sla_timers ticket as timers %}` reads only the ticket's own fields (no query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.utils import timezone

from .. import sla_risk
from ..models import Ticket

register = template.Library()

BADGE_CLASSES = {
    "ok": "text-bg-success",
    "warn": "text-bg-warning",
    "overdue": "text-bg-danger",
    "paused": "text-bg-secondary",
    "met": "text-bg-light border text-success",
    "missed": "text-bg-light border text-danger",
}


@dataclass(frozen=True)
class Timer:
    name: str  # first_response | next_response | resolution
    label: str
    due: datetime
    state: str  # ok | warn | overdue | paused (running clocks); met | missed (finished ones)
    seconds_left: int  # at render time (frozen at the pause point while paused)
    warn_at: datetime | None = None  # when a running clock turns amber; the page's script flips it then

    @property
    def running(self) -> bool:
        return self.state in {"ok", "warn", "overdue"}

    @property
    def badge_class(self) -> str:
        return BADGE_CLASSES[self.state]

    @property
    def text(self) -> str:
        if self.state == "met":
            return "Met"
        if self.state == "missed":
            return "Missed"
        left = _span(abs(self.seconds_left))
        if self.state == "paused":
            return f"Paused · {left} left" if self.seconds_left > 0 else f"Paused · {left} over"
        return f"{left} left" if self.seconds_left > 0 else f"{left} overdue"


def _span(seconds: int) -> str:
    """The same wording static/js/sla.js writes: 3d 4h, 2h 05m, 12m (never "0m")."""
    minutes = max(1, seconds // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def _outcome(name: str, label: str, due: datetime, met_at: datetime | None) -> Timer:
    state = "met" if met_at is not None and met_at <= due else "missed"
    return Timer(name=name, label=label, due=due, state=state, seconds_left=0)


def _running(ticket: Ticket, name: str, label: str, due: datetime, now: datetime) -> Timer:
    if ticket.sla_paused_at is not None:
        left = int((due - ticket.sla_paused_at).total_seconds())
        return Timer(name=name, label=label, due=due, state="paused", seconds_left=left)
    left = int((due - now).total_seconds())
    # Only the nearest due carries a warning point (Ticket.sla_warn_at): the others are further away.
    warn_at = ticket.sla_warn_at if ticket.sla_due_at == due else None
    state = "overdue" if left <= 0 else "warn" if warn_at is not None and now >= warn_at else "ok"
    return Timer(name=name, label=label, due=due, state=state, seconds_left=left, warn_at=warn_at)


@register.simple_tag
def sla_timers(ticket: Ticket, now: datetime | None = None) -> list[Timer]:
    """First response, next response and resolution, as far as the ticket has them."""
    now = now or timezone.now()
    done = ticket.status in Ticket.DONE_STATUSES
    timers = []
    if ticket.first_response_due:
        if ticket.first_responded_at is not None or done:
            timers.append(
                _outcome("first_response", "First response", ticket.first_response_due, ticket.first_responded_at)
            )
        else:
            timers.append(_running(ticket, "first_response", "First response", ticket.first_response_due, now))
    if ticket.next_response_due and not done:
        timers.append(_running(ticket, "next_response", "Next response", ticket.next_response_due, now))
    if ticket.resolution_due:
        if done:
            timers.append(_outcome("resolution", "Resolution", ticket.resolution_due, ticket.solved_at))
        else:
            timers.append(_running(ticket, "resolution", "Resolution", ticket.resolution_due, now))
    return timers


@register.filter
def business_minutes(minutes: float | int | None) -> str:
    """90 → "1h 30m", 2400 → "40h": a target or a measured time in business minutes."""
    if minutes is None or minutes == "":
        return "—"
    minutes = round(float(minutes))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h {rest:02d}m" if rest else f"{hours}h"


@register.filter
def times_in_ten(auc: float | None) -> str:
    """0.8 → "right 8 times in 10" (a risk model's AUC, said the way the settings page says it)."""
    return "" if auc is None else sla_risk.times_in_ten(auc)
