"""Backpressure: a fast stage cannot drown a slow one, and feed() waits for room.

Read is fast (4 workers); Write is slow (2 workers). Every stage's input queue holds at
most ``workers * 10`` items by default, so when Write falls behind, its queue fills up,
Read's workers wait to hand items over, Read's own queue fills up, and finally
``feed()`` waits: the number of items inside the pipeline stays bounded, whatever the
number of items fed. The same run with unbounded queues (``queue_capacity=0``) lets
everything pile up in front of Write.

    python examples/backpressure.py
"""

from __future__ import annotations

import asyncio

from antflow import Pipeline, Stage

ITEMS = 300


async def run(queue_capacity: int | None) -> tuple[int, int]:
    """Run ITEMS items; return the most items in flight and the longest Write queue seen."""
    most_in_flight = longest_write_queue = 0

    async def read(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def write(n: int) -> int:
        nonlocal most_in_flight, longest_write_queue
        stats = pipeline.get_stats()
        most_in_flight = max(most_in_flight, stats.items_in_flight)
        longest_write_queue = max(longest_write_queue, stats.queue_sizes["Write"])
        await asyncio.sleep(0.001)
        return n

    pipeline = Pipeline(
        stages=[
            Stage("Read", workers=4, tasks=[read], queue_capacity=queue_capacity),
            Stage("Write", workers=2, tasks=[write], queue_capacity=queue_capacity),
        ]
    )
    results = await pipeline.run(range(ITEMS))
    assert len(results) == ITEMS
    return most_in_flight, longest_write_queue


async def main() -> None:
    in_flight, queue = await run(None)
    print(
        f"default limits (Read 40, Write 20): at most {in_flight} items in flight, "
        f"Write's queue at most {queue}"
    )
    in_flight, queue = await run(0)
    print(f"unbounded queues: at most {in_flight} items in flight, Write's queue at most {queue}")


if __name__ == "__main__":
    asyncio.run(main())
