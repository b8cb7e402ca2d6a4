"""Worker-level tracking: which worker did what, how busy each one was, where errors came from.

Every worker has a name (``"Geocode-W0"``) and an id (0 to workers - 1) that status
events carry. Items fed as ``{"id": ..., "value": ...}`` dicts keep their own ids, so
events and results speak of ``"order-17"`` rather than of position 17. This script:

* logs which worker took which order (a ``StatusTracker`` callback);
* reports each worker's load and busy time from ``pipeline.get_worker_metrics()``;
* counts failures by worker from the tracker's ``failed`` events.

    python examples/worker_tracking.py
"""

from __future__ import annotations

import asyncio
from collections import Counter

from antflow import Pipeline, Stage, StatusEvent, StatusTracker

ORDERS = [{"id": f"order-{n}", "value": f"{n} Main Street"} for n in range(24)]


async def geocode(address: str) -> tuple[float, float]:
    number = int(address.split()[0])
    await asyncio.sleep(0.002 * (1 + number % 3))
    if number % 10 == 9:
        raise LookupError(f"no such address: {address}")
    return (48.0 + number / 100, 2.0 + number / 100)


async def main() -> None:
    taken_by: dict[str, str] = {}
    failures_by_worker: Counter[str] = Counter()

    def on_status_change(event: StatusEvent) -> None:
        if event.status == "in_progress" and event.worker is not None:
            taken_by[event.item_id] = event.worker
        elif event.status == "failed" and event.worker is not None:
            failures_by_worker[event.worker] += 1

    tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(
        stages=[Stage("Geocode", workers=3, tasks=[geocode], task_attempts=1)],
        status_tracker=tracker,
    )
    print("workers:", pipeline.get_worker_names())
    results = await pipeline.run(ORDERS)

    print(f"{len(results)} geocoded, {len(pipeline.failures)} failed")
    for order in ("order-0", "order-1", "order-2"):
        print(f"  {order} was handled by {taken_by[order]}")

    print("load per worker:")
    for name, metrics in pipeline.get_worker_metrics().items():
        handled = metrics.items_processed + metrics.items_failed
        average = metrics.total_processing_time / max(1, handled)
        print(
            f"  {name}: {metrics.items_processed} done, {metrics.items_failed} failed, "
            f"busy {metrics.total_processing_time * 1000:.0f} ms, "
            f"{average * 1000:.1f} ms per item"
        )
    print("failures by worker:", dict(sorted(failures_by_worker.items())))
    idle = [s.worker for s in pipeline.get_worker_states().values() if s.status == "idle"]
    print(f"idle after the run: {len(idle)} of {len(pipeline.get_worker_states())} workers")


if __name__ == "__main__":
    asyncio.run(main())
