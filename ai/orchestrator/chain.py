"""The provider chain of a call: its providers in order, which may be called now, and their cache keys."""

from __future__ import annotations

from .. import budgets, prompts, registry
from .. import cache as ai_cache
from ..contracts import AIInputError
from ..operations import OPERATIONS, Job, Operation
from ..resilience import CircuitBreaker
from ..selectors import WorkspaceAISettings
from .outcomes import BUDGET, CIRCUIT_OPEN, INJECTION, Link
from .screening import Screenings


class ChainMixin:
    breaker: CircuitBreaker

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
