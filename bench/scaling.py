"""Scaling: the cost per hop stays flat as stages and workers grow.

A hop is one item passing one stage. For 1 to 8 stages (10 workers each) and for 1 to
1,000 workers per stage (3 stages), it measures microseconds per hop. Flat means the
largest configuration costs at most twice the per-hop time of the smallest.

    python bench/scaling.py [--items 50000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from antflow_core import Pipeline, Stage
from benchlib import Row, noop, print_table


async def per_hop_us(items: int, stages: int, workers: int, repeat: int) -> float:
    """Best microseconds per item per stage."""
    best = float("inf")
    for _ in range(repeat):
        pipeline = Pipeline(
            [Stage(f"S{i}", workers=workers, tasks=[noop]) for i in range(stages)],
            collect_results=False,
        )
        started = time.perf_counter()
        await pipeline.run(range(items))
        best = min(best, time.perf_counter() - started)
    return best / (items * stages) * 1e6


async def compare(items: int, repeat: int) -> list[Row]:
    """Per-hop cost by number of stages and by workers per stage, as rows."""
    rows = []
    by_stages = {s: await per_hop_us(items, s, 10, repeat) for s in (1, 2, 4, 8)}
    by_workers = {w: await per_hop_us(items, 3, w, repeat) for w in (1, 10, 100, 1000)}
    for label, series in (("stages (10 workers)", by_stages), ("workers (3 stages)", by_workers)):
        cells = ", ".join(f"{k}: {v:.2f}" for k, v in series.items())
        spread = max(series.values()) / min(series.values())
        rows.append(
            Row(
                "scaling",
                f"us per hop by {label}",
                f"{cells} (max/min {spread:.2f})",
                "max/min <= 2.0",
                spread <= 2.0,
            )
        )
    return rows


def measure(items: int, repeat: int) -> list[Row]:
    """Run the comparison on a fresh event loop."""
    return asyncio.run(compare(items, repeat))


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print_table(measure(args.items, args.repeat))


if __name__ == "__main__":
    main()
