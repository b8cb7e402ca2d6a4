"""`PipelineQueries`: what a `RayPipeline` answers about itself while it runs and after.

Results, failures and outcomes in input order, unfinished items, statistics, worker
states and metrics, error summaries and dashboard snapshots: each built from the
counters the stages keep and the model's arithmetic (`compute_pipeline_stats`,
`summarize_errors`), the same answers the asyncio ``Pipeline`` gives. Reading never
changes anything.
"""

from __future__ import annotations

import time
from typing import Any, Final

from antflow_core.model import (
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    ItemOutcome,
    Payload,
    PipelinePlan,
    PipelineResult,
    PipelineStats,
    WorkerMetrics,
    WorkerState,
    compute_pipeline_stats,
    resolve_stage,
    summarize_errors,
)
from returns.result import Failure

from antflow_ray.outcomes import Outcomes
from antflow_ray.runner import StageRunner

__all__ = ["PipelineQueries"]

_RECENT_ERRORS: Final = 20


class PipelineQueries:
    """The read-only queries of `RayPipeline` (a mixin over its plan, stages and outcomes)."""

    _plan: PipelinePlan
    _runners: list[StageRunner]
    _outcomes: Outcomes
    _started_at: float | None
    _run_baseline: PipelineStats | None
    _run_first_failure: int

    @property
    def results(self) -> list[PipelineResult[Any]]:
        """The results collected so far, in input order (empty with ``collect_results=False``)."""
        return self._outcomes.ordered_results()

    @property
    def failures(self) -> list[FailedItem]:
        """Every item that failed, in input order, with its error, stage and attempts."""
        return sorted(self._outcomes.failures, key=lambda f: f.sequence_id)

    @property
    def outcomes(self) -> list[ItemOutcome]:
        """Every ended item as a `returns` Result, in input order."""
        return self._outcomes.outcomes()

    @property
    def unfinished_items(self) -> list[Payload[Any]]:
        """Items that had not ended when the pipeline was shut down, in input order.

        Their values were fetched from Ray's object store at the shutdown (a value that
        could not be fetched stays a reference).
        """
        return sorted(self._outcomes.unfinished, key=lambda p: p.sequence_id)

    def get_worker_names(self) -> dict[str, list[str]]:
        """Return the names of each stage's workers: ``{"Fetch": ["Fetch-W0", ...]}``."""
        return {p.name: list(p.worker_names) for p in self._plan.stages}

    def get_actors(self, stage: str) -> list[Any]:
        """Return the Ray actor handles of ``stage`` while the pipeline runs (else empty).

        Worker ``i`` of the stage calls actor ``i % len(actors)``.

        Raises:
            UnknownStageError: If no stage has that name.
        """
        found = resolve_stage(self._plan, stage)
        if isinstance(found, Failure):
            raise found.failure()
        return [actor.handle for actor in self._runners[found.unwrap()].pool.actors]

    def get_stats(self) -> PipelineStats:
        """Return the pipeline's counts now: items processed, failed, in flight, and per stage."""
        outcomes = self._outcomes
        return compute_pipeline_stats(
            self._plan.stage_names,
            [r.counts() for r in self._runners],
            fed=outcomes.fed,
            processed=outcomes.processed,
            failed=outcomes.failed,
            unfinished=len(outcomes.unfinished),
        )

    def get_worker_states(self) -> dict[str, WorkerState]:
        """Return what each worker is doing now, by worker name."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.state(now_wall, now_mono) for s in self._runners for r in s.records}

    def get_worker_metrics(self) -> dict[str, WorkerMetrics]:
        """Return what each worker has done so far, by worker name."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.metrics(now_wall, now_mono) for s in self._runners for r in s.records}

    def get_error_summary(self, limit: int | None = None) -> ErrorSummary:
        """Return failures counted by error type and by stage, with the failed items."""
        return summarize_errors(self._outcomes.failure_records, limit=limit)

    def get_dashboard_snapshot(self) -> DashboardSnapshot:
        """Return worker states, worker metrics, stats and recent errors, read at one moment."""
        return DashboardSnapshot(
            timestamp=time.time(),
            stats=self.get_stats(),
            worker_states=self.get_worker_states(),
            worker_metrics=self.get_worker_metrics(),
            error_summary=summarize_errors(
                self._outcomes.failure_records[self._run_first_failure :], limit=_RECENT_ERRORS
            ),
            started_at=self._started_at,
            stage_names=self._plan.stage_names,
            run_baseline=self._run_baseline,
        )
