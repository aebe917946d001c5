"""Orchestration overhead of an AI call answered from the cache: p50/p95 and where the time goes.

A workspace "bench-ai" gets one OpenAI provider pointed at the local OpenAI fake (ai/tests/fakes); a first
`generate` call is answered by it and cached, then the same call is timed `--calls` times. Everything a real
call does runs: the settings snapshot, the chain, the cache round trip to Redis, the ledger row in PostgreSQL.
The breakdown times those parts alone, so the remainder is our own Python.

Run by hand while the embedded servers run (`make run` or `make services`):
    .venv/bin/python bench/ai_cache_hit.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from ai import cache as ai_cache  # noqa: E402
from ai import facade, services  # noqa: E402
from ai.models import AIRun, ProviderConfig  # noqa: E402
from ai.selectors import ai_settings_get  # noqa: E402
from ai.tests.fakes.openai_fake import OpenAIFake  # noqa: E402
from bench.common import bench_workspace  # noqa: E402
from tenants.models import Tenant  # noqa: E402

SLUG = "bench-ai"
CONTEXT = {
    "customer_message": "Our agents cannot open tickets since this morning: 502 Bad Gateway after 30 s.",
    "customer_name": "Dana Lee",
    "agent_name": "Sam",
    "notes": "Maintenance window ran last night.",
    "workspace_name": "Bench AI",
}


def workspace() -> Tenant:
    tenant = bench_workspace(SLUG, "Bench AI")
    return tenant


def timed(function: Callable[[], object], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"  {label:<44} p50 {statistics.median(ordered):6.3f} ms   p95 {p95:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    tenant = workspace()
    with OpenAIFake() as fake, tenant_context(tenant):
        ProviderConfig.objects.all().delete()
        services.provider_config_create(
            provider="openai", label="OpenAI (fake)", api_key=fake.api_key, base_url=fake.base_url
        )
        first = facade.generate("reply_draft", CONTEXT)
        assert first.meta.provider == "openai" and not first.meta.cached, first.meta
        for _ in range(50):  # warm connections and code paths
            facade.generate("reply_draft", CONTEXT)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.calls} calls each")
        calls = timed(lambda: facade.generate("reply_draft", CONTEXT), args.calls)
        hits = facade.generate("reply_draft", CONTEXT)
        assert hits.meta.cached, "the timed calls must be cache hits"
        line("generate() answered from the cache", calls)
        print("  of which, timed alone:")
        line("  settings snapshot (ai_settings_get)", timed(ai_settings_get, args.calls))
        line("  one Redis round trip (cache get_many)", timed(lambda: ai_cache.read("reply_draft", "x"), args.calls))
        line("  ledger row (AIRun insert)", timed(lambda: services.ai_run_record(**ledger_fields()), args.calls))
        print(f"  fake server requests: {len(fake.requests)} (1 expected: every timed call was a cache hit)")
        AIRun.objects.all().delete()
        cache.clear() if os.environ.get("BENCH_CLEAR_CACHE") else None


def ledger_fields() -> dict:
    return {
        "feature": "reply_draft",
        "operation": "generate",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt_key": "reply_draft",
        "prompt_version": "v1",
        "cached": True,
        "status": AIRun.Status.OK,
    }


if __name__ == "__main__":
    main()
