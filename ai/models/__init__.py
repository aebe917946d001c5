"""The AI app's tables, all in the workspace schema: stored embeddings (vectors.py) and the orchestration
ledger, prompts and provider settings (added by the orchestration modules)."""

from .vectors import Embedding

__all__ = ["Embedding"]
