"""Worker monitoring on the pipeline: worker states and metrics, error summary, dashboard
snapshot, and ``set_task_status`` from inside a running task.

Workers are held at known points with ``asyncio.Event`` gates, so every state is read
while it is certain; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from antflow import Pipeline, Stage, StatusTracker, WorkerStatus, set_task_status


class Gates:
    """Per-item gates: a task announces it started an item, then waits to be released."""

    def __init__(self) -> None:
        self.started: dict[int, asyncio.Event] = {}
        self.release: dict[int, asyncio.Event] = {}

    def _pair(self, x: int) -> tuple[asyncio.Event, asyncio.Event]:
        return (
            self.started.setdefault(x, asyncio.Event()),
            self.release.setdefault(x, asyncio.Event()),
        )

    def task(self, name: str) -> Callable[[int], Awaitable[int]]:
        async def held(x: int) -> int:
            started, release = self._pair(x)
            started.set()
            await release.wait()
            return x

        held.__name__ = name
        return held

    async def wait_started(self, *items: int) -> None:
        for x in items:
            await self._pair(x)[0].wait()

    def open(self, *items: int) -> None:
        for x in items:
            self._pair(x)[1].set()


async def passthrough(x: int) -> int:
    return x


# ------------------------------------------------------------------ worker states


async def test_worker_states_show_who_is_busy_with_what_since_when() -> None:
    gates = Gates()
    pipeline = Pipeline(
        stages=[
            Stage("Poll", workers=3, tasks=[gates.task("poll")]),
            Stage("Save", workers=1, tasks=[passthrough]),
        ]
    )
    states = pipeline.get_worker_states()
    assert list(states) == ["Poll-W0", "Poll-W1", "Poll-W2", "Save-W0"]
    assert all(s.status is WorkerStatus.IDLE for s in states.values())

    before = time.time()
    await pipeline.start()
    await pipeline.feed(range(2))
    await gates.wait_started(0, 1)
    after = time.time()

    states = pipeline.get_worker_states()
    busy = {s.current_item_id: s for s in states.values() if s.status == "busy"}
    assert sorted(busy) == [0, 1]
    for state in busy.values():
        assert state.stage == "Poll"
        assert state.worker == f"Poll-W{state.worker_id}"
        assert state.current_task == "poll"
        assert state.busy_since is not None
        assert before - 0.01 <= state.busy_since <= after + 0.01
        assert state.task_status is None
    idle = [s for s in states.values() if s.status == "idle"]
    assert {s.worker for s in idle} == {"Poll-W0", "Poll-W1", "Poll-W2", "Save-W0"} - {
        s.worker for s in busy.values()
    }
    for state in idle:
        assert (state.current_item_id, state.current_task, state.busy_since) == (None, None, None)

    gates.open(0, 1)
    await pipeline.join()
    assert all(s.status == "idle" for s in pipeline.get_worker_states().values())


async def test_worker_state_names_the_task_running_in_a_multi_task_stage() -> None:
    gates = Gates()
    pipeline = Pipeline(
        stages=[Stage("ETL", workers=1, tasks=[passthrough, gates.task("load"), passthrough])]
    )
    await pipeline.start()
    await pipeline.feed([0])
    await gates.wait_started(0)
    [state] = pipeline.get_worker_states().values()
    assert (state.status, state.current_item_id, state.current_task) == ("busy", 0, "load")
    gates.open(0)
    await pipeline.join()


# ---------------------------------------------------------------- set_task_status


async def test_a_task_publishes_its_status_into_its_workers_state() -> None:
    step = {name: asyncio.Event() for name in ("published", "again", "checked", "done")}
    answers: list[bool] = []

    async def long_poll(x: int) -> int:
        if x == 0:
            answers.append(set_task_status("batch 0: 0/10 done"))
            step["published"].set()
            await step["again"].wait()
            # Too soon for min_interval: skipped, the previous text stays.
            answers.append(set_task_status("batch 0: 1/10 done", min_interval=60.0))
            # Without min_interval every update is published.
            answers.append(set_task_status("batch 0: 2/10 done"))
            step["checked"].set()
            await step["done"].wait()
        return x

    pipeline = Pipeline(stages=[Stage("Batch", workers=1, tasks=[long_poll])])
    await pipeline.start()
    await pipeline.feed(range(2))
    await step["published"].wait()
    assert pipeline.get_worker_states()["Batch-W0"].task_status == "batch 0: 0/10 done"
    step["again"].set()
    await step["checked"].wait()
    assert pipeline.get_worker_states()["Batch-W0"].task_status == "batch 0: 2/10 done"
    assert answers == [True, False, True]
    step["done"].set()
    await pipeline.join()
    # The next item started with a clean status.
    assert pipeline.get_worker_states()["Batch-W0"].task_status is None


async def test_min_interval_lets_a_tight_loop_publish_only_the_first_update() -> None:
    seen: list[str | None] = []
    published: list[bool] = []
    pipeline: Pipeline

    async def tight_loop(x: int) -> int:
        for i in range(100):
            published.append(set_task_status(f"page {i}", min_interval=3600.0))
        seen.append(pipeline.get_worker_states()["Loop-W0"].task_status)
        return x

    pipeline = Pipeline(stages=[Stage("Loop", workers=1, tasks=[tight_loop])])
    await pipeline.run([0])
    assert published == [True] + [False] * 99
    assert seen == ["page 0"]


async def test_a_sync_task_in_a_thread_can_publish_its_status() -> None:
    seen: list[str | None] = []
    pipeline: Pipeline

    def blocking_poll(x: int) -> int:
        assert set_task_status(f"thread polling {x}")
        return x

    def after(x: int) -> int:
        return x

    async def report(x: int) -> int:
        seen.append(pipeline.get_worker_states()["Poll-W0"].task_status)
        return x

    pipeline = Pipeline(stages=[Stage("Poll", workers=1, tasks=[blocking_poll, after, report])])
    await pipeline.run([7])
    assert seen == ["thread polling 7"]


def test_set_task_status_outside_a_pipeline_task_does_nothing() -> None:
    assert set_task_status("nobody listens") is False


# ---------------------------------------------------------------- worker metrics


async def test_worker_metrics_count_what_each_worker_did() -> None:
    async def odd_fails(x: int) -> int:
        await asyncio.sleep(0)
        if x % 2:
            raise ValueError(f"{x} is odd")
        return x

    pipeline = Pipeline(
        stages=[
            Stage("Check", workers=1, tasks=[odd_fails], task_attempts=1),
            Stage("Keep", workers=3, tasks=[passthrough], skip_if=lambda v: v == 4),
        ]
    )
    fresh = pipeline.get_worker_metrics()
    assert all(
        (m.items_processed, m.items_failed, m.total_processing_time, m.last_active)
        == (0, 0, 0.0, None)
        for m in fresh.values()
    )
    assert fresh["Check-W0"].average_processing_time == 0.0

    await pipeline.run(range(8))
    finished_by = time.time()
    metrics = pipeline.get_worker_metrics()
    check = metrics["Check-W0"]
    assert (check.stage, check.worker_id) == ("Check", 0)
    assert (check.items_processed, check.items_failed) == (4, 4)
    assert check.total_processing_time > 0
    assert check.average_processing_time == pytest.approx(check.total_processing_time / 8)
    assert check.last_active is not None
    assert check.last_active <= finished_by + 0.01

    keep = [m for name, m in metrics.items() if name.startswith("Keep-")]
    assert sum(m.items_processed for m in keep) == 4  # completed and skipped
    assert sum(m.items_failed for m in keep) == 0
    stage_stats = pipeline.get_stats().stage_stats["Keep"]
    assert stage_stats.completed_items + stage_stats.skipped_items == 4
    assert stage_stats.skipped_items == 1
    for m in keep:
        assert (m.last_active is None) == (m.items_processed == 0)


# --------------------------------------------------------- error summary, snapshot


async def test_the_pipelines_error_summary_counts_by_type_and_stage() -> None:
    async def parse(x: int) -> int:
        if x % 4 == 0:
            raise ValueError(f"cannot parse {x}")
        return x

    async def store(x: int) -> int:
        if x % 4 == 1:
            raise ConnectionError("store down")
        return x

    pipeline = Pipeline(
        stages=[
            Stage("Parse", workers=2, tasks=[parse], task_attempts=1),
            Stage("Store", workers=2, tasks=[store], task_attempts=2, task_wait_seconds=0),
        ]
    )
    await pipeline.run(range(10))
    summary = pipeline.get_error_summary()
    assert summary.total_failed == 3 + 3  # parse: 0, 4, 8; store: 1, 5, 9
    assert summary.errors_by_type == {"ValueError": 3, "ConnectionError": 3}
    assert summary.errors_by_stage == {"Parse": 3, "Store": 3}
    by_item = {r.item_id: r for r in summary.failed_items}
    assert sorted(by_item) == [0, 1, 4, 5, 8, 9]
    assert (by_item[4].error, by_item[4].error_type, by_item[4].stage, by_item[4].attempts) == (
        "cannot parse 4",
        "ValueError",
        "Parse",
        1,
    )
    assert (by_item[5].error, by_item[5].stage, by_item[5].attempts) == ("store down", "Store", 2)
    assert all(r.timestamp <= time.time() for r in summary.failed_items)
    latest = pipeline.get_error_summary(limit=2)
    assert latest.total_failed == 6
    assert latest.failed_items == summary.failed_items[-2:]


async def test_the_dashboard_snapshot_bundles_everything_at_one_moment() -> None:
    gates = Gates()

    async def fail(x: int) -> int:
        raise RuntimeError(f"broken {x}")

    pipeline = Pipeline(
        stages=[
            Stage("Doomed", workers=2, tasks=[fail], task_attempts=1),
            Stage("Never", workers=1, tasks=[passthrough]),
        ]
    )
    early = pipeline.get_dashboard_snapshot()
    assert (early.started_at, early.elapsed) == (None, 0.0)
    assert early.stage_names == ("Doomed", "Never")
    await pipeline.run(range(25))

    gated = Pipeline(stages=[Stage("Held", workers=2, tasks=[gates.task("hold")])])
    await gated.start()
    await gated.feed(range(3))
    await gates.wait_started(0, 1)
    snapshot = gated.get_dashboard_snapshot()
    assert snapshot.stats == gated.get_stats()
    states = gated.get_worker_states()
    assert snapshot.worker_states.keys() == states.keys()
    for name, state in snapshot.worker_states.items():
        assert (state.status, state.current_item_id, state.current_task) == (
            states[name].status,
            states[name].current_item_id,
            states[name].current_task,
        )
    assert snapshot.worker_metrics == gated.get_worker_metrics()
    assert snapshot.stats.items_in_flight == 3
    assert snapshot.stats.queue_sizes == {"Held": 1}
    assert snapshot.started_at is not None
    assert snapshot.started_at <= snapshot.timestamp
    assert snapshot.elapsed == snapshot.timestamp - snapshot.started_at
    gates.open(0, 1, 2)
    await gated.join()

    # The failed run's snapshot: all 25 failures counted, the latest 20 listed.
    final = pipeline.get_dashboard_snapshot()
    assert final.error_summary.total_failed == 25
    assert [r.item_id for r in final.error_summary.failed_items] == [
        r.item_id for r in pipeline.get_error_summary().failed_items[-20:]
    ]
    assert final.stats.items_failed == 25


async def test_monitoring_agrees_with_an_attached_tracker() -> None:
    async def flaky(x: int) -> int:
        if x in (2, 3):
            raise KeyError(x)
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("S", workers=2, tasks=[flaky], task_attempts=2, task_wait_seconds=0)],
        status_tracker=tracker,
    )
    await pipeline.run(range(6))
    snapshot = pipeline.get_dashboard_snapshot()
    assert snapshot.stats.items_processed == tracker.get_stats()["completed"] == 4
    assert snapshot.error_summary.total_failed == tracker.get_error_summary().total_failed == 2
    metrics = snapshot.worker_metrics.values()
    assert sum(m.items_processed for m in metrics) == 4
    assert sum(m.items_failed for m in metrics) == 2
