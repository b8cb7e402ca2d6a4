"""The events a runtime emits while items move, for observers such as a status tracker.

Three kinds, all frozen:

* `StatusEvent`: an item changed status at a stage (`ItemStatus`).
* `TaskEvent`: one task call started, completed, is being retried or failed for good
  (`TaskEventType`).
* `ItemFinished`: an item left the pipeline; its ``outcome`` is the `ItemOutcome`.

The runtime builds them only when an observer is attached. Timestamps are seconds
since the epoch, passed in by the runtime (the model reads no clock).

Statuses of one item at one stage follow this table; anything else is a runtime bug:

| from          | to                                        |
|---------------|-------------------------------------------|
| (fed / moved) | queued                                    |
| queued        | in_progress; skipped (``skip_if`` true); failed (``skip_if`` raised) |
| in_progress   | completed, failed, retrying; expanded (``fan_out``) |
| retrying      | queued (per_stage), completed, failed, retrying (per_task); expanded |
| (made by a fan-out stage) | completed, at that stage, for a child that ends there as a result |

A skipped item is never ``in_progress`` at the stage it skips: ``skip_if`` is asked when a
worker takes it from the queue, and the stage's tasks never see it.

An item a ``fan_out`` stage expands ends there as ``expanded`` (its metadata holds
``children``, how many it made; no `ItemFinished` follows: it is neither a result nor a
failure). Each child's first status names the parent in its metadata (``parent``): it is
``queued`` at the stage it enters, or ``completed`` at the fan-out stage when it leaves
the pipeline from there as a result. Items of a ``batch_size`` stage go ``queued`` ->
``in_progress`` together when their batch is called.

What an event's ``metadata`` holds is decided here too: `attempt_metadata` for
``in_progress`` and for ``queued`` after a re-queue, `retry_metadata` for ``retrying``,
`error_metadata` for ``failed``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from antflow_core.model.payload import NO_METADATA
from antflow_core.model.results import ItemOutcome, describe_error

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EMPTY_METADATA",
    "FIRST_ATTEMPT",
    "ItemFinished",
    "ItemStatus",
    "StatusEvent",
    "TaskEvent",
    "TaskEventType",
    "attempt_metadata",
    "error_metadata",
    "retry_metadata",
]


class ItemStatus(enum.StrEnum):
    """Where an item stands at a stage. Compares equal to its string value (``"failed"``)."""

    QUEUED = "queued"
    """Waiting in the stage's queue."""
    IN_PROGRESS = "in_progress"
    """A worker is running the stage's tasks on it."""
    COMPLETED = "completed"
    """It finished the stage."""
    FAILED = "failed"
    """The stage gave up on it; ``metadata["error"]`` says why."""
    RETRYING = "retrying"
    """A task failed and the item is being tried again."""
    SKIPPED = "skipped"
    """``skip_if`` returned true: the item skipped the stage entirely and moved on unchanged."""
    EXPANDED = "expanded"
    """A ``fan_out`` stage turned it into its children; it ends here, neither result nor failure."""


ALLOWED_TRANSITIONS: Final[Mapping[ItemStatus | None, frozenset[ItemStatus]]] = MappingProxyType(
    {
        None: frozenset({ItemStatus.QUEUED, ItemStatus.COMPLETED}),
        ItemStatus.QUEUED: frozenset(
            {ItemStatus.IN_PROGRESS, ItemStatus.SKIPPED, ItemStatus.FAILED}
        ),
        ItemStatus.IN_PROGRESS: frozenset(
            {ItemStatus.COMPLETED, ItemStatus.FAILED, ItemStatus.RETRYING, ItemStatus.EXPANDED}
        ),
        ItemStatus.RETRYING: frozenset(
            {
                ItemStatus.QUEUED,
                ItemStatus.COMPLETED,
                ItemStatus.FAILED,
                ItemStatus.RETRYING,
                ItemStatus.EXPANDED,
            }
        ),
        ItemStatus.COMPLETED: frozenset(),
        ItemStatus.FAILED: frozenset(),
        ItemStatus.SKIPPED: frozenset(),
        ItemStatus.EXPANDED: frozenset(),
    }
)
"""The status table above, per stage: the statuses that may follow each one (``None``: none yet;
``completed`` first only for a child of a fan-out stage that ends there as a result)."""


class TaskEventType(enum.StrEnum):
    """What happened to one task call."""

    START = "start"
    COMPLETE = "complete"
    RETRY = "retry"
    FAIL = "fail"


EMPTY_METADATA: Final[Mapping[str, Any]] = NO_METADATA
"""The metadata of an event that has none (the same object as `NO_METADATA`)."""

FIRST_ATTEMPT: Final[Mapping[str, Any]] = MappingProxyType({"attempt": 1})
"""The metadata of an ``in_progress`` event on an item's first attempt at a stage.

Runtimes pass this very object (so an observer may test it with ``is``) instead of a
new ``{"attempt": 1}`` per item per stage."""


def attempt_metadata(attempt: int) -> Mapping[str, Any]:
    """Return the metadata of an ``in_progress`` or re-queued ``queued`` event: the attempt.

    ``attempt`` is the stage attempt the item is on, from 1; the first attempt gives the
    shared `FIRST_ATTEMPT` (a runtime's hot path may test ``attempt == 1`` and pass
    `FIRST_ATTEMPT` itself, which is the same thing).
    """
    return FIRST_ATTEMPT if attempt == 1 else {"attempt": attempt}


def error_metadata(error: BaseException, attempts: int) -> Mapping[str, Any]:
    """Return the metadata of a ``failed`` event.

    Args:
        error: What the last call raised.
        attempts: The attempts made, counted as the stage's retry strategy counts them.

    Returns:
        ``error`` (the message, or the class name when it has none), ``error_type``,
        ``exception`` (the exception itself) and ``attempt``.
    """
    return {
        "error": describe_error(error),
        "error_type": type(error).__name__,
        "exception": error,
        "attempt": attempts,
    }


def retry_metadata(error: BaseException, next_attempt: int, task: str) -> Mapping[str, Any]:
    """Return the metadata of a ``retrying`` event, as antflow 0.10 gave it.

    Args:
        error: What the failed call raised.
        next_attempt: The attempt about to be made, from 2 (the task's next call with
            ``per_task``, the next stage attempt with ``per_stage``).
        task: The task that failed.

    Returns:
        ``retry`` (True), ``attempt``, ``error``, ``error_type``, ``exception`` and ``task``.
    """
    return {
        "retry": True,
        "attempt": next_attempt,
        "error": describe_error(error),
        "error_type": type(error).__name__,
        "exception": error,
        "task": task,
    }


@dataclass(frozen=True, slots=True, init=False)
class StatusEvent:
    """An item changed status at a stage.

    Attributes:
        item_id: The item's id.
        stage: The stage's name.
        status: The new status.
        worker: The worker's name (``"Fetch-W3"``), or None while queued.
        worker_id: The worker's index in its stage, 0 to workers - 1, or None while queued.
        timestamp: Seconds since the epoch.
        metadata: Details. On ``failed``: ``error`` (the message), ``error_type``,
            ``exception`` and ``attempt`` (attempts made). On ``retrying``: ``retry`` (True),
            ``attempt`` (the attempt about to be made, from 2), ``error``, ``error_type``,
            ``exception`` and ``task`` (the task that failed). On ``in_progress`` and on
            ``queued`` after a ``per_stage`` retry: ``attempt``.
    """

    item_id: Any
    stage: str
    status: ItemStatus
    worker: str | None
    worker_id: int | None
    timestamp: float
    metadata: Mapping[str, Any] = field(default_factory=lambda: EMPTY_METADATA)

    # Events are built several times per item per stage while observed, so __init__ is
    # written by hand: slot setters cost about half of the frozen dataclass's __init__.
    def __init__(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any] = EMPTY_METADATA,
    ) -> None:
        _se_item_id(self, item_id)
        _se_stage(self, stage)
        _se_status(self, status)
        _se_worker(self, worker)
        _se_worker_id(self, worker_id)
        _se_timestamp(self, timestamp)
        _se_metadata(self, metadata)


@dataclass(frozen=True, slots=True, init=False)
class TaskEvent:
    """One task call started, completed, is being retried, or failed for good.

    Attributes:
        item_id: The item's id.
        stage: The stage's name.
        task_name: The task's name (see `task_name`).
        worker: The worker's name.
        worker_id: The worker's index in its stage.
        event_type: ``"start"``, ``"complete"``, ``"retry"`` or ``"fail"``.
        attempt: The attempt number, from 1. On ``"retry"`` the attempt that failed; on
            ``"fail"`` the number of attempts made.
        timestamp: Seconds since the epoch.
        error: The exception on ``"retry"`` and ``"fail"``, otherwise None.
        duration: Seconds the call took; None on ``"start"``.
    """

    item_id: Any
    stage: str
    task_name: str
    worker: str
    worker_id: int
    event_type: TaskEventType
    attempt: int
    timestamp: float
    error: BaseException | None = None
    duration: float | None = None

    def __init__(
        self,
        item_id: Any,
        stage: str,
        task_name: str,
        worker: str,
        worker_id: int,
        event_type: TaskEventType,
        attempt: int,
        timestamp: float,
        error: BaseException | None = None,
        duration: float | None = None,
    ) -> None:
        _te_item_id(self, item_id)
        _te_stage(self, stage)
        _te_task_name(self, task_name)
        _te_worker(self, worker)
        _te_worker_id(self, worker_id)
        _te_event_type(self, event_type)
        _te_attempt(self, attempt)
        _te_timestamp(self, timestamp)
        _te_error(self, error)
        _te_duration(self, duration)


@dataclass(frozen=True, slots=True, init=False)
class ItemFinished:
    """An item left the pipeline.

    Attributes:
        item_id: The item's id.
        outcome: ``Success(PipelineResult)`` or ``Failure(FailedItem)``.
        timestamp: Seconds since the epoch.
    """

    item_id: Any
    outcome: ItemOutcome
    timestamp: float

    def __init__(self, item_id: Any, outcome: ItemOutcome, timestamp: float) -> None:
        _if_item_id(self, item_id)
        _if_outcome(self, outcome)
        _if_timestamp(self, timestamp)


def _setters(cls: type, *names: str) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


(_se_item_id, _se_stage, _se_status, _se_worker, _se_worker_id, _se_timestamp, _se_metadata) = (
    _setters(
        StatusEvent, "item_id", "stage", "status", "worker", "worker_id", "timestamp", "metadata"
    )
)
(
    _te_item_id,
    _te_stage,
    _te_task_name,
    _te_worker,
    _te_worker_id,
    _te_event_type,
    _te_attempt,
    _te_timestamp,
    _te_error,
    _te_duration,
) = _setters(
    TaskEvent,
    "item_id",
    "stage",
    "task_name",
    "worker",
    "worker_id",
    "event_type",
    "attempt",
    "timestamp",
    "error",
    "duration",
)
(_if_item_id, _if_outcome, _if_timestamp) = _setters(
    ItemFinished, "item_id", "outcome", "timestamp"
)
