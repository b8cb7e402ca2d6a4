"""``sync_tasks="inline"``: plain functions run on a threaded actor, one call at a time."""

from __future__ import annotations

import asyncio
from typing import Any

import ray
from antflow_core import Pipeline, Stage
from antflow_ray import RayPipeline, RayStageOptions

INLINE = RayStageOptions(sync_tasks="inline")


def shared_ledger() -> Any:
    """The session's `Ledger` actor, from inside a task (Ray's handles are untyped)."""
    return ray.get_actor("ledger")


def add(a: int, b: int) -> int:
    """Counts how many calls run at once; the odd-numbered calls of item (3, 4) fail."""
    ledger = shared_ledger()
    calls = ray.get(ledger.enter.remote(f"add-{a}-{b}", "add"))
    try:
        if (a, b) == (3, 4) and calls % 2 == 1:
            raise ValueError("an odd-numbered call of (3, 4) fails")
        return a + b
    finally:
        ray.get(ledger.leave.remote("add"))


async def _square_later(x: int) -> int:
    await asyncio.sleep(0)
    return x * x


def square_later(x: int) -> Any:
    """A plain function that returns an awaitable: the actor runs it to completion."""
    return _square_later(x)


def is_big(x: int) -> bool:
    return x > 8


async def test_an_inline_stage_gives_what_the_asyncio_runtime_gives(ledger: Any) -> None:
    def stages() -> list[Stage]:
        return [
            Stage("Add", workers=4, tasks=[add], unpack_args=True, task_wait_seconds=0),
            Stage("Square", workers=2, tasks=[square_later], skip_if=is_big),
        ]

    pairs = [(n, n + 1) for n in range(8)]
    pipeline = RayPipeline(stages(), options={"Add": INLINE, "Square": INLINE})
    results = await pipeline.run(pairs)
    snapshot = await ledger.snapshot.remote()
    reference = await Pipeline(stages()).run(pairs)

    assert [(r.id, r.value) for r in results] == [(r.id, r.value) for r in reference]
    assert [r.value for r in results] == [1, 9, 25, 49, 9, 11, 13, 15]
    assert snapshot["calls"]["add-3-4"] == 2  # failed once, retried
    assert snapshot["most"]["add"] == 1  # four workers, one actor: one call at a time
    stats = pipeline.get_stats()
    assert stats.stage_stats["Add"].retried_items == 1
    assert stats.stage_stats["Square"].skipped_items == 4


def blocked_once(n: int) -> int:
    """The first call of item 0 waits for a gate that is never opened."""
    ledger = shared_ledger()
    calls = ray.get(ledger.enter.remote(f"work-{n}"))
    if n == 0 and calls == 1:
        ray.get(ledger.gate.remote("never"))
    return n * 10


async def test_a_killed_inline_actor_s_items_are_retried_none_lost_none_duplicated(
    ledger: Any,
) -> None:
    stage = Stage("Work", workers=2, tasks=[blocked_once], task_attempts=2, task_wait_seconds=0)
    pipeline = RayPipeline([stage], options={"Work": INLINE})
    await pipeline.start()
    await pipeline.feed(range(6))
    await ledger.wait_calls.remote(1)  # item 0 runs; item 1 waits behind it on the actor
    [actor] = pipeline.get_actors("Work")
    ray.kill(actor)
    await pipeline.join()

    assert [(r.id, r.value) for r in pipeline.results] == [(n, n * 10) for n in range(6)]
    assert pipeline.failures == []
    calls = (await ledger.snapshot.remote())["calls"]
    assert calls == {"work-0": 2, **{f"work-{n}": 1 for n in range(1, 6)}}
    assert pipeline.get_stats().items_in_flight == 0
