"""Shared pieces of the benchmarks: the hand-written baseline, timing, and result rows.

Every benchmark measures antflow against a baseline in the same process and run, and
reports a ratio, so the machine's speed cancels out. Runs alternate and the best of
``repeat`` rounds counts, so one slow moment does not decide a figure.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

STAGES = 3
WORKERS = 10


async def noop(x: Any) -> Any:
    """The task every throughput benchmark runs: returns its input."""
    return x


async def handwritten(n: int, stages: int = STAGES, workers: int = WORKERS) -> int:
    """The baseline: a bounded asyncio.Queue per stage, workers looping get -> call -> put."""
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(maxsize=workers * 10) for _ in range(stages)]
    results: list[Any] = []
    done = asyncio.Event()

    async def worker(index: int) -> None:
        queue = queues[index]
        following = queues[index + 1] if index + 1 < stages else None
        while True:
            item = await queue.get()
            value = await noop(item)
            if following is None:
                results.append(value)
                if len(results) == n:
                    done.set()
            else:
                await following.put(value)

    tasks = [asyncio.create_task(worker(i)) for i in range(stages) for _ in range(workers)]
    for i in range(n):
        await queues[0].put(i)
    await done.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(results)


async def rate(fn: Callable[[int], Awaitable[int]], n: int) -> float:
    """Items per second of one run of ``fn`` over ``n`` items (it must return ``n``).

    Time is the process's CPU time: everything here runs on one thread, so it equals wall
    time on an idle machine, and a neighbour that takes the CPU away for a moment (this is
    a shared virtual machine) does not count against whichever contender was running.
    """
    gc.collect()
    started = time.process_time()
    got = await fn(n)
    elapsed = time.process_time() - started
    if got != n:
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} returned {got} of {n} items")
    return n / elapsed


async def round_rates(
    contenders: Mapping[str, Callable[[int], Awaitable[int]]], n: int, repeat: int
) -> dict[str, list[float]]:
    """Items/s of each contender in each of ``repeat`` rounds; one round runs each once.

    Rounds alternate the order of the contenders. This machine is shared and has slow and
    fast phases lasting seconds: comparing contenders within a round (`paired_ratio`)
    cancels the phase, where comparing their best rounds would not.
    """
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(repeat):
        for name in names if round_ % 2 == 0 else reversed(names):
            rates[name].append(await rate(contenders[name], n))
    return rates


def paired_ratio(rates: Mapping[str, list[float]], contender: str, baseline: str) -> float:
    """The median over rounds of ``contender``'s rate divided by ``baseline``'s."""
    return statistics.median(
        mine / theirs for mine, theirs in zip(rates[contender], rates[baseline], strict=True)
    )


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    benchmark: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        """The row as table cells."""
        verdict = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.benchmark, self.measure, self.value, self.target, verdict]


def print_table(rows: list[Row]) -> None:
    """Print rows as a Markdown table."""
    header = ["benchmark", "measure", "value", "target", "met"]
    cells = [header] + [row.cells() for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
