"""`Monitor`: the read side of a pipeline: stats, worker states and metrics, snapshots.

Theory of operation
-------------------
Workers keep plain counters (in their `WorkerRecord`, their `StageRunner`, `Intake` and
`Outcomes`) and never build a snapshot. When someone asks (``get_stats()``, a display
refreshing, a dashboard), the monitor reads those counters at one moment and the model
turns them into frozen snapshots (`compute_pipeline_stats`, `summarize_errors`,
`DashboardSnapshot`). Reading a snapshot therefore costs the workers nothing and never
races with them: what it holds cannot change under its reader.

A pipeline may be started again after ``join()``; it keeps counting. `Monitor.begin_run`
marks where the current run starts (its time, the stats then, its first failure), so a
dashboard shows the current run's progress and errors; items fed before ``start()``
belong to the run that processes them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Final

from antflow_core.model import (
    DashboardSnapshot,
    ErrorSummary,
    PipelinePlan,
    PipelineStats,
    WorkerMetrics,
    WorkerState,
    compute_pipeline_stats,
    summarize_errors,
)
from antflow_core.runtime.intake import Intake
from antflow_core.runtime.outcomes import Outcomes
from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["RECENT_ERRORS", "Monitor"]

RECENT_ERRORS: Final = 20
"""How many of the current run's failures a dashboard snapshot lists."""


class Monitor:
    """Reads a pipeline's counters into snapshots.

    Args:
        plan: The compiled pipeline.
        runners: The stage runners, in order.
        intake: Counts the items fed.
        outcomes: Counts and keeps the items that ended.
    """

    __slots__ = (
        "intake",
        "outcomes",
        "plan",
        "run_baseline",
        "run_first_failure",
        "runners",
        "started_at",
    )

    def __init__(
        self,
        plan: PipelinePlan,
        runners: Sequence[StageRunner],
        intake: Intake,
        outcomes: Outcomes,
    ) -> None:
        self.plan = plan
        self.runners = runners
        self.intake = intake
        self.outcomes = outcomes
        self.started_at: float | None = None  # when the current run started
        self.run_baseline: PipelineStats | None = None  # the stats then
        self.run_first_failure = 0  # its first failure's index in the failure records

    def begin_run(self) -> None:
        """Mark the start of a run (``start()``)."""
        self.started_at = time.time()
        baseline = self.stats()
        # Items fed before start() (waiting in the queues) belong to this run.
        self.run_baseline = dataclasses.replace(
            baseline, items_fed=baseline.items_fed - baseline.items_in_flight
        )
        self.run_first_failure = len(self.outcomes.failure_records)

    def stats(self) -> PipelineStats:
        """The pipeline's counts now."""
        outcomes = self.outcomes
        return compute_pipeline_stats(
            self.plan.stage_names,
            [r.counts() for r in self.runners],
            fed=self.intake.fed,
            processed=outcomes.processed,
            failed=outcomes.failed,
            unfinished=len(outcomes.unfinished),
            expanded=sum(r.expanded for r in self.runners),
            spawned=sum(r.spawned for r in self.runners),
        )

    def worker_states(self) -> dict[str, WorkerState]:
        """What each worker is doing now, by worker name."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.state(now_wall, now_mono) for s in self.runners for r in s.records}

    def worker_metrics(self) -> dict[str, WorkerMetrics]:
        """What each worker has done so far, by worker name."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.metrics(now_wall, now_mono) for s in self.runners for r in s.records}

    def error_summary(self, limit: int | None = None) -> ErrorSummary:
        """Every failure so far, counted by type and stage (the latest ``limit`` listed)."""
        return summarize_errors(self.outcomes.failure_records, limit=limit)

    def snapshot(self) -> DashboardSnapshot:
        """Everything a display shows, read at one moment; errors of the current run only."""
        return DashboardSnapshot(
            timestamp=time.time(),
            stats=self.stats(),
            worker_states=self.worker_states(),
            worker_metrics=self.worker_metrics(),
            error_summary=summarize_errors(
                self.outcomes.failure_records[self.run_first_failure :], limit=RECENT_ERRORS
            ),
            started_at=self.started_at,
            stage_names=self.plan.stage_names,
            run_baseline=self.run_baseline,
        )
