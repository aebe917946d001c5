"""The AI response cache, on Django's cache (Redis), and the generation tokens that invalidate it.

Django's key function already starts every key with the current schema, so nothing here names a workspace.
A result key is a hash of the feature, provider, model, prompt version and normalised input. Every entry is
stored with the workspace's generation token and the feature's, and is only valid while both are current:
`invalidate()` (and every prompt, provider, route or policy change) replaces a token, which orphans every old
entry at once; the next answer overwrites it and the TTL sweeps the rest away.

Keeping the tokens in the value rather than in the key lets a cache hit cost one round trip: the tokens and the
entry are read together with `get_many` (the orchestrator computes the key from the settings snapshot it had).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from . import kv

WORKSPACE_GENERATION = "ai:gen"
# The generation while the cache server is unreachable: nothing is cached and settings are read from the database.
UNREACHABLE = "unreachable"
FEATURE_GENERATION = "ai:gen:{feature}"
_SPACES = re.compile(r"\s+")


def _new_token() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Generation:
    workspace: str
    feature: str

    @property
    def current(self) -> str:
        return f"{self.workspace}.{self.feature}"

    @property
    def reachable(self) -> bool:
        return self.workspace != UNREACHABLE


def read(feature: str, *keys: str) -> tuple[Generation, dict[str, Any]]:
    """The current generation (tokens made on first use) and whatever of `keys` is cached, in one round trip."""
    feature_key = FEATURE_GENERATION.format(feature=feature)
    found = kv.get_many([WORKSPACE_GENERATION, feature_key, *filter(None, keys)])
    if found is None:
        return Generation(UNREACHABLE, UNREACHABLE), {}
    tokens = []
    for key in (WORKSPACE_GENERATION, feature_key):
        token = found.pop(key, None)
        if token is None:
            kv.add(key, _new_token(), timeout=None)
            token = kv.get(key) or UNREACHABLE
        tokens.append(token)
    return Generation(*tokens), found


def generation(feature: str) -> str:
    return read(feature)[0].current


def invalidate(feature: str | None = None) -> None:
    """Every cached answer of the workspace (or of one feature) is forgotten, immediately."""
    key = FEATURE_GENERATION.format(feature=feature) if feature else WORKSPACE_GENERATION
    kv.set(key, _new_token(), timeout=None)


def invalidate_soon() -> None:
    """For settings changes: now (this transaction's own reads) and again after commit, so a request that rebuilt
    the cached settings from the old rows between the two cannot keep them."""
    invalidate()
    transaction.on_commit(invalidate)


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return _SPACES.sub(" ", value).strip()
    if isinstance(value, dict):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    return value


def input_hash(payload: Any) -> str:
    """Whitespace differences do not matter; case and wording do (a rewrite must keep them)."""
    material = json.dumps(_normalise(payload), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def result_key(
    *, feature: str, provider: str, model: str, prompt_version: str, payload: Any = None, digest: str = ""
) -> str:
    """`digest` is `input_hash(payload)` when the caller already has it (one hash per call, not per provider)."""
    parts = [feature, provider, model, prompt_version or "-", digest or input_hash(payload)]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    # A readable head for debugging; the digest covers everything (and keeps keys short).
    return f"ai:r:{feature[:40]}:{provider}:{digest}"


def get(key: str, current: Generation, prefetched: dict[str, Any] | None = None) -> Any:
    """The cached entry under `key` if it belongs to the current generation, else None."""
    if not current.reachable:
        return None
    stored = prefetched[key] if prefetched and key in prefetched else kv.get(key)
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != current.current:
        return None
    return stored[1]


def put(key: str, value: Any, current: Generation, ttl_seconds: int) -> None:
    if ttl_seconds > 0 and current.reachable:
        kv.set(key, (current.current, value), timeout=ttl_seconds)
