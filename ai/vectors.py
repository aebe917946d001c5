"""Store and search text embeddings of workspace objects: pgvector, cosine distance, an HNSW index.

Everything runs in the current workspace schema (the `ai_embedding` table exists once per workspace), so a search
can only ever see the vectors of the workspace it runs in. Vectors always come from the local model
(all-MiniLM-L6-v2): one vector space per workspace whatever text provider it configures, nothing sent out, and
no re-embedding when the provider changes.

Search trades recall for speed through `hnsw.ef_search` (the candidate list the index walks), set with
`SET LOCAL` semantics inside the query's transaction; pgvector's iterative scan keeps walking when filters
(source, excluded object) discard candidates, so a filtered search still returns `k` results when they exist.
Measured figures are in bench/README.md (`bench/ai_vectors.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
from django.db import connection, transaction
from pgvector.django import CosineDistance

from ai.models import Embedding
from ai.models.vectors import EMBEDDING_DIMENSIONS
from ai.providers.local import get_local_provider
from ai.providers.local.encoder import MODEL_NAME

# Measured at 100k vectors (bench/ai_vectors.py): recall@10 0.91 at pgvector's default 40, 0.95 at 100, 0.96 at
# 200, for 6.9 / 8.4 / 10.8 ms p95. 100 buys most of the recall for ~1.5 ms. Always at least 2k: HNSW returns no
# more rows than ef_search, and 2k rows are fetched to fold multi-chunk objects.
DEFAULT_EF_SEARCH = 100
MAX_K = 1000
UPSERT_BATCH = 256


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def _check_keys(source: str, object_id: str) -> None:
    if not source or len(source) > Embedding._meta.get_field("source").max_length:
        raise ValueError("source must be a non-empty name of at most 60 characters, e.g. 'helpdesk.ticket'.")
    if not object_id or len(object_id) > Embedding._meta.get_field("object_id").max_length:
        raise ValueError("object_id must be a non-empty identifier of at most 64 characters.")


def _embed(texts: list[str]) -> np.ndarray:
    return get_local_provider().embed_array(texts)


def _write(rows: list[Embedding]) -> None:
    """INSERT … ON CONFLICT DO UPDATE: safe when two workers embed the same object at once."""
    Embedding.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["source", "object_id", "chunk", "model"],
        update_fields=["text_hash", "vector"],
    )


def embedding_upsert(*, source: str, object_id: str | int, text: str, chunk: int = 0) -> bool:
    """Embed and store one text; False (and no model call) when the stored vector is for the same text."""
    return embeddings_upsert_many(source=source, items=[(object_id, text)], chunk=chunk) == 1


def embeddings_upsert_many(
    *, source: str, items: Iterable[tuple[str | int, str]], chunk: int = 0, batch_size: int = UPSERT_BATCH
) -> int:
    """Embed and store many (object_id, text) pairs in batches; returns how many were (re)written.

    Unchanged texts (same SHA-256 as stored) are skipped before embedding, so re-indexing everything after an
    import only pays for what changed.
    """
    written = 0
    batch: list[tuple[str, str]] = []
    for object_id, text in items:
        object_id = str(object_id)
        _check_keys(source, object_id)
        if not (text or "").strip():
            raise ValueError(f"Cannot embed an empty text ({source} {object_id}).")
        batch.append((object_id, text))
        if len(batch) >= batch_size:
            written += _upsert_batch(source, batch, chunk)
            batch = []
    if batch:
        written += _upsert_batch(source, batch, chunk)
    return written


def _upsert_batch(source: str, batch: list[tuple[str, str]], chunk: int) -> int:
    latest = dict(batch)  # the same object twice in one batch: its last text wins
    stored = dict(
        Embedding.objects.filter(source=source, object_id__in=latest, chunk=chunk, model=MODEL_NAME).values_list(
            "object_id", "text_hash"
        )
    )
    changed = [(oid, text) for oid, text in latest.items() if stored.get(oid) != text_hash(text)]
    if not changed:
        return 0
    vectors = _embed([text for _, text in changed])
    _write(
        [
            Embedding(
                source=source,
                object_id=oid,
                chunk=chunk,
                model=MODEL_NAME,
                text_hash=text_hash(text),
                vector=vector,
            )
            for (oid, text), vector in zip(changed, vectors, strict=True)
        ]
    )
    return len(changed)


def embedding_delete(*, source: str, object_id: str | int) -> int:
    """Remove every chunk of one object's vectors; returns the number of rows deleted."""
    deleted, _ = Embedding.objects.filter(source=source, object_id=str(object_id)).delete()
    return deleted


def _query_vector(text: str | None, vector: Sequence[float] | np.ndarray | None) -> np.ndarray:
    if (text is None) == (vector is None):
        raise ValueError("Pass exactly one of text= or vector=.")
    if text is not None:
        if not text.strip():
            raise ValueError("Cannot search with an empty text.")
        return _embed([text])[0]
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    if query.shape[0] != EMBEDDING_DIMENSIONS or not np.isfinite(query).all() or not query.any():
        raise ValueError(f"vector must be {EMBEDDING_DIMENSIONS} finite numbers, not all zero.")
    return query


def similar(
    *,
    source: str,
    text: str | None = None,
    vector: Sequence[float] | np.ndarray | None = None,
    k: int = 10,
    exclude_object_id: str | int | None = None,
    ef_search: int | None = None,
) -> list[tuple[str, float]]:
    """The `k` objects of `source` nearest to the text (or vector), best first, as (object_id, cosine similarity).

    An object stored in several chunks appears once, with its best chunk's score.
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}.")
    query = _query_vector(text, vector)
    rows = Embedding.objects.filter(source=source, model=MODEL_NAME)
    if exclude_object_id is not None:
        rows = rows.exclude(object_id=str(exclude_object_id))
    # Extra rows absorb duplicates of multi-chunk objects before they are folded into one.
    rows = rows.annotate(distance=CosineDistance("vector", query)).order_by("distance")
    ef = min(MAX_K, max(ef_search or DEFAULT_EF_SEARCH, 2 * k))
    with transaction.atomic():
        _set_local(ef)
        found = list(rows.values_list("object_id", "distance")[: 2 * k])
    best: dict[str, float] = {}
    for object_id, distance in sorted(found, key=lambda row: row[1]):  # iterative scans may be slightly unordered
        best.setdefault(object_id, 1.0 - float(distance))
    return list(best.items())[:k]


def vector_ids(*, source: str, object_ids: Sequence[str | int]) -> set[str]:
    """Which of those objects of `source` have a stored vector (ids only: no vector is read)."""
    wanted = [str(object_id) for object_id in object_ids]
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):
        found.update(
            Embedding.objects.filter(
                source=source, model=MODEL_NAME, chunk=0, object_id__in=wanted[start : start + 5000]
            ).values_list("object_id", flat=True)
        )
    return found


def vectors_get(*, source: str, object_ids: Sequence[str | int]) -> tuple[list[str], np.ndarray]:
    """The stored vectors (chunk 0) of those objects of `source` that have one: (object ids, n×d float32 matrix)
    in one query per 5,000 ids; objects without a vector are left out. The matrix is filled in place (100k
    vectors: 150 MB, never a second copy)."""
    wanted = [str(object_id) for object_id in object_ids]
    found_ids: list[str] = []
    matrix = np.empty((len(wanted), EMBEDDING_DIMENSIONS), dtype=np.float32)
    for start in range(0, len(wanted), 5000):
        batch = Embedding.objects.filter(
            source=source, model=MODEL_NAME, chunk=0, object_id__in=wanted[start : start + 5000]
        ).values_list("object_id", "vector")
        for object_id, vector in batch.iterator(chunk_size=2000):
            matrix[len(found_ids)] = vector
            found_ids.append(object_id)
    return found_ids, matrix[: len(found_ids)]


def _set_local(ef_search: int) -> None:
    """Per-transaction pgvector settings (set_config(..., true) is SET LOCAL that accepts bound parameters)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)",
            [str(int(ef_search))],
        )
