"""Every module and name a 0.10 program imports, with 0.10's hierarchy and aliases."""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
from typing import Any

import antflow
import pytest

SUBMODULES: dict[str, list[str]] = {
    "antflow.pipeline": ["Pipeline", "Stage", "PipelineBuilder", "PipelineResult"],
    "antflow.types": [
        "StatusEvent",
        "TaskEvent",
        "TaskEventType",
        "StatusType",
        "PipelineResult",
        "PipelineStats",
        "StageStats",
        "WorkerState",
        "WorkerMetrics",
        "DashboardSnapshot",
        "ErrorSummary",
        "FailedItem",
        "FailureRecord",
        "TaskFunc",
    ],
    "antflow.tracker": ["StatusTracker", "StatusEvent", "TaskEvent"],
    "antflow.exceptions": ["AntFlowError", "PipelineError", "StageValidationError"],
    "antflow.context": ["set_task_status"],
    "antflow.executor": ["AsyncExecutor", "AsyncFuture"],
    "antflow.display": [
        "DashboardProtocol",
        "BaseDashboard",
        "ProgressDisplay",
        "CompactDashboard",
        "DetailedDashboard",
        "FullDashboard",
        "DashboardSnapshot",
    ],
}


@pytest.mark.parametrize("module", SUBMODULES)
def test_each_submodule_re_exports_the_same_objects(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in SUBMODULES[module]:
        value = getattr(loaded, name)
        assert name in loaded.__all__
        if hasattr(antflow, name):  # the same object as the top-level name
            assert value is getattr(antflow, name), (module, name)


def test_a_bare_import_reaches_the_submodules_as_attributes() -> None:
    assert antflow.pipeline.Stage is antflow.Stage
    assert antflow.exceptions.PipelineError is antflow.PipelineError
    assert antflow.display.FullDashboard is antflow.FullDashboard


def test_the_exceptions_have_0_10s_hierarchy() -> None:
    from antflow.exceptions import AntFlowError, PipelineError, StageValidationError
    from antflow.pipeline import Stage

    assert issubclass(PipelineError, AntFlowError)
    assert issubclass(StageValidationError, PipelineError)
    with pytest.raises(PipelineError):
        Stage(name="Broken", workers=0, tasks=[print])
    with pytest.raises(AntFlowError, match="has no tasks"):  # a 0.10 program's catch-all
        Stage(name="Broken", workers=1, tasks=[])


def test_the_umbrella_is_the_successor_of_0_10() -> None:
    version = importlib.metadata.version("antflow")
    assert antflow.__version__ == version == "0.11.0"
    assert tuple(int(part) for part in version.split(".")) > (0, 10, 0)


async def test_error_summaries_read_as_in_0_10() -> None:
    from antflow.pipeline import Pipeline, Stage
    from antflow.tracker import StatusTracker

    async def parse(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd: {x}")
        return x

    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("Parse", workers=2, tasks=[parse], task_attempts=1)], status_tracker=tracker
    )
    assert str(tracker.get_error_summary()) == "No errors occurred"
    await pipeline.run(range(4))

    summary = tracker.get_error_summary()
    assert summary.total_failed == 2
    assert summary.errors_by_type == {"ValueError": 2}
    first = summary.failed_items[0]  # 0.10's FailedItem record: id, message, type, time
    assert (first.item_id, first.error, first.error_type) == (1, "odd: 1", "ValueError")
    assert isinstance(first.timestamp, float)
    text = str(summary)
    assert "2 items failed" in text
    assert "item 3 at Parse after 1 attempt: ValueError: odd: 3" in text
    assert str(pipeline.get_error_summary()) == text

    failed = tracker.get_failed_items()
    assert sorted(e.item_id for e in failed) == [1, 3]
    assert all(e.metadata["error_type"] == "ValueError" for e in failed)
    assert tracker.get_tracked_ids() == [0, 1, 2, 3]


async def test_results_carry_metadata_error_and_is_success() -> None:
    from antflow.pipeline import Pipeline, Stage

    async def upper(text: str) -> str:
        return text.upper()

    pipeline = Pipeline(stages=[Stage("Upper", workers=1, tasks=[upper])])
    # Annotated: mypy would join a dict and a str to Collection[str], which is not an item.
    items: list[Any] = [{"id": "f1", "value": "a", "bucket": "logs", "size": 3}, "b"]
    first, second = await pipeline.run(items)
    assert (first.id, first.value, first.metadata) == ("f1", "A", {"bucket": "logs", "size": 3})
    assert first.error is None
    assert first.is_success
    assert (second.id, second.value, second.metadata) == (1, "B", {})
    assert isinstance(first.metadata, dict)


async def test_monitoring_names_of_0_10_are_aliases() -> None:
    from antflow.context import set_task_status
    from antflow.pipeline import Pipeline, Stage

    working = asyncio.Event()
    release = asyncio.Event()

    async def poll(x: int) -> int:
        set_task_status(f"polling {x}", 0.0)  # min_interval by position
        working.set()
        await release.wait()
        return x

    pipeline = Pipeline(stages=[Stage("Poll", workers=1, tasks=[poll])])
    async with asyncio.timeout(5):
        runner = asyncio.create_task(pipeline.run([42]))
        await working.wait()
        state = pipeline.get_worker_states()["Poll-W0"]
        snapshot = pipeline.get_dashboard_snapshot()
        release.set()
        await runner

    assert (state.worker_name, state.status, state.current_item_id) == ("Poll-W0", "busy", 0)
    assert state.processing_since == state.busy_since is not None
    assert state.task_status == "polling 42"
    assert snapshot.pipeline_stats is snapshot.stats
    metrics: Any = pipeline.get_worker_metrics()["Poll-W0"]
    assert metrics.avg_processing_time == metrics.average_processing_time > 0
    assert metrics.worker_name == "Poll-W0"


async def test_a_0_10_custom_dashboard_from_antflow_display_runs() -> None:
    from antflow.display import BaseDashboard, DashboardSnapshot
    from antflow.pipeline import Pipeline, Stage
    from antflow.types import ErrorSummary

    finished: list[tuple[int, int]] = []

    class Report(BaseDashboard):
        refresh_interval = 0.001

        def render(self, snapshot: DashboardSnapshot) -> None:
            pass

        def on_finish(self, results: list[Any], summary: ErrorSummary) -> None:
            super().on_finish(results, summary)
            finished.append((len(results), summary.total_failed))

    async def double(x: int) -> int:
        return 2 * x

    pipeline = Pipeline(stages=[Stage("Double", workers=2, tasks=[double])])
    await pipeline.run(range(4), custom_dashboard=Report())
    assert finished == [(4, 0)]
