"""SLA clocks of tickets: which policy applies, due times in business hours, pauses, warnings, breaches, risk.

`ticket_sla_refresh` is called by every ticket write that can move a clock (helpdesk/services/tickets.py), inside
the writing transaction; it saves only SLA fields and does not bump `Ticket.version` (an agent's open editor is
not made stale by a clock). `sla_sweep` runs every minute (helpdesk/tasks/sla.py) and sends the near-breach
warnings and breach escalations, each exactly once (the `sla_warned` / `sla_breached` flags, rows locked with
SKIP LOCKED so overlapping sweeps never handle the same ticket).

Clock rules:
- First response: from creation, until the first public agent reply. Resolution: from creation until solved.
  Next response: from the oldest customer message the agents have not answered yet, until the next agent reply.
- Pending / on hold pause every clock; on resume the open due times move by the paused business time
  (`sla_paused_minutes` adds it up, so dues are `created + target + paused` and can always be recomputed).
- Solved / closed stop the clocks and record how many business minutes each target took. The clock stays
  stopped while solved, so a reopened ticket resumes where it stopped.
- A target met late, found when it is met (between two sweeps), is recorded as a breach without escalation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.links import workspace_url
from core.realtime import notify_on_commit, user_group

from .. import sla_risk
from ..business_hours import DEFAULT_HOURS, CompiledCalendar, calendar_compiled
from ..models import (
    BusinessCalendar,
    BusinessHours,
    SLAPolicy,
    SLARiskModel,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from ..selectors import sla as sla_selectors
from ..sla_risk import SLARisk

logger = logging.getLogger(__name__)

__all__ = [
    "SLARisk",
    "assess_sla_risk",
    "business_calendar_default",
    "sla_policy_for",
    "sla_risk_model_train",
    "sla_risk_refresh_open",
    "sla_sweep",
    "ticket_sla_refresh",
]

DEFAULT_CALENDAR_NAME = "Standard business hours"
RUNNING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN)
TARGET_LABELS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}
SLA_FIELDS = (
    "sla_policy",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_paused_at",
    "sla_paused_minutes",
    "sla_due_at",
    "sla_warn_at",
    "sla_warned",
    "sla_breached",
    "sla_first_response_minutes",
    "sla_resolution_minutes",
)
SWEEP_BATCH = 200
SWEEP_MAX_BATCHES = 25
MODELS_KEPT = 5


# --- Calendars and policies -----------------------------------------------------------------------


def business_calendar_default() -> BusinessCalendar:
    """The workspace's default calendar; a first use creates Mon–Fri 09:00–17:00 in settings.TIME_ZONE."""
    calendar = BusinessCalendar.objects.filter(is_default=True).first()
    if calendar is not None:
        return calendar
    try:
        with transaction.atomic():
            calendar, created = BusinessCalendar.objects.get_or_create(
                name=DEFAULT_CALENDAR_NAME, defaults={"timezone": settings.TIME_ZONE, "is_default": True}
            )
            if created:
                BusinessHours.objects.bulk_create(
                    BusinessHours(calendar=calendar, weekday=weekday, opens=opens, closes=closes)
                    for weekday, opens, closes in DEFAULT_HOURS
                )
            elif not calendar.is_default:
                calendar.is_default = True
                calendar.save(update_fields=["is_default", "updated"])
            return calendar
    except IntegrityError:
        # Another request created it at the same moment.
        return BusinessCalendar.objects.get(is_default=True)


def sla_calendar_for(policy: SLAPolicy | None, ticket: Ticket | None = None) -> CompiledCalendar:
    """The policy's calendar, else the ticket's team's, else the workspace default."""
    calendar = policy.calendar if policy is not None else None
    if calendar is None and ticket is not None and ticket.team_id:
        calendar = ticket.team.calendar
    return calendar_compiled(calendar or business_calendar_default())


def sla_policy_for(ticket: Ticket, policies: list[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy (by position) whose priority, customer tier and channel all match the ticket."""
    if policies is None:
        policies = list(SLAPolicy.objects.filter(active=True).select_related("calendar"))
    # The customer is read only when some policy asks for a tier (one query fewer on every ticket write).
    tiered = any(policy.customer_tier for policy in policies)
    tier = ticket.customer.tier if tiered and ticket.customer_id else ""
    for policy in policies:
        if not policy.active:
            continue
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.customer_tier and policy.customer_tier != tier:
            continue
        if policy.channel and policy.channel != ticket.channel:
            continue
        return policy
    return None


# --- Refresh ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One running clock of a ticket."""

    name: str  # first_response | next_response | resolution
    due: datetime
    minutes: float  # the policy's target

    @property
    def label(self) -> str:
        return TARGET_LABELS[self.name]


def ticket_sla_refresh(ticket: Ticket, *, now: datetime | None = None, save: bool = True) -> None:
    """Brings the ticket's SLA fields up to date after a change (policy, clocks, pause, outcomes) and saves them
    (`save=False`: a ticket about to be inserted, whose clocks go in with it)."""
    now = now or timezone.now()
    before = {field: getattr(ticket, Ticket._meta.get_field(field).attname) for field in SLA_FIELDS}
    policy = None if ticket.status in Ticket.DONE_STATUSES else sla_policy_for(ticket)
    if ticket.status in Ticket.DONE_STATUSES:
        _stop(ticket, now)
    elif policy is None:
        _clear(ticket)
    else:
        _run(ticket, policy, now)
    _record_late_outcomes(ticket, now)
    changed = [field for field, old in before.items() if getattr(ticket, Ticket._meta.get_field(field).attname) != old]
    if changed and save:
        ticket.save(update_fields=changed)


def _clear(ticket: Ticket) -> None:
    """No policy covers the ticket (any more): no clocks."""
    ticket.sla_policy = None
    ticket.first_response_due = ticket.next_response_due = ticket.resolution_due = None
    ticket.sla_due_at = ticket.sla_warn_at = ticket.sla_paused_at = None


def _run(ticket: Ticket, policy: SLAPolicy, now: datetime) -> None:
    calendar = sla_calendar_for(policy, ticket)
    policy_changed = ticket.sla_policy_id != policy.pk
    ticket.sla_policy = policy
    paused = ticket.status in Ticket.PAUSED_STATUSES
    if paused and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif not paused and ticket.sla_paused_at is not None:
        _resume(ticket, calendar, now, policy_changed=policy_changed)
    ticket.sla_resolution_minutes = None
    held = ticket.sla_paused_minutes
    if ticket.first_responded_at is None:
        ticket.first_response_due = calendar.add(ticket.created, policy.first_response_minutes + held)
    elif ticket.first_response_due is None or policy_changed:
        # Answered: the due time is history now, and later pauses do not move it.
        ticket.first_response_due = calendar.add(ticket.created, policy.first_response_minutes)
    ticket.resolution_due = calendar.add(ticket.created, policy.resolution_minutes + held)
    _set_next_response_due(ticket, policy, calendar, policy_changed=policy_changed)
    _set_warning_point(ticket, policy, calendar, now)


def _resume(ticket: Ticket, calendar: CompiledCalendar, now: datetime, *, policy_changed: bool) -> None:
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_minutes += max(0.0, calendar.between(paused_at, now))
    if ticket.next_response_due is not None and not policy_changed:
        since = _oldest_unanswered(ticket)
        ticket.next_response_due = calendar.add(ticket.next_response_due, calendar.between(max(paused_at, since), now))
    ticket.sla_paused_at = None


def _awaiting_reply(ticket: Ticket) -> bool:
    """The customer wrote after the agents' first reply and nobody answered since."""
    if ticket.first_responded_at is None or ticket.last_customer_message_at is None:
        return False
    return ticket.last_agent_message_at is None or ticket.last_agent_message_at < ticket.last_customer_message_at


def _oldest_unanswered(ticket: Ticket) -> datetime:
    """When the customer's oldest message after the last agent reply was written (the next-response clock's start)."""
    messages = TicketMessage.objects.filter(ticket=ticket, author_contact__isnull=False, author__isnull=True)
    if ticket.last_agent_message_at is not None:
        messages = messages.filter(created__gt=ticket.last_agent_message_at)
    oldest = messages.aggregate(oldest=Min("created"))["oldest"]
    return oldest or ticket.last_customer_message_at or ticket.created


def _set_next_response_due(ticket: Ticket, policy: SLAPolicy, calendar: CompiledCalendar, *, policy_changed: bool):
    if not policy.next_response_minutes or not _awaiting_reply(ticket):
        ticket.next_response_due = None
    elif ticket.next_response_due is None or policy_changed:
        ticket.next_response_due = calendar.add(_oldest_unanswered(ticket), policy.next_response_minutes)


def open_targets(ticket: Ticket, policy: SLAPolicy) -> list[Target]:
    """The clocks still running (not met yet), nearest due first."""
    targets = []
    if ticket.first_responded_at is None and ticket.first_response_due:
        targets.append(Target("first_response", ticket.first_response_due, policy.first_response_minutes))
    if ticket.next_response_due and policy.next_response_minutes:
        targets.append(Target("next_response", ticket.next_response_due, policy.next_response_minutes))
    if ticket.resolution_due:
        targets.append(Target("resolution", ticket.resolution_due, policy.resolution_minutes))
    return sorted(targets, key=lambda target: target.due)


def _set_warning_point(ticket: Ticket, policy: SLAPolicy, calendar: CompiledCalendar, now: datetime) -> None:
    """The nearest due and the moment `warn_at_percent` of its target has elapsed; a new clock re-arms the warning."""
    targets = open_targets(ticket, policy)
    if not targets:
        ticket.sla_due_at = ticket.sla_warn_at = None
        return
    nearest = targets[0]
    ticket.sla_due_at = nearest.due
    ticket.sla_warn_at = calendar.add(nearest.due, -nearest.minutes * (100 - policy.warn_at_percent) / 100)
    if ticket.sla_warned and ticket.sla_warn_at > now:
        ticket.sla_warned = False


def _stop(ticket: Ticket, now: datetime) -> None:
    """Solved or closed: clocks stop (the pause point stays, so a reopen resumes from here); outcomes recorded."""
    policy = ticket.sla_policy
    ticket.next_response_due = ticket.sla_due_at = ticket.sla_warn_at = None
    if policy is None:
        ticket.sla_paused_at = None
        return
    calendar = sla_calendar_for(policy, ticket)
    stopped_at = ticket.solved_at or now
    if ticket.sla_paused_at is not None and ticket.sla_paused_at < stopped_at:
        ticket.sla_paused_minutes += max(0.0, calendar.between(ticket.sla_paused_at, stopped_at))
    ticket.sla_paused_at = stopped_at
    worked = calendar.between(ticket.created, stopped_at) - ticket.sla_paused_minutes
    ticket.sla_resolution_minutes = round(max(0.0, worked), 2)


def _record_late_outcomes(ticket: Ticket, now: datetime) -> None:
    """A target met after its due time, before a sweep noticed: a breach, recorded once, without escalation."""
    if ticket.sla_policy_id is None:
        return
    if ticket.first_responded_at and ticket.sla_first_response_minutes is None:
        calendar = sla_calendar_for(ticket.sla_policy, ticket)
        worked = calendar.between(ticket.created, ticket.first_responded_at) - ticket.sla_paused_minutes
        ticket.sla_first_response_minutes = round(max(0.0, worked), 2)
    if ticket.sla_breached:
        return
    late = None
    done = ticket.status in Ticket.DONE_STATUSES
    first_due, responded = ticket.first_response_due, ticket.first_responded_at
    if first_due and responded and responded > first_due:
        late = ("first_response", first_due, responded)
    elif done and ticket.resolution_due and ticket.solved_at and ticket.solved_at > ticket.resolution_due:
        late = ("resolution", ticket.resolution_due, ticket.solved_at)
    if late:
        name, due, met = late
        ticket.sla_breached = True
        _event(ticket, TicketEvent.Kind.SLA_BREACHED, target=name, due=due.isoformat(), met=met.isoformat(), late=True)


def _event(ticket: Ticket, kind: str, **data: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=None, data=data)


# --- The sweep: warnings and breaches -------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    warned: int
    breached: int


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Warns about tickets past their warning point and escalates those past a due time. Safe to overlap."""
    now = now or timezone.now()
    warned = _sweep(now, _warn_batch)
    breached = _sweep(now, _breach_batch)
    return SweepResult(warned=warned, breached=breached)


def _sweep(now: datetime, batch) -> int:
    total = 0
    for _ in range(SWEEP_MAX_BATCHES):
        with transaction.atomic():
            handled = batch(now)
        total += handled
        if handled < SWEEP_BATCH:
            break
    return total


def _locked(queryset) -> list[Ticket]:
    queryset = queryset.select_related("sla_policy", "assignee", "team__lead")
    return list(queryset.select_for_update(skip_locked=True, of=("self",))[:SWEEP_BATCH])


def _warn_batch(now: datetime) -> int:
    tickets = _locked(
        Ticket.objects.filter(
            status__in=RUNNING_STATUSES, sla_warned=False, sla_warn_at__lte=now, sla_due_at__gt=now
        ).order_by("sla_warn_at")
    )
    for ticket in tickets:
        target = _nearest_target(ticket)
        ticket.sla_warned = True
        ticket.save(update_fields=["sla_warned"])
        _event(ticket, TicketEvent.Kind.SLA_WARNING, target=target.name, due=target.due.isoformat())
        _escalation_notify(ticket, target, breached=False, now=now)
    return len(tickets)


def _breach_batch(now: datetime) -> int:
    tickets = _locked(
        Ticket.objects.filter(status__in=RUNNING_STATUSES, sla_breached=False, sla_due_at__lte=now).order_by(
            "sla_due_at"
        )
    )
    for ticket in tickets:
        target = _nearest_target(ticket)
        ticket.sla_breached = ticket.sla_warned = True
        ticket.save(update_fields=["sla_breached", "sla_warned"])
        _event(ticket, TicketEvent.Kind.SLA_BREACHED, target=target.name, due=target.due.isoformat())
        escalation_team = ticket.sla_policy.breach_reassign_team if ticket.sla_policy is not None else None
        _escalation_notify(ticket, target, breached=True, now=now, handed_to=escalation_team)
        if escalation_team is not None:
            _breach_reassign(ticket, target)
    return len(tickets)


def _nearest_target(ticket: Ticket) -> Target:
    if ticket.sla_policy is not None:
        targets = open_targets(ticket, ticket.sla_policy)
        if targets:
            return targets[0]
    return Target("resolution", ticket.sla_due_at, 0)


def _breach_reassign(ticket: Ticket, target: Target) -> None:
    """Hands the ticket to the policy's escalation team; an assignee outside that team lets go of it."""
    from . import assignment
    from . import tickets as ticket_services  # tickets.py calls back into this module

    team = ticket.sla_policy.breach_reassign_team
    if ticket.team_id == team.pk:
        return
    keeps = ticket.assignee_id is not None and team.members.filter(pk=ticket.assignee_id).exists()
    reason = f"SLA {target.label} breached: policy “{ticket.sla_policy.name}” hands it to {team.name}."
    ticket = ticket_services.ticket_assign(
        ticket=ticket, assignee=ticket.assignee if keeps else None, team=team, actor=None, reason=reason
    )
    if not keeps:
        assignment.auto_assign_ticket(ticket)


# --- Notifications ------------------------------------------------------------------------------


def _recipients(ticket: Ticket, handed_to=None) -> list:
    people = [ticket.assignee, ticket.team.lead if ticket.team_id else None, getattr(handed_to, "lead", None)]
    unique = {person.pk: person for person in people if person is not None and person.is_active}
    return list(unique.values())


def _escalation_notify(ticket: Ticket, target: Target, *, breached: bool, now: datetime, handed_to=None) -> None:
    """A toast on the assignee's and team lead's open pages, and an email to each, after commit."""
    recipients = _recipients(ticket, handed_to)
    if not recipients:
        return
    if breached:
        text = format_html("SLA breached on #{}: {} ({} was due)", ticket.pk, ticket.subject, target.label)
    else:
        minutes = max(1, round((target.due - now).total_seconds() / 60))
        text = format_html(
            "SLA at risk on #{}: {} ({} due in {} min)", ticket.pk, ticket.subject, target.label, minutes
        )
    toast = render_to_string("components/toast.html", {"text": text, "level": "danger" if breached else "warning"})
    for person in recipients:
        notify_on_commit(user_group(person.pk), f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>')
    # Plain values, read now: the email renders after commit, when a breach may have moved the ticket on.
    context = {
        "ticket_number": ticket.pk,
        "subject": ticket.subject,
        "priority": ticket.get_priority_display(),
        "policy": ticket.sla_policy.name if ticket.sla_policy else "",
        "assignee": ticket.assignee.get_full_name() if ticket.assignee else "",
        "team": ticket.team.name if ticket.team_id else "",
        "handed_to": handed_to.name if handed_to is not None else "",
        "target": target.label,
        "due": target.due,
        "url": _ticket_url(ticket),
        "workspace": getattr(getattr(connection, "tenant", None), "name", "Switchboard"),
    }
    prefix = "helpdesk/email/sla_breached" if breached else "helpdesk/email/sla_warning"
    addresses = [person.email for person in recipients]
    transaction.on_commit(lambda: _email_send(prefix, addresses, context))


def _email_send(prefix: str, addresses: list[str], context: dict[str, Any]) -> None:
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    body = render_to_string(f"{prefix}_message.txt", context)
    try:
        EmailMessage(subject, body, to=addresses).send()
    except Exception:  # a mail server hiccup must not undo the sweep; the toast and the event went out
        logger.exception("could not email the SLA notice for ticket #%s", context["ticket_number"])


def _ticket_url(ticket: Ticket) -> str:
    try:
        path = reverse("tickets:ticket_detail", kwargs={"ticket_id": ticket.pk})
    except NoReverseMatch:
        return ""
    return workspace_url(path)


# --- Breach risk --------------------------------------------------------------------------------


def assess_sla_risk(ticket: Ticket, *, now: datetime | None = None) -> SLARisk:
    """The ticket's predicted breach probability with the reasons, stored in `ticket.breach_risk`.

    The workspace's learned model when it has one, else the transparent heuristic (helpdesk/sla_risk.py).
    """
    now = now or timezone.now()
    context = sla_selectors.risk_context(tickets=[ticket])
    risk = sla_risk.assess(_risk_inputs(ticket, context, now), model=context.model)
    if ticket.breach_risk != risk.probability:
        ticket.breach_risk = risk.probability
        Ticket.objects.filter(pk=ticket.pk).update(breach_risk=risk.probability)
    return risk


def sla_risk_refresh_open(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Re-assesses every open ticket (the queue changed around them); a few queries per chunk of tickets."""
    now = now or timezone.now()
    updated = 0
    last_id = 0
    while True:
        tickets = list(
            Ticket.objects.open()
            .filter(pk__gt=last_id)
            .select_related("sla_policy__calendar", "customer", "team__calendar")
            .order_by("pk")[:chunk]
        )
        if not tickets:
            return updated
        context = sla_selectors.risk_context(tickets=tickets)
        changed = []
        for ticket in tickets:
            probability = sla_risk.assess(_risk_inputs(ticket, context, now), model=context.model).probability
            if ticket.breach_risk != probability:
                ticket.breach_risk = probability
                changed.append(ticket)
        Ticket.objects.bulk_update(changed, ["breach_risk"], batch_size=500)
        updated += len(changed)
        last_id = tickets[-1].pk


def _risk_inputs(ticket: Ticket, context: sla_selectors.RiskContext, now: datetime) -> sla_risk.RiskInputs:
    policy = ticket.sla_policy
    targets = open_targets(ticket, policy) if policy is not None and ticket.is_open else []
    profile = context.profiles.get(ticket.assignee_id) if ticket.assignee_id else None
    common = {
        "priority": ticket.priority,
        "sentiment": ticket.sentiment,
        "tier": ticket.customer.tier if ticket.customer_id else "",
        "reopened": context.reopened.get(ticket.pk, 0),
        "assigned": ticket.assignee_id is not None,
        "assignee_open": context.assignee_open.get(ticket.assignee_id, 0) if ticket.assignee_id else 0,
        "assignee_capacity": profile.max_open_tickets if profile else 25,
        "assignee_availability": profile.availability if profile else ("available" if ticket.assignee_id else ""),
        "team_open": context.team_open.get(ticket.team_id, 0) if ticket.team_id else 0,
        "team_size": context.team_size.get(ticket.team_id, 0) if ticket.team_id else 0,
    }
    if not targets:
        return sla_risk.RiskInputs(target=None, **common)
    calendar = sla_calendar_for(policy, ticket)
    nearest = targets[0]
    clock_at = ticket.sla_paused_at or now
    elapsed = calendar.between(ticket.created, clock_at) - ticket.sla_paused_minutes
    return sla_risk.RiskInputs(
        target=nearest.name,
        minutes_left=calendar.between(clock_at, nearest.due),
        target_minutes=float(nearest.minutes),
        elapsed_minutes=max(0.0, elapsed),
        typical_minutes=context.typical(nearest.name, ticket.priority, ticket.category_id),
        **common,
    )


# --- Learning the risk model --------------------------------------------------------------------


def sla_risk_model_train(*, min_samples: int = sla_risk.MIN_TRAINING_TICKETS) -> SLARiskModel | None:
    """Fits the workspace's breach-risk model on its finished tickets; None while there are too few (or no
    breaches at all to learn from). Keeps the newest few models."""
    rows = sla_selectors.risk_training_rows()
    if len({row.ticket_id for row in rows}) < min_samples:
        return None
    fitted = sla_risk.fit(rows)
    if fitted is None:
        return None
    model = SLARiskModel.objects.create(
        algorithm=fitted.algorithm,
        samples=fitted.samples,
        breached_share=fitted.breached_share,
        holdout_samples=fitted.holdout_samples,
        auc=fitted.auc,
        accuracy=fitted.accuracy,
        heuristic_auc=fitted.heuristic_auc,
        parameters=fitted.parameters,
    )
    stale = SLARiskModel.objects.values_list("pk", flat=True)[MODELS_KEPT:]
    SLARiskModel.objects.filter(pk__in=list(stale)).delete()
    return model


# --- Rows written without the engine ------------------------------------------------------------


@dataclass(frozen=True)
class BackfillResult:
    finished: int
    running: int


def sla_backfill(*, chunk: int = 1000) -> BackfillResult:
    """Fills what the engine would have kept for tickets written around it (demo history, imports): business
    minutes per target of finished tickets, and due / warning points of open tickets. Idempotent."""
    finished = 0
    pending = Ticket.objects.filter(
        status__in=Ticket.DONE_STATUSES, solved_at__isnull=False, sla_resolution_minutes__isnull=True
    ).select_related("sla_policy__calendar", "team__calendar")
    while batch := list(pending[:chunk]):
        for ticket in batch:
            calendar = sla_calendar_for(ticket.sla_policy, ticket)
            worked = calendar.between(ticket.created, ticket.solved_at) - ticket.sla_paused_minutes
            ticket.sla_resolution_minutes = round(max(0.0, worked), 2)
            if ticket.first_responded_at and ticket.sla_first_response_minutes is None:
                first = calendar.between(ticket.created, ticket.first_responded_at)
                ticket.sla_first_response_minutes = round(max(0.0, first), 2)
        Ticket.objects.bulk_update(batch, ["sla_resolution_minutes", "sla_first_response_minutes"])
        finished += len(batch)
    running = 0
    stale = Ticket.objects.open().filter(sla_policy__isnull=False, sla_due_at__isnull=True, sla_breached=False)
    for ticket in stale.select_related("customer").iterator(chunk_size=chunk):
        with transaction.atomic():
            ticket_sla_refresh(ticket)
        running += 1
    return BackfillResult(finished=finished, running=running)
