"""Stored text embeddings of workspace objects, searched by cosine distance through an HNSW index (pgvector)."""

from __future__ import annotations

from django.db import models
from pgvector.django import HnswIndex, VectorField

# all-MiniLM-L6-v2 (the local provider). Retrieval always uses the local model, whatever provider a workspace
# configures for text: one vector space per workspace, no re-embedding when a provider changes, nothing sent out.
EMBEDDING_DIMENSIONS = 384


class Embedding(models.Model):
    source = models.CharField(max_length=60, help_text='What was embedded, e.g. "helpdesk.ticket", "kb.article".')
    object_id = models.CharField(max_length=64)
    chunk = models.PositiveIntegerField(default=0)
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the embedded text: unchanged text is skipped.")
    model = models.CharField(max_length=80)
    vector = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "object_id", "chunk", "model"], name="ai_embedding_unique")
        ]
        indexes = [
            HnswIndex(
                name="ai_embedding_hnsw",
                fields=["vector"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            models.Index(fields=["source", "object_id"], name="ai_embedding_source"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.object_id}#{self.chunk}"
