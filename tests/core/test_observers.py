"""``combine_observers``: several observers on one pipeline, each seeing every event.

The group keeps the core's fast paths: members with ``record_status`` /
``record_finished`` get plain fields, the others one shared event; task events are
built only when a member wants them, and go only to those members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

import pytest
from antflow_core import (
    FailedItem,
    ItemFinished,
    ItemStatus,
    Pipeline,
    PipelineResult,
    Stage,
    StatusEvent,
    TaskEvent,
    combine_observers,
)


class EventObserver:
    """Implements only the Protocol's three methods: gets built events."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name
        self.statuses: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []
        self.finished: list[ItemFinished] = []

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        self.statuses.append(event)
        self.log.append(f"{self.name} {event.status}")
        return None

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        self.tasks.append(event)
        return None

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        self.finished.append(event)
        return None


class FastObserver(EventObserver):
    """Also implements the fast hooks, and wants no task events."""

    observes_task_events = False

    def __init__(self, log: list[str], name: str) -> None:
        super().__init__(log, name)
        self.fields: list[tuple[Any, ...]] = []
        self.ended: list[tuple[Any, PipelineResult[Any] | FailedItem]] = []

    def record_status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
        /,
    ) -> Awaitable[None] | None:
        self.fields.append((item_id, stage, status))
        self.log.append(f"{self.name} {status}")
        return None

    def record_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        self.ended.append((item_id, ended))
        return None

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        raise AssertionError("the group must use record_status")

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        raise AssertionError("observes_task_events is False")

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        raise AssertionError("the group must use record_finished")


async def double(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return 2 * x


def stage() -> Stage:
    return Stage("Double", workers=1, tasks=[double], task_attempts=1)


async def test_every_member_sees_every_event_in_its_own_form_in_order() -> None:
    log: list[str] = []
    fast, plain = FastObserver(log, "fast"), EventObserver(log, "plain")
    group = combine_observers(fast, plain)
    assert group.observes_task_events  # type: ignore[attr-defined]
    async with asyncio.timeout(5):
        await Pipeline([stage()], status_tracker=group).run(range(3))
    assert [f[1:] for f in fast.fields if f[0] == 0] == [
        ("Double", "queued"),
        ("Double", "in_progress"),
        ("Double", "completed"),
    ]
    assert [(e.item_id, e.status) for e in plain.statuses] == [f[::2] for f in fast.fields]
    assert log[:2] == ["fast queued", "plain queued"]  # members in the order given
    assert [i for i, _ in fast.ended] == [0, 1, 2]
    assert [e.item_id for e in plain.finished] == [0, 1, 2]
    assert isinstance(fast.ended[2][1], FailedItem)
    assert [(e.item_id, e.event_type) for e in plain.tasks] == [
        (0, "start"),
        (0, "complete"),
        (1, "start"),
        (1, "complete"),
        (2, "start"),
        (2, "fail"),
    ]


async def test_a_group_of_fast_observers_asks_for_no_task_events_and_builds_no_events() -> None:
    log: list[str] = []
    group = combine_observers(FastObserver(log, "a"), FastObserver(log, "b"))
    assert not group.observes_task_events  # type: ignore[attr-defined]
    async with asyncio.timeout(5):
        await Pipeline([stage()], status_tracker=group).run(range(3))
    assert log.count("a completed") == log.count("b completed") == 2


async def test_a_member_that_raises_is_logged_and_the_others_still_see_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []

    class Broken(EventObserver):
        def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
            raise RuntimeError("observer bug")

    after = EventObserver(log, "after")
    group = combine_observers(Broken(log, "broken"), after)
    async with asyncio.timeout(5):
        results = await Pipeline([stage()], status_tracker=group).run(range(3))
    assert [r.value for r in results] == [0, 2]
    # each of 3 items: queued and in_progress, then completed (0, 1) or failed (2)
    assert len(after.statuses) == 9
    assert "observer bug" in caplog.text


async def test_awaitables_are_awaited_in_member_order_and_one_failing_does_not_stop_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    order: list[str] = []

    class Async(EventObserver):
        def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
            return self.finish(event)

        async def finish(self, event: ItemFinished) -> None:
            await asyncio.sleep(0)
            order.append(f"{self.name} {event.item_id}")
            if self.name == "first":
                raise RuntimeError("async observer bug")

    group = combine_observers(Async([], "first"), Async([], "second"))
    async with asyncio.timeout(5):
        await Pipeline([stage()], status_tracker=group).run([0, 1])
    assert order == ["first 0", "second 0", "first 1", "second 1"]
    raised = [r for r in caplog.records if r.exc_info and "observer bug" in str(r.exc_info[1])]
    assert len(raised) == 2


def test_one_observer_is_returned_unchanged_and_non_observers_are_refused() -> None:
    observer = EventObserver([], "only")
    assert combine_observers(observer) is observer
    with pytest.raises(TypeError, match="combine_observers\\(\\) takes observers"):
        combine_observers(observer, print)  # type: ignore[arg-type]


async def test_three_members_each_see_every_event_even_when_one_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []

    class Raising(FastObserver):
        observes_task_events = True

        def record_status(self, *fields: Any) -> Awaitable[None] | None:
            raise RuntimeError("status bug")

        def record_finished(self, *fields: Any) -> Awaitable[None] | None:
            raise RuntimeError("finish bug")

        def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
            raise RuntimeError("task bug")

    fast, plain = FastObserver(log, "fast"), EventObserver(log, "plain")
    group = combine_observers(fast, Raising(log, "raising"), plain)
    async with asyncio.timeout(5):
        results = await Pipeline([stage()], status_tracker=group).run(range(3))
    assert [r.value for r in results] == [0, 2]
    assert len(fast.fields) == len(plain.statuses) == 9
    assert [i for i, _ in fast.ended] == [e.item_id for e in plain.finished] == [0, 1, 2]
    assert len(plain.tasks) == 6
    for bug, count in (("status bug", 9), ("finish bug", 3), ("task bug", 6)):
        assert len([r for r in caplog.records if r.exc_info and bug in str(r.exc_info[1])]) == count


async def test_a_task_callback_set_on_a_member_after_the_pipeline_was_built_takes_effect() -> None:
    from antflow_tracker import StatusTracker

    calls = 0

    async def flaky(x: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("first call fails")
        return x

    tracker = StatusTracker()
    fast = FastObserver([], "fast")  # wants no task events either
    group = combine_observers(tracker, fast)
    pipeline = Pipeline(
        [Stage("S", workers=1, tasks=[flaky], task_wait_seconds=0)], status_tracker=group
    )
    assert not group.observes_task_events  # type: ignore[attr-defined]
    retried: list[TaskEvent] = []
    tracker.on_task_retry = retried.append  # antflow 0.10 style, after construction
    assert group.observes_task_events  # type: ignore[attr-defined]
    async with asyncio.timeout(5):
        assert [r.value for r in await pipeline.run([7])] == [7]
    assert [(e.item_id, e.task_name, e.attempt) for e in retried] == [(0, "flaky", 1)]
    assert fast.tasks == []  # a member that wants no task events still gets none
