"""antflow 0.10's custom dashboards, snapshots as JSON, and run()'s handling of SIGTERM.

The dashboards here record the calls they receive; nothing draws, so no rich is needed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import pytest
from antflow_core import (
    BaseDashboard,
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    Pipeline,
    PipelineResult,
    Stage,
)
from antflow_core.model import (
    FailureRecord,
    PipelineStats,
    StageStats,
    WorkerMetrics,
    WorkerState,
)
from antflow_core.runtime import SIGTERM_EXIT_STATUS, set_task_status


async def halve(x: int) -> int:
    if x % 5 == 0:
        raise ValueError(f"{x} is a multiple of 5")
    return x // 2


def pipeline() -> Pipeline:
    return Pipeline([Stage("Halve", workers=3, tasks=[halve], task_attempts=1)])


class Recorder:
    """A 0.10 dashboard: records every call, in order."""

    refresh_interval = 0.001

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.updated = asyncio.Event()

    def on_start(self, pipeline: Any, total: int | None) -> None:
        self.calls.append(("on_start", (pipeline, total)))

    def on_update(self, snapshot: DashboardSnapshot) -> None:
        self.calls.append(("on_update", snapshot))
        self.updated.set()

    def on_finish(self, results: list[PipelineResult[Any]], summary: ErrorSummary) -> None:
        self.calls.append(("on_finish", (results, summary)))


async def test_a_custom_dashboard_gets_on_start_updates_and_on_finish_in_order() -> None:
    dashboard = Recorder()
    seen_during_run = asyncio.Event()

    async def wait_for_an_update(x: int) -> int:
        if x == 3:
            await dashboard.updated.wait()  # ends only once the dashboard was updated
            seen_during_run.set()
        return await halve(x)

    p = Pipeline([Stage("Halve", workers=3, tasks=[wait_for_an_update], task_attempts=1)])
    results = await p.run(range(1, 21), custom_dashboard=dashboard)

    assert seen_during_run.is_set()
    names = [name for name, _ in dashboard.calls]
    assert names[0] == "on_start"
    assert names[-1] == "on_finish"
    assert set(names[1:-1]) == {"on_update"}
    assert names.count("on_update") >= 2  # one during the run, one with the final state
    started_with, total = dashboard.calls[0][1]
    assert started_with is p
    assert total == 20
    last_update: DashboardSnapshot = dashboard.calls[-2][1]
    assert last_update.stats.items_processed == 16
    assert last_update.stats.items_in_flight == 0
    finished_results, summary = dashboard.calls[-1][1]
    assert finished_results == results
    assert [r.value for r in finished_results] == [x // 2 for x in range(1, 21) if x % 5]
    assert summary.total_failed == 4
    assert summary.errors_by_type == {"ValueError": 4}
    assert [f.item_id for f in summary.failed_items] == [4, 9, 14, 19]  # ids are 0-based


async def test_on_finish_gets_only_the_results_and_failures_of_its_own_run() -> None:
    p = pipeline()
    await p.run(range(1, 11))
    dashboard = Recorder()
    results = await p.run(range(11, 21), custom_dashboard=dashboard)
    finished_results, summary = dashboard.calls[-1][1]
    assert finished_results == results
    assert [r.value for r in finished_results] == [x // 2 for x in range(11, 21) if x % 5]
    assert summary.total_failed == 2  # 15 and 20, not the first run's 5 and 10


class Percent(BaseDashboard):
    """The BaseDashboard way: write render, optionally on_finish."""

    refresh_interval = 0.001

    def __init__(self) -> None:
        self.lines: list[str] = []

    def render(self, snapshot: DashboardSnapshot) -> None:
        done = snapshot.stats.items_processed + snapshot.stats.items_failed
        self.lines.append(f"{done}/{self.total}")

    def on_finish(self, results: list[PipelineResult[Any]], summary: ErrorSummary) -> None:
        super().on_finish(results, summary)
        self.lines.append(f"done: {len(results)} ok, {summary.total_failed} failed")


async def test_a_base_dashboard_subclass_writes_only_render() -> None:
    p = pipeline()
    dashboard = Percent()
    await p.run(range(1, 11), custom_dashboard=dashboard)
    assert dashboard.pipeline is p
    assert dashboard.total == 10
    assert dashboard.lines[-2] == "10/10"  # the final snapshot was rendered
    assert dashboard.lines[-1] == "done: 8 ok, 2 failed"
    assert dashboard.last_snapshot is not None
    assert dashboard.summary is not None
    assert len(dashboard.results) == 8
    assert isinstance(dashboard, DashboardProtocol)


def test_base_dashboard_is_abstract_and_exported_by_the_umbrella() -> None:
    import antflow

    assert antflow.BaseDashboard is BaseDashboard
    assert antflow.DashboardProtocol is DashboardProtocol
    with pytest.raises(TypeError, match="render"):
        BaseDashboard()  # type: ignore[abstract]


@pytest.mark.parametrize(
    "other", [{"progress": True}, {"dashboard": "compact"}, {"dashboard": Recorder()}]
)
async def test_a_custom_dashboard_with_progress_or_dashboard_is_refused_before_any_feeding(
    other: dict[str, Any],
) -> None:
    p = pipeline()
    with pytest.raises(ValueError, match=r"custom_dashboard= .* pass it alone"):
        await p.run(range(10), custom_dashboard=Recorder(), **other)
    assert p.get_stats().items_fed == 0
    assert not p.is_running
    # the pipeline is still usable
    assert len(await p.run(range(1, 5))) == 4


async def test_an_object_that_is_no_dashboard_is_refused_with_what_to_implement() -> None:
    with pytest.raises(TypeError, match=r"on_start\(pipeline, total\), on_update"):
        await pipeline().run(range(3), custom_dashboard=object())  # type: ignore[arg-type]


async def test_run_refresh_interval_wins_over_the_dashboards_own() -> None:
    from antflow_core.runtime import DashboardDisplay

    assert DashboardDisplay(Recorder(), None).refresh_interval == 0.001
    assert DashboardDisplay(Recorder(), None, 2.0).refresh_interval == 2.0

    class NoInterval:
        def on_start(self, pipeline: Any, total: int | None) -> None: ...
        def on_update(self, snapshot: DashboardSnapshot) -> None: ...
        def on_finish(self, results: list[PipelineResult[Any]], summary: ErrorSummary) -> None:
            pass

    assert DashboardDisplay(NoInterval(), None).refresh_interval == 0.5


async def test_a_dashboard_can_also_be_passed_as_dashboard_or_as_a_progress_display() -> None:
    dashboard = Recorder()
    # accepted at run time, as 0.10 programs may pass it so; typed as custom_dashboard=
    await pipeline().run(range(1, 4), dashboard=dashboard)  # type: ignore[arg-type]
    assert [name for name, _ in dashboard.calls][:: len(dashboard.calls) - 1] == [
        "on_start",
        "on_finish",
    ]

    class Display:
        refresh_interval = 0.01

        def __init__(self) -> None:
            self.finished = False

        def start(self, total: int | None, stage_names: Sequence[str]) -> None: ...
        def update(self, snapshot: DashboardSnapshot) -> None: ...
        def finish(self, snapshot: DashboardSnapshot) -> None:
            self.finished = True

    display = Display()
    await pipeline().run(range(1, 4), custom_dashboard=display)
    assert display.finished


async def test_a_dashboard_that_raises_is_logged_and_dropped_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Recorder):
        def on_update(self, snapshot: DashboardSnapshot) -> None:
            self.updated.set()
            raise RuntimeError("dashboard bug")

    dashboard = Broken()

    async def wait_for_the_failure(x: int) -> int:
        if x == 1:
            await dashboard.updated.wait()  # ends only after on_update raised
        return x

    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await Pipeline([Stage("S", workers=2, tasks=[wait_for_the_failure])]).run(
            range(1, 4), custom_dashboard=dashboard
        )
    assert len(results) == 3
    assert "the progress display failed; running without it" in caplog.text
    assert "dashboard bug" in caplog.text
    # dropped: no on_finish after the failure
    assert [name for name, _ in dashboard.calls] == ["on_start"]


# ------------------------------------------------------------------ to_dict / JSON


async def test_a_live_snapshot_serialises_to_json_with_every_field() -> None:
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold(x: Any) -> Any:
        set_task_status("holding (50%)")
        holding.set()
        await release.wait()
        if x == ("b", 2):
            raise KeyError("missing")
        return x

    p = Pipeline([Stage("Hold", workers=1, tasks=[hold], task_attempts=1)])
    await p.start(total=2)
    feeding = asyncio.create_task(p.feed([{"id": ("a", 1), "value": ("a", 1)}]))
    await holding.wait()
    busy = p.get_dashboard_snapshot()
    release.set()
    await feeding
    await p.feed([{"id": ("b", 2), "value": ("b", 2)}])
    await p.join()
    done = p.get_dashboard_snapshot()

    for snap in (busy, done):
        data = json.loads(json.dumps(snap.to_dict()))
        assert set(data) == {f.name for f in fields(DashboardSnapshot)} | {"elapsed"}
        assert set(data["stats"]) == {f.name for f in fields(PipelineStats)}
        assert set(data["stats"]["stage_stats"]["Hold"]) == {f.name for f in fields(StageStats)}
        (state,) = data["worker_states"].values()
        assert set(state) == {f.name for f in fields(WorkerState)}
        (metrics,) = data["worker_metrics"].values()
        assert set(metrics) == {f.name for f in fields(WorkerMetrics)} | {"average_processing_time"}
        assert data["stage_names"] == ["Hold"]
        assert data["elapsed"] == snap.elapsed

    data = busy.to_dict()
    state = data["worker_states"]["Hold-W0"]
    assert state["status"] == "busy"
    assert state["current_item_id"] == "('a', 1)"  # a tuple id, as its str
    assert state["task_status"] == "holding (50%)"
    data = done.to_dict()
    assert data["stats"]["items_processed"] == 1
    assert data["run_baseline"]["items_fed"] == 0
    (failure,) = data["error_summary"]["failed_items"]
    assert set(failure) == {f.name for f in fields(FailureRecord)}
    assert (failure["item_id"], failure["error_type"]) == ("('b', 2)", "KeyError")
    assert data["error_summary"]["errors_by_stage"] == {"Hold": 1}
    assert data["worker_metrics"]["Hold-W0"]["items_failed"] == 1


# ------------------------------------------------------------------------ SIGTERM


class Quiet:
    """A display that draws nothing: what matters is that one is shown."""

    refresh_interval = 60.0

    def start(self, total: int | None, stage_names: Sequence[str]) -> None: ...
    def update(self, snapshot: DashboardSnapshot) -> None: ...
    def finish(self, snapshot: DashboardSnapshot) -> None: ...


async def handler_during_a_run(display: Any) -> Any:
    """Return SIGTERM's handler as seen from inside a task while ``run()`` runs."""
    seen: list[Any] = []

    async def look(x: int) -> int:
        seen.append(signal.getsignal(signal.SIGTERM))
        return x

    await Pipeline([Stage("Look", workers=1, tasks=[look])]).run([1], progress=display)
    return seen[0]


async def test_with_a_display_run_handles_sigterm_and_gives_the_default_back() -> None:
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    during = await handler_during_a_run(Quiet())
    assert during is not signal.SIG_DFL  # asyncio's handler, installed for the run
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    # without a display, SIGTERM keeps its default even during the run
    assert await handler_during_a_run(False) is signal.SIG_DFL
    assert SIGTERM_EXIT_STATUS == 143


async def test_a_programs_own_sigterm_handler_is_left_alone() -> None:
    def own(signum: int, frame: object) -> None: ...

    previous = signal.signal(signal.SIGTERM, own)
    try:
        assert await handler_during_a_run(Quiet()) is own
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_off_the_main_thread_run_with_a_display_skips_the_sigterm_handler() -> None:
    seen: list[Any] = []
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            seen.append(asyncio.run(handler_during_a_run(Quiet())))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=30)
    assert not errors
    assert seen == [signal.SIG_DFL]


async def test_two_runs_at_once_share_the_handler_until_the_last_one_ends() -> None:
    first_in, second_done = asyncio.Event(), asyncio.Event()

    async def first_task(x: int) -> int:
        first_in.set()
        await second_done.wait()
        return x

    first = asyncio.create_task(
        Pipeline([Stage("A", workers=1, tasks=[first_task])]).run([1], progress=Quiet())
    )
    await first_in.wait()
    assert await handler_during_a_run(Quiet()) is not signal.SIG_DFL
    second_done.set()
    # the first run is still going: its handler is still there
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    await first
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
