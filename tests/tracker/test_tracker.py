"""StatusTracker: callbacks, queries, failures and retries, counts, retention, bad input."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from antflow import (
    FailedItem,
    ItemStatus,
    Pipeline,
    PipelineObserver,
    PipelineResult,
    Stage,
    StatusEvent,
    StatusTracker,
    TaskEvent,
    TaskEventType,
)
from antflow_core.model import ALLOWED_TRANSITIONS, EMPTY_METADATA

# ------------------------------------------------------------------------ helpers


async def identity(x: int) -> int:
    return x


def flaky(fail_first: set[int], fail_always: set[int]) -> Callable[[int], Awaitable[int]]:
    """A task that fails its first call on ``fail_first`` and every call on ``fail_always``."""
    calls: Counter[int] = Counter()

    async def task(x: int) -> int:
        calls[x] += 1
        if x in fail_always:
            raise ValueError(f"{x} is always wrong")
        if x in fail_first and calls[x] == 1:
            raise TimeoutError(f"{x} timed out once")
        return x

    return task


def statuses(events: list[StatusEvent], item_id: int) -> list[tuple[str, str]]:
    return [(e.stage, e.status.value) for e in events if e.item_id == item_id]


def assert_legal_transitions(history: list[StatusEvent]) -> None:
    """Check one item's history against the core's status table, stage by stage."""
    last: dict[str, ItemStatus | None] = {}
    for event in history:
        before = last.get(event.stage)
        assert event.status in ALLOWED_TRANSITIONS[before] or (
            # The tracker's own closing event for an item that skipped the last stage.
            before is ItemStatus.SKIPPED
            and event.status is ItemStatus.COMPLETED
            and event.metadata.get("finished") is True
        ), f"{before} -> {event.status} at {event.stage}"
        last[event.stage] = event.status


class Recorder:
    """Collects what each callback receives, as plain or async callbacks."""

    def __init__(self, *, use_async: bool) -> None:
        self.use_async = use_async
        self.status: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []
        self.successes: list[PipelineResult[Any]] = []
        self.failures: list[FailedItem] = []

    def _make(self, sink: list[Any]) -> Callable[[Any], Awaitable[None] | None]:
        if self.use_async:

            async def async_callback(event: Any) -> None:
                await asyncio.sleep(0)  # let other workers run meanwhile
                sink.append(event)

            return async_callback

        def sync_callback(event: Any) -> None:
            sink.append(event)

        return sync_callback

    def tracker(self, **options: Any) -> StatusTracker:
        task = self._make(self.tasks)
        return StatusTracker(
            on_status_change=self._make(self.status),
            on_task_start=task,
            on_task_complete=task,
            on_task_retry=task,
            on_task_fail=task,
            on_success=self._make(self.successes),
            on_failure=self._make(self.failures),
            **options,
        )


# ---------------------------------------------------------------------- callbacks


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_every_callback_receives_its_events(use_async: bool) -> None:
    seen = Recorder(use_async=use_async)
    tracker = seen.tracker()
    assert tracker.observes_task_events
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=2, tasks=[flaky({1}, {2})], task_attempts=2, task_wait_seconds=0),
            Stage("B", workers=2, tasks=[identity, identity]),
        ],
        status_tracker=tracker,
    )
    results = await pipeline.run(range(4))

    # Every callback has run once run() returns, async ones included.
    assert [r.id for r in results] == [0, 1, 3]
    assert sorted(r.id for r in seen.successes) == [0, 1, 3]
    assert [(f.id, f.stage, f.attempts) for f in seen.failures] == [(2, "A", 2)]
    assert statuses(seen.status, 0) == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    assert statuses(seen.status, 1)[:4] == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "retrying"),
        ("A", "completed"),
    ]
    assert statuses(seen.status, 2) == [
        ("A", "queued"),
        ("A", "in_progress"),
        ("A", "retrying"),
        ("A", "failed"),
    ]
    # Task events: item 1's flaky call started, was retried, started again and completed.
    item1 = [
        (e.stage, e.task_name, e.event_type.value, e.attempt) for e in seen.tasks if e.item_id == 1
    ]
    assert item1 == [
        ("A", "task", "start", 1),
        ("A", "task", "retry", 1),
        ("A", "task", "start", 2),
        ("A", "task", "complete", 2),
        ("B", "identity", "start", 1),
        ("B", "identity", "complete", 1),
        ("B", "identity", "start", 1),
        ("B", "identity", "complete", 1),
    ]
    [fail] = [e for e in seen.tasks if e.event_type is TaskEventType.FAIL]
    assert (fail.item_id, fail.task_name, fail.attempt) == (2, "task", 2)
    assert isinstance(fail.error, ValueError)
    assert fail.duration is not None
    assert fail.duration >= 0
    for event in seen.tasks:
        assert event.worker.startswith(f"{event.stage}-W")
        assert event.worker_id in (0, 1)
        assert (event.duration is None) == (event.event_type is TaskEventType.START)
        assert (event.error is not None) == (event.event_type in ("retry", "fail"))


async def test_status_events_carry_every_field() -> None:
    seen: list[StatusEvent] = []
    tracker = StatusTracker(on_status_change=seen.append)
    pipeline = Pipeline(
        stages=[Stage("Only", workers=1, tasks=[flaky(set(), {0})], task_attempts=1)],
        status_tracker=tracker,
    )
    await pipeline.run([0, 1])
    queued, started, failed = [e for e in seen if e.item_id == 0]
    assert (queued.stage, queued.status, queued.worker, queued.worker_id) == (
        "Only",
        "queued",
        None,
        None,
    )
    assert (started.status, started.worker, started.worker_id) == ("in_progress", "Only-W0", 0)
    assert started.metadata["attempt"] == 1
    assert failed.status == "failed"
    assert failed.metadata["error"] == "0 is always wrong"
    assert failed.metadata["error_type"] == "ValueError"
    assert failed.metadata["attempt"] == 1
    assert queued.timestamp <= started.timestamp <= failed.timestamp
    # What the queries return is equal to what the callback received.
    assert tracker.get_history(0) == [queued, started, failed]
    assert tracker.get_history(1) == [e for e in seen if e.item_id == 1]


async def test_changes_written_through_the_status_sink_read_back_as_recorded_ones() -> None:
    """Without ``on_status_change`` the pipeline writes its plain changes into the log
    itself (``status_sink``); the queries return what a callback would have received."""
    seen: list[StatusEvent] = []
    with_callback = StatusTracker(on_status_change=seen.append)
    without = StatusTracker()
    assert with_callback.status_sink is None
    assert without.status_sink is not None
    for tracker in (with_callback, without):
        stages = [
            Stage("A", workers=1, tasks=[flaky({1}, {2})], retry="per_stage", task_wait_seconds=0),
            Stage("B", workers=1, tasks=[identity]),
        ]
        await Pipeline(stages=stages, status_tracker=tracker).run(range(4))

    def fields(event: StatusEvent) -> tuple[Any, ...]:
        metadata = {k: v for k, v in event.metadata.items() if k != "exception"}  # one per run
        return (event.stage, event.status, event.worker, event.worker_id, metadata)

    for item in range(4):
        expected = [e for e in seen if e.item_id == item]
        history = without.get_history(item)
        assert [fields(e) for e in history] == [fields(e) for e in expected]
        assert [type(e.metadata) for e in history] == [
            type(e.metadata) for e in with_callback.get_history(item)
        ]
        assert_legal_transitions(history)
    started = without.get_history(0)[1]
    assert started.status == "in_progress"
    assert started.metadata == {"attempt": 1}
    assert type(started.metadata) is dict  # as recorded through record_status
    assert without.get_stats() == with_callback.get_stats()


async def test_a_status_callback_set_during_a_run_gets_the_very_next_change() -> None:
    seen: list[StatusEvent] = []
    tracker = StatusTracker()

    async def sets_callback(x: int) -> int:
        tracker.on_status_change = seen.append  # while the item is in progress
        return x

    pipeline = Pipeline(
        stages=[Stage("A", workers=1, tasks=[sets_callback]), Stage("B", tasks=[identity])],
        status_tracker=tracker,
    )
    await pipeline.run([0])
    assert tracker.status_sink is None
    assert statuses(seen, 0) == [
        ("A", "completed"),
        ("B", "queued"),
        ("B", "in_progress"),
        ("B", "completed"),
    ]
    assert len(tracker.get_history(0)) == 6
    tracker.on_status_change = None
    assert tracker.status_sink is not None


async def test_a_subclass_overriding_record_status_still_sees_every_change() -> None:
    class Counting(StatusTracker):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def record_status(self, *fields: Any) -> Awaitable[None] | None:
            self.calls += 1
            return super().record_status(*fields)

    tracker = Counting()
    assert tracker.status_sink is None
    stages = [Stage("A", tasks=[identity]), Stage("B", tasks=[identity])]
    await Pipeline(stages=stages, status_tracker=tracker).run(range(2))
    assert tracker.calls == 2 * 6
    assert len(tracker.get_history(1)) == 6


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_raising_callback_is_logged_and_loses_nothing(
    use_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    calls: Counter[str] = Counter()

    def make(name: str) -> Callable[[Any], Awaitable[None] | None]:
        if use_async:

            async def async_boom(event: Any) -> None:
                calls[name] += 1
                await asyncio.sleep(0)
                raise RuntimeError(f"{name} is broken")

            return async_boom

        def boom(event: Any) -> None:
            calls[name] += 1
            raise RuntimeError(f"{name} is broken")

        return boom

    names = [
        "on_status_change",
        "on_task_start",
        "on_task_complete",
        "on_task_retry",
        "on_task_fail",
        "on_success",
        "on_failure",
    ]
    callbacks: dict[str, Any] = {name: make(name) for name in names}
    tracker = StatusTracker(**callbacks)
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=2, tasks=[flaky({1}, {2})], task_attempts=2, task_wait_seconds=0),
            Stage("B", workers=2, tasks=[identity]),
        ],
        status_tracker=tracker,
    )
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run(range(6))

    assert [r.id for r in results] == [0, 1, 3, 4, 5]
    assert [f.id for f in pipeline.failures] == [2]
    assert set(calls) == set(names)
    assert (calls["on_success"], calls["on_failure"]) == (5, 1)
    logged = [r for r in caplog.records if r.name == "antflow"]
    assert len(logged) == sum(calls.values())
    assert all("callback raised" in r.getMessage() for r in logged)
    # The tracker still recorded everything.
    stats = tracker.get_stats()
    assert (stats["completed"], stats["failed"]) == (5, 1)


async def test_a_callback_raising_cancelled_error_does_not_stop_its_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def cancels_itself(event: StatusEvent) -> None:
        raise asyncio.CancelledError

    tracker = StatusTracker(on_status_change=cancels_itself)
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[identity])], status_tracker=tracker)
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]
    assert tracker.get_stats()["completed"] == 3
    assert any("was cancelled" in r.getMessage() for r in caplog.records)


async def test_a_sync_callback_may_return_a_value_which_is_ignored() -> None:
    seen: list[int] = []

    def sloppy(event: StatusEvent) -> None:
        seen.append(event.item_id)
        return len(seen)  # type: ignore[return-value]

    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[identity])],
        status_tracker=StatusTracker(on_status_change=sloppy),
    )
    assert [r.value for r in await pipeline.run(range(2))] == [0, 1]
    assert sorted(seen) == [0, 0, 0, 1, 1, 1]


async def test_without_task_callbacks_no_task_event_is_asked_for() -> None:
    plain = StatusTracker(on_status_change=lambda e: None, on_success=lambda r: None)
    assert not plain.observes_task_events
    assert StatusTracker(on_task_fail=lambda e: None).observes_task_events


# ------------------------------------------------------------------------ queries


async def test_stats_count_items_by_their_current_status_during_a_run() -> None:
    """Items held by a gate: 2 in progress at A, the rest queued at A, none elsewhere."""
    gate = asyncio.Event()
    started = asyncio.Event()
    holding: list[int] = []

    async def held(x: int) -> int:
        holding.append(x)
        if len(holding) == 2:
            started.set()
        await gate.wait()
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("A", workers=2, tasks=[held]), Stage("B", workers=1, tasks=[identity])],
        status_tracker=tracker,
    )
    await pipeline.start()
    await pipeline.feed(range(5))
    await started.wait()

    stats = tracker.get_stats()
    assert stats == {
        "queued": 3,
        "in_progress": 2,
        "completed": 0,
        "failed": 0,
        "retrying": 0,
        "skipped": 0,
        "expanded": 0,
    }
    assert sorted(e.item_id for e in tracker.get_by_status("in_progress")) == sorted(holding)
    assert {e.stage for e in tracker.get_by_status(ItemStatus.QUEUED)} == {"A"}
    in_progress = tracker.get_status(holding[0])
    assert in_progress is not None
    assert (in_progress.status, in_progress.stage) == ("in_progress", "A")
    assert in_progress.worker in ("A-W0", "A-W1")

    gate.set()
    await pipeline.join()
    assert tracker.get_stats()["completed"] == 5
    assert sum(tracker.get_stats().values()) == 5


async def test_queries_about_unknown_items_and_statuses() -> None:
    tracker = StatusTracker()
    assert tracker.get_status(7) is None
    assert tracker.get_history(7) == []
    assert tracker.get_by_status("failed") == []
    assert tracker.get_stats() == dict.fromkeys(
        ["queued", "in_progress", "completed", "failed", "retrying", "skipped", "expanded"], 0
    )
    with pytest.raises(ValueError, match="unknown status 'done': use one of 'queued'"):
        tracker.get_by_status("done")
    with pytest.raises(ValueError, match="unknown status 3"):
        tracker.get_by_status(3)  # type: ignore[arg-type]


async def test_get_by_status_lists_latest_events_in_order_of_first_sight() -> None:
    tracker = StatusTracker()
    task = flaky(set(), {1, 3})
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[task], task_attempts=1)], status_tracker=tracker
    )
    await pipeline.run(range(5))
    failed = tracker.get_by_status("failed")
    assert [e.item_id for e in failed] == [1, 3]
    assert [e.metadata["error"] for e in failed] == ["1 is always wrong", "3 is always wrong"]
    assert [e.item_id for e in tracker.get_by_status("completed")] == [0, 2, 4]


async def test_the_error_summary_has_the_shape_and_counts_of_the_pipelines() -> None:
    async def picky(x: int) -> int:
        if x % 3 == 0:
            raise KeyError(x)
        return x

    async def strict(x: int) -> int:
        if x % 4 == 1:
            raise ValueError(f"{x} is odd")
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage("Picky", workers=2, tasks=[picky], task_attempts=2, task_wait_seconds=0),
            Stage(
                "Strict",
                workers=2,
                tasks=[strict],
                retry="per_stage",
                stage_attempts=2,
                task_wait_seconds=0,
            ),
        ],
        status_tracker=tracker,
    )
    await pipeline.run(range(12))

    mine = tracker.get_error_summary()
    theirs = pipeline.get_error_summary()
    # KeyError on 0, 3, 6, 9 at Picky; ValueError on 1 and 5 at Strict.
    assert mine.total_failed == theirs.total_failed == 6
    assert mine.errors_by_type == theirs.errors_by_type == {"KeyError": 4, "ValueError": 2}
    assert mine.errors_by_stage == theirs.errors_by_stage == {"Picky": 4, "Strict": 2}

    def without_time(summary: Any) -> list[tuple[Any, ...]]:
        return sorted(
            ((r.item_id, r.error, r.error_type, r.stage, r.attempts) for r in summary.failed_items),
            key=repr,
        )

    assert without_time(mine) == without_time(theirs)
    assert (0, "0", "KeyError", "Picky", 2) in without_time(mine)
    assert (1, "1 is odd", "ValueError", "Strict", 2) in without_time(mine)
    assert [r.timestamp for r in mine.failed_items] == sorted(
        r.timestamp for r in mine.failed_items
    )
    latest = tracker.get_error_summary(limit=2)
    assert latest.total_failed == 6
    assert latest.failed_items == mine.failed_items[-2:]
    assert tracker.get_error_summary(limit=0).failed_items == ()


# ------------------------------------------------------------- retries and counts


async def test_per_task_retries_and_failures_are_tracked() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                workers=2,
                tasks=[identity, flaky({1}, {2})],
                retry="per_task",
                task_attempts=3,
                task_wait_seconds=0,
            )
        ],
        status_tracker=tracker,
    )
    await pipeline.run(range(3))

    history_1 = tracker.get_history(1)
    assert [e.status.value for e in history_1] == ["queued", "in_progress", "retrying", "completed"]
    assert history_1[2].metadata["task"] == "task"
    assert history_1[2].metadata["error_type"] == "TimeoutError"
    assert history_1[2].metadata["retry"] is True
    assert history_1[2].metadata["attempt"] == 2  # the attempt about to be made
    history_2 = tracker.get_history(2)
    assert [e.status.value for e in history_2] == [
        "queued",
        "in_progress",
        "retrying",
        "retrying",
        "failed",
    ]
    assert [e.metadata["attempt"] for e in history_2[2:]] == [2, 3, 3]  # retrying: the next
    assert isinstance(history_2[-1].metadata["exception"], ValueError)
    stats = tracker.get_stats()
    assert (stats["completed"], stats["failed"]) == (2, 1)
    assert pipeline.get_stats().stage_stats["S"].retried_items == 3


async def test_per_stage_retries_requeue_the_item_and_are_tracked() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage(
                "Tx",
                workers=1,
                tasks=[identity, flaky({1}, {2})],
                retry="per_stage",
                stage_attempts=2,
                task_wait_seconds=0,
            )
        ],
        status_tracker=tracker,
    )
    await pipeline.run(range(3))

    history_1 = tracker.get_history(1)
    assert [(e.status.value, dict(e.metadata).get("attempt")) for e in history_1] == [
        ("queued", None),
        ("in_progress", 1),
        ("retrying", 2),
        ("queued", 2),
        ("in_progress", 2),
        ("completed", None),
    ]
    history_2 = tracker.get_history(2)
    assert [e.status.value for e in history_2] == [
        "queued",
        "in_progress",
        "retrying",
        "queued",
        "in_progress",
        "failed",
    ]
    assert history_2[-1].metadata["attempt"] == 2
    [failure] = tracker.get_error_summary().failed_items
    assert (failure.item_id, failure.attempts, failure.error_type) == (2, 2, "ValueError")
    assert tracker.get_stats()["failed"] == pipeline.get_stats().items_failed == 1


@pytest.mark.parametrize("retry", ["per_task", "per_stage"])
@pytest.mark.parametrize("yielding_callback", [False, True], ids=["plain", "yielding"])
async def test_counts_agree_with_the_pipeline_over_a_multi_stage_run(
    retry: str, yielding_callback: bool
) -> None:
    """Failures at two stages, retries, and skips at the first and at the last stage.

    With a callback that yields to the event loop, other workers record events between an
    item's last status and its end: the tracker must still settle each item right.
    """

    async def yielding(event: StatusEvent) -> None:
        await asyncio.sleep(0)

    tracker = StatusTracker(on_status_change=yielding if yielding_callback else None)
    options: dict[str, Any] = {"retry": retry, "task_wait_seconds": 0}
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=3, tasks=[flaky({1, 4}, {5})], skip_if=lambda v: v == 7, **options),
            Stage("B", workers=2, tasks=[flaky({2}, {6, 13})], **options),
            Stage("C", workers=2, tasks=[identity], skip_if=lambda v: v % 3 == 0),
        ],
        status_tracker=tracker,
    )
    results = await pipeline.run(range(20))

    stats = tracker.get_stats()
    pipeline_stats = pipeline.get_stats()
    skipped_last = {e.item_id for e in tracker.get_by_status("skipped")}
    assert skipped_last == {r.id for r in results if r.id % 3 == 0}  # skipped C, the last
    assert stats["completed"] + stats["skipped"] == pipeline_stats.items_processed == 17
    assert len(results) == 17
    assert stats["failed"] == pipeline_stats.items_failed == 3
    assert sum(stats.values()) == 20
    completed = {e.item_id for e in tracker.get_by_status("completed")}
    assert completed | skipped_last == {r.id for r in results}
    # An item that skipped the last stage ends "skipped" there: no synthetic "completed".
    assert [(e.stage, e.status.value) for e in tracker.get_history(9)[-2:]] == [
        ("C", "queued"),
        ("C", "skipped"),
    ]
    for item in range(20):
        assert_legal_transitions(tracker.get_history(item))
    failed_at = {e.item_id: e.stage for e in tracker.get_by_status("failed")}
    assert failed_at == {5: "A", 6: "B", 13: "B"}


async def test_an_item_skipped_at_the_last_stage_ends_skipped_for_the_callback_too() -> None:
    seen: list[StatusEvent] = []
    tracker = StatusTracker(on_status_change=seen.append)
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=1, tasks=[identity]),
            Stage("B", workers=1, tasks=[identity], skip_if=lambda v: v == 1),
        ],
        status_tracker=tracker,
    )
    await pipeline.run(range(2))
    assert [(e.stage, e.status.value, dict(e.metadata)) for e in seen if e.item_id == 1][-2:] == [
        ("B", "queued", {}),
        ("B", "skipped", {}),
    ]
    assert [e.status.value for e in seen if e.item_id == 0][-1] == "completed"
    assert len([e for e in seen if e.item_id == 0]) == 6  # no extra event for item 0
    assert tracker.get_history(1) == [e for e in seen if e.item_id == 1]


async def test_a_stream_is_tracked_like_a_run() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=2, tasks=[flaky(set(), {3})], task_attempts=1),
            Stage("B", workers=2, tasks=[identity], skip_if=lambda v: v == 4),
        ],
        collect_results=False,
        status_tracker=tracker,
    )
    seen = [result.id async for result in pipeline.stream(range(8))]
    assert sorted(seen) == [0, 1, 2, 4, 5, 6, 7]
    stats = tracker.get_stats()
    assert (stats["completed"], stats["skipped"], stats["failed"]) == (6, 1, 1)
    assert sum(stats.values()) == 8


async def test_one_tracker_follows_successive_runs_of_a_pipeline() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(stages=[Stage("S", workers=2, tasks=[identity])], status_tracker=tracker)
    await pipeline.run(range(3))
    await pipeline.run(range(4))
    assert tracker.get_stats()["completed"] == pipeline.get_stats().items_processed == 7
    tracker.clear()
    assert tracker.get_stats()["completed"] == 0
    assert tracker.get_status(0) is None
    assert tracker.get_error_summary().total_failed == 0
    await pipeline.run(range(2))
    assert tracker.get_stats()["completed"] == 2


async def test_items_left_by_shutdown_keep_their_last_status() -> None:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def stuck(x: int) -> int:
        started.set()
        await gate.wait()
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[stuck])], status_tracker=tracker)
    await pipeline.start()
    await pipeline.feed(range(3))
    await started.wait()
    await pipeline.shutdown()
    stats = tracker.get_stats()
    assert (stats["in_progress"], stats["queued"]) == (1, 2)
    assert len(pipeline.unfinished_items) == 3


async def test_dict_items_with_unhashable_ids_are_tracked_by_their_repr() -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[identity])], status_tracker=tracker)
    await pipeline.run([{"id": ["a", 1], "value": 1}, {"id": "b", "value": 2}])
    latest = tracker.get_status(["a", 1])
    assert latest is not None
    assert latest.item_id == ["a", 1]
    assert latest.status == "completed"
    assert [e.status.value for e in tracker.get_history(["a", 1])] == [
        "queued",
        "in_progress",
        "completed",
    ]
    assert tracker.get_stats()["completed"] == 2


async def test_a_custom_runtime_may_deliver_status_event_objects() -> None:
    """Without record_status, a runtime calls on_status_event; the tracker keeps the same."""
    seen: list[StatusEvent] = []
    tracker = StatusTracker(on_status_change=seen.append)
    assert isinstance(tracker, PipelineObserver)
    events = [
        StatusEvent("x", "S", ItemStatus.QUEUED, None, None, 1.0),
        StatusEvent("x", "S", ItemStatus.IN_PROGRESS, "S-W0", 0, 2.0, {"attempt": 1}),
        StatusEvent("x", "S", ItemStatus.FAILED, "S-W0", 0, 3.0, {"error": "no"}),
    ]
    for event in events:
        assert tracker.on_status_event(event) is None
    assert seen == events
    assert tracker.get_history("x") == events
    assert tracker.get_status("x") == events[-1]
    assert tracker.get_status("x") is not None
    assert events[0].metadata is EMPTY_METADATA
    assert tracker.get_stats()["failed"] == 1


async def test_a_custom_runtime_may_deliver_item_finished_events() -> None:
    """Without record_finished, a runtime calls on_item_finished with a returns Result."""
    from antflow import ItemFinished
    from returns.result import Failure, Success

    succeeded: list[PipelineResult[Any]] = []
    failed: list[FailedItem] = []
    tracker = StatusTracker(on_success=succeeded.append, on_failure=failed.append)
    result = PipelineResult("ok", 2, 0)
    failure = FailedItem("bad", 1, ValueError("no"), "S", 3, 1)
    tracker.on_status_event(StatusEvent("ok", "S", ItemStatus.COMPLETED, "S-W0", 0, 1.0))
    tracker.on_status_event(StatusEvent("bad", "S", ItemStatus.FAILED, "S-W0", 0, 2.0))
    assert tracker.on_item_finished(ItemFinished("ok", Success(result), 1.5)) is None
    assert tracker.on_item_finished(ItemFinished("bad", Failure(failure), 2.5)) is None
    assert (succeeded, failed) == ([result], [failure])
    stats = tracker.get_stats()
    assert (stats["completed"], stats["failed"]) == (1, 1)
    summary = tracker.get_error_summary()
    assert summary.total_failed == 1
    assert summary.failed_items[0].item_id == "bad"


# ---------------------------------------------------------------------- retention


async def test_history_keeps_the_latest_events_of_each_item() -> None:
    async def run_with(history: Any) -> StatusTracker:
        tracker = StatusTracker(history=history)
        pipeline = Pipeline(
            stages=[
                Stage("A", workers=2, tasks=[flaky({1}, set())], task_wait_seconds=0),
                Stage("B", workers=2, tasks=[identity]),
            ],
            status_tracker=tracker,
        )
        await pipeline.run(range(4))
        return tracker

    def shape(events: list[StatusEvent]) -> list[tuple[str, str, Any]]:
        return [(e.stage, e.status.value, e.metadata.get("attempt")) for e in events]

    full = await run_with("full")
    assert full.history == "full"
    assert len(full.get_history(1)) == 7
    for keep in (1, 2, 5):
        tracker = await run_with(keep)
        assert tracker.history == keep
        for item in range(4):
            kept = tracker.get_history(item)
            assert shape(kept) == shape(full.get_history(item))[-keep:]
            assert kept[-1] == tracker.get_status(item)
        assert tracker.get_stats() == full.get_stats()


async def test_forgetting_finished_items_bounds_memory_and_keeps_counts() -> None:
    count = 4_000
    events = 0

    def count_event(event: StatusEvent) -> None:
        nonlocal events
        events += 1

    tracker = StatusTracker(history=1, keep_finished=False, on_status_change=count_event)
    assert not tracker.keep_finished
    pipeline = Pipeline(
        stages=[
            Stage("A", workers=4, tasks=[flaky(set(), {10, 20})], task_attempts=1),
            Stage("B", workers=4, tasks=[identity]),
        ],
        status_tracker=tracker,
    )
    await pipeline.run(range(count))

    # Queued, in progress and completed at two stages; the 2 failures never reach B.
    assert events == 6 * count - 3 * 2
    # Compaction dropped the ended items' events (it runs once 16 384 are held).
    assert tracker.retained_events < events // 2
    assert tracker.get_stats()["completed"] == count - 2
    assert tracker.get_stats()["failed"] == 2
    assert tracker.get_status(0) is None
    assert tracker.get_history(0) == []
    assert tracker.get_by_status("completed") == []
    assert tracker.get_error_summary().total_failed == 2
    assert "items=0" in repr(tracker)


async def test_by_default_only_the_latest_ended_items_are_kept() -> None:
    from antflow_tracker.tracker import DEFAULT_KEEP_FINISHED

    assert StatusTracker().keep_finished == DEFAULT_KEEP_FINISHED == 100_000
    tracker = StatusTracker(keep_finished=3)
    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[identity])], status_tracker=tracker)
    await pipeline.run(range(5))
    # the two earliest to end are forgotten, the latest three keep their whole history
    assert [tracker.get_status(i) is None for i in range(5)] == [True, True, False, False, False]
    assert [e.status for e in tracker.get_history(4)] == ["queued", "in_progress", "completed"]
    assert tracker.get_stats()["completed"] == 5  # the counts cover every item
    keep_all = StatusTracker(keep_finished=True)
    await Pipeline(stages=[Stage("S", tasks=[identity])], status_tracker=keep_all).run(range(5))
    assert all(keep_all.get_status(i) is not None for i in range(5))


async def test_max_failures_bounds_the_error_summary_not_its_counts() -> None:
    tracker = StatusTracker(max_failures=2)
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[flaky(set(), {0, 1, 2, 3})], task_attempts=1)],
        status_tracker=tracker,
    )
    await pipeline.run(range(5))
    summary = tracker.get_error_summary()
    assert summary.total_failed == 4
    assert summary.errors_by_type == {"ValueError": 4}
    assert [r.item_id for r in summary.failed_items] == [2, 3]


# -------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"history": 0}, ValueError, "history=0 keeps nothing: use history=1"),
        ({"history": -3}, ValueError, "history=-3 keeps nothing"),
        ({"history": "last"}, TypeError, "history must be 'full' or a positive int"),
        ({"history": True}, TypeError, "history must be 'full' or a positive int"),
        ({"history": 2.5}, TypeError, "history must be 'full' or a positive int"),
        ({"keep_finished": "no"}, TypeError, "keep_finished must be True, False or a number"),
        ({"keep_finished": 0}, ValueError, r"keep_finished must be True \(all\), False \(none\)"),
        ({"max_failures": -1}, ValueError, "max_failures must be >= 0 or None"),
        ({"max_failures": "10"}, TypeError, "max_failures must be an int or None"),
        ({"on_status_change": "print"}, TypeError, "on_status_change must be a function"),
        ({"on_task_retry": 3}, TypeError, "on_task_retry must be a function"),
        ({"on_failure": object()}, TypeError, "on_failure must be a function"),
    ],
)
def test_bad_options_say_what_to_change(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        StatusTracker(**options)


def test_only_on_status_change_may_be_given_by_position() -> None:
    assert StatusTracker(print).on_status_change is print  # as antflow 0.10 accepted it
    with pytest.raises(TypeError):
        StatusTracker(print, print)  # type: ignore[call-arg]


async def test_a_tracker_is_accepted_by_the_pipeline_and_describes_itself() -> None:
    tracker = StatusTracker(history=3)
    pipeline = Pipeline(stages=[Stage("S", tasks=[identity])], status_tracker=tracker)
    assert pipeline.status_tracker is tracker
    await pipeline.run(range(2))
    assert repr(tracker) == "<StatusTracker items=2 events=6 history=3 keep_finished=100000>"
    assert tracker.retained_events == 6


async def test_item_callbacks_may_take_item_id_value_and_metadata() -> None:
    seen: list[tuple[str, Any, Any, dict[str, Any]]] = []

    def on_success(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        seen.append(("success", item_id, value, metadata))

    async def on_failure(item_id: Any, error: BaseException, metadata: dict[str, Any]) -> None:
        seen.append(("failure", item_id, type(error), metadata))

    tracker = StatusTracker(on_success=on_success, on_failure=on_failure)
    pipeline = Pipeline(
        stages=[Stage("S", tasks=[flaky(set(), {1})], task_attempts=1)], status_tracker=tracker
    )
    await pipeline.run([{"id": 0, "value": 0, "tag": "t"}, 1])
    assert sorted(seen, key=lambda s: s[1]) == [
        ("success", 0, 0, {"tag": "t"}),
        ("failure", 1, ValueError, {}),
    ]
    assert tracker.on_success is on_success  # the callback as given


def test_an_item_callback_that_fits_neither_form_is_refused() -> None:
    def two(item_id: Any, value: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"on_success\(item_id, value, metadata\)"):
        StatusTracker(on_success=two)  # type: ignore[arg-type]
    tracker = StatusTracker()
    with pytest.raises(TypeError, match=r"on_failure\(item_id, error, metadata\)"):
        tracker.on_failure = two  # type: ignore[assignment]


async def test_items_that_fan_out_end_expanded_and_are_forgotten_like_ended_items() -> None:
    async def split(n: int) -> list[int]:
        return [n * 10 + k for k in range(n)]

    tracker = StatusTracker(keep_finished=False)
    pipeline = Pipeline(
        stages=[Stage("Split", tasks=[split], fan_out=True)], status_tracker=tracker
    )
    await pipeline.run([1, 2, 0])
    counts = tracker.get_stats()
    assert (counts["expanded"], counts["completed"]) == (3, 3)
    assert tracker.get_tracked_ids() == []  # every item ended: parents and children
    kept = StatusTracker()
    pipeline = Pipeline(stages=[Stage("Split", tasks=[split], fan_out=True)], status_tracker=kept)
    await pipeline.run([2])
    assert [e.status for e in kept.get_history(0)] == ["queued", "in_progress", "expanded"]
    assert kept.get_status(0).metadata == {"children": 2}  # type: ignore[union-attr]
    assert [e.status for e in kept.get_history((0, 1))] == ["completed"]
    assert kept.get_history((0, 1))[0].metadata == {"parent": 0}
