"""Pipeline.quick() and the fluent builder with antflow 0.10's retries= and default workers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from antflow.pipeline import Pipeline


def always_failing() -> tuple[Counter[int], Callable[[int], Awaitable[int]]]:
    calls: Counter[int] = Counter()

    async def task(x: int) -> int:
        calls[x] += 1
        raise ConnectionError("down")

    return calls, task


async def test_quick_retries_is_the_number_of_attempts() -> None:
    calls, task = always_failing()
    assert await Pipeline.quick(range(2), task, workers=2, retries=2, task_wait_seconds=0) == []
    assert calls == {0: 2, 1: 2}
    calls, task = always_failing()
    await Pipeline.quick([0], task, task_wait_seconds=0)  # the default, retries=3
    assert calls == {0: 3}


async def test_add_accepts_retries_with_the_same_meaning() -> None:
    calls, task = always_failing()

    async def save(x: int) -> int:
        return x

    pipeline = (
        Pipeline.create()
        .add("Fetch", task, retries=4, task_wait_seconds=0)
        .add("Save", save)
        .build()
    )
    await pipeline.run([1])
    assert calls == {1: 4}
    assert [(f.stage, f.attempts) for f in pipeline.failures] == [("Fetch", 4)]


async def test_add_defaults_to_five_workers_and_accepts_a_list_of_tasks() -> None:
    async def fetch(x: int) -> str:
        return f"data {x}"

    async def measure(text: str) -> int:
        return len(text)

    pipeline = Pipeline.create().add("Fetch", [fetch, measure]).build()
    assert pipeline.get_worker_names() == {"Fetch": [f"Fetch-W{i}" for i in range(5)]}
    assert [r.value for r in await pipeline.run([1, 22])] == [6, 7]
