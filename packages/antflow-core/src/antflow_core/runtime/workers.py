"""Per-worker bookkeeping and `set_task_status`, which tasks call to say what they are doing."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from antflow_core.model import Payload, WorkerMetrics, WorkerState, WorkerStatus

__all__ = ["WorkerRecord", "current_worker", "set_task_status"]


class WorkerRecord:
    """The mutable state of one worker, owned by the runtime.

    Workers write plain attributes (no locks, no allocation); snapshots copy them into
    frozen `WorkerState` and `WorkerMetrics` objects.

    ``payload`` is the item the worker works on; ``held`` the items it holds besides: the
    batch it collects or calls (a ``batch_size`` stage's worker, whose ``payload`` stays
    None), or the child it is handing on (a ``fan_out`` stage's). A shutdown lists both
    as unfinished.
    """

    __slots__ = (
        "busy_since",
        "current_task",
        "held",
        "items_failed",
        "items_processed",
        "last_active",
        "name",
        "payload",
        "stage",
        "task_status",
        "task_status_at",
        "task_status_of",
        "total_time",
        "worker_id",
    )

    def __init__(self, name: str, stage: str, worker_id: int) -> None:
        self.name = name
        self.stage = stage
        self.worker_id = worker_id
        self.payload: Payload[Any] | None = None
        self.held: list[Payload[Any]] = []
        self.busy_since = 0.0  # time.monotonic() when it took the current item
        self.current_task: str | None = None
        self.task_status: str | None = None
        self.task_status_at = 0.0
        # The item the status was published for: a new item hides it without a per-item
        # reset in the worker's loop.
        self.task_status_of: Payload[Any] | None = None
        self.items_processed = 0
        self.items_failed = 0
        self.total_time = 0.0
        self.last_active: float | None = None  # time.monotonic()

    def state(self, now_wall: float, now_mono: float) -> WorkerState:
        """Return a frozen snapshot of what the worker is doing."""
        payload = self.payload
        if payload is None and self.held:
            payload = self.held[0]  # a batch: the first of its items
        if payload is None:
            return WorkerState(self.name, self.stage, self.worker_id, WorkerStatus.IDLE)
        return WorkerState(
            self.name,
            self.stage,
            self.worker_id,
            WorkerStatus.BUSY,
            current_item_id=payload.id,
            current_task=self.current_task,
            busy_since=now_wall - (now_mono - self.busy_since),
            task_status=self.task_status if self.task_status_of is self.payload else None,
        )

    def metrics(self, now_wall: float, now_mono: float) -> WorkerMetrics:
        """Return a frozen snapshot of what the worker has done."""
        last = self.last_active
        return WorkerMetrics(
            self.name,
            self.stage,
            self.worker_id,
            self.items_processed,
            self.items_failed,
            self.total_time,
            None if last is None else now_wall - (now_mono - last),
        )


current_worker: ContextVar[WorkerRecord | None] = ContextVar("antflow_worker", default=None)
"""The record of the worker running the current task (set once per worker task)."""


def set_task_status(status: str, min_interval: float = 0.0) -> bool:
    """Publish what the running task is doing into its worker's state.

    Call it from inside a task, for example in a loop that polls a batch job for
    minutes; dashboards and ``pipeline.get_worker_states()`` show the text as the
    worker's ``task_status``. It works from ``async`` tasks and from plain functions
    running in a thread. The status is cleared when the worker takes its next item.

    Args:
        status: A short description, e.g. ``"polling batch 42: 310/1000 done"``.
        min_interval: Ignore this update if the previous one was less than this many
            seconds ago (so a tight loop can call it freely).

    Returns:
        True if the status was published; False if it was skipped by ``min_interval``
        or the caller is not running inside a pipeline task.
    """
    record = current_worker.get()
    if record is None:
        return False
    now = time.monotonic()
    same_item = record.task_status_of is record.payload
    recent = now - record.task_status_at < min_interval
    if min_interval > 0 and same_item and record.task_status is not None and recent:
        return False
    record.task_status = status
    record.task_status_at = now
    record.task_status_of = record.payload
    return True
