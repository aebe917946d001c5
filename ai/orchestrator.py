"""Runs one AI request through the workspace's provider chain: the heart of `ai.facade`.

For a feature the chain is its route's providers (or every enabled provider by priority), then `local`. An
external provider is skipped when the workspace forbids external providers or the input looks like a high-risk
prompt injection; otherwise its cached answer is used if there is one (an answer already paid for is served even
when the budget has run out since). Without one, it is skipped when its monthly budget is spent or its circuit
breaker is open, and otherwise called with retries and backoff (ai.resilience): personal data is redacted before
the prompt leaves and restored in what comes back, structured output is validated (one repair prompt, then the
next provider) and generated text is moderated locally. The first usable answer wins; every call leaves one row
in the ledger (AIRun), answered or not.

A provider failure never reaches the caller: the next provider answers, and only when none can does the caller
get one `AIUnavailable` (recorded too). Input the caller must fix raises `AIInputError` before anything runs.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import budgets, prompts, registry, safety
from . import cache as ai_cache
from .contracts import AIInputError, AIUnavailable, RunMeta
from .crypto import DecryptionFailed, decrypt
from .operations import OPERATIONS, Embed, InvalidOutput, Job, Operation, messages_for, parse_json
from .pricing import cost_usd
from .providers.base import (
    GenerateRequest,
    GenerateResponse,
    Message,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
)
from .resilience import CircuitBreaker, RetryPolicy, backoff_delay
from .selectors import ProviderEntry, WorkspaceAISettings, ai_settings_get, ai_settings_latest
from .services import ai_run_record

logger = logging.getLogger(__name__)

JSON_INSTRUCTION = "Answer with JSON only, no other text, matching this JSON schema:\n{schema}"


# --- Skip reasons, as stored in the run's flags and shown in the run log ------------------------

POLICY = "external providers are turned off for this workspace"
INJECTION = "the input looks like a prompt-injection attempt: kept on the local provider"
BUDGET = "this month's budget is spent"
CIRCUIT_OPEN = "paused after repeated failures (circuit breaker open)"


@dataclass(frozen=True)
class Link:
    """One provider in a chain: a workspace configuration, or the built-in local provider (config None)."""

    name: str
    config: ProviderEntry | None = None

    @property
    def external(self) -> bool:
        return registry.provider_info(self.name).is_external

    @property
    def breaker_key(self) -> str:
        return f"config-{self.config.id}" if self.config else self.name

    @property
    def model(self) -> str:
        configured = self.config.model if self.config else ""
        if configured:
            return configured
        try:
            return getattr(registry.provider_class(self.name), "DEFAULT_MODEL", "") or self.name
        except ProviderError:
            return self.name  # not installed: the call itself will say so


@dataclass
class Usage:
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, response: GenerateResponse) -> None:
        self.model = response.model or self.model
        self.input_tokens += response.input_tokens or 0
        self.output_tokens += response.output_tokens or 0


class OutputRejected(Exception):
    """The provider answered (and may have billed for it), but the answer cannot be used."""

    def __init__(self, message: str, *, usage: Usage, blocked: bool = False) -> None:
        super().__init__(message)
        self.usage = usage
        self.blocked = blocked


@dataclass(frozen=True)
class Answer:
    payload: dict[str, Any]
    usage: Usage
    redacted_count: int = 0


@dataclass(frozen=True)
class Outcome:
    payload: dict[str, Any]
    meta: RunMeta


@dataclass
class Attempts:
    """What happened to each provider of one call, for the ledger and the final error message."""

    fallback_from: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    first_error: tuple[str, str] | None = None
    blocked: bool = False
    redacted: int = 0

    def skip(self, link: Link, reason: str, *, counts_as_fallback: bool = True) -> None:
        if counts_as_fallback:
            self.fallback_from.append(link.name)
        self.details.append({"provider": link.name, "config": _config_label(link), "skipped": reason})
        self.blocked = self.blocked or reason == INJECTION
        if self.first_error is None and counts_as_fallback:
            self.first_error = ("Skipped", f"{_config_label(link)}: {reason}")

    def fail(self, link: Link, error_class: str, message: str, attempts: int) -> None:
        self.fallback_from.append(link.name)
        self.details.append(
            {"provider": link.name, "config": _config_label(link), "error": error_class, "message": message}
            | ({"attempts": attempts} if attempts > 1 else {})
        )
        if self.first_error is None:
            self.first_error = (error_class, message)

    def reasons(self) -> tuple[str, ...]:
        return tuple(
            f"{detail['config']}: {detail.get('skipped') or detail.get('message') or detail.get('error')}"
            for detail in self.details
        )


def _config_label(link: Link) -> str:
    return link.config.label if link.config else link.name


class Orchestrator:
    """Stateless apart from its collaborators, which tests replace (`sleep`, `rng`, `retry`, `breaker`)."""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self.sleep = sleep
        self.rng = rng or random.Random()

    # --- The chain ------------------------------------------------------------------------------

    def chain(self, job: Job, workspace: WorkspaceAISettings) -> list[Link]:
        operation = OPERATIONS[job.operation]
        route = workspace.routes.get(job.feature)
        if route is None:
            route = () if operation.local_first else tuple(entry.id for entry in workspace.providers)
        links = []
        known = set(registry.provider_names(external_only=True))
        for config_id in route:
            entry = workspace.provider(config_id)
            if entry is not None and entry.enabled and entry.provider in known:
                links.append(Link(entry.provider, entry))
        return [*links, Link(registry.LOCAL)]

    def _unavailable_reason(self, link: Link, screening: Screenings) -> str | None:
        """Why an external provider without a cached answer is not called now (None: call it).

        Checked after the cache lookup: a cached answer costs nothing, and high-risk text never produced one.
        """
        if not link.external:
            return None
        if screening.combined.high:
            return INJECTION
        if link.config and budgets.is_exhausted(link.config):
            budgets.report_exhausted(link.config)
            return BUDGET
        if not self.breaker.allow(link.breaker_key):
            return CIRCUIT_OPEN
        return None

    def _usable(self, job: Job, workspace: WorkspaceAISettings) -> tuple[list[Link], list[Link]]:
        """The chain, and the external providers the workspace's policy takes out of it."""
        links = self.chain(job, workspace)
        if workspace.policy.allow_external_providers:
            return links, []
        return [link for link in links if not link.external], [link for link in links if link.external]

    def _key(self, job: Job, link: Link, prompt: prompts.PromptTemplate | None) -> str:
        return ai_cache.result_key(
            feature=job.feature,
            provider=link.name,
            model=link.model,
            prompt_version=prompt.version if prompt else "",
            digest=job.input_digest,
        )

    def _prompt_for(self, link: Link, operation: Operation, job: Job, workspace: WorkspaceAISettings):
        return self._prompt(operation, job, workspace) if link.external or job.operation == "generate" else None

    def _first_key(self, job: Job, operation: Operation, workspace: WorkspaceAISettings | None) -> str | None:
        """The cache key of the first provider by the last known settings, to fetch with the generation tokens:
        a cache hit then costs one round trip. A wrong guess (settings just changed) only costs a second one."""
        if workspace is None:
            return None
        try:
            link = self._usable(job, workspace)[0][0]
            return self._key(job, link, self._prompt_for(link, operation, job, workspace))
        except AIInputError:
            return None  # reported properly below

    # --- One call -------------------------------------------------------------------------------

    def run(self, job: Job) -> Outcome:
        started = time.perf_counter()
        operation = OPERATIONS[job.operation]
        first_key = self._first_key(job, operation, ai_settings_latest())
        current, prefetched = ai_cache.read(job.feature, first_key)
        workspace = ai_settings_get(current.workspace)
        check_input(job, workspace.policy.max_input_chars)
        screening = Screenings(job)
        attempts = Attempts()
        links, forbidden = self._usable(job, workspace)
        for link in forbidden:
            attempts.skip(link, POLICY, counts_as_fallback=False)
        for link in links:
            prompt = self._prompt_for(link, operation, job, workspace)
            key = self._key(job, link, prompt)
            cached = ai_cache.get(key, current, prefetched)
            if cached is not None:
                screening.restore(cached["screening"])
                answer = Answer(cached["payload"], Usage(link.model))
                return self._finish(job, link, prompt, answer, attempts, screening.combined, started, cached=True)
            reason = self._unavailable_reason(link, screening)
            if reason:
                attempts.skip(link, reason)
                continue
            answer = self._attempt(link, operation, job, prompt, screening.per_input, attempts)
            if answer is None:
                continue
            entry = {"payload": answer.payload, "screening": screening.stored()}
            ai_cache.put(key, entry, current, workspace.policy.cache_ttl_seconds)
            return self._finish(job, link, prompt, answer, attempts, screening.combined, started)
        run_id = self._record_unanswered(job, attempts, screening.combined, started)
        raise AIUnavailable(_unavailable_message(job, attempts), run_id=run_id, reasons=attempts.reasons())

    def _prompt(self, operation: Operation, job: Job, workspace: WorkspaceAISettings) -> prompts.PromptTemplate | None:
        """The feature's own prompt if one exists (workspace override first), else the operation's."""
        if isinstance(operation, Embed):
            return None
        for key in dict.fromkeys(filter(None, [job.feature, operation.prompt_key])):
            template = prompts.resolve(key, workspace.overrides)
            if template is not None:
                return template
        raise AIInputError(f"There is no prompt for the feature {job.feature!r}: add ai/prompts/{job.feature}.v1.txt.")

    def _attempt(
        self,
        link: Link,
        operation: Operation,
        job: Job,
        prompt: prompts.PromptTemplate | None,
        screenings: dict[str, safety.Screening],
        attempts: Attempts,
    ) -> Answer | None:
        """The provider's answer, or None after recording why there is none."""
        tries: list[int] = [0]
        api_key = ""
        try:
            if not link.external:
                return self._local(operation, job, prompt)
            api_key = decrypt(link.config.api_key_encrypted) if link.config else ""
            answer = self._external(link, operation, job, prompt, screenings, api_key, tries)
        except OutputRejected as error:
            attempts.fail(link, "OutputRejected", safety.scrub(str(error), api_key), tries[0])
            attempts.blocked = attempts.blocked or error.blocked
            self._record_billed_failure(job, link, prompt, error)
            self._breaker_failure(link)
            return None
        except (ProviderError, DecryptionFailed) as error:
            attempts.fail(link, type(error).__name__, safety.scrub(str(error), api_key), tries[0])
            self._breaker_failure(link)
            return None
        except AIInputError:
            raise
        except Exception as error:  # a bug or an unmapped SDK error must not reach the caller either
            logger.exception("AI provider %s failed unexpectedly", link.name)
            attempts.fail(link, type(error).__name__, safety.scrub(str(error), api_key) or "unexpected error", tries[0])
            self._breaker_failure(link)
            return None
        if link.external:
            self.breaker.record_success(link.breaker_key)
        attempts.redacted = answer.redacted_count
        return answer

    def _breaker_failure(self, link: Link) -> None:
        if link.external:
            self.breaker.record_failure(link.breaker_key)

    # --- Local and external execution -----------------------------------------------------------

    def _local(self, operation: Operation, job: Job, prompt: prompts.PromptTemplate | None) -> Answer:
        provider = registry.build_provider(registry.LOCAL)
        request = None
        if prompt is not None:
            rendered = prompt.render(self._context(operation, job, {}))
            request = GenerateRequest(messages_for(rendered.system, rendered.user), operation.max_output_tokens(job))
        payload = operation.run_local(provider, job, request)
        return Answer(payload, Usage(getattr(provider, "DEFAULT_MODEL", registry.LOCAL)))

    def _external(
        self,
        link: Link,
        operation: Operation,
        job: Job,
        prompt: prompts.PromptTemplate | None,
        screenings: dict[str, safety.Screening],
        api_key: str,
        tries: list[int],
    ) -> Answer:
        config = link.config
        settings = ProviderSettings(
            api_key=api_key,
            base_url=config.base_url if config else "",
            model=link.model,
            timeout_seconds=config.timeout_seconds if config else 30.0,
            extra=dict(config.extra) if config else {},
        )
        provider = registry.build_provider(link.name, settings)
        redactor = safety.Redactor()
        usage = Usage(link.model)
        if isinstance(operation, Embed):
            texts = [redactor.redact(text) for text in job.texts]
            response = self._with_retries(lambda: provider.embed(texts), tries)
            return Answer(Embed.from_vectors(response.vectors, response.model), usage, redactor.count)
        rendered = prompt.render(self._context(operation, job, screenings))
        schema = operation.schema(job)
        system = rendered.system
        if schema is not None and job.operation == "generate":
            system = f"{system}\n\n{JSON_INSTRUCTION.format(schema=json.dumps(schema, ensure_ascii=False))}"
        if any(screening.flagged for screening in screenings.values()):
            system = f"{system}\n\n{safety.UNTRUSTED_NOTICE}"
        request = GenerateRequest(
            messages=messages_for(redactor.redact(system), redactor.redact(rendered.user)),
            max_output_tokens=operation.max_output_tokens(job),
            json_schema=schema,
        )
        text, data = self._generate(provider, request, schema, usage, tries, redactor)
        try:
            payload = operation.from_model(text, data, job)
        except InvalidOutput as error:
            raise OutputRejected(str(error), usage=usage) from None
        leaked = [found for value in safety.strings_in(payload) for found in redactor.unknown_placeholders(value)]
        if leaked:
            raise OutputRejected(
                f"The answer holds placeholders it was never given: {', '.join(leaked[:3])}", usage=usage
            )
        payload = redactor.restore_value(payload)
        self._check_moderation(operation, job, payload, usage)
        return Answer(payload, usage, redactor.count)

    def _generate(
        self,
        provider,
        request: GenerateRequest,
        schema: dict | None,
        usage: Usage,
        tries: list[int],
        redactor: safety.Redactor,
    ) -> tuple[str, dict | None]:
        """Text and validated JSON; invalid JSON gets exactly one repair prompt (the redacted reply, never restored)."""
        response = self._with_retries(lambda: provider.generate(request), tries)
        usage.add(response)
        if schema is None:
            return response.text, None
        try:
            return response.text, parse_json(response.text, schema)
        except InvalidOutput as error:
            problem = str(error)
        repair = prompts.system_prompt("json_repair").render(
            {"error": problem, "schema": json.dumps(schema, ensure_ascii=False)}
        )
        retry_request = GenerateRequest(
            messages=(
                *request.messages,
                Message("assistant", response.text),
                Message("user", redactor.redact(repair.user)),
            ),
            max_output_tokens=request.max_output_tokens,
            temperature=0.0,
            json_schema=schema,
        )
        response = self._with_retries(lambda: provider.generate(retry_request), tries)
        usage.add(response)
        try:
            return response.text, parse_json(response.text, schema)
        except InvalidOutput as error:
            raise OutputRejected(f"{error} (after one repair attempt)", usage=usage) from None

    def _with_retries(self, call: Callable[[], Any], tries: list[int]) -> Any:
        """Retryable errors are retried with backoff, never sleeping past the policy's total wait."""
        waited = 0.0
        attempt = timeouts = 0
        while True:
            attempt += 1
            tries[0] += 1
            try:
                return call()
            except ProviderError as error:
                timeouts += isinstance(error, ProviderTimeout)
                if not error.retryable or attempt >= self.retry.max_attempts or timeouts >= self.retry.max_timeouts:
                    raise
                delay = backoff_delay(attempt, self.retry, self.rng, error.retry_after)
                if waited + delay > self.retry.max_total_wait:
                    raise  # waiting that long would hold the caller: the next provider answers instead
                self.sleep(delay)
                waited += delay

    def _context(self, operation: Operation, job: Job, screenings: dict[str, safety.Screening]) -> dict[str, str]:
        """Template values: the caller's inputs (customer text that looks like instructions quoted as data)."""
        inputs = {
            name: safety.quote_untrusted(value) if screenings.get(name, safety.CLEAN).flagged else value
            for name, value in job.inputs.items()
        }
        return inputs | operation.prompt_context(job)

    def _check_moderation(self, operation: Operation, job: Job, payload: dict[str, Any], usage: Usage) -> None:
        """Generated text the local moderator flags is withheld, unless the input was already like that (a summary
        of an abusive message may quote it)."""
        if not operation.moderate_output:
            return
        text = operation.shown_text(payload)
        if not text:
            return
        try:
            moderator = registry.build_provider(registry.LOCAL)
            flagged, categories = moderator.moderate(text)
            if flagged and not moderator.moderate("\n".join(job.inputs.values()))[0]:
                top = sorted(categories, key=categories.get, reverse=True)[:2]
                raise OutputRejected(
                    f"The answer was withheld by moderation ({', '.join(top)}).", usage=usage, blocked=True
                )
        except OutputRejected:
            raise
        except Exception:
            logger.exception("output moderation is unavailable; the answer is passed through")

    # --- Ledger ---------------------------------------------------------------------------------

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
            user=job.user,
            feature=job.feature,
            operation=job.operation,
            provider=link.name,
            model=model,
            provider_config_id=link.config.id if link.config else None,
            prompt_key=prompt.key if prompt else "",
            prompt_version=prompt.version if prompt else "",
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
            user=job.user,
            feature=job.feature,
            operation=job.operation,
            provider=link.name,
            model=model,
            provider_config_id=link.config.id if link.config else None,
            prompt_key=prompt.key if prompt else "",
            prompt_version=prompt.version if prompt else "",
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


class Screenings:
    """Injection screening of a call's inputs, done only when needed (a cache hit reuses the stored verdict)."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._per_input: dict[str, safety.Screening] | None = None
        self._combined: safety.Screening | None = None

    @property
    def per_input(self) -> dict[str, safety.Screening]:
        if self._per_input is None:
            self._per_input = {name: safety.screen(value) for name, value in self._job.inputs.items()}
        return self._per_input

    @property
    def combined(self) -> safety.Screening:
        if self._combined is None:
            texts = safety.screen(*self._job.texts) if self._job.texts else safety.CLEAN
            self._combined = _combined(self.per_input.values(), texts)
        return self._combined

    def stored(self) -> tuple[str, tuple[str, ...]]:
        return self.combined.risk, self.combined.matches

    def restore(self, stored: tuple[str, tuple[str, ...]]) -> None:
        self._combined = safety.Screening(stored[0], tuple(stored[1]))


def check_input(job: Job, max_chars: int) -> None:
    """Empty or oversized input is the caller's to fix: a clear message, and nothing is run or recorded."""
    if job.operation == "embed":
        if not job.texts:
            raise AIInputError("There is no text to embed.")
        for number, text in enumerate(job.texts, start=1):
            if not text.strip():
                raise AIInputError(f"Text number {number} is empty.")
            if len(text) > max_chars:
                raise AIInputError(
                    f"Text number {number} is {len(text):,} characters long; the limit is {max_chars:,}."
                )
        return
    size = sum(len(value) for value in job.inputs.values())
    if not any(value.strip() for value in job.inputs.values()):
        raise AIInputError(
            "The text is empty." if "text" in job.inputs else "There is nothing to work on: every value is empty."
        )
    if size > max_chars:
        raise AIInputError(f"The text is {size:,} characters long; this workspace's limit is {max_chars:,}.")


def _combined(screenings, extra: safety.Screening) -> safety.Screening:
    matches = sorted({name for screening in [*screenings, extra] for name in screening.matches})
    all_screenings = [*screenings, extra]
    if any(screening.high for screening in all_screenings):
        return safety.Screening(safety.HIGH, tuple(matches))
    if any(screening.flagged for screening in all_screenings):
        return safety.Screening(safety.LOW, tuple(matches))
    return safety.CLEAN


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


default = Orchestrator()
