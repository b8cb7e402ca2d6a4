"""`PipelineQueries`: what a `Pipeline` answers about itself while it runs and after.

Theory of operation
-------------------
The read side of the facade, a base class of `Pipeline` (the same room the Ray runtime
has, `antflow_ray.queries`): its stages and plan, whether it runs, results, failures
and outcomes in input order, unfinished items, statistics, worker states and metrics,
error summaries and dashboard snapshots. Each answer is read from a room the facade
wired: `Outcomes` keeps what ended (and sorts it by sequence id only when read),
`Monitor` reads the workers' plain counters at one moment into the model's frozen
snapshots, `RunState` knows the phase. Reading never changes anything and costs the
workers nothing.
"""

from __future__ import annotations

from typing import Any, Generic

from antflow_core.model import (
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    ItemOutcome,
    OutT,
    Payload,
    PipelinePlan,
    PipelineResult,
    PipelineStats,
    Stage,
    WorkerMetrics,
    WorkerState,
)
from antflow_core.runtime.monitoring import Monitor
from antflow_core.runtime.outcomes import Outcomes
from antflow_core.runtime.run_state import Phase, RunState

__all__ = ["PipelineQueries"]


class PipelineQueries(Generic[OutT]):
    """The read-only queries of `Pipeline` (its base class), over the rooms it wired."""

    _plan: PipelinePlan
    _run_state: RunState
    _outcomes: Outcomes
    _monitor: Monitor

    @property
    def stages(self) -> tuple[Stage[Any, Any], ...]:
        """The stages, in order."""
        return tuple(p.stage for p in self._plan.stages)

    @property
    def plan(self) -> PipelinePlan:
        """The compiled plan the workers follow."""
        return self._plan

    @property
    def is_running(self) -> bool:
        """Whether the workers are up (between ``start()`` and ``join()``/``shutdown()``)."""
        return self._run_state.phase is Phase.RUNNING

    @property
    def is_closed(self) -> bool:
        """Whether ``shutdown()`` was called (the pipeline cannot be used again)."""
        return self._run_state.phase is Phase.CLOSED

    @property
    def results(self) -> list[PipelineResult[OutT]]:
        """The results collected so far, in input order (empty with ``collect_results=False``)."""
        return self._outcomes.ordered_results()

    @property
    def failures(self) -> list[FailedItem[Any]]:
        """Every item that failed, in input order, with its error, stage and attempts.

        Each failure's ``value`` is what its failing stage received, which is of that
        stage's input type: ``FailedItem[Any]`` for a type checker.
        """
        return self._outcomes.ordered_failures()

    @property
    def outcomes(self) -> list[ItemOutcome[OutT]]:
        """Every ended item as a `returns` Result, in input order.

        ``Success(PipelineResult)`` for results (only those collected) and
        ``Failure(FailedItem)`` for failures.
        """
        return self._outcomes.ordered_outcomes()

    @property
    def unfinished_items(self) -> list[Payload[Any]]:
        """Items that had not ended when the pipeline was shut down or cancelled, in input order.

        Feed their ``value`` (or ``to_dict()``) to a new pipeline to resume.
        """
        return self._outcomes.ordered_unfinished()

    def get_worker_names(self) -> dict[str, list[str]]:
        """Return the names of each stage's workers: ``{"Fetch": ["Fetch-W0", ...]}``.

        A worker's id (its index in that list, 0 to workers - 1) is the ``worker_id`` of
        the events it emits.
        """
        return {p.name: list(p.worker_names) for p in self._plan.stages}

    def get_stats(self) -> PipelineStats:
        """Return the pipeline's counts now: items processed, failed, in flight, and per stage."""
        return self._monitor.stats()

    def get_worker_states(self) -> dict[str, WorkerState]:
        """Return what each worker is doing now, by worker name (idle or busy, item, task)."""
        return self._monitor.worker_states()

    def get_worker_metrics(self) -> dict[str, WorkerMetrics]:
        """Return what each worker has done so far, by worker name."""
        return self._monitor.worker_metrics()

    def get_error_summary(self, limit: int | None = None) -> ErrorSummary:
        """Return failures counted by error type and by stage, with the failed items.

        Args:
            limit: Keep only the latest ``limit`` failed items in ``failed_items``
                (``total_failed`` still counts all).
        """
        return self._monitor.error_summary(limit)

    def get_dashboard_snapshot(self) -> DashboardSnapshot:
        """Return worker states, worker metrics, stats and recent errors, read at one moment.

        Its ``error_summary`` counts the failures of the current run (since the last
        ``start()``) and lists the latest of them; ``get_error_summary()`` covers all runs.
        """
        return self._monitor.snapshot()
