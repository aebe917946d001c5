"""Celery entry points of the knowledge base: keep article embeddings current (ids in, one service call each)."""

from __future__ import annotations

from celery import shared_task

from tenants.services import tenants_fan_out

from ..services import kb


@shared_task
def article_index_task(article_id: int) -> bool:
    """Queued after an article is saved: embeds its text with the local model (slow models stay off requests)."""
    return kb.article_index(article_id=article_id)


@shared_task
def kb_reindex_task() -> int:
    """Catches up articles whose embedding is missing or stale (demo data, a save while the broker was down)."""
    return kb.articles_reindex()


@shared_task
def kb_reindex_fanout_task() -> int:
    """Scheduled by beat in the public schema: one `kb_reindex_task` per workspace."""
    return tenants_fan_out(kb_reindex_task)
