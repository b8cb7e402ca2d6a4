"""Throughput: antflow against a hand-written asyncio pipeline, in one process.

Both push N items through 3 stages of 10 workers whose task is a no-op coroutine.
The baseline is what a user would write by hand: an ``asyncio.Queue`` per stage
bounded at ``workers * 10`` and workers looping get -> call -> put. Runs alternate
(baseline, antflow, baseline, ...) and the best of each is compared, so a slow
moment of the machine does not decide the ratio.

    python bench/throughput.py [--items 100000] [--repeat 3] [--tracker]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from antflow_core import Pipeline, Stage

STAGES = 3
WORKERS = 10


async def noop(x: Any) -> Any:
    return x


async def baseline(n: int) -> int:
    """The hand-written pipeline: Queue per stage, workers get -> call -> put."""
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(maxsize=WORKERS * 10) for _ in range(STAGES)]
    results: list[Any] = []
    done = asyncio.Event()

    async def worker(index: int) -> None:
        queue = queues[index]
        following = queues[index + 1] if index + 1 < STAGES else None
        while True:
            item = await queue.get()
            value = await noop(item)
            if following is None:
                results.append(value)
                if len(results) == n:
                    done.set()
            else:
                await following.put(value)

    tasks = [asyncio.create_task(worker(i)) for i in range(STAGES) for _ in range(WORKERS)]
    for i in range(n):
        await queues[0].put(i)
    await done.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(results)


def stages() -> list[Stage]:
    return [Stage(f"S{i}", workers=WORKERS, tasks=[noop]) for i in range(STAGES)]


async def antflow_run(n: int) -> int:
    """Antflow's Pipeline.run over the same items."""
    return len(await Pipeline(stages()).run(range(n)))


async def antflow_stream(n: int) -> int:
    """Antflow's Pipeline.stream, consuming every result."""
    count = 0
    async for _ in Pipeline(stages(), collect_results=False).stream(range(n)):
        count += 1
    return count


async def rate(fn: Callable[[int], Awaitable[int]], n: int) -> float:
    """Items per second of one run of ``fn`` over ``n`` items."""
    started = time.perf_counter()
    got = await fn(n)
    elapsed = time.perf_counter() - started
    if got != n:
        raise RuntimeError(f"{fn.__name__} returned {got} of {n} items")
    return n / elapsed


async def compare(
    contenders: Mapping[str, Callable[[int], Awaitable[int]]], n: int, repeat: int
) -> dict[str, float]:
    """Best items/s of each contender over ``repeat`` alternating rounds."""
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(repeat):
        for name, fn in contenders.items():
            best[name] = max(best[name], await rate(fn, n))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    contenders = {"baseline": baseline, "run": antflow_run, "stream": antflow_stream}
    best = asyncio.run(compare(contenders, args.items, args.repeat))
    base = best["baseline"]
    print(f"{args.items} items, {STAGES} stages x {WORKERS} workers, best of {args.repeat}")
    for name, value in best.items():
        print(f"  {name:10s} {value:12,.0f} items/s   ratio {value / base:5.2f}")


if __name__ == "__main__":
    main()
