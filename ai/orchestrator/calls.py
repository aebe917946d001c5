"""One call walked through the chain: the cache first, then each usable provider until one answers."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from core.crypto import DecryptionFailed, decrypt

from .. import cache as ai_cache
from .. import prompts, safety
from ..contracts import AIInputError, AIUnavailable
from ..operations import OPERATIONS, Embed, Job, Operation
from ..providers.base import ProviderError, RateLimited
from ..resilience import CircuitBreaker, RetryPolicy
from ..selectors import WorkspaceAISettings, ai_settings_get, ai_settings_latest
from .chain import ChainMixin
from .execution import ExecutionMixin
from .ledger import LedgerMixin, _unavailable_message
from .outcomes import POLICY, Answer, Attempts, Link, Outcome, OutputRejected, Usage
from .screening import Screenings, check_input

logger = logging.getLogger("ai.orchestrator")


class Orchestrator(ChainMixin, ExecutionMixin, LedgerMixin):
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
        raise AIUnavailable(
            _unavailable_message(job, attempts),
            run_id=run_id,
            reasons=attempts.reasons(),
            retry_after=attempts.retry_after,
            budget_spent=attempts.budget_spent,
        )

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
            attempts.fail(
                link,
                type(error).__name__,
                safety.scrub(str(error), api_key),
                tries[0],
                retry_after=error.retry_after if isinstance(error, RateLimited) else None,
            )
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
