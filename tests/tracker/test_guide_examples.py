"""The guide's examples of "Status Tracking", "Monitoring Strategies", "Error Handling" and
"Worker-Level Tracking", run as written.

Each test holds one example of the Pipeline guide (``shared/seeds/004_...txt``) with only
what running it needs around it: type annotations (the tests are checked by
``mypy --strict``), small stand-in tasks where the guide leaves them out (``my_task``,
``risky_task``, ``send_critical_alert``, ...), the items, and top-level ``await`` placed
in the test coroutine. Then the test checks what the example printed or returned.

The guide's stages keep ``task_wait_seconds=1.0``; the ``instant_retry_waits`` fixture
makes those waits take no time (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio

import pytest
from antflow import (
    FailedItem,
    Pipeline,
    PipelineResult,
    Stage,
    StatusEvent,
    StatusTracker,
    TaskEvent,
)

pytestmark = pytest.mark.usefixtures("instant_retry_waits")


# --------------------------------------------------------------------- stand-ins


async def my_task(x: int) -> int:
    """Succeeds on every item but multiples of 7, which fail every attempt."""
    if x % 7 == 3:
        raise ValueError(f"item {x} is malformed")
    return x * 10


async def risky_task(x: int) -> int:
    """Fails every attempt on multiples of 5; other items succeed at once."""
    if x % 5 == 0:
        raise ConnectionError(f"upstream refused item {x}")
    return x


items = list(range(50))


# ------------------------------------------------------------------ Status Tracking


async def test_basic_status_tracking(capsys: pytest.CaptureFixture[str]) -> None:
    tracker = StatusTracker()

    stage = Stage(name="ProcessStage", workers=3, tasks=[my_task])

    pipeline = Pipeline(stages=[stage], status_tracker=tracker)
    results = await pipeline.run(items)

    # Query statistics
    stats = tracker.get_stats()
    print(f"Completed: {stats['completed']}")
    print(f"Failed: {stats['failed']}")

    failing = [i for i in items if i % 7 == 3]
    assert capsys.readouterr().out.splitlines() == [
        f"Completed: {len(items) - len(failing)}",
        f"Failed: {len(failing)}",
    ]
    assert [r.value for r in results] == [i * 10 for i in items if i not in failing]


async def test_real_time_event_monitoring(capsys: pytest.CaptureFixture[str]) -> None:
    stage = Stage(name="ProcessStage", workers=3, tasks=[my_task], task_attempts=1)

    async def on_status_change(event: StatusEvent) -> None:
        print(f"{event.status.upper()}: Item {event.item_id} @ {event.stage}")

        if event.status == "failed":
            print(f"  Error: {event.metadata.get('error')}")
        elif event.status == "in_progress":
            print(f"  Worker: {event.worker}")

    tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(stages=[stage], status_tracker=tracker)

    await pipeline.run([2, 3])
    lines = capsys.readouterr().out.splitlines()
    headers = [line for line in lines if not line.startswith("  ")]
    assert sorted(headers) == sorted(
        f"{status}: Item {item} @ ProcessStage"
        for item, statuses in (
            (0, ["QUEUED", "IN_PROGRESS", "COMPLETED"]),
            (1, ["QUEUED", "IN_PROGRESS", "FAILED"]),
        )
        for status in statuses
    )
    # Each item's events come in the order they happened...
    for item, last in ((0, "COMPLETED"), (1, "FAILED")):
        assert [h for h in headers if f"Item {item} " in h] == [
            f"{status}: Item {item} @ ProcessStage" for status in ("QUEUED", "IN_PROGRESS", last)
        ]
    # ... and the details follow their header.
    workers = pipeline.get_worker_names()["ProcessStage"]
    for index, line in enumerate(lines):
        if line.startswith("IN_PROGRESS"):
            assert lines[index + 1].removeprefix("  Worker: ") in workers
        if line.startswith("FAILED"):
            assert lines[index + 1] == "  Error: item 3 is malformed"
    assert len(lines) == len(headers) + 3


# Stand-ins of the task-level example: an ETL stage whose save fails for item 4.
alerts: list[str] = []
succeeded: list[PipelineResult[object]] = []
failures_seen: list[FailedItem] = []


async def send_critical_alert(message: str) -> None:
    alerts.append(message)


def handle_success(result: PipelineResult[object]) -> None:
    succeeded.append(result)


async def handle_failure(failed: FailedItem) -> None:
    failures_seen.append(failed)


async def extract(x: int) -> dict[str, int]:
    return {"id": x}


async def transform(row: dict[str, int]) -> dict[str, int]:
    return {**row, "double": row["id"] * 2}


async def validate(row: dict[str, int]) -> dict[str, int]:
    return row


attempts_of_save: dict[int, int] = {}


async def save(row: dict[str, int]) -> int:
    attempts_of_save[row["id"]] = attempts_of_save.get(row["id"], 0) + 1
    if row["id"] == 4:
        raise OSError("disk full")
    if row["id"] == 2 and attempts_of_save[row["id"]] == 1:
        raise TimeoutError("database busy")
    return row["id"]


@pytest.fixture(autouse=True)
def _reset_stand_ins() -> None:
    for collected in (alerts, succeeded, failures_seen, attempts_of_save):
        collected.clear()


async def test_task_level_event_monitoring_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    async def on_task_retry(event: TaskEvent) -> None:
        print(f"⚠️  Task {event.task_name} retry #{event.attempt}")
        print(f"   Item: {event.item_id}, Error: {event.error}")

    async def on_task_fail(event: TaskEvent) -> None:
        print(f"❌ Task {event.task_name} FAILED after {event.attempt} attempts")

        if event.task_name == "save_to_database":
            await send_critical_alert(f"Database save failed for {event.item_id}")

    tracker = StatusTracker(on_success=handle_success, on_failure=handle_failure)

    stage = Stage(
        name="ETL",
        tasks=[extract, transform, validate, save],
        retry="per_task",
        task_attempts=3,
        # Limit specific tasks (e.g., API calls) to avoid rate limits
        task_concurrency_limits={
            "extract": 5,  # Max 5 concurrent extract calls
            "save": 20,  # Max 20 concurrent save calls
        },
    )

    pipeline = Pipeline(stages=[stage], status_tracker=tracker)

    await pipeline.run(range(6))
    # As written, the tracker gets on_success / on_failure only: no task event is built.
    assert not tracker.observes_task_events
    assert capsys.readouterr().out == ""
    assert sorted(r.id for r in succeeded) == [0, 1, 2, 3, 5]
    assert [(f.id, f.stage, f.attempts, f.error_type) for f in failures_seen] == [
        (4, "ETL", 3, "OSError")
    ]
    assert alerts == []


async def test_task_level_event_monitoring_with_its_callbacks_wired(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same example with the task callbacks it defines passed to the tracker."""

    async def on_task_retry(event: TaskEvent) -> None:
        print(f"⚠️  Task {event.task_name} retry #{event.attempt}")
        print(f"   Item: {event.item_id}, Error: {event.error}")

    async def on_task_fail(event: TaskEvent) -> None:
        print(f"❌ Task {event.task_name} FAILED after {event.attempt} attempts")

        if event.task_name == "save_to_database":
            await send_critical_alert(f"Database save failed for {event.item_id}")

    async def save_to_database(row: dict[str, int]) -> int:
        return await save(row)

    tracker = StatusTracker(
        on_task_retry=on_task_retry,
        on_task_fail=on_task_fail,
        on_success=handle_success,
        on_failure=handle_failure,
    )
    stage = Stage(
        name="ETL",
        tasks=[extract, transform, validate, save_to_database],
        retry="per_task",
        task_attempts=3,
        task_concurrency_limits={"extract": 5, "save_to_database": 20},
    )
    pipeline = Pipeline(stages=[stage], status_tracker=tracker)
    await pipeline.run(range(6))

    lines = capsys.readouterr().out.splitlines()
    retries = [line for line in lines if line.startswith("⚠️")]
    assert sorted(retries) == sorted(
        [
            "⚠️  Task save_to_database retry #1",  # item 2, then it succeeds
            "⚠️  Task save_to_database retry #1",  # item 4
            "⚠️  Task save_to_database retry #2",  # item 4
        ]
    )
    assert "   Item: 2, Error: database busy" in lines
    assert lines.count("   Item: 4, Error: disk full") == 2
    assert [line for line in lines if line.startswith("❌")] == [
        "❌ Task save_to_database FAILED after 3 attempts"
    ]
    assert alerts == ["Database save failed for 4"]
    assert sorted(r.id for r in succeeded) == [0, 1, 2, 3, 5]
    assert [f.id for f in failures_seen] == [4]


async def test_query_item_status(capsys: pytest.CaptureFixture[str]) -> None:
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("ProcessStage", workers=3, tasks=[my_task], task_attempts=2)],
        status_tracker=tracker,
    )
    await pipeline.run(items)

    # Get specific item status
    status = tracker.get_status(item_id=42)
    assert status is not None
    print(f"Item 42: {status.status} @ {status.stage}")

    # Get all failed items
    failed = tracker.get_by_status("failed")
    for event in failed:
        print(f"Item {event.item_id}: {event.metadata['error']}")

    # Get item history
    history = tracker.get_history(item_id=42)
    for event in history:
        print(f"{event.timestamp}: {event.status}")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Item 42: completed @ ProcessStage"
    failing = [i for i in items if i % 7 == 3]
    assert lines[1 : 1 + len(failing)] == [f"Item {i}: item {i} is malformed" for i in failing]
    assert [line.split(": ")[1] for line in lines[1 + len(failing) :]] == [
        "queued",
        "in_progress",
        "completed",
    ]
    assert [e.timestamp for e in history] == sorted(e.timestamp for e in history)


# -------------------------------------------------------------- Monitoring Strategies


async def test_strategy_1_event_driven_callbacks(capsys: pytest.CaptureFixture[str]) -> None:
    async def on_status_change(event: StatusEvent) -> None:
        # React immediately to status changes
        print(f"Item {event.item_id} is now {event.status}")

    tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(
        stages=[Stage("Fetch", workers=2, tasks=[risky_task], task_attempts=1)],
        status_tracker=tracker,
    )
    await pipeline.run([1, 5])

    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("Item 0 ")] == [
        "Item 0 is now queued",
        "Item 0 is now in_progress",
        "Item 0 is now completed",
    ]
    assert [line for line in lines if line.startswith("Item 1 ")] == [
        "Item 1 is now queued",
        "Item 1 is now in_progress",
        "Item 1 is now failed",
    ]


async def test_strategy_2_polling_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """The polling loop as written; it stops when the run is over.

    As written the loop never ends, so neither would the TaskGroup: the test cancels it
    once ``run()`` has returned. The loop prints at least once, before ``run()`` first
    waits, whatever the timing.
    """
    pipeline = Pipeline(stages=[Stage("Fetch", workers=3, tasks=[my_task], task_attempts=1)])

    async def monitor_loop(pipeline: Pipeline) -> None:
        while True:
            # Poll current state every second
            stats = pipeline.get_stats()
            print(f"Processed: {stats.items_processed}, In-Flight: {stats.items_in_flight}")
            await asyncio.sleep(1.0)

    async with asyncio.TaskGroup() as tg:
        monitor = tg.create_task(monitor_loop(pipeline))
        await pipeline.run(items)
        monitor.cancel()

    assert monitor.cancelled()
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert all(line.startswith("Processed: ") and ", In-Flight: " in line for line in lines)
    assert pipeline.get_stats().items_in_flight == 0


async def test_strategy_3_programmatic_monitoring(capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = Pipeline(
        stages=[
            Stage("Fetch", workers=3, tasks=[risky_task], task_attempts=2),
            Stage("Process", workers=2, tasks=[my_task], task_attempts=1),
        ]
    )
    await pipeline.run(items)

    stats = pipeline.get_stats()

    print(f"Total processed: {stats.items_processed}")
    print(f"Total failed: {stats.items_failed}")

    # Access per-stage metrics
    for stage_name, stage_stat in stats.stage_stats.items():
        print(f"Stage {stage_name}:")
        print(f"  Completed: {stage_stat.completed_items}")
        print(f"  Failed: {stage_stat.failed_items}")
        print(f"  In progress: {stage_stat.in_progress_items}")

    fetch_failed = [i for i in items if i % 5 == 0]
    process_failed = [i for i in items if i % 7 == 3 and i not in fetch_failed]
    processed = len(items) - len(fetch_failed) - len(process_failed)
    assert capsys.readouterr().out.splitlines() == [
        f"Total processed: {processed}",
        f"Total failed: {len(fetch_failed) + len(process_failed)}",
        "Stage Fetch:",
        f"  Completed: {len(items) - len(fetch_failed)}",
        f"  Failed: {len(fetch_failed)}",
        "  In progress: 0",
        "Stage Process:",
        f"  Completed: {processed}",
        f"  Failed: {len(process_failed)}",
        "  In progress: 0",
    ]


# ------------------------------------------------------------------- Error Handling


async def test_tracking_failures_with_status_tracker(
    capsys: pytest.CaptureFixture[str], instant_retry_waits: list[float]
) -> None:
    tracker = StatusTracker()

    stage = Stage(
        name="RiskyStage", workers=3, tasks=[risky_task], retry="per_task", task_attempts=3
    )

    pipeline = Pipeline(stages=[stage], status_tracker=tracker)
    results = await pipeline.run(items)

    # Get statistics
    stats = tracker.get_stats()
    print(f"Succeeded: {stats['completed']}")
    print(f"Failed: {stats['failed']}")

    # Get failed items
    failed_items = tracker.get_by_status("failed")
    for event in failed_items:
        print(f"Item {event.item_id}: {event.metadata['error']}")

    failing = [i for i in items if i % 5 == 0]
    assert capsys.readouterr().out.splitlines() == [
        f"Succeeded: {len(items) - len(failing)}",
        f"Failed: {len(failing)}",
        *(f"Item {i}: upstream refused item {i}" for i in failing),
    ]
    assert len(results) == len(items) - len(failing)
    # Each failing item waited the default task_wait_seconds before each of its 2 retries.
    assert instant_retry_waits.count(1.0) == 2 * len(failing)


async def test_extracting_error_information(capsys: pytest.CaptureFixture[str]) -> None:
    async def on_status_change(event: StatusEvent) -> None:
        if event.status == "failed":
            error = event.metadata.get("error")
            print(f"Item {event.item_id} failed: {error}")

    tracker = StatusTracker(on_status_change=on_status_change)

    pipeline = Pipeline(
        stages=[Stage("RiskyStage", workers=3, tasks=[risky_task])], status_tracker=tracker
    )
    await pipeline.run(range(12))
    assert sorted(capsys.readouterr().out.splitlines()) == sorted(
        f"Item {i} failed: upstream refused item {i}" for i in (0, 5, 10)
    )


# -------------------------------------------------------------- Worker-Level Tracking


async def test_worker_level_tracking(capsys: pytest.CaptureFixture[str]) -> None:
    stage = Stage(name="ProcessStage", workers=3, tasks=[risky_task], task_attempts=1)

    async def on_status_change(event: StatusEvent) -> None:
        if event.status == "in_progress":
            print(f"Worker {event.worker_id}: processing {event.item_id}")
        elif event.status == "completed":
            print(f"Worker {event.worker_id}: completed {event.item_id}")

    tracker = StatusTracker(on_status_change=on_status_change)
    pipeline = Pipeline(stages=[stage], status_tracker=tracker)

    worker_names = pipeline.get_worker_names()

    await pipeline.run(range(1, 10))
    assert worker_names == {
        "ProcessStage": ["ProcessStage-W0", "ProcessStage-W1", "ProcessStage-W2"]
    }
    lines = capsys.readouterr().out.splitlines()
    processing = {
        int(line.split()[-1]): line.split(":")[0] for line in lines if "processing" in line
    }
    completed = {int(line.split()[-1]): line.split(":")[0] for line in lines if "completed" in line}
    assert sorted(processing) == list(range(9))
    assert sorted(completed) == [i for i in range(9) if i != 4]  # the value 5 fails
    # The worker that completed an item is the one that processed it; ids are 0 to N-1.
    assert all(completed[i] == processing[i] for i in completed)
    assert set(processing.values()) <= {"Worker 0", "Worker 1", "Worker 2"}
