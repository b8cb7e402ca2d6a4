"""Ray scaling: a CPU-bound stage on antflow-ray against the asyncio runtime's threads.

A plain-function task that burns about 5 ms of pure-Python CPU per item runs over 2,000
items three ways, in one run on this machine: the asyncio ``Pipeline`` (plain functions
run in threads, so the GIL keeps the stage on one core), and ``RayPipeline`` with one and
with two actors, each a process holding a CPU and running the function inline
(``sync_tasks="inline"``) with two calls queued, as the guide recommends for CPU-bound
stages. The figures are speed-ups over the asyncio runtime, by wall time from the first
item fed to the last one ended (actors are created before the clock starts). A second
measure runs no-op tasks through RayPipeline and gives its cost per item, against the
asyncio runtime's: what a task must cost before moving it to Ray pays.

This machine is shared: other processes take cores for seconds at a time, which a
multi-process contender feels more than a single-threaded one. So ``--repeat`` rounds run
the three contenders back to back (alternating the order), each round gives its ratios,
and the figures are the medians over rounds (`benchlib.paired_ratio`).

Ray starts once (``num_cpus`` = this machine's CPUs) and is shut down at the end.

    python bench/ray_scaling.py [--items 2000] [--task-ms 5] [--noop-items 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import ray
from antflow_core import Pipeline, Stage
from antflow_ray import RayPipeline, RayStageOptions
from benchlib import Row, noop, paired_ratio, print_table

WORKERS = 4


def burn(loops: int) -> int:
    """Pure-Python CPU work: ``loops`` additions (holds the GIL throughout)."""
    total = 0
    for i in range(loops):
        total += i
    return total


def loops_for(seconds: float) -> int:
    """How many `burn` loops take ``seconds`` on this machine (best of a few tries)."""
    trial = 200_000
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        burn(trial)
        best = min(best, time.perf_counter() - started)
    return max(1, int(trial * seconds / best))


async def timed(pipeline: Pipeline | RayPipeline, items: list[Any]) -> float:
    """Seconds from the first item fed to the last one ended (workers already started)."""
    await pipeline.start()
    started = time.perf_counter()
    await pipeline.feed(items)
    await pipeline.join()
    elapsed = time.perf_counter() - started
    if pipeline.get_stats().items_processed != len(items):
        raise RuntimeError(f"{pipeline!r} did not process all {len(items)} items")
    return elapsed


def _cpu_stage(workers: int = WORKERS) -> Stage:
    return Stage("Burn", workers=workers, tasks=[burn])


def _on_ray(actors: int) -> RayPipeline:
    return RayPipeline(
        [_cpu_stage(2 * actors)],  # two calls per actor: the next one is always queued
        collect_results=False,
        options={"Burn": RayStageOptions(actors=actors, num_cpus=1, sync_tasks="inline")},
    )


async def compare(items: int, task_ms: float, noop_items: int, repeat: int = 1) -> list[Row]:
    loops = loops_for(task_ms / 1000)
    work = [loops] * items
    contenders: dict[str, Callable[[], Pipeline | RayPipeline]] = {
        "asyncio threads": lambda: Pipeline([_cpu_stage()], collect_results=False),
        "ray, 1 actor": lambda: _on_ray(1),
        "ray, 2 actors": lambda: _on_ray(2),
    }
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(repeat):
        for name in names if round_ % 2 == 0 else reversed(names):
            rates[name].append(items / await timed(contenders[name](), work))
    speedups = {name: paired_ratio(rates, name, "asyncio threads") for name in names}
    seconds = {name: items / statistics.median(rates[name]) for name in names}
    rounds = f", median of {repeat} rounds" if repeat > 1 else ""
    rows = [
        Row(
            "ray scaling",
            f"CPU-bound stage ({items} x {task_ms:g} ms): speed-up over asyncio threads{rounds}",
            ", ".join(f"{n}: {speedups[n]:.2f}x ({seconds[n]:.1f} s)" for n in names),
            "2 actors >= 1.6x",
            speedups["ray, 2 actors"] >= 1.6,
        )
    ]
    noop_stage = Stage("Noop", workers=WORKERS, tasks=[noop])
    on_ray = await timed(RayPipeline([noop_stage], collect_results=False), list(range(noop_items)))
    on_asyncio = await timed(Pipeline([noop_stage], collect_results=False), list(range(noop_items)))
    per_item_ms = on_ray / noop_items * 1000
    rows.append(
        Row(
            "ray scaling",
            f"no-op tasks ({noop_items}, {WORKERS} workers, 1 actor): ms per item",
            f"ray: {per_item_ms:.2f} ms, asyncio: {on_asyncio / noop_items * 1000:.3f} ms; "
            f"2 actors pay off above ~{2 * per_item_ms:.1f} ms of CPU per task",
        )
    )
    return rows


def measure(items: int, task_ms: float, noop_items: int, repeat: int = 1) -> list[Row]:
    """Start Ray on this machine's CPUs, run the comparison, and shut Ray down."""
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
    try:
        return asyncio.run(compare(items, task_ms, noop_items, repeat))
    finally:
        ray.shutdown()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--task-ms", type=float, default=5.0)
    parser.add_argument("--noop-items", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_table(measure(args.items, args.task_ms, args.noop_items, args.repeat))


if __name__ == "__main__":
    main()
