"""Stage options behave as in antflow 0.10: unpack_args with a list, skip_if, retrying events."""

from __future__ import annotations

from typing import Any

from antflow.pipeline import Pipeline, Stage
from antflow.tracker import StatusTracker
from antflow.types import StatusEvent


async def test_unpack_args_spreads_a_list_like_a_tuple() -> None:
    async def area(width: float, height: float) -> float:
        return width * height

    stage = Stage(name="Area", workers=2, tasks=[area], unpack_args=True)
    results = await Pipeline(stages=[stage]).run([[2, 3], (4, 5), {"width": 1, "height": 7}])
    assert [r.value for r in results] == [6, 20, 7]


async def test_a_skipped_item_goes_from_queued_to_skipped_and_only_on_skip_is_called() -> None:
    events: list[StatusEvent] = []
    succeeded: list[Any] = []
    skipped: list[tuple[Any, Any, dict[str, Any]]] = []
    seen_by_task: list[int] = []

    def on_success(item_id: Any, result: Any, metadata: dict[str, Any]) -> None:
        succeeded.append(item_id)

    def on_skip(item_id: Any, value: Any, metadata: dict[str, Any]) -> None:
        skipped.append((item_id, value, metadata))

    async def enrich(x: int) -> int:
        seen_by_task.append(x)
        return x + 100

    tracker = StatusTracker(on_status_change=events.append)
    stage = Stage(
        name="Enrich",
        workers=1,
        tasks=[enrich],
        skip_if=lambda x: x % 2 == 0,  # "skips this stage entirely"
        on_success=on_success,
        on_skip=on_skip,
    )
    pipeline = Pipeline(stages=[stage], status_tracker=tracker)
    items = [{"id": "even", "value": 2, "batch": 7}, {"id": "odd", "value": 3}]
    results = await pipeline.run(items)

    assert [(r.id, r.value) for r in results] == [("even", 2), ("odd", 103)]
    assert seen_by_task == [3]
    assert succeeded == ["odd"]  # not called for the skipped item
    assert skipped == [("even", 2, {"batch": 7})]
    assert [e.status for e in events if e.item_id == "even"] == ["queued", "skipped"]
    assert tracker.get_stats()["skipped"] == 1  # no synthetic "completed" after it


async def test_retrying_events_carry_retry_and_the_attempt_about_to_be_made() -> None:
    retrying: list[dict[str, Any]] = []
    calls = 0

    async def on_status_change(event: StatusEvent) -> None:
        if event.status == "retrying":
            retrying.append(dict(event.metadata))

    async def flaky(x: int) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"attempt {calls} failed")
        return x

    stage = Stage("Fetch", workers=1, tasks=[flaky], task_attempts=3, task_wait_seconds=0)
    tracker = StatusTracker(on_status_change=on_status_change)
    await Pipeline(stages=[stage], status_tracker=tracker).run([1])

    assert [(m["retry"], m["attempt"]) for m in retrying] == [(True, 2), (True, 3)]
    assert [m["error"] for m in retrying] == ["attempt 1 failed", "attempt 2 failed"]


async def test_per_stage_retrying_events_count_stage_attempts() -> None:
    retrying: list[dict[str, Any]] = []
    failed_once: set[int] = set()

    async def commit(x: int) -> int:
        if x not in failed_once:
            failed_once.add(x)
            raise RuntimeError("rolled back")
        return x

    def on_status_change(event: StatusEvent) -> None:
        if event.status == "retrying":
            retrying.append(dict(event.metadata))

    stage = Stage("Tx", 1, [commit], retry="per_stage", stage_attempts=2, task_wait_seconds=0)
    await Pipeline(stages=[stage], status_tracker=StatusTracker(on_status_change)).run([5])
    assert [(m["retry"], m["attempt"]) for m in retrying] == [(True, 2)]
