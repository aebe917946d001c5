"""Celery entry points of automation: one event's evaluation (interactive: an agent may be looking at the ticket),
the time rules' beat pass and the run log's pruning, fanned out to every workspace by tenants.services."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from . import engine, services, timers


@shared_task
def automation_event_task(**kwargs) -> int:
    """Evaluates one event against the workspace's rules; returns how many fired."""
    return len(engine.event_process(engine.event_kwargs_parse(kwargs)))


@shared_task
def time_rules_check_task() -> dict:
    result = timers.time_rules_check()
    return {"rules": result.rules, "examined": result.examined, "fired": result.fired}


@shared_task
def time_rules_check_fanout_task() -> int:
    return tenants_fan_out(time_rules_check_task)


@shared_task
def rule_runs_prune_task() -> int:
    return services.runs_prune()


@shared_task
def rule_runs_prune_fanout_task() -> int:
    return tenants_fan_out(rule_runs_prune_task)
