"""Throughput: antflow against a hand-written asyncio pipeline, in one process.

Both push N items through 3 stages of 10 workers whose task is a no-op coroutine.
The baseline is what a user would write by hand: an ``asyncio.Queue`` per stage
bounded at ``workers * 10`` and workers looping get -> call -> put.

    python bench/throughput.py [--items 100000] [--repeat 3] [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from antflow_core import Pipeline, Stage
from benchlib import (
    STAGES,
    WORKERS,
    Row,
    handwritten,
    noop,
    paired_ratio,
    print_table,
    round_rates,
)


def stages() -> list[Stage]:
    """3 stages of 10 workers running the no-op task."""
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop]) for i in range(STAGES)]


async def antflow_run(n: int) -> int:
    """Antflow's Pipeline.run over the items."""
    return len(await Pipeline(stages()).run(range(n)))


async def antflow_stream(n: int) -> int:
    """Antflow's Pipeline.stream, consuming every result."""
    count = 0
    async for _ in Pipeline(stages(), collect_results=False).stream(range(n)):
        count += 1
    return count


def run_loop(
    main: Coroutine[Any, Any, dict[str, list[float]]], loop: str
) -> dict[str, list[float]]:
    """Run ``main`` on the standard event loop or on uvloop."""
    if loop == "uvloop":
        import uvloop

        result: dict[str, list[float]] = uvloop.run(main)
        return result
    return asyncio.run(main)


def measure(items: int, repeat: int, loop: str = "asyncio") -> list[Row]:
    """Rates of the baseline, run() and stream(), and their paired ratios, as table rows."""
    contenders: dict[str, Callable[[int], Awaitable[int]]] = {
        "baseline": handwritten,
        "run": antflow_run,
        "stream": antflow_stream,
    }
    rates = run_loop(round_rates(contenders, items, repeat), loop)
    run_ratio = paired_ratio(rates, "run", "baseline")
    stream_ratio = paired_ratio(rates, "stream", "run")
    label = f"throughput ({loop})"
    return [
        Row(label, "hand-written baseline (best round)", f"{max(rates['baseline']):,.0f} items/s"),
        Row(
            label,
            "run() / baseline (median of rounds)",
            f"{run_ratio:.2f} ({max(rates['run']):,.0f}/s)",
            ">= 0.50",
            run_ratio >= 0.5,
        ),
        Row(
            label,
            "stream() / run() (median of rounds)",
            f"{stream_ratio:.2f} ({max(rates['stream']):,.0f}/s)",
            ">= 0.90",
            stream_ratio >= 0.9,
        ),
    ]


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    print(f"{args.items} items, {STAGES} stages x {WORKERS} workers, best of {args.repeat}")
    print_table(measure(args.items, args.repeat, args.loop))


if __name__ == "__main__":
    main()
