"""Top-10 similarity search over 100k stored vectors in one workspace: HNSW latency and recall against exact search.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/ai_vectors.py [--vectors 100000] [--queries 200] [--ef 40 64 100 200]
                                         [--distribution mixture|clustered|uniform] [--ef-construction N] [--keep]

Creates a throwaway workspace "bench-vectors" (tenants.services.tenant_create), bulk-loads the vectors with a
binary COPY, builds the HNSW index (the model's definition, or `--ef-construction N`) and times
`ai.vectors.similar(vector=…, k=10, ef_search=…)` — the service the product calls, ORM and transaction included.
Recall@10 compares each result with the exact top 10 (`ORDER BY vector <=> q` with index scans disabled).
The workspace is deleted (schema dropped) at the end unless `--keep`; a kept one is reused by the next run.

Embedding 100k real texts would take over half an hour on 2 cores, so the vectors are made three ways:
- "mixture" (default): each vector is a random convex mix of three real MiniLM embeddings (of the sentences and
  tickets in ai/tests/data/tickets_labelled.jsonl) plus a little noise: it stays in the region of the space real
  ticket embeddings occupy, with their uneven, low intrinsic dimension;
- "clustered": unit vectors around 2,000 random centres at a cosine of about 0.7;
- "uniform": random directions, the worst case for any approximate index (all distances nearly equal), shown
  for honesty, not because embeddings look like that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import numpy as np  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from pgvector.django import HnswIndex  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from ai import vectors  # noqa: E402
from ai.models import Embedding  # noqa: E402
from ai.models.vectors import EMBEDDING_DIMENSIONS  # noqa: E402
from ai.providers.local.encoder import MODEL_NAME  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from tenants.models import Tenant  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "ai" / "tests" / "data" / "tickets_labelled.jsonl"
SLUG = "bench-vectors"
SOURCE = "bench.vector"


def index_definition(ef_construction: int | None) -> HnswIndex:
    """The model's HNSW index (so the bench measures what migrations create), optionally with another build ef."""
    index = next(i for i in Embedding._meta.indexes if isinstance(i, HnswIndex))
    if ef_construction:
        _, args, kwargs = index.deconstruct()
        index = HnswIndex(*args, **{**kwargs, "ef_construction": ef_construction})
    return index


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def real_base() -> np.ndarray:
    """MiniLM embeddings of every distinct ticket and sentence of the labelled set (~20 s on 2 cores)."""
    from ai.providers.local import get_local_provider
    from ai.providers.local.text import split_sentences

    tickets = [json.loads(line)["text"] for line in DATA.read_text().splitlines()]
    texts = sorted({*tickets, *(s for t in tickets for s in split_sentences(t) if len(s.split()) >= 3)})
    return get_local_provider().encoder.encode(texts)


def synthetic(count: int, distribution: str, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    if distribution == "mixture":
        picks = rng.integers(0, len(centres), (count, 3))
        weights = rng.dirichlet([1.0, 1.0, 1.0], count).astype(np.float32)
        mixed = np.einsum("nk,nkd->nd", weights, centres[picks])
        noise = rng.standard_normal((count, EMBEDDING_DIMENSIONS)) * (0.02 / np.sqrt(EMBEDDING_DIMENSIONS))
        return unit(mixed + noise)
    if distribution == "uniform":
        return unit(rng.standard_normal((count, EMBEDDING_DIMENSIONS)))
    # noise of norm ~1 around a unit centre: cosine(point, centre) ≈ 0.7
    chosen = centres[rng.integers(0, len(centres), count)]
    noise = rng.standard_normal((count, EMBEDDING_DIMENSIONS)) / np.sqrt(EMBEDDING_DIMENSIONS)
    return unit(chosen + noise)


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench Vectors")
    return tenant


def load(data: np.ndarray, index: HnswIndex) -> tuple[float, float]:
    """COPY the vectors in (without the index), then build the index; returns both durations in seconds."""
    Embedding.objects.filter(source=SOURCE).delete()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS ai_embedding_hnsw")
    connection.ensure_connection()
    register_vector(connection.connection)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = (
            "COPY ai_embedding (source, object_id, chunk, text_hash, model, vector, created) "
            "FROM STDIN WITH (FORMAT BINARY)"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            copy.set_types(["varchar", "varchar", "int4", "varchar", "varchar", "vector", "timestamptz"])
            now = timezone.now()
            for i, vector in enumerate(data):
                copy.write_row((SOURCE, str(i), 0, f"{i:064x}", MODEL_NAME, vector, now))
    copied = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # A graph that fits in maintenance_work_mem builds several times faster (session setting, bench only).
        cursor.execute("SET maintenance_work_mem = '1GB'")
    with connection.schema_editor() as editor:
        editor.add_index(Embedding, index)
    with connection.cursor() as cursor:
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE ai_embedding")
    return copied, time.perf_counter() - started


def exact_top(query: np.ndarray, k: int) -> list[tuple[str, float]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            "SELECT object_id, vector <=> %s::vector AS distance FROM ai_embedding WHERE source = %s "
            "ORDER BY distance LIMIT %s",
            ["[" + ",".join(f"{x:.7f}" for x in query) + "]", SOURCE, k],
        )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def plan_uses_index(query: np.ndarray) -> bool:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT object_id FROM ai_embedding WHERE source = %s AND model = %s "
            "ORDER BY vector <=> %s::vector LIMIT 20",
            [SOURCE, MODEL_NAME, "[" + ",".join(f"{x:.7f}" for x in query) + "]"],
        )
        return "ai_embedding_hnsw" in "\n".join(row[0] for row in cursor.fetchall())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def measure(queries: np.ndarray, truth: list[list[tuple[str, float]]], ef_values: list[int], k: int) -> None:
    """recall@k two ways: the exact top-k ids found, and (ann-benchmarks' definition, robust to ties between
    near-identical vectors) results no farther than the exact k-th neighbour + 0.001."""
    for query in queries[:5]:  # warm the buffer cache and the ORM
        vectors.similar(source=SOURCE, vector=query, k=k)
    for ef in ef_values:
        timings, by_id, by_distance = [], [], []
        for query, exact in zip(queries, truth, strict=True):
            started = time.perf_counter()
            found = vectors.similar(source=SOURCE, vector=query, k=k, ef_search=ef)
            timings.append((time.perf_counter() - started) * 1000)
            by_id.append(len({oid for oid, _ in found} & {oid for oid, _ in exact}) / k)
            threshold = exact[-1][1] + 1e-3
            by_distance.append(sum(1.0 - score <= threshold for _, score in found) / k)
        print(
            f"ef_search {ef:>4}   top-{k} p50 {statistics.median(timings):6.1f} ms   "
            f"p95 {percentile(timings, 95):6.1f} ms   recall@{k} by id {np.mean(by_id):.3f} (min {min(by_id):.1f})"
            f"   by distance {np.mean(by_distance):.3f} (min {min(by_distance):.1f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 64, 100, 200])
    parser.add_argument("--distribution", choices=["mixture", "clustered", "uniform"], default="mixture")
    parser.add_argument("--ef-construction", type=int, help="build the index with this ef_construction instead")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (and its vectors) afterwards")
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    centres = real_base() if args.distribution == "mixture" else unit(rng.standard_normal((2000, EMBEDDING_DIMENSIONS)))
    data = synthetic(args.vectors, args.distribution, rng, centres)
    queries = synthetic(args.queries, args.distribution, rng, centres)
    print(f"load average at start: {os.getloadavg()}")
    tenant = workspace()
    try:
        with tenant_context(tenant):
            index = index_definition(args.ef_construction)
            copied, indexed = load(data, index)
            print(
                f"{args.vectors} {args.distribution} vectors: COPY {copied:.1f} s, HNSW build {indexed:.1f} s "
                f"(m={index.m}, ef_construction={index.ef_construction})"
            )
            print(f"query plan uses ai_embedding_hnsw: {plan_uses_index(queries[0])}")
            started = time.perf_counter()
            truth = [exact_top(query, 10) for query in queries]
            exact_ms = (time.perf_counter() - started) * 1000 / len(queries)
            print(f"exact search (sequential scan): {exact_ms:.1f} ms per query on average")
            measure(queries, truth, args.ef, 10)
            started = time.perf_counter()
            texts = ["customer cannot log in after password reset", "invoice charged twice", "parcel not delivered"]
            for text in texts:
                vectors.similar(source=SOURCE, text=text, k=10)
            per_text = (time.perf_counter() - started) * 1000 / len(texts)
            print(f"search by text (embed + search): {per_text:.1f} ms per query")
    finally:
        if args.keep:
            print(f'kept workspace "{SLUG}" (schema {tenant.schema_name})')
        else:
            connection.set_schema_to_public()
            tenant.delete(force_drop=True)
            print(f'deleted workspace "{SLUG}" (schema dropped)')
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
