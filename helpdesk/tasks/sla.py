"""Celery entry points of SLA work: the minute sweep, risk re-assessment, nightly model training (one call each).

Beat runs the `*_fanout_task`s in the public schema; each queues one copy per workspace (tenants.services).
"""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import sla


@shared_task
def sla_sweep_task() -> dict[str, int]:
    """Near-breach warnings and breach escalations due now in this workspace (safe when two runs overlap)."""
    result = sla.sla_sweep()
    return {"warned": result.warned, "breached": result.breached}


@shared_task
def sla_risk_refresh_task() -> int:
    """Re-assesses the breach risk of every open ticket: the queue around them moves even when they do not."""
    return sla.sla_risk_refresh_open()


@shared_task
def sla_risk_model_train_task() -> int | None:
    """Fills outcomes of tickets written around the engine, then refits the risk model (None: too little history)."""
    sla.sla_backfill()
    model = sla.sla_risk_model_train()
    return model.pk if model is not None else None


@shared_task
def sla_sweep_fanout_task() -> int:
    return tenants_fan_out(sla_sweep_task)


@shared_task
def sla_risk_refresh_fanout_task() -> int:
    return tenants_fan_out(sla_risk_refresh_task)


@shared_task
def sla_risk_model_train_fanout_task() -> int:
    return tenants_fan_out(sla_risk_model_train_task)
