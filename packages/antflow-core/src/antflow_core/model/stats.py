"""Statistics and monitoring snapshots, and the arithmetic that builds them.

A runtime keeps plain counters while it works; when asked, it passes them to
`compute_pipeline_stats` and the other functions here, which derive everything
else (items in flight, averages, error breakdowns). All results are frozen
snapshots: reading one never races with the workers.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DashboardSnapshot",
    "ErrorSummary",
    "FailureRecord",
    "PipelineStats",
    "StageCounts",
    "StageStats",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "compute_pipeline_stats",
    "stage_counts",
    "summarize_errors",
]


def _json_value(value: Any) -> Any:
    """Return ``value`` if JSON can hold it as it is (str, int, float, bool, None), else its str.

    Item ids can be anything hashable; a snapshot's `to_dict` passes them through this so
    that ``json.dumps(snapshot.to_dict())`` always works.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class StageCounts:
    """A runtime's raw counters for one stage, read at one moment.

    Attributes:
        pending: Entries waiting in the stage's queue.
        in_progress: Items a worker holds right now.
        completed: Items that completed the stage.
        failed: Items the stage gave up on.
        skipped: Items ``skip_if`` sent past the stage.
        retried: Retries made (task retries plus re-queues).
        expanded: Items that fanned out here (a ``fan_out`` stage) and ended as expanded.
        spawned: Children those items made.
    """

    pending: int = 0
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    expanded: int = 0
    spawned: int = 0


@dataclass(frozen=True, slots=True)
class StageStats:
    """Counts for one stage.

    Attributes:
        stage_name: The stage's name.
        pending_items: Waiting in its queue.
        in_progress_items: Being processed by a worker.
        completed_items: Completed the stage.
        failed_items: Failed the stage for good.
        skipped_items: Skipped the stage through ``skip_if``.
        retried_items: Retries made in the stage (with batches: one per item of a batch
            retried).
        expanded_items: Items that fanned out here into children (``fan_out`` stages);
            they are not counted in ``completed_items``.
        spawned_items: Children those items made.
    """

    stage_name: str
    pending_items: int
    in_progress_items: int
    completed_items: int
    failed_items: int
    skipped_items: int = 0
    retried_items: int = 0
    expanded_items: int = 0
    spawned_items: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict, keyed by field name."""
        return {
            "stage_name": self.stage_name,
            "pending_items": self.pending_items,
            "in_progress_items": self.in_progress_items,
            "completed_items": self.completed_items,
            "failed_items": self.failed_items,
            "skipped_items": self.skipped_items,
            "retried_items": self.retried_items,
            "expanded_items": self.expanded_items,
            "spawned_items": self.spawned_items,
        }


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counts for the whole pipeline, as ``pipeline.get_stats()`` returns them.

    Every item that entered the pipeline (fed, or spawned by a fan-out stage) is in
    exactly one of these states: ``items_fed + items_spawned == items_processed +
    items_failed + items_expanded + items_unfinished + items_in_flight``.

    Attributes:
        items_processed: Items that left the last stage as results.
        items_failed: Items that failed at some stage.
        items_in_flight: Items fed (or spawned) that have not ended yet.
        queue_sizes: Entries waiting in each stage's queue, by stage name.
        stage_stats: `StageStats` by stage name, in stage order.
        items_fed: Items fed so far.
        items_unfinished: Items abandoned by ``shutdown()`` or cancellation before they ended.
        items_expanded: Items that ended by fanning out into children (``fan_out``
            stages): neither results nor failures.
        items_spawned: Children made by fan-out stages (each then ends once, as any item).
    """

    items_processed: int
    items_failed: int
    items_in_flight: int
    queue_sizes: Mapping[str, int]
    stage_stats: Mapping[str, StageStats]
    items_fed: int = 0
    items_unfinished: int = 0
    items_expanded: int = 0
    items_spawned: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict; ``stage_stats`` maps names to dicts."""
        return {
            "items_processed": self.items_processed,
            "items_failed": self.items_failed,
            "items_in_flight": self.items_in_flight,
            "items_fed": self.items_fed,
            "items_unfinished": self.items_unfinished,
            "items_expanded": self.items_expanded,
            "items_spawned": self.items_spawned,
            "queue_sizes": dict(self.queue_sizes),
            "stage_stats": {name: s.to_dict() for name, s in self.stage_stats.items()},
        }


def stage_counts(
    *,
    pending: int,
    held: int,
    handled: int,
    failed: int,
    skipped: int,
    retried: int,
    expanded: int = 0,
    spawned: int = 0,
) -> StageCounts:
    """Build `StageCounts` from what a runtime counts per worker.

    Args:
        pending: Entries in the stage's queue (and items held in a batch being collected).
        held: Items the workers hold (in progress).
        handled: Items the workers finished at the stage: completed, skipped or expanded.
        failed: Items the stage gave up on.
        skipped: Items ``skip_if`` sent past the stage.
        retried: Retries made.
        expanded: Items that fanned out here.
        spawned: Children they made.
    """
    return StageCounts(
        pending=pending,
        in_progress=held,
        completed=handled - skipped - expanded,
        failed=failed,
        skipped=skipped,
        retried=retried,
        expanded=expanded,
        spawned=spawned,
    )


def compute_pipeline_stats(
    stage_names: Sequence[str],
    counts: Sequence[StageCounts],
    *,
    fed: int,
    processed: int,
    failed: int,
    unfinished: int = 0,
    expanded: int = 0,
    spawned: int = 0,
) -> PipelineStats:
    """Build `PipelineStats` from raw counters.

    ``items_in_flight`` is ``fed + spawned - processed - failed - expanded - unfinished``:
    every item that entered (fed, or spawned by a fan-out stage) is in exactly one of
    those states.

    Raises:
        ValueError: If the counters are inconsistent (more ended than entered, or a count per
            stage that does not match the stage names).
    """
    if len(stage_names) != len(counts):
        raise ValueError(f"{len(stage_names)} stage names but {len(counts)} stage counts")
    in_flight = fed + spawned - processed - failed - expanded - unfinished
    if in_flight < 0:
        extra = f" + expanded={expanded}" if expanded else ""
        entered = f"fed={fed} + spawned={spawned}" if spawned else f"fed={fed}"
        raise ValueError(
            f"inconsistent counters: {entered} < processed={processed} + failed={failed}"
            f"{extra} + unfinished={unfinished}"
        )
    stage_stats = {
        name: StageStats(
            stage_name=name,
            pending_items=c.pending,
            in_progress_items=c.in_progress,
            completed_items=c.completed,
            failed_items=c.failed,
            skipped_items=c.skipped,
            retried_items=c.retried,
            expanded_items=c.expanded,
            spawned_items=c.spawned,
        )
        for name, c in zip(stage_names, counts, strict=True)
    }
    return PipelineStats(
        items_processed=processed,
        items_failed=failed,
        items_in_flight=in_flight,
        queue_sizes={name: c.pending for name, c in zip(stage_names, counts, strict=True)},
        stage_stats=stage_stats,
        items_fed=fed,
        items_unfinished=unfinished,
        items_expanded=expanded,
        items_spawned=spawned,
    )


class WorkerStatus(enum.StrEnum):
    """Whether a worker holds an item."""

    IDLE = "idle"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What one worker is doing at one moment.

    Attributes:
        worker: The worker's name (``"Fetch-W0"``).
        stage: Its stage's name.
        worker_id: Its index in the stage.
        status: ``"idle"`` or ``"busy"``.
        current_item_id: The id of the item it holds, None when idle.
        current_task: The name of the task it is running, None when idle.
        busy_since: When it took the current item (seconds since the epoch), None when idle.
        task_status: What the running task last published with ``set_task_status()``.
    """

    worker: str
    stage: str
    worker_id: int
    status: WorkerStatus
    current_item_id: Any = None
    current_task: str | None = None
    busy_since: float | None = None
    task_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the state as a JSON-ready dict (a non-JSON item id as its str)."""
        return {
            "worker": self.worker,
            "stage": self.stage,
            "worker_id": self.worker_id,
            "status": self.status.value,
            "current_item_id": _json_value(self.current_item_id),
            "current_task": self.current_task,
            "busy_since": self.busy_since,
            "task_status": self.task_status,
        }

    @property
    def worker_name(self) -> str:
        """The worker's name: `worker` (antflow 0.10's name for it)."""
        return self.worker

    @property
    def processing_since(self) -> float | None:
        """When it took the current item: `busy_since` (antflow 0.10's name for it)."""
        return self.busy_since


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """What one worker has done so far.

    Attributes:
        worker: The worker's name.
        stage: Its stage's name.
        worker_id: Its index in the stage.
        items_processed: Items it finished at its stage (completed or skipped).
        items_failed: Items that failed the stage in its hands.
        total_processing_time: Seconds spent holding items.
        last_active: When it last finished an item (seconds since the epoch), None if never.
    """

    worker: str
    stage: str
    worker_id: int
    items_processed: int
    items_failed: int
    total_processing_time: float
    last_active: float | None

    @property
    def average_processing_time(self) -> float:
        """Mean seconds per item handled (processed or failed); 0.0 before the first."""
        handled = self.items_processed + self.items_failed
        return self.total_processing_time / handled if handled else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-ready dict, ``average_processing_time`` included."""
        return {
            "worker": self.worker,
            "stage": self.stage,
            "worker_id": self.worker_id,
            "items_processed": self.items_processed,
            "items_failed": self.items_failed,
            "total_processing_time": self.total_processing_time,
            "average_processing_time": self.average_processing_time,
            "last_active": self.last_active,
        }

    @property
    def avg_processing_time(self) -> float:
        """`average_processing_time`, under antflow 0.10's name."""
        return self.average_processing_time

    @property
    def worker_name(self) -> str:
        """The worker's name: `worker` (antflow 0.10's name for it)."""
        return self.worker


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """One failed item, as error summaries list it (antflow 0.10 called this record ``FailedItem``).

    It holds the error as text, not the exception, so keeping many costs little.

    Attributes:
        item_id: The item's id.
        error: The error message.
        error_type: The error's class name.
        stage: The stage that gave up.
        attempts: Attempts made.
        timestamp: When it failed (seconds since the epoch).
    """

    item_id: Any
    error: str
    error_type: str
    stage: str
    attempts: int
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (a non-JSON item id as its str)."""
        return {
            "item_id": _json_value(self.item_id),
            "error": self.error,
            "error_type": self.error_type,
            "stage": self.stage,
            "attempts": self.attempts,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """Failures broken down.

    Attributes:
        total_failed: How many items failed.
        errors_by_type: Count by error class name.
        errors_by_stage: Count by stage name.
        failed_items: The failures, oldest first (possibly only the latest ones; see
            ``total_failed`` for the count).
    """

    total_failed: int
    errors_by_type: Mapping[str, int] = field(default_factory=dict)
    errors_by_stage: Mapping[str, int] = field(default_factory=dict)
    failed_items: tuple[FailureRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict; ``failed_items`` is a list of dicts."""
        return {
            "total_failed": self.total_failed,
            "errors_by_type": dict(self.errors_by_type),
            "errors_by_stage": dict(self.errors_by_stage),
            "failed_items": [record.to_dict() for record in self.failed_items],
        }

    def __str__(self) -> str:
        """A readable summary: the counts by type and by stage, then the failed items listed.

        ``"No errors occurred"`` when nothing failed.
        """
        if not self.total_failed:
            return "No errors occurred"
        noun = "item" if self.total_failed == 1 else "items"
        lines = [f"{self.total_failed} {noun} failed"]
        if self.errors_by_type:
            lines.append(f"  by error type: {_counts(self.errors_by_type)}")
        if self.errors_by_stage:
            lines.append(f"  by stage: {_counts(self.errors_by_stage)}")
        if self.failed_items:
            shown = len(self.failed_items)
            heading = "failed items" if shown == self.total_failed else f"latest {shown}"
            lines.append(f"  {heading}:")
            lines.extend(f"    {_describe(r)}" for r in self.failed_items)
        return "\n".join(lines)


def _describe(record: FailureRecord) -> str:
    error = record.error_type
    if record.error and record.error != record.error_type:
        error = f"{error}: {record.error}"
    attempts = f"{record.attempts} attempt{'' if record.attempts == 1 else 's'}"
    return f"item {record.item_id!r} at {record.stage} after {attempts}: {error}"


def _counts(counts: Mapping[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count}" for name, count in ordered)


def summarize_errors(records: Iterable[FailureRecord], *, limit: int | None = None) -> ErrorSummary:
    """Count failures by type and by stage, keeping the latest ``limit`` records (all if None)."""
    listed = list(records)
    by_type = Counter(r.error_type for r in listed)
    by_stage = Counter(r.stage for r in listed)
    kept = listed if limit is None else listed[max(0, len(listed) - limit) :]
    return ErrorSummary(
        total_failed=len(listed),
        errors_by_type=dict(by_type),
        errors_by_stage=dict(by_stage),
        failed_items=tuple(kept),
    )


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Everything a display shows, read at one moment.

    Attributes:
        timestamp: When it was taken (seconds since the epoch).
        stats: The pipeline's counts.
        worker_states: `WorkerState` by worker name.
        worker_metrics: `WorkerMetrics` by worker name.
        error_summary: Failures of the current run (counts, and the latest few records).
        started_at: When the current run started (seconds since the epoch), None before.
        stage_names: The stages, in order.
        run_baseline: The counts when the current run started (a pipeline that is started
            again after ``join()`` keeps counting), so per-run progress is ``stats`` minus
            these; None before the first start.
    """

    timestamp: float
    stats: PipelineStats
    worker_states: Mapping[str, WorkerState]
    worker_metrics: Mapping[str, WorkerMetrics]
    error_summary: ErrorSummary
    started_at: float | None = None
    stage_names: tuple[str, ...] = ()
    run_baseline: PipelineStats | None = None

    @property
    def pipeline_stats(self) -> PipelineStats:
        """The pipeline's counts: `stats` (antflow 0.10's name for it)."""
        return self.stats

    @property
    def elapsed(self) -> float:
        """Seconds since the pipeline started; 0.0 before it did."""
        return max(0.0, self.timestamp - self.started_at) if self.started_at is not None else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the whole snapshot as a dict that ``json.dumps`` accepts as it is.

        Every field is there under its own name (``stats``, ``worker_states``,
        ``worker_metrics``, ``error_summary``, ``run_baseline`` as nested dicts, enums as
        their values, item ids as their str when JSON cannot hold them), plus
        ``elapsed``. It is what a web dashboard sends to its page.
        """
        return {
            "timestamp": self.timestamp,
            "started_at": self.started_at,
            "elapsed": self.elapsed,
            "stage_names": list(self.stage_names),
            "stats": self.stats.to_dict(),
            "run_baseline": None if self.run_baseline is None else self.run_baseline.to_dict(),
            "worker_states": {name: s.to_dict() for name, s in self.worker_states.items()},
            "worker_metrics": {name: m.to_dict() for name, m in self.worker_metrics.items()},
            "error_summary": self.error_summary.to_dict(),
        }
