"""Batches: a stage that calls its task with 100 values against one that calls it per value.

The task stands for a bulk insert or a batch embedding: each call costs a fixed time (an
``asyncio.sleep``, a round trip), whatever the number of values it carries. Both
pipelines push the same items through one stage of the same workers; the batch stage
makes a hundredth of the calls. The figure is the wall-clock ratio of the two runs in the
same process (the batch run's speed-up), and the calls each made.

    python bench/batches.py [--items 20000] [--cost 0.001] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from antflow_core import Pipeline, Stage
from benchlib import Row, print_table

WORKERS = 4
BATCH = 100


async def timed(items: int, cost: float, batch: bool) -> tuple[float, int]:
    """Seconds to run ``items`` items through the stage, and the task calls it made."""
    calls = 0

    async def insert_one(value: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(cost)
        return value

    async def insert_many(values: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(cost)
        return values

    options: dict[str, Any] = {"batch_size": BATCH} if batch else {}
    stage = Stage(
        "Insert", workers=WORKERS, tasks=[insert_many if batch else insert_one], **options
    )
    pipeline = Pipeline([stage], collect_results=False)
    started = time.perf_counter()
    await pipeline.run(range(items))
    elapsed = time.perf_counter() - started
    if pipeline.get_stats().items_processed != items:
        raise RuntimeError(f"unexpected stats: {pipeline.get_stats()}")
    return elapsed, calls


async def compare(items: int, cost: float, repeat: int) -> list[Row]:
    """Best times of the per-item and the batch runs, as rows."""
    single = batched = float("inf")
    single_calls = batched_calls = 0
    for _ in range(repeat):
        seconds, single_calls = await timed(items, cost, batch=False)
        single = min(single, seconds)
        seconds, batched_calls = await timed(items, cost, batch=True)
        batched = min(batched, seconds)
    label = f"batches ({BATCH} per call)"
    return [
        Row(
            label,
            f"per-item time / batch time ({items:,} items, {cost * 1000:g} ms a call)",
            f"{single / batched:.1f}x ({single:.2f} s vs {batched:.3f} s)",
        ),
        Row(label, "task calls, per item / batch", f"{single_calls:,} / {batched_calls:,}"),
    ]


def measure(items: int, repeat: int, cost: float = 0.001) -> list[Row]:
    """Run the comparison on a fresh event loop."""
    return asyncio.run(compare(items, cost, repeat))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--cost", type=float, default=0.001, help="seconds per task call")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.items} items, 1 stage x {WORKERS} workers, best of {args.repeat}")
    print_table(measure(args.items, args.repeat, args.cost))


if __name__ == "__main__":
    main()
