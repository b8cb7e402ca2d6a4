"""Feeding as antflow 0.10 allows it: before start(), positional target_stage, 'not found'."""

from __future__ import annotations

import asyncio

import pytest
from antflow.exceptions import PipelineError
from antflow.pipeline import Pipeline, Stage


async def double(x: int) -> int:
    return x * 2


async def add_one(x: int) -> int:
    return x + 1


async def test_items_fed_before_start_are_processed_once_started() -> None:
    pipeline = Pipeline(stages=[Stage("Double", 2, [double]), Stage("Add", 1, [add_one])])
    await pipeline.feed([1, 2, 3])  # queued: the workers are not running yet
    await pipeline.start()
    await pipeline.feed([4])
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [3, 5, 7, 9]


async def test_run_processes_and_returns_what_was_fed_before_it() -> None:
    pipeline = Pipeline(stages=[Stage("Double", 2, [double])])
    await pipeline.feed([10])
    results = await pipeline.run([1, 2])
    assert [r.value for r in results] == [20, 2, 4]
    assert pipeline.get_stats().items_processed == 3


async def test_a_feeder_task_created_before_start_feeds_more_than_the_queue_holds() -> None:
    # More items than the queue holds (capacity 2): the feeder waits, as 0.10's did.
    pipeline = Pipeline(stages=[Stage("Double", 1, [double], queue_capacity=2)])
    async with asyncio.timeout(5):
        feeder = asyncio.create_task(pipeline.feed(range(6)))
        await pipeline.start()
        await feeder
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [0, 2, 4, 6, 8, 10]


async def test_target_stage_by_position_and_an_unknown_one_is_not_found() -> None:
    pipeline = Pipeline(stages=[Stage("Double", 1, [double]), Stage("Add", 1, [add_one])])
    await pipeline.start()
    await pipeline.feed([5], "Add")  # feed(items, target_stage)
    with pytest.raises(PipelineError, match="not found"):
        await pipeline.feed([1], "Multiply")
    with pytest.raises(ValueError, match="not found"):
        await pipeline.feed([1], target_stage="Multiply")
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [6]
