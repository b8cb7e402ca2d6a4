"""`Emitter`: the driver's side of events and callbacks.

Every event of an item (status changes, task calls, its end) and every stage callback
(``on_success``, ``on_failure``) runs here, on the driver's event loop, so a
`StatusTracker` or a display works with `RayPipeline` exactly as with the asyncio
`Pipeline`. An observer's method may return an awaitable; it is awaited within
``callback_timeout``. What an observer or a callback raises is logged, never allowed to
fail an item. Nothing is built when nobody observes.

It is the asyncio runtime's `antflow_core.runtime.emission.Emitter` with one difference
of shape: the core's hot paths call the observer and await what it returned themselves,
where this runtime (whose calls to the actors dwarf an awaited helper) awaits one method
per event. The building of events, the fast observer hooks, the logging of what an
observer raises and the ``callback_timeout`` are the core's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from antflow_core.model import (
    EMPTY_METADATA,
    FailedItem,
    ItemStatus,
    PipelineObserver,
    PipelineResult,
    TaskEvent,
    TaskEventType,
)
from antflow_core.runtime.emission import Emitter as CoreEmitter
from antflow_core.runtime.emission import EventTypes
from antflow_core.runtime.workers import WorkerRecord

__all__ = ["Emitter"]


class Emitter:
    """Sends a pipeline's events to its observer and runs stage callbacks.

    Args:
        observer: The pipeline's ``status_tracker``, or None.
        callback_timeout: Seconds an awaitable returned by the observer or a callback may
            take; None for no limit.
    """

    def __init__(self, observer: PipelineObserver | None, callback_timeout: float | None) -> None:
        self._core = CoreEmitter(observer, callback_timeout, EventTypes())

    @property
    def observer(self) -> PipelineObserver | None:
        """The observer, or None when nobody observes."""
        return self._core.observer

    @property
    def on_task(self) -> Callable[[TaskEvent], Awaitable[None] | None] | None:
        """The observer's ``on_task_event``, or None when it wants no task events."""
        return self._core.on_task

    async def status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: WorkerRecord | None,
        metadata: Mapping[str, Any] = EMPTY_METADATA,
    ) -> None:
        """Tell the observer that ``item_id`` changed status at ``stage``."""
        core = self._core
        if core.observer is None:
            return
        pending = core.status(item_id, stage, status, worker, metadata)
        if pending is not None:
            await core.settle(pending)

    async def task(
        self,
        item_id: Any,
        stage: str,
        task: str,
        worker: WorkerRecord,
        kind: TaskEventType,
        attempt: int,
        *,
        error: BaseException | None = None,
        duration: float | None = None,
    ) -> None:
        """Tell the observer about one task call (only if it wants task events)."""
        core = self._core
        if core.on_task is None:
            return
        pending = core.task_event(
            item_id, stage, task, worker, kind, attempt, error=error, duration=duration
        )
        if pending is not None:
            await core.settle(pending)

    async def finished(self, item_id: Any, ended: PipelineResult[Any] | FailedItem) -> None:
        """Tell the observer that ``item_id`` left the pipeline as ``ended``."""
        core = self._core
        if core.observer is None:
            return
        pending = core.item_finished(item_id, ended)
        if pending is not None:
            await core.settle(pending)

    async def callback(
        self, callback: Callable[[Any], Any], arg: Any, what: str, stage: str
    ) -> None:
        """Call a stage callback (sync or async) within ``callback_timeout``; log its errors."""
        await self._core.callback(callback, arg, what, stage)
