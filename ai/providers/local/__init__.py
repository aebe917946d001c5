"""The offline `local` provider: embeddings, language, sentiment, zero-shot and trained classification, extractive
summaries, moderation and template rewrites, with no network and no key. See provider.py."""

from __future__ import annotations

import threading

from .provider import LocalProvider

__all__ = ["LocalProvider", "get_local_provider"]

_instance: LocalProvider | None = None
_instance_lock = threading.Lock()


def get_local_provider() -> LocalProvider:
    """The process-wide instance: models load once, on first use (not at import)."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = LocalProvider()
    return _instance
