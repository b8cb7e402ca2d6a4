"""Tracker overhead: antflow's throughput with a StatusTracker attached against none.

Every contender pushes N items through 3 stages of 10 workers whose task is a no-op
coroutine, the worst case for a tracker: the tasks cost nothing, so what the tracker
adds is all there is to see. Contenders:

* ``baseline``: a hand-written asyncio pipeline (a bounded ``asyncio.Queue`` per stage,
  workers looping get -> call -> put), as in ``bench/throughput.py``;
* ``no tracker``: ``Pipeline.run`` alone;
* ``no-op observer``: an observer that implements the core's fast hooks and does
  nothing: the cost of the core's observed path alone, the floor of any tracker;
* ``tracker``: with ``StatusTracker()`` (default settings: full history), then one
  ``get_stats()`` call, inside the timing (the guide's use: run, then query);
* ``tracker, bounded``: ``StatusTracker(history=1, keep_finished=False)``, the setting
  for runs of millions of items;
* ``tracker + callback``: with a plain ``on_status_change`` callback (which makes the
  tracker build a ``StatusEvent`` per status change);
* ``tracker + observer``: ``combine_observers(StatusTracker(), NoopObserver())``, what
  ``Pipeline(status_tracker=tracker, telemetry=...)`` builds: the cost of sharing the
  pipeline's observer slot.

Each round runs every contender once (alternating the order); a ratio is the median
over the rounds of the two contenders' ratio within a round, so the machine's slow and
fast phases cancel. Time is the CPU time of the process (everything here runs on one
thread). With ``--memory``, it
also measures the memory a tracker holds per item in each retention setting
(tracemalloc, after a run).

    python bench/tracker_overhead.py [--items 100000] [--repeat 5] [--memory]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc
from collections.abc import Awaitable, Callable, Mapping

from antflow import (
    ItemFinished,
    Pipeline,
    Stage,
    StatusEvent,
    StatusTracker,
    TaskEvent,
    combine_observers,
)
from benchlib import STAGES, WORKERS, Row, handwritten, noop, paired_ratio, round_rates

baseline = handwritten


def stages() -> list[Stage]:
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop]) for i in range(STAGES)]


async def without_tracker(n: int) -> int:
    return len(await Pipeline(stages()).run(range(n)))


class NoopObserver:
    """Observes everything and does nothing: what the core's observed path costs alone."""

    observes_task_events = False

    def record_status(self, *fields: object) -> None:
        return None

    def on_status_event(self, event: StatusEvent) -> None:
        return None

    def on_task_event(self, event: TaskEvent) -> None:
        return None

    def on_item_finished(self, event: ItemFinished) -> None:
        return None


async def with_noop_observer(n: int) -> int:
    return len(await Pipeline(stages(), status_tracker=NoopObserver()).run(range(n)))


async def tracked(n: int, tracker: StatusTracker) -> int:
    """Run with ``tracker`` attached, then query it, and check it saw every item."""
    results = await Pipeline(stages(), status_tracker=tracker).run(range(n))
    completed = tracker.get_stats()["completed"]
    if completed != n:
        raise RuntimeError(f"the tracker counted {completed} completed items of {n}")
    return len(results)


async def with_tracker(n: int) -> int:
    return await tracked(n, StatusTracker())


async def with_bounded_tracker(n: int) -> int:
    return await tracked(n, StatusTracker(history=1, keep_finished=False))


async def with_callback(n: int) -> int:
    seen = 0

    def on_status_change(event: StatusEvent) -> None:
        nonlocal seen
        seen += 1

    got = await tracked(n, StatusTracker(on_status_change=on_status_change))
    if seen != 3 * STAGES * n:
        raise RuntimeError(f"on_status_change saw {seen} events, expected {3 * STAGES * n}")
    return got


async def with_tracker_and_observer(n: int) -> int:
    tracker = StatusTracker()
    observer = combine_observers(tracker, NoopObserver())
    results = await Pipeline(stages(), status_tracker=observer).run(range(n))
    if tracker.get_stats()["completed"] != n:
        raise RuntimeError("the combined tracker missed items")
    return len(results)


CONTENDERS: Mapping[str, Callable[[int], Awaitable[int]]] = {
    "baseline": baseline,
    "no tracker": without_tracker,
    "no-op observer": with_noop_observer,
    "tracker": with_tracker,
    "tracker, bounded": with_bounded_tracker,
    "tracker + callback": with_callback,
    "tracker + observer": with_tracker_and_observer,
}


async def retained_bytes(n: int, make: Callable[[], StatusTracker]) -> float:
    """Bytes per item a tracker still holds after a run of ``n`` items (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracker = make()
        pipeline = Pipeline(stages(), collect_results=False, status_tracker=tracker)
        await pipeline.run(range(n))
        tracker.get_stats()  # builds the index, which a query would build anyway
        del pipeline
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if tracker.get_stats()["completed"] != n:
        raise RuntimeError("the tracker lost items")
    return held / n


def measure(items: int, repeat: int) -> list[Row]:
    """Tracker overhead as suite rows: median ratios of rounds, against none and the baseline."""
    rates = asyncio.run(round_rates(CONTENDERS, items, repeat))
    alone = paired_ratio(rates, "tracker", "no tracker")
    base = paired_ratio(rates, "tracker", "baseline")
    return [
        Row(
            "tracker overhead",
            "StatusTracker() / no tracker (median of rounds)",
            f"{alone:.2f} ({max(rates['tracker']):,.0f}/s)",
            ">= 0.50",
            alone >= 0.5,
        ),
        Row(
            "tracker overhead",
            "StatusTracker() / baseline (median of rounds)",
            f"{base:.2f}",
            ">= 0.25",
            base >= 0.25,
        ),
        Row(
            "tracker overhead",
            "with an on_status_change callback / no tracker",
            f"{paired_ratio(rates, 'tracker + callback', 'no tracker'):.2f}",
        ),
        Row(
            "tracker overhead",
            "combined with a no-op observer / tracker alone",
            f"{paired_ratio(rates, 'tracker + observer', 'tracker'):.2f}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="also measure bytes per item")
    args = parser.parse_args()

    rates = asyncio.run(round_rates(CONTENDERS, args.items, args.repeat))
    print(
        f"{args.items} items, {STAGES} stages x {WORKERS} workers, {args.repeat} rounds, "
        "CPU time; ratios are medians of the rounds' ratios"
    )
    print(f"  {'':20s} {'items/s':>12s}   {'vs baseline':>11s}   {'vs no tracker':>13s}")
    for name, values in rates.items():
        print(
            f"  {name:20s} {max(values):12,.0f}   "
            f"{paired_ratio(rates, name, 'baseline'):11.2f}   "
            f"{paired_ratio(rates, name, 'no tracker'):13.2f}"
        )

    if args.memory:
        n = min(args.items, 50_000)
        print(f"memory held by the tracker after a run of {n} items (bytes per item):")
        settings: Mapping[str, Callable[[], StatusTracker]] = {
            "history='full' (default)": StatusTracker,
            "history=1": lambda: StatusTracker(history=1),
            "history=1, keep_finished=False": lambda: StatusTracker(history=1, keep_finished=False),
        }
        for label, make in settings.items():
            print(f"  {label:32s} {asyncio.run(retained_bytes(n, make)):8.0f}")


if __name__ == "__main__":
    main()
