"""Progress overhead: throughput of ``run(items)`` with and without a live display, in one run.

The same pipeline as ``bench/throughput.py`` (3 stages of 10 workers, a no-op task)
runs N items plainly, with ``progress=True``, and with displays drawing on a terminal
console (the escape-code path, written to memory so that the terminal's speed does not
count). Rounds alternate (in one order, then in the other) and the best of each is
compared with the plain run, so a slow moment of the machine does not decide a ratio.

``progress=True`` writes to stderr: run the benchmark in a terminal to measure the live
bar there; redirected, it measures the plain-line path. The display reads one snapshot
per refresh interval and never reacts to events, so its cost does not grow with the
item rate; ``--refresh`` shortens the interval to make that cost visible.

    python bench/progress_overhead.py [--items 100000] [--repeat 5] [--refresh 0.01]

Besides the ratios (which carry the machine's noise, a few percent), it prints the time
spent inside the display's own calls, which is the display's cost without the noise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from antflow_core import DashboardSnapshot, Pipeline, ProgressDisplay, Stage
from antflow_rich import FullDashboard, ProgressBarDisplay
from benchlib import STAGES, WORKERS, Row, noop
from rich.console import Console


def stages() -> list[Stage]:
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop]) for i in range(STAGES)]


def terminal_console() -> Console:
    """A console that draws as on a 120x50 terminal, into memory."""
    return Console(file=io.StringIO(), force_terminal=True, width=120, height=50)


class Counted:
    """Wraps a display; counts its updates and the time spent inside it."""

    def __init__(self, inner: ProgressDisplay) -> None:
        self.inner = inner
        self.updates = 0
        self.seconds = 0.0

    @property
    def refresh_interval(self) -> float:
        return self.inner.refresh_interval

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        started = time.perf_counter()
        self.inner.start(total, stage_names)
        self.seconds += time.perf_counter() - started

    def update(self, snapshot: DashboardSnapshot) -> None:
        started = time.perf_counter()
        self.updates += 1
        self.inner.update(snapshot)
        self.seconds += time.perf_counter() - started

    def finish(self, snapshot: DashboardSnapshot) -> None:
        started = time.perf_counter()
        self.inner.finish(snapshot)
        self.seconds += time.perf_counter() - started


@dataclass
class Outcome:
    """One run: items returned, display updates, seconds spent inside the display."""

    items: int
    updates: int | None = None
    display_seconds: float | None = None


Contender = Callable[[int], Awaitable[Outcome]]


def contenders(refresh: float | None) -> dict[str, Contender]:
    """The runs to compare, each over ``n`` items."""

    async def plain(n: int) -> Outcome:
        return Outcome(len(await Pipeline(stages()).run(range(n))))

    async def progress_true(n: int) -> Outcome:
        results = await Pipeline(stages()).run(range(n), progress=True, refresh_interval=refresh)
        return Outcome(len(results))

    async def on_terminal(n: int, display: Counted) -> Outcome:
        results = await Pipeline(stages()).run(range(n), dashboard=display)
        return Outcome(len(results), display.updates, display.seconds)

    async def bar_on_terminal(n: int) -> Outcome:
        bar = ProgressBarDisplay(console=terminal_console(), refresh_interval=refresh)
        return await on_terminal(n, Counted(bar))

    async def full_on_terminal(n: int) -> Outcome:
        full = FullDashboard(console=terminal_console(), refresh_interval=refresh)
        return await on_terminal(n, Counted(full))

    return {
        "plain run": plain,
        "progress=True": progress_true,
        "bar, terminal": bar_on_terminal,
        "full, terminal": full_on_terminal,
    }


@dataclass
class Best:
    """The best run of a contender, and what its display cost in that run."""

    rate: float = 0.0
    seconds: float = 0.0
    updates: int | None = None
    display_seconds: float | None = None


async def compare(runs: dict[str, Contender], n: int, repeat: int) -> dict[str, Best]:
    """Best items/s of each contender over ``repeat`` alternating rounds."""
    best = {name: Best() for name in runs}
    names = list(runs)
    for round_ in range(repeat):
        # alternate the order too, so that no contender always runs after the same one
        for name in names if round_ % 2 == 0 else reversed(names):
            fn = runs[name]
            started = time.perf_counter()
            outcome = await fn(n)
            elapsed = time.perf_counter() - started
            if outcome.items != n:
                raise RuntimeError(f"{name} returned {outcome.items} of {n} items")
            if n / elapsed > best[name].rate:
                best[name] = Best(n / elapsed, elapsed, outcome.updates, outcome.display_seconds)
    return best


def measure(items: int, repeat: int) -> list[Row]:
    """Display overhead as suite rows: throughput with each display against none."""
    best = asyncio.run(compare(contenders(None), items, repeat))
    base = best["plain run"].rate
    rows = []
    for name in ("progress=True", "bar, terminal", "full, terminal"):
        run = best[name]
        value = f"{run.rate / base:.2f}"
        if run.display_seconds is not None:
            value += f" ({run.display_seconds / run.seconds:.1%} of the run inside the display)"
        rows.append(
            Row(
                "progress overhead",
                f"{name} / plain run()",
                value,
                ">= 0.90",
                run.rate / base >= 0.9,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--refresh", type=float, default=None, help="refresh interval (default: each display's)"
    )
    args = parser.parse_args()
    best = asyncio.run(compare(contenders(args.refresh), args.items, args.repeat))
    base = best["plain run"].rate
    refresh = "each display's default" if args.refresh is None else f"{args.refresh}s"
    print(
        f"{args.items} items, {STAGES} stages x {WORKERS} workers, best of {args.repeat}, "
        f"refresh interval: {refresh}"
    )
    for name, run in best.items():
        line = f"  {name:15s} {run.rate:10,.0f} items/s   ratio {run.rate / base:5.3f}"
        if run.updates is not None and run.display_seconds is not None:
            share = run.display_seconds / run.seconds
            line += (
                f"   {run.updates:4d} updates, {run.display_seconds * 1000:6.1f} ms "
                f"inside the display ({share:.1%} of the run)"
            )
        print(line)


if __name__ == "__main__":
    main()
