"""Rate limits: what a limit that never binds costs, and how exactly a binding one holds.

1. **Overhead**: the throughput benchmark's pipeline (3 stages of 10 workers, a no-op
   task) with ``call_rate`` set on every stage so high that it never binds, against the
   same pipeline without it, paired round by round (target: >= 0.90).
2. **Accuracy**: a stage of 20 workers with ``call_rate=50, call_rate_period=0.5`` (100
   calls a second) and more items than it can start in the measured span; the calls
   that start in the first ``seconds`` seconds, divided by ``seconds``, against the
   configured rate (target: within 2%). Its most starts in any window of 0.5 s are
   counted too (the limit: 50).

    python bench/rate_limits.py [--items 100000] [--repeat 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
from collections.abc import Awaitable, Callable
from typing import Any

from antflow_core import Pipeline, Stage
from benchlib import STAGES, WORKERS, Row, noop, paired_ratio, print_table, round_rates

NEVER_BINDS = 10**9
"""Calls per second that no run here comes near."""

CALLS, PERIOD = 50, 0.5
"""The binding limit of the accuracy run: 100 calls a second."""


def stages(limited: bool) -> list[Stage]:
    """The throughput benchmark's stages, with a never-binding call_rate if ``limited``."""
    rate: dict[str, Any] = {"call_rate": NEVER_BINDS, "call_rate_period": 1.0} if limited else {}
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop], **rate) for i in range(STAGES)]


async def unlimited(n: int) -> int:
    """Pipeline.run without a rate limit."""
    return len(await Pipeline(stages(False)).run(range(n)))


async def never_binding(n: int) -> int:
    """Pipeline.run with a call_rate on every stage that never binds."""
    return len(await Pipeline(stages(True)).run(range(n)))


def most_in_any_window(starts: list[float], period: float) -> int:
    """The most starts in any half-open window [t, t + period)."""
    return max(
        (bisect.bisect_left(starts, s + period) - i for i, s in enumerate(starts)), default=0
    )


async def achieved(seconds: float) -> tuple[float, int]:
    """Calls started per second over ``seconds`` under the binding limit, and its fullest window."""
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def call(x: int) -> int:
        starts.append(loop.time())
        return x

    stage = Stage("Api", workers=20, tasks=[call], call_rate=CALLS, call_rate_period=PERIOD)
    items = int(seconds * CALLS / PERIOD) + 2 * CALLS  # more than can start in the span
    await Pipeline([stage], collect_results=False).run(range(items))
    first = starts[0]
    within = sum(1 for at in starts if at - first < seconds)
    return within / seconds, most_in_any_window(starts, PERIOD)


def measure(items: int, repeat: int, seconds: float) -> list[Row]:
    """Both measurements, as table rows."""
    contenders: dict[str, Callable[[int], Awaitable[int]]] = {
        "unlimited": unlimited,
        "never_binding": never_binding,
    }
    rates = asyncio.run(round_rates(contenders, items, repeat))
    ratio = paired_ratio(rates, "never_binding", "unlimited")
    rate, fullest = asyncio.run(achieved(seconds))
    configured = CALLS / PERIOD
    accuracy = rate / configured
    return [
        Row(
            "rate limits",
            "never-binding call_rate / none (median of rounds)",
            f"{ratio:.2f} ({max(rates['never_binding']):,.0f}/s)",
            ">= 0.90",
            ratio >= 0.9,
        ),
        Row(
            "rate limits",
            f"achieved / configured rate over {seconds:g}s ({configured:g}/s)",
            f"{accuracy:.3f} ({rate:.1f}/s)",
            "0.98 - 1.02",
            abs(accuracy - 1) <= 0.02,
        ),
        Row(
            "rate limits",
            f"most starts in any {PERIOD}s window (limit {CALLS})",
            str(fullest),
            f"<= {CALLS}",
            fullest <= CALLS,
        ),
    ]


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print_table(measure(args.items, args.repeat, args.seconds))


if __name__ == "__main__":
    main()
