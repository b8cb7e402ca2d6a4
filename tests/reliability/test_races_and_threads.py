"""Edge cases found by review: concurrent shutdown, crashes, threads, limits, attempts."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from antflow_core import (
    FeedError,
    Pipeline,
    PipelineCrashedError,
    PipelineStateError,
    Stage,
    StatusEvent,
    TaskEvent,
)


async def identity(x: Any) -> Any:
    return x


class Events:
    """An observer that records task events and wakes a test at a status."""

    def __init__(self, wake_on: str = "in_progress") -> None:
        self.tasks: list[TaskEvent] = []
        self.wake_on = wake_on
        self.reached = asyncio.Event()

    def on_status_event(self, event: StatusEvent) -> None:
        if event.status == self.wake_on:
            self.reached.set()

    def on_task_event(self, event: TaskEvent) -> None:
        self.tasks.append(event)

    def on_item_finished(self, event: Any) -> None:
        return None


class Failures(Events):
    """Wakes the test once ``count`` items failed."""

    def __init__(self, count: int) -> None:
        super().__init__("failed")
        self.count = count
        self.seen = 0

    def on_status_event(self, event: StatusEvent) -> None:
        if event.status == "failed":
            self.seen += 1
            if self.seen >= self.count:
                self.reached.set()


def held_stage(workers: int = 1) -> tuple[Stage, asyncio.Event]:
    forever = asyncio.Event()

    async def held(x: int) -> int:
        await forever.wait()
        return x

    return Stage("Held", workers=workers, tasks=[held]), forever


# ------------------------------------------------------- shutdown from another task


async def test_shutdown_while_run_waits_makes_run_raise_not_return_partial_results() -> None:
    stage, _ = held_stage()
    events = Events()
    pipeline = Pipeline(stages=[stage], status_tracker=events)
    runner = asyncio.create_task(pipeline.run(range(5)))
    await events.reached.wait()
    await pipeline.shutdown()
    with pytest.raises(PipelineStateError, match="shut down while join"):
        await runner
    assert [p.id for p in pipeline.unfinished_items] == [0, 1, 2, 3, 4]


async def test_shutdown_while_a_stream_is_consumed_tells_the_consumer() -> None:
    stage, _ = held_stage()
    events = Events()
    pipeline = Pipeline(stages=[stage], status_tracker=events)

    async def consume() -> list[Any]:
        return [r async for r in pipeline.stream(range(3))]

    consumer = asyncio.create_task(consume())
    await events.reached.wait()
    await pipeline.shutdown()
    with pytest.raises(PipelineStateError, match="shut down while streaming"):
        await consumer
    assert not consumer.cancelled()


async def test_feed_is_refused_while_join_stops_the_workers() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    await pipeline.start()
    await pipeline.feed([1])
    stopping = asyncio.Event()
    original = pipeline._stop_workers

    async def slow_stop() -> None:
        stopping.set()
        await asyncio.sleep(0)
        await original()

    pipeline._stop_workers = slow_stop  # type: ignore[method-assign]
    joiner = asyncio.create_task(pipeline.join())
    await stopping.wait()
    with pytest.raises(PipelineStateError, match=r"while join\(\) stops the workers"):
        await pipeline.feed([2])
    await joiner
    assert [r.value for r in pipeline.results] == [1]
    assert pipeline.get_stats().items_in_flight == 0
    await pipeline.feed([3])  # once join() returned: accepted, it waits for start()
    await pipeline.start()
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [1, 3]


async def test_run_while_a_stream_runs_is_refused() -> None:
    stage, release = held_stage()
    events = Events()
    pipeline = Pipeline(stages=[stage], status_tracker=events)
    stream = pipeline.stream(range(2))
    first = asyncio.create_task(anext(stream))
    await events.reached.wait()
    with pytest.raises(PipelineStateError, match=r"run\(\) while stream\(\) runs"):
        await pipeline.run([9])
    release.set()
    assert (await first).value in (0, 1)
    assert len([r async for r in stream]) == 1


# --------------------------------------------------------------------------- crashes


async def test_a_crashed_worker_wakes_a_feed_blocked_on_a_full_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Pipeline, record: Any, result: Any) -> bool:
        raise RuntimeError("a bug in antflow")

    monkeypatch.setattr(Pipeline, "_finish_now", broken)
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[identity], queue_capacity=2)])
    with pytest.raises(PipelineCrashedError, match="a bug in antflow") as caught:
        await pipeline.run(range(50))
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert pipeline.is_closed
    stats = pipeline.get_stats()
    assert stats.items_fed == stats.items_unfinished + stats.items_processed + stats.items_failed


async def test_a_callback_raising_cancelled_error_is_logged_not_a_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def confused(payload: Any) -> None:
        raise asyncio.CancelledError("from the callback")

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity], on_success=confused)])
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]
    assert "on_success callback of stage 'S' raised" in caplog.text


async def test_a_skip_if_whose_truth_value_raises_fails_only_that_item() -> None:
    class Ambiguous:
        def __bool__(self) -> bool:
            raise ValueError("the truth value is ambiguous")

    pipeline = Pipeline(
        stages=[Stage("S", tasks=[identity], skip_if=lambda x: Ambiguous() if x == 1 else False)]
    )
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 2]
    assert [(f.id, type(f.error)) for f in pipeline.failures] == [(1, ValueError)]


# ------------------------------------------------------------------ plain functions


async def test_every_worker_of_a_stage_can_run_its_plain_function_at_once() -> None:
    workers = 20  # more than the event loop's default thread pool gives on a small machine
    barrier = threading.Barrier(workers, timeout=10)

    def meet(x: int) -> int:
        barrier.wait()  # raises BrokenBarrierError unless all 20 run at the same time
        return x

    pipeline = Pipeline(stages=[Stage("Sync", workers=workers, tasks=[meet])])
    results = await pipeline.run(range(workers))
    assert [r.value for r in results] == list(range(workers))


async def test_a_limit_holds_for_plain_functions_even_when_their_calls_time_out() -> None:
    lock = threading.Lock()
    active = 0
    peak = 0
    finish = threading.Event()

    def upload(x: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        finish.wait(timeout=5)  # outlives its task_timeout
        with lock:
            active -= 1
        return x

    stage = Stage(
        "Upload",
        workers=8,
        tasks=[upload],
        task_attempts=1,
        task_timeout=0.02,
        task_concurrency_limits={"upload": 2},
    )
    timed_out = Failures(2)
    pipeline = Pipeline(stages=[stage], status_tracker=timed_out)
    runner = asyncio.create_task(pipeline.run(range(6)))
    await timed_out.reached.wait()  # two calls timed out; their threads still run
    finish.set()
    await runner
    assert peak <= 2
    assert len(pipeline.failures) >= 2


async def test_tasks_sharing_a_name_share_its_limit() -> None:
    active = 0
    peak = 0

    async def up(x: int, step: str) -> int:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        active -= 1
        return x

    first, second = functools.partial(up, step="a"), functools.partial(up, step="b")
    pipeline = Pipeline(
        stages=[Stage("S", workers=6, tasks=[first, second], task_concurrency_limits={"up": 1})]
    )
    results = await pipeline.run(range(12))
    assert len(results) == 12
    assert peak == 1


# ---------------------------------------------------------------------- task events


async def test_per_stage_task_events_carry_the_stage_attempt() -> None:
    calls = 0

    async def flaky(x: int) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("again")
        return x

    events = Events()
    pipeline = Pipeline(
        stages=[Stage("S", tasks=[flaky], retry="per_stage", task_wait_seconds=0)],
        status_tracker=events,
    )
    await pipeline.run([1])
    assert [(str(e.event_type), e.attempt) for e in events.tasks] == [
        ("start", 1),
        ("retry", 1),
        ("start", 2),
        ("retry", 2),
        ("start", 3),
        ("complete", 3),
    ]


# ------------------------------------------------------------------ subclass hooks


async def test_a_prepare_payload_override_must_give_increasing_sequence_ids() -> None:
    class Constant(Pipeline):
        def _prepare_payload(self, item: Any) -> Any:
            return {"id": item, "value": item, "_sequence_id": 7}

    pipeline = Constant(stages=[Stage("S", tasks=[identity])])
    with pytest.raises(FeedError, match="sequence ids must increase with each item fed") as caught:
        await pipeline.run(["a", "b"])
    assert isinstance(caught.value.__cause__, ValueError)
    assert caught.value.fed_count == 1
    assert [r.id for r in pipeline.results] == ["a"]  # what was fed before still ended


async def _numbers() -> AsyncIterator[int]:  # pragma: no cover - helper for typing only
    yield 1
