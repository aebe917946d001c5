"""Breach risk of open tickets (the learned model or the heuristic) and learning the workspace's model."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ... import sla_risk
from ...models import SLARiskModel, Ticket
from ...selectors import sla as sla_selectors
from ...sla_risk import SLARisk
from .calendars import sla_calendar_for
from .clocks import open_targets

MODELS_KEPT = 5


def ticket_sla_risk_assess(ticket: Ticket, *, now: datetime | None = None) -> SLARisk:
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
