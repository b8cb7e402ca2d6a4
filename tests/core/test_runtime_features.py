"""The asyncio Pipeline: every behaviour of the guide, driven by events, never by sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from antflow_core import (
    FailedItem,
    FeedError,
    ItemFinished,
    ItemStatus,
    Payload,
    Pipeline,
    PipelineResult,
    PipelineStateError,
    Stage,
    StatusEvent,
    TaskEvent,
    TaskTimeoutError,
    UnknownStageError,
)
from antflow_core.runtime import StageQueue
from returns.result import Failure, Success


async def identity(x: Any) -> Any:
    return x


class Recorder:
    """An observer that keeps every event, and can wake a test at a given event."""

    def __init__(self) -> None:
        self.status: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []
        self.finished: list[ItemFinished] = []
        self.waiters: list[tuple[Any, asyncio.Event]] = []

    def when(self, predicate: Any) -> asyncio.Event:
        event = asyncio.Event()
        self.waiters.append((predicate, event))
        return event

    def _check(self, event: Any) -> None:
        for predicate, waiter in self.waiters:
            if predicate(event):
                waiter.set()

    def on_status_event(self, event: StatusEvent) -> None:
        self.status.append(event)
        self._check(event)

    def on_task_event(self, event: TaskEvent) -> None:
        self.tasks.append(event)
        self._check(event)

    def on_item_finished(self, event: ItemFinished) -> None:
        self.finished.append(event)
        self._check(event)

    def trail(self, item_id: Any) -> list[tuple[str, str]]:
        return [(e.stage, str(e.status)) for e in self.status if e.item_id == item_id]


# ------------------------------------------------------------------ start / feed / join


async def test_start_feed_join_and_results() -> None:
    pipeline = Pipeline(stages=[Stage("ProcessStage", workers=2, tasks=[identity])])
    await pipeline.start()
    await pipeline.feed(["a", "b"])
    await pipeline.feed(["c"])
    await pipeline.join()
    assert [(r.id, r.value) for r in pipeline.results] == [(0, "a"), (1, "b"), (2, "c")]
    assert not pipeline.is_running


async def test_target_stage_skips_earlier_stages() -> None:
    async def fetch(x: str) -> str:
        return f"fetched {x}"

    async def process(x: str) -> str:
        return f"processed {x}"

    pipeline = Pipeline(
        stages=[
            Stage("FetchStage", workers=1, tasks=[fetch]),
            Stage("ProcessStage", workers=1, tasks=[process]),
        ]
    )
    await pipeline.start()
    await pipeline.feed(["new"])
    await pipeline.feed(["recovered"], target_stage="ProcessStage")
    await pipeline.join()
    assert [r.value for r in pipeline.results] == ["processed fetched new", "processed recovered"]


async def test_feed_async_takes_an_async_generator() -> None:
    async def data_generator() -> AsyncIterator[int]:
        for i in range(5):
            await asyncio.sleep(0)
            yield i

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    await pipeline.start()
    await pipeline.feed_async(data_generator())
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [0, 1, 2, 3, 4]
    # run() accepts an async iterable too
    again = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    assert [r.value for r in await again.run(data_generator())] == [0, 1, 2, 3, 4]


async def test_a_pipeline_can_run_again_after_join() -> None:
    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    first = await pipeline.run(["a", "b"])
    second = await pipeline.run(["c"])
    assert [r.value for r in first] == ["a", "b"]
    assert [(r.id, r.value) for r in second] == [(2, "c")]
    assert [r.value for r in pipeline.results] == ["a", "b", "c"]


async def test_context_manager_joins_and_shuts_down() -> None:
    async with Pipeline(stages=[Stage("S", workers=2, tasks=[identity])]) as pipeline:
        results = await pipeline.run([1, 2, 3])
        assert [r.value for r in results] == [1, 2, 3]
    assert pipeline.is_closed
    with pytest.raises(PipelineStateError, match="after shutdown"):
        await pipeline.run([4])


async def test_leaving_the_context_without_join_waits_for_fed_items() -> None:
    async with Pipeline(stages=[Stage("S", workers=2, tasks=[identity])]) as pipeline:
        await pipeline.feed([1, 2, 3])
    assert [r.value for r in pipeline.results] == [1, 2, 3]


# ------------------------------------------------------------------------ priorities


async def test_lower_priority_numbers_go_first_and_fifo_within_a_priority() -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def work(x: str) -> str:
        if x == "first":
            await gate.wait()
        order.append(x)
        return x

    recorder = Recorder()
    started = recorder.when(lambda e: isinstance(e, StatusEvent) and e.status == "in_progress")
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[work], queue_capacity=0)], status_tracker=recorder
    )
    await pipeline.start()
    await pipeline.feed(["first"])
    await started.wait()  # the only worker holds "first"; everything else queues up
    await pipeline.feed(["maint1", "maint2"], priority=500)
    await pipeline.feed(["reg1", "reg2"])
    await pipeline.feed(["vip1", "vip2"], priority=10)
    gate.set()
    await pipeline.join()
    assert order == ["first", "vip1", "vip2", "reg1", "reg2", "maint1", "maint2"]


async def test_priority_is_kept_across_stages() -> None:
    gate = asyncio.Event()

    async def slow(x: Any) -> Any:
        await gate.wait()
        return x

    recorder = Recorder()
    arrived = recorder.when(
        lambda e: (
            isinstance(e, StatusEvent)
            and e.stage == "B"
            and e.status == "queued"
            and e.item_id == 3
        )
    )
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=4, tasks=[identity]),
            Stage("B", workers=1, tasks=[slow], queue_capacity=0),
        ],
        status_tracker=recorder,
    )
    await pipeline.start()
    await pipeline.feed([0, 1], priority=7)
    await pipeline.feed([2, 3], priority=3)
    await arrived.wait()
    queued = sorted(pipeline._queues[1]._heap)
    gate.set()
    await pipeline.join()
    priorities = {entry[2][0].id: entry[0] for entry in queued}
    assert priorities[3] == 3
    assert all(priorities[i] == (7 if i < 2 else 3) for i in priorities)


async def test_a_per_stage_retry_keeps_the_priority_of_the_item() -> None:
    gate = asyncio.Event()
    order: list[str] = []
    failed_once: set[str] = set()

    async def work(x: str) -> str:
        if x == "hold":
            await gate.wait()
        order.append(x)
        if x == "urgent" and x not in failed_once:
            failed_once.add(x)
            raise ConnectionError("transient")
        return x

    recorder = Recorder()
    started = recorder.when(lambda e: isinstance(e, StatusEvent) and e.status == "in_progress")
    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                workers=1,
                tasks=[work],
                retry="per_stage",
                task_wait_seconds=0,
                queue_capacity=0,
            )
        ],
        status_tracker=recorder,
    )
    await pipeline.start()
    await pipeline.feed(["hold"])
    await started.wait()
    await pipeline.feed(["normal1", "normal2"])
    await pipeline.feed(["urgent"], priority=1)
    gate.set()
    await pipeline.join()
    assert order == ["hold", "urgent", "urgent", "normal1", "normal2"]


# ------------------------------------------------------------------------- streaming


async def test_stream_yields_in_completion_order_and_keeps_nothing() -> None:
    second_done = asyncio.Event()

    async def work(x: int) -> int:
        if x == 0:
            await second_done.wait()
        else:
            second_done.set()
        return x * 10

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[work])])
    seen = [(r.id, r.value) async for r in pipeline.stream(range(2))]
    assert seen == [(1, 10), (0, 0)]
    assert pipeline.results == []
    assert pipeline.get_stats().items_processed == 2


async def test_stream_outcomes_yields_failures_as_failure_results() -> None:
    async def picky(x: int) -> int:
        if x == 1:
            raise ValueError("odd one")
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[picky], task_attempts=1)])
    outcomes = [o async for o in pipeline.stream_outcomes(range(3))]
    successes = [o.unwrap().value for o in outcomes if isinstance(o, Success)]
    failures = [o.failure() for o in outcomes if isinstance(o, Failure)]
    assert sorted(successes) == [0, 2]
    assert [(f.id, f.error_message) for f in failures] == [(1, "odd one")]
    assert [f.id for f in pipeline.failures] == [1]


async def test_breaking_out_of_a_stream_stops_the_pipeline_and_reports_unfinished() -> None:
    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    async for result in pipeline.stream(range(1000)):
        assert result.value == 0
        break
    # Python closes an abandoned async generator from the event loop, a moment later;
    # shutdown() waits for that (or does it) so the caller can read a final state.
    await pipeline.shutdown()
    assert pipeline.is_closed
    stats = pipeline.get_stats()
    assert stats.items_in_flight == 0
    assert stats.items_processed + stats.items_unfinished == stats.items_fed
    assert pipeline.unfinished_items
    assert len({p.id for p in pipeline.unfinished_items}) == stats.items_unfinished


async def test_aclosing_a_stream_shuts_the_pipeline_down_at_once() -> None:
    import contextlib

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    async with contextlib.aclosing(pipeline.stream(range(1000))) as results:
        async for _ in results:
            break
    assert pipeline.is_closed
    assert not pipeline.is_running
    assert pipeline.get_stats().items_unfinished > 0


async def test_stream_accepts_an_async_iterable() -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(4):
            yield i

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    assert sorted([r.value async for r in pipeline.stream(numbers())]) == [0, 1, 2, 3]


# --------------------------------------------------------------------------- retries


async def test_per_task_retry_calls_only_the_failing_task_again() -> None:
    calls: dict[str, int] = {"validate": 0, "flaky": 0}

    async def validate(x: int) -> int:
        calls["validate"] += 1
        return x

    async def flaky(x: int) -> int:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise ConnectionError(f"attempt {calls['flaky']}")
        return x + 1

    recorder = Recorder()
    pipeline = Pipeline(
        stages=[
            Stage(
                "FetchStage",
                workers=1,
                tasks=[validate, flaky],
                retry="per_task",
                task_attempts=3,
                task_wait_seconds=0,
            )
        ],
        status_tracker=recorder,
    )
    results = await pipeline.run([41])
    assert [r.value for r in results] == [42]
    assert calls == {"validate": 1, "flaky": 3}
    retries = [
        (e.task_name, e.attempt, str(e.error)) for e in recorder.tasks if e.event_type == "retry"
    ]
    assert retries == [("flaky", 1, "attempt 1"), ("flaky", 2, "attempt 2")]
    starts = [(e.task_name, e.attempt) for e in recorder.tasks if e.event_type == "start"]
    assert starts == [("validate", 1), ("flaky", 1), ("flaky", 2), ("flaky", 3)]
    assert pipeline.get_stats().stage_stats["FetchStage"].retried_items == 2


async def test_per_task_retry_gives_up_after_task_attempts() -> None:
    async def broken(x: int) -> int:
        raise TimeoutError(f"item {x} timed out")

    recorder = Recorder()
    pipeline = Pipeline(
        stages=[Stage("S", workers=2, tasks=[broken], task_attempts=4, task_wait_seconds=0)],
        status_tracker=recorder,
    )
    assert await pipeline.run([1]) == []
    [failed] = pipeline.failures
    assert (failed.id, failed.value, failed.attempts, failed.error_type) == (
        0,
        1,
        4,
        "TimeoutError",
    )
    [fail_event] = [e for e in recorder.tasks if e.event_type == "fail"]
    assert (fail_event.task_name, fail_event.attempt) == ("broken", 4)
    [failed_status] = [e for e in recorder.status if e.status == "failed"]
    assert failed_status.metadata["error"] == "item 1 timed out"
    assert failed_status.metadata["error_type"] == "TimeoutError"
    [finished] = recorder.finished
    assert finished.outcome == Failure(failed)


async def test_per_stage_retry_requeues_the_item_at_the_first_task() -> None:
    calls: list[str] = []

    async def begin(x: int) -> int:
        calls.append("begin")
        return x

    async def update(x: int) -> int:
        calls.append("update")
        if calls.count("update") < 3:
            raise RuntimeError("deadlock")
        return x

    async def commit(x: int) -> str:
        calls.append("commit")
        return f"committed {x}"

    recorder = Recorder()
    pipeline = Pipeline(
        stages=[
            Stage(
                "TransactionStage",
                workers=2,
                tasks=[begin, update, commit],
                retry="per_stage",
                stage_attempts=3,
                task_wait_seconds=0,
            )
        ],
        status_tracker=recorder,
    )
    assert [r.value for r in await pipeline.run([7])] == ["committed 7"]
    assert calls == ["begin", "update"] * 3 + ["commit"]
    assert recorder.trail(0) == [
        ("TransactionStage", "queued"),
        ("TransactionStage", "in_progress"),
        ("TransactionStage", "retrying"),
        ("TransactionStage", "queued"),
        ("TransactionStage", "in_progress"),
        ("TransactionStage", "retrying"),
        ("TransactionStage", "queued"),
        ("TransactionStage", "in_progress"),
        ("TransactionStage", "completed"),
    ]
    in_progress = [e.metadata["attempt"] for e in recorder.status if e.status == "in_progress"]
    assert in_progress == [1, 2, 3]


async def test_per_stage_retry_gives_up_after_stage_attempts() -> None:
    async def always(x: int) -> int:
        raise RuntimeError("no")

    pipeline = Pipeline(
        stages=[
            Stage("S", tasks=[always], retry="per_stage", stage_attempts=2, task_wait_seconds=0)
        ]
    )
    await pipeline.run([1])
    assert [(f.attempts, f.stage) for f in pipeline.failures] == [(2, "S")]
    assert pipeline.get_stats().stage_stats["S"].retried_items == 1


async def test_a_full_stage_whose_workers_all_requeue_does_not_deadlock() -> None:
    attempts: dict[int, int] = {}

    async def fail_first(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        if attempts[x] == 1:
            raise RuntimeError("first try")
        return x

    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                workers=2,
                tasks=[fail_first],
                retry="per_stage",
                task_wait_seconds=0,
                queue_capacity=1,
            )
        ]
    )
    results = await pipeline.run(range(20))
    assert [r.value for r in results] == list(range(20))


async def test_task_timeout_counts_as_a_failed_attempt() -> None:
    never = asyncio.Event()
    calls = 0

    async def hangs(x: int) -> int:
        nonlocal calls
        calls += 1
        await never.wait()
        return x

    pipeline = Pipeline(
        stages=[Stage("S", tasks=[hangs], task_attempts=2, task_wait_seconds=0, task_timeout=0.01)]
    )
    await pipeline.run([1])
    [failed] = pipeline.failures
    assert isinstance(failed.error, TaskTimeoutError)
    assert "task 'hangs' of stage 'S' took longer than task_timeout=0.01s" in str(failed.error)
    assert (calls, failed.attempts) == (2, 2)


async def test_a_timeout_error_raised_by_the_task_itself_is_not_relabelled() -> None:
    async def raises_timeout(x: int) -> int:
        raise TimeoutError("upstream said so")

    pipeline = Pipeline(
        stages=[Stage("S", tasks=[raises_timeout], task_attempts=1, task_timeout=5)]
    )
    await pipeline.run([1])
    assert type(pipeline.failures[0].error) is TimeoutError


# ------------------------------------------------------------------ stage options


async def test_task_concurrency_limits_throttle_only_the_named_task() -> None:
    active = {"upload": 0, "poll": 0}
    peak = {"upload": 0, "poll": 0}
    pair_inside = asyncio.Event()
    polls_inside = asyncio.Event()

    async def upload_file(x: int) -> int:
        active["upload"] += 1
        peak["upload"] = max(peak["upload"], active["upload"])
        if active["upload"] == 2:
            pair_inside.set()
        await pair_inside.wait()
        active["upload"] -= 1
        return x

    async def poll_status(x: int) -> str:
        active["poll"] += 1
        peak["poll"] = max(peak["poll"], active["poll"])
        if active["poll"] == 3:
            polls_inside.set()
        await polls_inside.wait()
        active["poll"] -= 1
        return "done"

    stage = Stage(
        name="OpenAI_Batch_Job",
        workers=10,
        tasks=[upload_file, poll_status],
        task_concurrency_limits={"upload_file": 2},
    )
    results = await Pipeline(stages=[stage]).run(range(10))
    assert [r.value for r in results] == ["done"] * 10
    assert peak["upload"] == 2
    assert peak["poll"] >= 3


async def test_unpack_args_spreads_tuples_and_dicts_for_the_first_task() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    async def greet(name: str, punctuation: str = ".") -> str:
        return f"hi {name}{punctuation}"

    async def shout(text: Any) -> str:
        return str(text).upper()

    added = await Pipeline(stages=[Stage("Add", tasks=[add, shout], unpack_args=True)]).run(
        [(1, 2), (3, 4)]
    )
    assert [r.value for r in added] == ["3", "7"]
    greeted = await Pipeline(stages=[Stage("Greet", tasks=[greet], unpack_args=True)]).run(
        [{"id": "a", "value": {"name": "ann", "punctuation": "!"}}, {"id": "b", "value": "bob"}]
    )
    assert [(r.id, r.value) for r in greeted] == [("a", "hi ann!"), ("b", "hi bob.")]


async def test_skip_if_passes_items_through_a_stage_untouched() -> None:
    async def expensive(x: int) -> int:
        return x * 100

    recorder = Recorder()
    pipeline = Pipeline(
        stages=[
            Stage("Cache", workers=2, tasks=[expensive], skip_if=lambda x: x % 2 == 0),
            Stage("Format", workers=1, tasks=[str]),
        ],
        status_tracker=recorder,
    )
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == ["0", "100", "2", "300"]
    stats = pipeline.get_stats().stage_stats
    assert (stats["Cache"].skipped_items, stats["Cache"].completed_items) == (2, 2)
    assert ("Cache", "skipped") in recorder.trail(0)


async def test_stage_callbacks_may_be_sync_or_async_and_get_payloads_or_failures() -> None:
    succeeded: list[Payload[Any]] = []
    failed: list[FailedItem] = []

    def on_success(payload: Payload[Any]) -> None:
        succeeded.append(payload)

    async def on_failure(item: FailedItem) -> None:
        await asyncio.sleep(0)
        failed.append(item)

    async def picky(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return -x

    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                workers=2,
                tasks=[picky],
                task_attempts=1,
                on_success=on_success,
                on_failure=on_failure,
            )
        ]
    )
    await pipeline.run(range(3))
    assert sorted((p.id, p.value) for p in succeeded) == [(0, 0), (1, -1)]
    assert [(f.id, f.value, f.error_message) for f in failed] == [(2, 2, "two")]


async def test_a_callback_that_raises_is_logged_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(_: Any) -> None:
        raise RuntimeError("callback bug")

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity], on_success=explode)])
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]
    assert "on_success callback of stage 'S' raised" in caplog.text


async def test_plain_functions_returning_coroutines_are_awaited() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[lambda x: identity(x + 1)])])
    assert [r.value for r in await pipeline.run([1, 2])] == [2, 3]


# ------------------------------------------------------------------------ backpressure


async def test_backpressure_blocks_feed_when_the_first_queue_is_full() -> None:
    gate = asyncio.Event()

    async def slow(x: int) -> int:
        await gate.wait()
        return x

    recorder = Recorder()
    # "queued" is told once an item is in the queue: once the third is, the feed has
    # taken the fourth and waits for room
    third_queued = recorder.when(
        lambda e: isinstance(e, StatusEvent) and e.status == "queued" and e.item_id == 2
    )
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[slow], queue_capacity=2)], status_tracker=recorder
    )
    await pipeline.start()
    feeder = asyncio.create_task(pipeline.feed(range(10)))
    await third_queued.wait()
    stats = pipeline.get_stats()
    # one item held by the worker, two waiting in the queue; the fourth waits in feed()
    assert (stats.items_fed, stats.queue_sizes["S"]) == (3, 2)
    assert stats.stage_stats["S"].in_progress_items == 1
    assert not feeder.done()
    gate.set()
    await feeder
    await pipeline.join()
    assert [r.value for r in pipeline.results] == list(range(10))


async def test_backpressure_propagates_from_a_slow_stage_to_feed() -> None:
    gate = asyncio.Event()

    async def slow(x: int) -> int:
        await gate.wait()
        return x

    recorder = Recorder()
    blocked = recorder.when(
        lambda e: (
            isinstance(e, StatusEvent)
            and e.stage == "Fast"
            and e.status == "queued"
            and e.item_id == 5  # in the queue: the feed took item 6 and waits for room
        )
    )
    pipeline = Pipeline(
        stages=[
            Stage("Fast", workers=1, tasks=[identity], queue_capacity=2),
            Stage("Slow", workers=1, tasks=[slow], queue_capacity=2),
        ],
        status_tracker=recorder,
    )
    await pipeline.start()
    feeder = asyncio.create_task(pipeline.feed(range(20)))
    await blocked.wait()
    stats = pipeline.get_stats()
    # Slow: 1 held + 2 queued; Fast: 1 worker blocked handing on + 2 queued; feed waits
    assert stats.queue_sizes == {"Fast": 2, "Slow": 2}
    assert stats.items_fed == 6
    gate.set()
    await feeder
    await pipeline.join()
    assert len(pipeline.results) == 20


# ---------------------------------------------------------------- workers and stats


async def test_workers_are_named_and_numbered_per_stage() -> None:
    recorder = Recorder()
    pipeline = Pipeline(
        stages=[
            Stage("Fetch", workers=3, tasks=[identity]),
            Stage("Save", workers=1, tasks=[identity]),
        ],
        status_tracker=recorder,
    )
    assert pipeline.get_worker_names() == {
        "Fetch": ["Fetch-W0", "Fetch-W1", "Fetch-W2"],
        "Save": ["Save-W0"],
    }
    await pipeline.run(range(30))
    busy = [(e.stage, e.worker, e.worker_id) for e in recorder.status if e.status == "in_progress"]
    assert {w for s, w, _ in busy if s == "Fetch"} <= {"Fetch-W0", "Fetch-W1", "Fetch-W2"}
    assert all(worker == f"{stage}-W{wid}" for stage, worker, wid in busy)
    assert {wid for s, _, wid in busy if s == "Save"} == {0}


async def test_stats_per_stage_and_overall() -> None:
    async def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError("odd")
        return x

    pipeline = Pipeline(
        stages=[
            Stage("Fetch", workers=3, tasks=[identity]),
            Stage("Check", workers=2, tasks=[odd_fails], task_attempts=2, task_wait_seconds=0),
        ]
    )
    await pipeline.run(range(10))
    stats = pipeline.get_stats()
    assert (stats.items_processed, stats.items_failed, stats.items_in_flight, stats.items_fed) == (
        5,
        5,
        0,
        10,
    )
    fetch, check = stats.stage_stats["Fetch"], stats.stage_stats["Check"]
    assert (fetch.completed_items, fetch.failed_items, fetch.pending_items) == (10, 0, 0)
    assert (check.completed_items, check.failed_items, check.retried_items) == (5, 5, 5)
    assert check.in_progress_items == 0


# ------------------------------------------------------------------------ observers


async def test_an_observer_sees_every_status_of_an_item_in_order() -> None:
    recorder = Recorder()
    pipeline = Pipeline(
        stages=[Stage("A", tasks=[identity]), Stage("B", tasks=[identity])],
        status_tracker=recorder,
    )
    await pipeline.run(["x"])
    assert recorder.trail(0) == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    assert [(e.stage, e.event_type) for e in recorder.tasks] == [
        ("A", "start"),
        ("A", "complete"),
        ("B", "start"),
        ("B", "complete"),
    ]
    assert all(e.duration is not None for e in recorder.tasks if e.event_type == "complete")
    [finished] = recorder.finished
    assert finished.outcome == Success(PipelineResult(0, "x", 0))


async def test_async_observer_methods_are_awaited_before_the_item_moves_on() -> None:
    log: list[str] = []

    class Slow(Recorder):
        async def on_status_event(self, event: StatusEvent) -> None:  # type: ignore[override]
            await asyncio.sleep(0)
            log.append(f"{event.stage}:{event.status}")

    pipeline = Pipeline(
        stages=[Stage("A", tasks=[identity]), Stage("B", tasks=[identity])], status_tracker=Slow()
    )
    await pipeline.run([1])
    assert log == [
        "A:queued",
        "A:in_progress",
        "A:completed",
        "B:queued",
        "B:in_progress",
        "B:completed",
    ]


async def test_an_observer_that_raises_never_fails_an_item(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Recorder):
        def on_status_event(self, event: StatusEvent) -> None:
            raise RuntimeError("observer bug")

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])], status_tracker=Broken())
    assert [r.value for r in await pipeline.run(range(3))] == [0, 1, 2]
    assert "status tracker raised" in caplog.text


async def test_no_event_objects_are_built_without_an_observer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import antflow_core.runtime.pipeline as runtime_module

    built: list[str] = []

    def counting(name: str) -> Any:
        original = getattr(runtime_module, name)

        def make(*args: Any, **kwargs: Any) -> Any:
            built.append(name)
            return original(*args, **kwargs)

        return make

    for name in ("StatusEvent", "TaskEvent", "ItemFinished"):
        monkeypatch.setattr(runtime_module, name, counting(name))

    async def sometimes(x: int) -> int:
        if x == 1:
            raise ValueError("x")
        return x

    stages = [
        Stage("S", workers=2, tasks=[sometimes, identity], task_attempts=2, task_wait_seconds=0)
    ]
    await Pipeline(stages=stages).run(range(4))
    assert built == []
    await Pipeline(stages=stages, status_tracker=Recorder()).run(range(4))
    assert {"StatusEvent", "TaskEvent", "ItemFinished"} <= set(built)


async def test_an_observer_can_decline_task_events() -> None:
    class StatusOnly(Recorder):
        observes_task_events = False

    recorder = StatusOnly()
    await Pipeline(stages=[Stage("S", tasks=[identity])], status_tracker=recorder).run([1])
    assert recorder.tasks == []
    assert len(recorder.status) == 3


async def test_record_status_receives_fields_instead_of_events() -> None:
    class Fields(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[tuple[Any, ...]] = []

        def record_status(self, *fields: Any) -> None:
            self.rows.append(fields)

    recorder = Fields()
    await Pipeline(stages=[Stage("S", tasks=[identity])], status_tracker=recorder).run(["v"])
    assert recorder.status == []
    assert [(r[0], r[1], str(r[2]), r[3], r[4]) for r in recorder.rows] == [
        (0, "S", "queued", None, None),
        (0, "S", "in_progress", "S-W0", 0),
        (0, "S", "completed", "S-W0", 0),
    ]
    assert StatusEvent(*recorder.rows[1]).worker == "S-W0"


async def test_record_finished_receives_results_and_failures_unwrapped() -> None:
    from antflow_core.model import FIRST_ATTEMPT

    class Ends(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.ended: list[tuple[Any, Any]] = []

        def record_finished(self, item_id: Any, ended: Any, timestamp: float) -> None:
            self.ended.append((item_id, ended))

    async def picky(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x

    recorder = Ends()
    pipeline = Pipeline(
        stages=[Stage("S", tasks=[picky], task_attempts=1)], status_tracker=recorder
    )
    await pipeline.run([0, 1])
    assert recorder.finished == []  # on_item_finished is not called when record_finished exists
    assert recorder.ended == [(0, PipelineResult(0, 0, 0)), (1, pipeline.failures[0])]
    first = [e.metadata for e in recorder.status if e.status == "in_progress"]
    assert all(metadata is FIRST_ATTEMPT for metadata in first)


class Sinking:
    """An observer with a ``status_sink``: what goes there, and what to ``record_status``."""

    observes_task_events = False

    def __init__(self) -> None:
        self.sunk: list[tuple[Any, ...]] = []
        self.rows: list[tuple[Any, ...]] = []
        self.status_sink: Callable[[tuple[Any, ...]], None] | None = self.sunk.append

    def record_status(self, *fields: Any) -> None:
        self.rows.append(fields)

    def on_status_event(self, event: StatusEvent) -> None:
        raise AssertionError("record_status or status_sink is used instead")

    def on_task_event(self, event: TaskEvent) -> None:
        raise AssertionError("task events are declined")

    def on_item_finished(self, event: ItemFinished) -> None:
        return None


def shape(rows: list[tuple[Any, ...]], item_id: Any) -> list[tuple[str, str]]:
    return [(row[1], str(row[2])) for row in rows if row[0] == item_id]


async def test_a_status_sink_takes_the_plain_changes_and_record_status_the_rest() -> None:
    from antflow_core.model import EMPTY_METADATA, FIRST_ATTEMPT

    async def picky(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x

    observer = Sinking()
    stages = [
        Stage("A", workers=1, tasks=[picky], retry="per_stage", task_wait_seconds=0),
        Stage("B", workers=1, tasks=[identity]),
    ]
    await Pipeline(stages=stages, status_tracker=observer).run([0, 1])
    assert shape(observer.sunk, 0) == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    assert shape(observer.rows, 0) == []
    first_try = [row for row in observer.sunk if row[0] == 0][1]
    assert first_try[2:5] == (ItemStatus.IN_PROGRESS, "A-W0", 0)
    assert first_try[6] is FIRST_ATTEMPT
    assert StatusEvent(*first_try).metadata is FIRST_ATTEMPT
    assert all(row[6] is EMPTY_METADATA for row in observer.sunk if row[2] != "in_progress")
    # Item 1 starts as any other; its retries (a later attempt) and failure take record_status.
    assert shape(observer.sunk, 1) == [("A", "queued"), ("A", "in_progress")]
    assert set(shape(observer.rows, 1)) == {
        ("A", "retrying"),
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "failed"),
    }
    assert all(row[6]["attempt"] > 1 for row in observer.rows if row[2] == "in_progress")


async def test_a_status_sink_is_read_at_each_change() -> None:
    observer = Sinking()

    async def clears(x: int) -> int:
        observer.status_sink = None  # between the item's in_progress and its completed
        return x

    stages = [Stage("A", workers=1, tasks=[clears]), Stage("B", workers=1, tasks=[identity])]
    await Pipeline(stages=stages, status_tracker=observer).run([0])
    assert shape(observer.sunk, 0) == [("A", "queued"), ("A", "in_progress")]
    assert shape(observer.rows, 0) == [
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]


def test_a_status_tracker_must_implement_the_observer_protocol() -> None:
    with pytest.raises(TypeError, match="status_tracker must implement on_status_event"):
        Pipeline(stages=[Stage("S", tasks=[identity])], status_tracker=object())  # type: ignore[call-overload]


# -------------------------------------------------------------------- internals


async def test_queues_are_priority_queues_of_the_guides_tuples() -> None:
    gate = asyncio.Event()

    async def held(x: Any) -> Any:
        await gate.wait()
        return x

    recorder = Recorder()
    started = recorder.when(lambda e: isinstance(e, StatusEvent) and e.status == "in_progress")
    pipeline = Pipeline(
        stages=[Stage("A", tasks=[held]), Stage("B", tasks=[identity])], status_tracker=recorder
    )
    assert len(pipeline._queues) == 2
    assert all(isinstance(q, StageQueue) for q in pipeline._queues)
    assert pipeline._queues[0].maxsize == 10
    await pipeline.start()
    await pipeline.feed(["held", "waiting"], priority=5)
    await started.wait()
    [(priority, sequence_id, (payload, attempt))] = pipeline._queues[0]._heap
    assert (priority, sequence_id, payload.value, attempt) == (5, 1, "waiting", 1)
    gate.set()
    await pipeline.join()


async def test_prepare_payload_can_be_overridden_as_the_guide_shows() -> None:
    class CustomPipeline(Pipeline):
        def _prepare_payload(self, item: Any) -> Any:
            if isinstance(item, dict) and "uuid" in item:
                return {"id": item["uuid"], "value": item, "_sequence_id": self._msg_counter}
            return super()._prepare_payload(item)

    pipeline = CustomPipeline(stages=[Stage("S", tasks=[identity])])
    results = await pipeline.run([{"uuid": "u-1", "n": 1}, "plain"])
    assert [(r.id, r.sequence_id) for r in results] == [("u-1", 0), (1, 1)]
    assert results[0].value == {"uuid": "u-1", "n": 1}


# ------------------------------------------------------------------------ shutdown


async def test_shutdown_while_items_are_in_flight_reports_them_unfinished() -> None:
    gate = asyncio.Event()

    async def held(x: int) -> int:
        await gate.wait()
        return x

    recorder = Recorder()
    both = recorder.when(
        lambda e: isinstance(e, StatusEvent) and e.status == "in_progress" and e.item_id == 1
    )
    pipeline = Pipeline(
        stages=[Stage("S", workers=2, tasks=[held], queue_capacity=0)], status_tracker=recorder
    )
    await pipeline.start()
    await pipeline.feed(range(5))
    await both.wait()
    await pipeline.shutdown()
    assert [p.id for p in pipeline.unfinished_items] == [0, 1, 2, 3, 4]
    stats = pipeline.get_stats()
    assert (stats.items_unfinished, stats.items_in_flight, stats.queue_sizes["S"]) == (5, 0, 0)
    await pipeline.shutdown()  # twice is fine
    with pytest.raises(PipelineStateError, match=r"feed\(\) after shutdown\(\)"):
        await pipeline.feed([9])


async def test_shutdown_wakes_a_feed_blocked_on_a_full_queue() -> None:
    gate = asyncio.Event()

    async def held(x: int) -> int:
        await gate.wait()
        return x

    recorder = Recorder()
    # item 1 in the queue (item 0 held by the worker): the feed took item 2 and waits
    blocked = recorder.when(
        lambda e: isinstance(e, StatusEvent) and e.status == "queued" and e.item_id == 1
    )
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[held], queue_capacity=1)], status_tracker=recorder
    )
    await pipeline.start()
    feeder = asyncio.create_task(pipeline.feed(range(5)))
    await blocked.wait()
    await pipeline.shutdown()
    with pytest.raises(PipelineStateError, match="shut down while feeding; 3 items"):
        await feeder
    # item 2, taken from the iterable and waiting for room, is unfinished too
    assert [p.id for p in pipeline.unfinished_items] == [0, 1, 2]


async def test_shutdown_before_start_closes_the_pipeline() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    await pipeline.shutdown()
    assert pipeline.is_closed
    with pytest.raises(PipelineStateError):
        await pipeline.start()


async def test_cancelling_run_stops_the_workers_and_lists_unfinished_items() -> None:
    gate = asyncio.Event()
    calls = 0

    async def held(x: int) -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return x

    recorder = Recorder()
    started = recorder.when(lambda e: isinstance(e, StatusEvent) and e.status == "in_progress")
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[held])], status_tracker=recorder)
    runner = asyncio.create_task(pipeline.run(range(3)))
    await started.wait()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert calls == 1
    assert pipeline.is_closed
    assert [p.id for p in pipeline.unfinished_items] == [0, 1, 2]


# ------------------------------------------------------------------------ bad input


async def test_join_after_a_feed_without_start_says_to_start() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    await pipeline.feed([1])  # accepted: the item waits in the queue for start()
    with pytest.raises(PipelineStateError, match=r"call `await pipeline.start\(\)` first"):
        await pipeline.join()
    await pipeline.start()
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [1]


async def test_a_feed_that_fills_the_queue_before_start_waits_for_the_workers() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity], queue_capacity=2)])
    blocked = asyncio.Event()

    class Blocked(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "not started" in record.getMessage():
                blocked.set()

    handler = Blocked()
    logging.getLogger("antflow").addHandler(handler)
    try:
        async with asyncio.timeout(5):
            feeder = asyncio.create_task(pipeline.feed(range(5)))
            await blocked.wait()  # logged as the third item waits for room
            assert pipeline.get_stats().items_fed == 2
            await pipeline.start()
            await feeder
            await pipeline.join()
    finally:
        logging.getLogger("antflow").removeHandler(handler)
    assert [r.value for r in pipeline.results] == [0, 1, 2, 3, 4]


async def test_an_unknown_target_stage_lists_the_stages() -> None:
    pipeline = Pipeline(stages=[Stage("Fetch", tasks=[identity]), Stage("Save", tasks=[identity])])
    await pipeline.start()
    with pytest.raises(
        UnknownStageError, match="stage 'Process' not found; the stages are: 'Fetch', 'Save'"
    ):
        await pipeline.feed([1], target_stage="Process")
    await pipeline.feed([1], target_stage="Save")
    await pipeline.join()
    assert [r.value for r in pipeline.results] == [1]


async def test_an_iterable_that_raises_midway_still_finishes_what_it_fed() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk read failed")

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])])
    with pytest.raises(FeedError, match="raised OSError: disk read failed after 2 items") as caught:
        await pipeline.run(items())
    assert caught.value.fed_count == 2
    assert isinstance(caught.value.__cause__, OSError)
    assert [r.value for r in pipeline.results] == [1, 2]
    assert pipeline.get_stats().items_in_flight == 0


async def test_bad_items_and_priorities_are_rejected_before_anything_starts() -> None:
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    with pytest.raises(TypeError, match="items is a str"):
        await pipeline.run("abc")
    with pytest.raises(TypeError, match="items must be an iterable"):
        await pipeline.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="priority must be an integer"):
        await pipeline.run([1], priority="high")  # type: ignore[arg-type]
    assert not pipeline.is_running
    assert not pipeline.is_closed
    await pipeline.start()
    with pytest.raises(TypeError, match=r"use `await pipeline\.feed_async"):
        await pipeline.feed(_agen())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="feed_async\\(\\) takes an async iterable"):
        await pipeline.feed_async([1])  # type: ignore[arg-type]
    await pipeline.join()


async def _agen() -> AsyncIterator[int]:
    yield 1


async def test_bad_pipeline_and_display_arguments_say_what_to_pass() -> None:
    with pytest.raises(TypeError, match="collect_results must be True or False, got 'no'"):
        Pipeline(stages=[Stage("S", tasks=[identity])], collect_results="no")  # type: ignore[call-overload]
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])])
    with pytest.raises(ValueError, match="total must be None or a number of items >= 0"):
        await pipeline.start(total=-1)
    with pytest.raises(ValueError, match="refresh_interval must be a number of seconds > 0"):
        await pipeline.run([1], refresh_interval=0)
    with pytest.raises(TypeError, match="progress must be True, False or a ProgressDisplay"):
        await pipeline.run([1], progress="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dashboard must be 'compact', 'detailed', 'full' or"):
        await pipeline.run([1], dashboard=3)  # type: ignore[arg-type]
    assert not pipeline.is_running


def test_pipeline_validation_happens_at_construction() -> None:
    from antflow_core import StageValidationError

    with pytest.raises(StageValidationError, match="at least one stage"):
        Pipeline(stages=[])
    with pytest.raises(StageValidationError, match="two stages are named 'S'"):
        Pipeline(stages=[Stage("S", tasks=[identity]), Stage("S", tasks=[identity])])


def test_builder_entry_points_name_the_package_to_install() -> None:
    from antflow_core import ExtensionNotInstalledError

    with pytest.raises(ExtensionNotInstalledError, match="antflow") as created:
        Pipeline.create()
    with pytest.raises(ExtensionNotInstalledError, match="antflow") as quick:
        Pipeline.quick([1], identity)
    for caught in (created, quick):
        assert isinstance(caught.value, ImportError)
        message = str(caught.value)
        assert (
            "pip install antflow-builders" in message or "import Pipeline from antflow" in message
        )


def _unused(_: Awaitable[Any]) -> None:  # keeps the Awaitable import honest for mypy
    return None


async def test_snapshots_describe_the_current_run_of_a_restarted_pipeline() -> None:
    async def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError("odd")
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[odd_fails], task_attempts=1)])
    await pipeline.run(range(4))
    await pipeline.start()
    snapshot = pipeline.get_dashboard_snapshot()
    assert snapshot.run_baseline is not None
    assert (snapshot.run_baseline.items_processed, snapshot.run_baseline.items_failed) == (2, 2)
    assert snapshot.error_summary.total_failed == 0  # this run has no failure yet
    await pipeline.feed([5, 6, 7])
    await pipeline.join()
    final = pipeline.get_dashboard_snapshot()
    assert final.stats.items_failed - final.run_baseline.items_failed == 2  # type: ignore[union-attr]
    assert final.error_summary.total_failed == 2
    assert pipeline.get_error_summary().total_failed == 4
