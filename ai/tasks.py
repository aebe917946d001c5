"""Celery entry points of the AI app. They run in the schema they were queued from (tenant-schemas-celery)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model

from core.outbox import enqueue

from . import facade, services
from .contracts import AIInputError, AIUnavailable

logger = logging.getLogger(__name__)


def _user(user_id: int | None):
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


@shared_task
def ai_generate_task(
    feature: str,
    context: dict[str, str],
    user_id: int | None = None,
    *,
    json_schema: dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    on_done: str | None = None,
    on_done_kwargs: dict[str, Any] | None = None,
) -> int | None:
    """Runs `facade.generate` and returns the ledger run id (also when no provider could answer)."""
    run_id: int | None = None
    try:
        result = facade.generate(
            feature, context, user=_user(user_id), json_schema=json_schema, max_output_tokens=max_output_tokens
        )
        run_id = result.meta.run_id
    except AIUnavailable as error:
        run_id = error.run_id
    except AIInputError:
        # The caller's input was unusable: nothing ran, nothing to retry. The callback learns with run_id=None.
        logger.warning("queued AI generation for %s had unusable input", feature, exc_info=True)
    if on_done:
        enqueue(on_done, **{**(on_done_kwargs or {}), "run_id": run_id})
    return run_id


@shared_task
def ai_budget_exhausted_notify_task(config_id: int, month: str) -> int:
    """Emails the workspace's owners and admins that a provider's monthly budget is spent; returns how many."""
    return services.budget_exhausted_notify(config_id=config_id, month=month)


@shared_task
def model_version_train_task(version_id: int) -> str:
    """Trains a queued classifier version (bulk queue: minutes of CPU must not delay interactive work); returns its
    status. Progress is written to the version row as it goes, for the models page."""
    from .classifiers import model_version_train  # scikit-learn is loaded only by the workers that train

    version = model_version_train(version_id)
    return version.status if version else "gone"
