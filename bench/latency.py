"""Latency: an urgent item fed behind a full queue is taken by the next free worker.

One stage of W workers, each holding an item on a gate; 1,000 priority-100 items wait
in the queue. A priority-1 item is fed last, then the gates open one at a time. The
measure is how many queued items a worker takes before the urgent one: the target is
none, so it goes to the first worker that frees up.

    python bench/latency.py [--workers 4] [--queued 1000]
"""

from __future__ import annotations

import argparse
import asyncio

from antflow_core import ItemFinished, Pipeline, Stage, StatusEvent, TaskEvent
from benchlib import Row, print_table


class Starts:
    """Records the order in which items start, and wakes when W have started."""

    observes_task_events = False

    def __init__(self, workers: int) -> None:
        self.order: list[object] = []
        self.workers = workers
        self.all_busy = asyncio.Event()

    def on_status_event(self, event: StatusEvent) -> None:
        if event.status == "in_progress":
            self.order.append(event.item_id)
            if len(self.order) == self.workers:
                self.all_busy.set()

    def on_task_event(self, event: TaskEvent) -> None:
        return None

    def on_item_finished(self, event: ItemFinished) -> None:
        return None


async def overtaken(workers: int, queued: int) -> int:
    """How many normal items started after the urgent one was fed and before it started."""
    release = asyncio.Event()
    starts = Starts(workers)

    async def held(x: object) -> object:
        if isinstance(x, int) and x < workers:
            await release.wait()
        return x

    pipeline = Pipeline(
        [Stage("S", workers=workers, tasks=[held], queue_capacity=0)], status_tracker=starts
    )
    await pipeline.start()
    await pipeline.feed(range(workers))
    await starts.all_busy.wait()
    await pipeline.feed(range(workers, workers + queued))
    fed_at = len(starts.order)
    await pipeline.feed([{"id": "urgent", "value": "urgent"}], priority=1)
    release.set()
    await pipeline.join()
    return starts.order.index("urgent") - fed_at


def measure(workers: int, queued: int) -> list[Row]:
    """The number of items that overtook the urgent one, as a row."""
    count = asyncio.run(overtaken(workers, queued))
    return [
        Row(
            "latency (priority)",
            f"items taken before a priority-1 item fed behind {queued:,} queued "
            f"({workers} workers)",
            str(count),
            "0 (the next free worker takes it)",
            count == 0,
        )
    ]


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--queued", type=int, default=1000)
    args = parser.parse_args()
    print_table(measure(args.workers, args.queued))


if __name__ == "__main__":
    main()
