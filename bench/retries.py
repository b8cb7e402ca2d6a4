"""Retries: what a retried item costs next to one that succeeds at once, per strategy.

10,000 items through one stage of 10 workers. In the "ok" run every call succeeds; in
the "retry" run each item's first call fails once (task_wait_seconds=0), so every item
is retried once. The extra time divided by the items is the cost of one retry.

    python bench/retries.py [--items 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from antflow_core import Pipeline, Stage
from benchlib import Row, print_table


async def timed(items: int, strategy: Any, fail_first: bool) -> float:
    """Seconds to run ``items`` items; each fails its first call if ``fail_first``."""
    failed: set[int] = set()

    async def task(x: int) -> int:
        if fail_first and x not in failed:
            failed.add(x)
            raise ConnectionError("transient")
        return x

    pipeline = Pipeline(
        [Stage("S", workers=10, tasks=[task], retry=strategy, task_wait_seconds=0)],
        collect_results=False,
    )
    started = time.perf_counter()
    await pipeline.run(range(items))
    elapsed = time.perf_counter() - started
    stats = pipeline.get_stats()
    if stats.items_processed != items or stats.stage_stats["S"].retried_items != (
        items if fail_first else 0
    ):
        raise RuntimeError(f"unexpected stats: {stats}")
    return elapsed


async def compare(items: int, repeat: int) -> list[Row]:
    """Best times of ok and retry runs for both strategies, as rows."""
    rows = []
    for strategy in ("per_task", "per_stage"):
        ok = retry = float("inf")
        for _ in range(repeat):
            ok = min(ok, await timed(items, strategy, False))
            retry = min(retry, await timed(items, strategy, True))
        per_ok = ok / items * 1e6
        per_retry = (retry - ok) / items * 1e6
        rows.append(
            Row(
                f"retries ({strategy})",
                "cost of one retry / one successful item",
                f"{per_retry / per_ok:.1f}x ({per_retry:.1f} us vs {per_ok:.1f} us)",
            )
        )
    return rows


def measure(items: int, repeat: int) -> list[Row]:
    """Run the comparison on a fresh event loop."""
    return asyncio.run(compare(items, repeat))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_table(measure(args.items, args.repeat))


if __name__ == "__main__":
    main()
