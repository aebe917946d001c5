"""The ledger rows of a call (AIRun): answered, answered but unusable and billed, or unanswered."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from .. import prompts, registry, safety
from ..contracts import RunMeta
from ..operations import OPERATIONS, Job
from ..pricing import cost_usd
from ..services import ai_run_record
from .outcomes import Answer, Attempts, Link, Outcome, OutputRejected


class LedgerMixin:
    def _finish(
        self,
        job: Job,
        link: Link,
        prompt: prompts.PromptTemplate | None,
        answer: Answer,
        attempts: Attempts,
        screening: safety.Screening,
        started: float,
        *,
        cached: bool = False,
    ) -> Outcome:
        operation = OPERATIONS[job.operation]
        latency = (time.perf_counter() - started) * 1000
        model = answer.usage.model or link.model
        cost = Decimal("0")
        if not cached and link.config:
            extra = link.config.extra
            cost = cost_usd(link.name, model, answer.usage.input_tokens, answer.usage.output_tokens, extra)
        error_class, error_message = attempts.first_error or ("", "")
        run = ai_run_record(
            **_provider_fields(job, link, prompt, model),
            input_tokens=answer.usage.input_tokens,
            output_tokens=answer.usage.output_tokens,
            cost_usd=cost,
            latency_ms=round(latency),
            cached=cached,
            status="fallback" if attempts.fallback_from else "ok",
            error_class=error_class,
            error_message=error_message,
            fallback_from=attempts.fallback_from,
            redacted_count=attempts.redacted,
            injection_flagged=screening.flagged,
            flags=_flags(attempts, screening),
            output_text=operation.shown_text(answer.payload),
            output_data=_storable(answer.payload) if job.operation != "embed" else None,
        )
        meta = RunMeta(
            feature=job.feature,
            provider=link.name,
            model=model,
            run_id=run.pk,
            prompt_key=prompt.key if prompt else "",
            prompt_version=prompt.version if prompt else "",
            cached=cached,
            latency_ms=latency,
            fallback_from=tuple(attempts.fallback_from),
        )
        return Outcome(answer.payload, meta)

    def _record_billed_failure(self, job: Job, link: Link, prompt, error: OutputRejected) -> None:
        """An unusable answer is still paid for: its own row keeps costs and budgets exact."""
        if not (error.usage.input_tokens or error.usage.output_tokens):
            return
        model = error.usage.model or link.model
        extra = link.config.extra if link.config else {}
        ai_run_record(
            **_provider_fields(job, link, prompt, model),
            input_tokens=error.usage.input_tokens,
            output_tokens=error.usage.output_tokens,
            cost_usd=cost_usd(link.name, model, error.usage.input_tokens, error.usage.output_tokens, extra),
            status="blocked" if error.blocked else "error",
            error_class="OutputRejected",
            error_message=safety.scrub(str(error)),
            flags={"unusable_answer": True},
        )

    def _record_unanswered(self, job: Job, attempts: Attempts, screening: safety.Screening, started: float) -> int:
        error_class, error_message = attempts.first_error or ("AIUnavailable", "no provider could answer")
        last = attempts.details[-1] if attempts.details else {}
        run = ai_run_record(
            user=job.user,
            feature=job.feature,
            operation=job.operation,
            provider=last.get("provider", ""),
            model="",
            latency_ms=round((time.perf_counter() - started) * 1000),
            status="blocked" if attempts.blocked else "error",
            error_class=error_class,
            error_message=error_message,
            fallback_from=attempts.fallback_from,
            injection_flagged=screening.flagged,
            flags=_flags(attempts, screening),
        )
        return run.pk


def _provider_fields(job: Job, link: Link, prompt: prompts.PromptTemplate | None, model: str) -> dict[str, Any]:
    """Who asked, for what, and which provider, model and prompt answered: the same on every row of an answer."""
    return {
        "user": job.user,
        "feature": job.feature,
        "operation": job.operation,
        "provider": link.name,
        "model": model,
        "provider_config_id": link.config.id if link.config else None,
        "prompt_key": prompt.key if prompt else "",
        "prompt_version": prompt.version if prompt else "",
    }


def _flags(attempts: Attempts, screening: safety.Screening) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    if attempts.details:
        flags["providers"] = attempts.details
    if screening.flagged:
        flags["injection"] = {"risk": screening.risk, "patterns": list(screening.matches)}
    return flags


def _storable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, default=str))


def _unavailable_message(job: Job, attempts: Attempts) -> str:
    if job.operation == "generate" and all(
        detail.get("provider") == registry.LOCAL or "skipped" in detail for detail in attempts.details
    ):
        lead = "Writing new text needs an external AI provider, and none is available for this workspace"
    else:
        lead = f"No AI provider could {job.operation} this"
    reasons = "; ".join(attempts.reasons()).rstrip(".")
    return f"{lead}. {reasons}." if reasons else f"{lead}."
