"""Fixed log-scale duration buckets: mergeable percentiles from rollup counters.

Bucket 0 holds durations under a minute; bucket b ≥ 1 holds [2^((b-1)/4), 2^(b/4)) minutes: four buckets per doubling,
so an estimate interpolated inside its bucket is within ~9% of the true value. A year is bucket 77.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

PER_DOUBLING = 4


def bucket_of(seconds: int) -> int:
    minutes = seconds / 60
    if minutes < 1:
        return 0
    return 1 + int(math.log2(minutes) * PER_DOUBLING)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The bucket's range in minutes, [low, high)."""
    if bucket <= 0:
        return 0.0, 1.0
    return 2 ** ((bucket - 1) / PER_DOUBLING), 2 ** (bucket / PER_DOUBLING)


def percentile(counts: Iterable[tuple[int, int]], share: float) -> float | None:
    """The `share` (0–1) percentile in minutes of a histogram given as (bucket, count) pairs; None when empty.
    Linear inside the bucket that holds the rank."""
    ordered = sorted((bucket, count) for bucket, count in counts if count > 0)
    total = sum(count for _, count in ordered)
    if not total:
        return None
    rank = share * total
    seen = 0
    for bucket, count in ordered:
        if seen + count >= rank:
            low, high = bucket_bounds(bucket)
            return low + (high - low) * max(0.0, rank - seen) / count
        seen += count
    return bucket_bounds(ordered[-1][0])[1]
