"""Batch stages: tasks called with lists of values, flushed when full, on a timer, at the end.

What a user relies on: a batch is called when it is full, when its first item has
waited ``batch_timeout``, or when the input has ended (``run()``, ``stream()``,
``join()``); one result per value comes back in order (a wrong count fails the batch's
items with a clear error); a failed call is retried as a batch and then fails each item;
stats and the tracker count items, not batches; a shutdown lists a partial batch as
unfinished.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from antflow_core import Pipeline, Stage
from antflow_core.errors import BatchResultError, StageValidationError
from antflow_tracker import StatusTracker


class Recorder:
    """A batch task that records the batches it is called with."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.called = asyncio.Event()

    async def __call__(self, values: list[int]) -> list[int]:
        self.batches.append(list(values))
        self.called.set()
        await asyncio.sleep(0)
        return [v * 10 for v in values]


async def echo(value: Any) -> Any:
    return value


async def test_batches_are_flushed_when_full_and_at_the_end_of_run() -> None:
    embed = Recorder()
    tracker = StatusTracker()
    pipeline = Pipeline(
        [Stage("Embed", workers=2, tasks=[embed], batch_size=4)], status_tracker=tracker
    )
    async with asyncio.timeout(5):
        results = await pipeline.run(range(10))

    assert [r.value for r in results] == [v * 10 for v in range(10)]
    assert [r.id for r in results] == list(range(10))
    assert embed.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    stats = pipeline.get_stats()
    assert stats.items_processed == 10  # items, not batches
    assert stats.stage_stats["Embed"].completed_items == 10
    assert tracker.get_stats()["completed"] == 10
    assert [e.status for e in tracker.get_history(9)] == ["queued", "in_progress", "completed"]
    metrics = pipeline.get_worker_metrics()
    assert sum(m.items_processed for m in metrics.values()) == 10


async def test_a_partial_batch_is_flushed_after_batch_timeout() -> None:
    embed = Recorder()
    pipeline = Pipeline([Stage("Embed", tasks=[embed], batch_size=10, batch_timeout=0.02)])
    await pipeline.start()
    await pipeline.feed([1, 2])
    async with asyncio.timeout(5):
        await embed.called.wait()  # without join(): the timer flushed it
    assert embed.batches == [[1, 2]]
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [10, 20]


async def test_without_a_timeout_a_partial_batch_waits_for_join() -> None:
    embed = Recorder()
    pipeline = Pipeline([Stage("Embed", tasks=[embed], batch_size=10)])
    await pipeline.start()
    await pipeline.feed([1, 2, 3])
    for _ in range(50):
        await asyncio.sleep(0)  # the worker runs as much as it wants: more may be fed
    assert embed.batches == []
    stats = pipeline.get_stats().stage_stats["Embed"]
    assert (stats.pending_items, stats.in_progress_items) == (3, 0)  # collected, not called
    await pipeline.feed([4])
    async with asyncio.timeout(5):
        await pipeline.join()  # nobody feeds any more: the input has ended
    assert embed.batches == [[1, 2, 3, 4]]


async def test_stream_flushes_the_last_batch_when_its_iterable_is_fed() -> None:
    embed = Recorder()
    pipeline = Pipeline([Stage("Embed", tasks=[embed], batch_size=4)])
    async with asyncio.timeout(5):
        values = [r.value async for r in pipeline.stream(range(6))]
    assert sorted(values) == [v * 10 for v in range(6)]
    assert embed.batches == [[0, 1, 2, 3], [4, 5]]


async def test_batch_stages_one_after_another_flush_at_the_end() -> None:
    first, second = Recorder(), Recorder()

    async def halve(values: list[int]) -> list[int]:
        return [v // 10 for v in values]

    pipeline = Pipeline(
        [
            Stage("A", workers=2, tasks=[first], batch_size=3),
            Stage("B", workers=2, tasks=[halve, second], batch_size=5),
        ]
    )
    async with asyncio.timeout(5):
        results = await pipeline.run(range(7))
    assert [r.value for r in results] == [v * 10 for v in range(7)]
    assert first.batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert sorted(v for batch in second.batches for v in batch) == list(range(7))
    assert all(len(batch) <= 5 for batch in second.batches)


async def test_a_wrong_number_of_results_fails_every_item_of_the_batch_clearly() -> None:
    calls = 0

    async def lossy(values: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        return values[:-1]  # one result short

    pipeline = Pipeline([Stage("Insert", tasks=[lossy], batch_size=3, task_wait_seconds=0)])
    async with asyncio.timeout(5):
        results = await pipeline.run(range(3))
    assert results == []
    assert calls == 1  # not retried: calling again would not fix the task
    assert [f.id for f in pipeline.failures] == [0, 1, 2]
    error = pipeline.failures[0].error
    assert isinstance(error, BatchResultError)
    assert str(error) == (
        "batch task 'lossy' of stage 'Insert' returned 2 results for a batch of 3 values: "
        "return one result per value, in the same order"
    )


async def test_a_batch_task_that_returns_a_set_fails_its_items_instead_of_mixing_them_up() -> None:
    # A set has no order: its results cannot be matched to the values they belong to.
    async def normalized(names: list[str]) -> set[str]:
        return {name.strip().lower() for name in names}

    pipeline = Pipeline([Stage("Names", tasks=[normalized], batch_size=3)])
    async with asyncio.timeout(5):
        results = await pipeline.run([" Bob", "alice ", "Carol"])
    assert results == []
    assert [f.error_type for f in pipeline.failures] == ["BatchResultError"] * 3
    assert "returned set for a batch of 3 values: a set has no order" in (
        pipeline.failures[0].error_message
    )


async def test_a_batch_task_that_returns_no_list_fails_its_items() -> None:
    async def summed(values: list[int]) -> int:
        return sum(values)

    pipeline = Pipeline([Stage("Sum", tasks=[summed], batch_size=2, task_wait_seconds=0)])
    async with asyncio.timeout(5):
        await pipeline.run([1, 2])
    assert "returned int for a batch of 2 values" in pipeline.failures[0].error_message


@pytest.mark.parametrize("strategy", ["per_task", "per_stage"])
async def test_a_failed_batch_call_is_retried_as_a_batch_then_fails_each_item(
    strategy: str,
) -> None:
    seen: list[list[int]] = []

    async def insert(values: list[int]) -> list[int]:
        seen.append(list(values))
        if 2 in values:
            raise ConnectionError("database unavailable")
        if len(seen) == 1:
            raise TimeoutError("slow")  # the first call fails once, then succeeds
        return values

    tracker = StatusTracker()
    options: dict[str, Any] = {"retry": strategy, "task_wait_seconds": 0}
    options.update({"task_attempts": 3} if strategy == "per_task" else {"stage_attempts": 3})
    stage = Stage("Insert", workers=1, tasks=[insert], batch_size=2, **options)
    pipeline = Pipeline([stage], status_tracker=tracker)
    async with asyncio.timeout(5):
        results = await pipeline.run(range(4))

    assert [r.value for r in results] == [0, 1]
    assert seen == [[0, 1], [0, 1], [2, 3], [2, 3], [2, 3]]
    failed = {f.id: (f.error_type, f.attempts) for f in pipeline.failures}
    assert failed == {2: ("ConnectionError", 3), 3: ("ConnectionError", 3)}
    stats = pipeline.get_stats().stage_stats["Insert"]
    assert (stats.completed_items, stats.failed_items) == (2, 2)
    assert stats.retried_items == 2 + 2 * 2  # one per item of each batch retried
    assert [e.status for e in tracker.get_history(0)][:3] == ["queued", "in_progress", "retrying"]
    assert tracker.get_stats()["failed"] == 2


async def test_skipped_items_bypass_the_batch_and_plain_functions_batch_too() -> None:
    def double(values: list[int]) -> list[int]:  # a plain function: runs in a thread
        return [v * 2 for v in values]

    pipeline = Pipeline(
        [Stage("Double", tasks=[double], batch_size=3, skip_if=lambda v: v % 2 == 1)]
    )
    async with asyncio.timeout(5):
        results = await pipeline.run(range(6))
    assert [r.value for r in results] == [0, 1, 4, 3, 8, 5]
    assert pipeline.get_stats().stage_stats["Double"].skipped_items == 3


async def test_workers_call_batches_concurrently_while_one_collects() -> None:
    running = 0
    peak = 0
    both = asyncio.Event()

    async def slow(values: list[int]) -> list[int]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            both.set()
        async with asyncio.timeout(5):
            await both.wait()
        running -= 1
        return values

    pipeline = Pipeline([Stage("Slow", workers=3, tasks=[slow], batch_size=2)])
    async with asyncio.timeout(5):
        results = await pipeline.run(range(4))
    assert len(results) == 4
    assert peak == 2


async def test_shutdown_lists_the_items_of_a_partial_batch_as_unfinished() -> None:
    embed = Recorder()
    pipeline = Pipeline([Stage("Embed", tasks=[embed], batch_size=5)])
    await pipeline.start()
    await pipeline.feed(["a", "b"])
    for _ in range(10):
        await asyncio.sleep(0)
    await pipeline.shutdown()
    assert [p.value for p in pipeline.unfinished_items] == ["a", "b"]
    assert embed.batches == []
    stats = pipeline.get_stats()
    assert (stats.items_unfinished, stats.items_in_flight) == (2, 0)


async def test_a_batch_task_that_shuts_the_pipeline_down_leaves_its_items_unfinished() -> None:
    # Its worker then finds the next stage closed with the batch in hand.
    stopped = asyncio.Event()

    async def stop(values: list[str]) -> list[str]:
        await pipeline.shutdown()
        stopped.set()
        return values

    pipeline = Pipeline([Stage("Stop", tasks=[stop], batch_size=3), Stage("Next", tasks=[echo])])
    await pipeline.start()
    await pipeline.feed(["a", "b", "c"])
    async with asyncio.timeout(5):
        await stopped.wait()
        await pipeline.shutdown()  # returns once the worker that called it has stopped
    assert sorted(p.value for p in pipeline.unfinished_items) == ["a", "b", "c"]
    stats = pipeline.get_stats()
    assert (stats.items_unfinished, stats.items_in_flight) == (3, 0)
    assert pipeline._run_state.in_flight == 0  # the count join() waits on agrees


async def test_a_batch_of_one_is_a_list_of_one_value() -> None:
    calls: Counter[int] = Counter()

    async def one(values: list[int]) -> tuple[int, ...]:
        calls[len(values)] += 1
        return tuple(values)

    pipeline = Pipeline([Stage("One", workers=2, tasks=[one], batch_size=1)])
    async with asyncio.timeout(5):
        assert len(await pipeline.run(range(3))) == 3
    assert calls == {1: 3}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be None (one value per call) or an integer"),
        ({"batch_size": 2.5}, "batch_size must be None"),
        ({"batch_timeout": 1.0}, "batch_timeout is set but batch_size is not"),
        ({"batch_size": 2, "batch_timeout": 0}, "batch_timeout must be None"),
        ({"batch_size": 2, "fan_out": True}, "fan_out and batch_size cannot be combined"),
        ({"batch_size": 2, "unpack_args": True}, "unpack_args cannot be combined"),
        ({"fan_out": 1}, "fan_out must be True or False"),
        ({"batch_size": 2, "pull": True}, "pull and batch_size cannot be combined"),
    ],
)
def test_bad_batch_and_fan_out_options_are_refused(options: dict[str, Any], message: str) -> None:
    async def task(values: list[int]) -> list[int]:
        return values

    with pytest.raises(StageValidationError) as raised:
        Stage("S", tasks=[task], **options)
    assert message in str(raised.value)


async def test_children_of_a_fan_out_are_batched_and_the_last_batch_waits_for_them() -> None:
    embed = Recorder()

    async def rows(n: int) -> list[int]:
        await asyncio.sleep(0)
        return list(range(n * 100, n * 100 + 3))

    pipeline = Pipeline(
        [
            Stage("Rows", workers=2, tasks=[rows], fan_out=True),
            Stage("Embed", workers=2, tasks=[embed], batch_size=4),
        ]
    )
    async with asyncio.timeout(5):
        results = await pipeline.run(range(3))
    assert sorted(r.value for r in results) == sorted(
        v * 10 for n in range(3) for v in range(n * 100, n * 100 + 3)
    )
    assert sorted(len(batch) for batch in embed.batches) == [1, 4, 4]
