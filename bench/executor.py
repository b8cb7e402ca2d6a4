"""AsyncExecutor.map against the loop people write by hand: asyncio.Semaphore + gather.

100,000 calls of a no-op coroutine, 20 at a time. The baseline starts one task per call,
each waiting on a shared ``asyncio.Semaphore(20)``, and gathers them; the executor runs
``await executor.map(noop, items)`` (and the same with ``async for``) on 20 workers.
Both return every result in input order. The figure is the executor's rate divided by
the baseline's, measured in the same rounds (target: at least 0.5).

    python bench/executor.py [--items 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from antflow_core.runtime.executor import AsyncExecutor
from benchlib import Row, noop, paired_ratio, print_table, round_rates

LIMIT = 20


async def semaphore_gather(n: int) -> int:
    """The baseline: a task per call, a shared semaphore, gather in order."""
    semaphore = asyncio.Semaphore(LIMIT)

    async def guarded(x: int) -> Any:
        async with semaphore:
            return await noop(x)

    results = await asyncio.gather(*(guarded(x) for x in range(n)))
    return len(results)


async def executor_map(n: int) -> int:
    """``await executor.map(noop, range(n))`` on LIMIT workers."""
    async with AsyncExecutor(max_workers=LIMIT) as executor:
        results = await executor.map(noop, range(n))
    return len(results)


async def executor_map_iterated(n: int) -> int:
    """``async for`` over ``executor.map(noop, range(n))`` on LIMIT workers."""
    count = 0
    async with AsyncExecutor(max_workers=LIMIT) as executor:
        async for _ in executor.map(noop, range(n)):
            count += 1
    return count


async def compare(items: int, repeat: int) -> list[Row]:
    """The rates of the three contenders in alternating rounds, as rows."""
    rates = await round_rates(
        {
            "baseline": semaphore_gather,
            "map": executor_map,
            "map_iterated": executor_map_iterated,
        },
        items,
        repeat,
    )
    baseline = max(rates["baseline"])
    rows = [
        Row(
            "executor (map)",
            "Semaphore + gather",
            f"{baseline:,.0f} calls/s",
        )
    ]
    for name, label in (("map", "await map()"), ("map_iterated", "async for in map()")):
        ratio = paired_ratio(rates, name, "baseline")
        rows.append(
            Row(
                "executor (map)",
                f"{label} / Semaphore + gather",
                f"{ratio:.2f} ({max(rates[name]):,.0f} calls/s)",
                ">= 0.5",
                ratio >= 0.5,
            )
        )
    return rows


def measure(items: int, repeat: int) -> list[Row]:
    """Run the comparison on a fresh event loop."""
    return asyncio.run(compare(items, repeat))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print_table(measure(args.items, args.repeat))


if __name__ == "__main__":
    main()
