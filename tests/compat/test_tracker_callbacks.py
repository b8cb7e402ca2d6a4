"""A 0.10 program sets its tracker's callbacks by assignment, after construction.

``tracker.on_status_change = fn`` (and the task callbacks) must take effect; before,
the assignment was silently ignored. ``StatusTracker(fn)`` takes ``on_status_change``
by position, as 0.10 did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from antflow.pipeline import Pipeline, Stage
from antflow.tracker import StatusTracker
from antflow.types import StatusEvent, TaskEvent


def failing_first(calls: int) -> Callable[[int], Awaitable[int]]:
    """A task that raises on its first ``calls`` calls, then returns its input."""
    made = 0

    async def fetch(x: int) -> int:
        nonlocal made
        made += 1
        if made <= calls:
            raise ConnectionError("try again")
        return x

    return fetch


async def test_callbacks_assigned_after_construction_are_called() -> None:
    statuses: list[str] = []
    retries: list[int] = []
    started: list[str] = []

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("Fetch", workers=1, tasks=[failing_first(2)], task_wait_seconds=0)],
        status_tracker=tracker,
    )

    async def on_status_change(event: StatusEvent) -> None:
        statuses.append(event.status)

    def on_task_retry(event: TaskEvent) -> None:
        retries.append(event.attempt)

    # Assigned after the tracker and even after the pipeline were built, as 0.10 allowed.
    tracker.on_status_change = on_status_change
    tracker.on_task_retry = on_task_retry
    tracker.on_task_start = lambda event: started.append(event.task_name)

    await pipeline.run([7])
    assert statuses == ["queued", "in_progress", "retrying", "retrying", "completed"]
    assert retries == [1, 2]
    assert started == ["fetch"] * 3


async def test_a_callback_given_by_position_can_be_replaced_and_removed() -> None:
    first: list[StatusEvent] = []
    second: list[StatusEvent] = []
    tracker = StatusTracker(first.append)  # on_status_change, by position
    pipeline = Pipeline(stages=[Stage("S", 1, [failing_first(0)])], status_tracker=tracker)
    await pipeline.run([10])
    tracker.on_status_change = second.append
    await pipeline.run([11])
    tracker.on_status_change = None
    await pipeline.run([12])
    assert [(e.item_id, e.status) for e in first] == [
        (0, "queued"),
        (0, "in_progress"),
        (0, "completed"),
    ]
    assert [e.item_id for e in second] == [1, 1, 1]
    status = tracker.get_status(2)  # still recorded, with no callback
    assert status is not None
    assert status.status == "completed"
