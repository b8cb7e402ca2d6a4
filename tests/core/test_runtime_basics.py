"""The asyncio Pipeline: the guide's basic behaviours."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from antflow_core import Pipeline, PipelineResult, Stage


async def double(x: int) -> int:
    return x * 2


async def describe(x: int) -> str:
    return f"Result: {x}"


async def test_run_returns_results_in_input_order_whatever_the_completion_order() -> None:
    gates = {i: asyncio.Event() for i in range(6)}

    async def released_in_reverse(x: int) -> int:
        if x < 5:
            await gates[x + 1].wait()
        gates[x].set()
        return x

    pipeline = Pipeline(stages=[Stage("Wait", workers=6, tasks=[released_in_reverse])])
    results = await pipeline.run(range(6))
    assert [r.value for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r.id for r in results] == [0, 1, 2, 3, 4, 5]


async def test_items_flow_through_every_stage_and_task_in_order() -> None:
    pipeline = Pipeline(
        stages=[
            Stage("Double", workers=3, tasks=[double, double]),
            Stage("Format", workers=2, tasks=[describe]),
        ]
    )
    results = await pipeline.run(range(5))
    assert results == [PipelineResult(i, f"Result: {i * 4}", i) for i in range(5)]
    assert pipeline.results == results
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight) == (5, 0, 0)
    assert stats.stage_stats["Double"].completed_items == 5
    assert stats.stage_stats["Format"].completed_items == 5


async def test_dict_items_give_their_own_ids() -> None:
    async def greet(person: dict[str, Any]) -> str:
        return f"hello {person['name']}"

    pipeline = Pipeline(stages=[Stage("Greet", workers=2, tasks=[greet])])
    results = await pipeline.run(
        [{"id": "user_1", "value": {"name": "Alice"}}, {"id": "user_2", "value": {"name": "Bob"}}]
    )
    assert [(r.id, r.value) for r in results] == [
        ("user_1", "hello Alice"),
        ("user_2", "hello Bob"),
    ]


async def test_a_failing_item_ends_as_a_failure_and_never_blocks_the_others() -> None:
    async def fragile(x: int) -> int:
        if x == 3:
            raise ValueError("three is broken")
        return x

    pipeline = Pipeline(
        stages=[Stage("S", workers=2, tasks=[fragile], task_attempts=2, task_wait_seconds=0)]
    )
    results = await pipeline.run(range(6))
    assert [r.value for r in results] == [0, 1, 2, 4, 5]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage, failed.attempts) == (3, "S", 2)
    assert isinstance(failed.error, ValueError)
    assert pipeline.get_stats().items_failed == 1


@pytest.mark.parametrize("workers", [1, 4])
async def test_plain_functions_run_in_a_worker_thread(workers: int) -> None:
    import threading

    loop_thread = threading.get_ident()
    seen: list[int] = []

    def blocking(x: int) -> int:
        seen.append(threading.get_ident())
        return x + 1

    pipeline = Pipeline(stages=[Stage("Sync", workers=workers, tasks=[blocking])])
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == [1, 2, 3, 4]
    assert seen
    assert loop_thread not in seen
