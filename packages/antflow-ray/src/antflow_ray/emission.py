"""`Emitter`: the driver's side of events and callbacks.

Every event of an item (status changes, task calls, its end) and every stage callback
(``on_success``, ``on_failure``) runs here, on the driver's event loop, so a
`StatusTracker` or a display works with `RayPipeline` exactly as with the asyncio
`Pipeline`. An observer's method may return an awaitable; it is awaited within
``callback_timeout``. What an observer or a callback raises is logged, never allowed to
fail an item. Nothing is built when nobody observes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from antflow_core.model import (
    EMPTY_METADATA,
    FailedItem,
    FinishRecorder,
    ItemFinished,
    ItemStatus,
    PipelineObserver,
    PipelineResult,
    StatusEvent,
    StatusRecorder,
    TaskEvent,
    TaskEventType,
    failed_outcome,
    succeeded_outcome,
)
from antflow_core.runtime.workers import WorkerRecord

__all__ = ["Emitter"]

logger = logging.getLogger("antflow")


def _is_own_cancellation(exc: BaseException) -> bool:
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


class Emitter:
    """Sends a pipeline's events to its observer and runs stage callbacks.

    Args:
        observer: The pipeline's ``status_tracker``, or None.
        callback_timeout: Seconds an awaitable returned by the observer or a callback may
            take; None for no limit.
    """

    def __init__(self, observer: PipelineObserver | None, callback_timeout: float | None) -> None:
        self.observer = observer
        self.callback_timeout = callback_timeout
        recorder = getattr(observer, "record_status", None)
        self._record_status: StatusRecorder | None = (
            cast("StatusRecorder", recorder) if callable(recorder) else None
        )
        finisher = getattr(observer, "record_finished", None)
        self._record_finished: FinishRecorder | None = (
            cast("FinishRecorder", finisher) if callable(finisher) else None
        )
        self.on_task: Callable[[TaskEvent], Awaitable[None] | None] | None = (
            observer.on_task_event
            if observer is not None and getattr(observer, "observes_task_events", True)
            else None
        )

    async def status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: WorkerRecord | None,
        metadata: Mapping[str, Any] = EMPTY_METADATA,
    ) -> None:
        """Tell the observer that ``item_id`` changed status at ``stage``."""
        observer = self.observer
        if observer is None:
            return
        name, worker_id = (None, None) if worker is None else (worker.name, worker.worker_id)
        try:
            recorder = self._record_status
            if recorder is not None:
                pending = recorder(item_id, stage, status, name, worker_id, time.time(), metadata)
            else:
                event = StatusEvent(item_id, stage, status, name, worker_id, time.time(), metadata)
                pending = observer.on_status_event(event)
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            logger.exception(
                "antflow: the status tracker raised on %s of item %r; ignored", status, item_id
            )
            return
        if pending is not None:
            await self._settle(pending)

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
        on_task = self.on_task
        if on_task is None:
            return
        event = TaskEvent(
            item_id,
            stage,
            task,
            worker.name,
            worker.worker_id,
            kind,
            attempt,
            time.time(),
            error,
            duration,
        )
        try:
            pending = on_task(event)
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            logger.exception("antflow: the status tracker raised on %r; ignored", event)
            return
        if pending is not None:
            await self._settle(pending)

    async def finished(self, item_id: Any, ended: PipelineResult[Any] | FailedItem) -> None:
        """Tell the observer that ``item_id`` left the pipeline as ``ended``."""
        observer = self.observer
        if observer is None:
            return
        try:
            recorder = self._record_finished
            if recorder is not None:
                pending = recorder(item_id, ended, time.time())
            else:
                outcome = (
                    succeeded_outcome(ended)
                    if isinstance(ended, PipelineResult)
                    else failed_outcome(ended)
                )
                pending = observer.on_item_finished(ItemFinished(item_id, outcome, time.time()))
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            logger.exception(
                "antflow: the status tracker raised on the end of item %r; ignored", item_id
            )
            return
        if pending is not None:
            await self._settle(pending)

    async def _settle(self, pending: Awaitable[None]) -> None:
        scope = asyncio.timeout(self.callback_timeout)
        try:
            async with scope:
                await pending
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            if isinstance(exc, TimeoutError) and scope.expired():
                logger.error(
                    "antflow: the status tracker's callback took longer than "
                    "callback_timeout=%ss; abandoned",
                    self.callback_timeout,
                )
            else:
                logger.exception("antflow: the status tracker's coroutine raised; ignored")

    async def callback(
        self, callback: Callable[[Any], Any], arg: Any, what: str, stage: str
    ) -> None:
        """Call a stage callback (sync or async) within ``callback_timeout``; log its errors."""
        scope = asyncio.timeout(self.callback_timeout)
        try:
            pending = callback(arg)
            if isinstance(pending, Awaitable):
                async with scope:
                    await pending
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            if isinstance(exc, TimeoutError) and scope.expired():
                logger.error(
                    "antflow: %s callback of stage %r took longer than callback_timeout=%ss; "
                    "abandoned",
                    what,
                    stage,
                    self.callback_timeout,
                )
            else:
                logger.exception("antflow: %s callback of stage %r raised; ignored", what, stage)
