"""Running one provider: the local one in-process, an external one with redaction, retries and backoff, JSON
validation with one repair prompt, and local moderation of what comes back."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from typing import Any

from .. import prompts, registry, safety
from ..operations import Embed, InvalidOutput, Job, Operation, messages_for, parse_json
from ..providers.base import GenerateRequest, Message, ProviderError, ProviderSettings, ProviderTimeout
from ..resilience import RetryPolicy, backoff_delay
from .outcomes import Answer, Link, OutputRejected, Usage

logger = logging.getLogger("ai.orchestrator")

JSON_INSTRUCTION = "Answer with JSON only, no other text, matching this JSON schema:\n{schema}"


class ExecutionMixin:
    retry: RetryPolicy
    sleep: Callable[[float], None]
    rng: random.Random

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
