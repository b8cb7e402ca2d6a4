"""`Emitter`: what the pipeline tells its observer, and the stage callbacks it calls.

Theory of operation
-------------------
Emitting is synchronous. A worker calls `Emitter.status` (or `Emitter.task_event`,
`Emitter.item_finished`) at the moment something happens; the observer's method runs
right away and whatever it returns, if not None, is awaited by that worker through
`Emitter.settle` before the item moves on. A sync observer so costs one call per event
and no coroutine, and an async one finishes before the item's next step.

Nothing is built for nobody: with no observer the workers never call in here (they test
``emitter.observer is None`` first, or run a loop without emission). With an observer,
the fast hooks of `PipelineObserver` decide what is built: ``record_status`` takes a
status change as plain fields (no `StatusEvent`), ``record_finished`` an item's end
unwrapped (no `ItemFinished`), and ``observes_task_events = False`` turns task events
off (``on_task`` is None; asked again at each ``start()``). The hot paths (intake and
`observed_loop`) also read ``status_sink`` from `Emitter.sinks` at each ``queued``,
``in_progress`` or ``completed`` change, and when there is one, hand it the change as
one tuple, with no call of a Python function at all.

Whatever user code raises here (an observer's method, a coroutine it returned, a stage's
``on_success`` / ``on_failure``) is logged and ignored: it can never fail an item or stop
a worker. Awaiting it is bounded by ``callback_timeout``, and so is an ``async``
``skip_if`` (`Emitter.decision`), whose item fails when it takes longer. The runtime's own
cancellation still propagates (`is_own_cancellation`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple, Protocol, cast

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
    StatusSink,
    TaskEvent,
    TaskEventType,
    failed_outcome,
    retry_metadata,
    succeeded_outcome,
)
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.workers import WorkerRecord

__all__ = ["DEFAULT_CALLBACK_TIMEOUT", "Emitter", "EventTypes"]

logger = logging.getLogger("antflow")

DEFAULT_CALLBACK_TIMEOUT = 60.0
"""Seconds an async callback may run before the pipeline abandons it (``callback_timeout``)."""


class EventTypes(NamedTuple):
    """The event classes an `Emitter` builds (the model's, unless the facade substitutes)."""

    status: Callable[..., StatusEvent] = StatusEvent
    task: Callable[..., TaskEvent] = TaskEvent
    finished: Callable[..., ItemFinished] = ItemFinished


class SinkSource(Protocol):
    """Where the hot paths read the observer's ``status_sink`` (see `StatusSink`)."""

    @property
    def status_sink(self) -> StatusSink | None:
        """The sink to hand the next status change to, or None for ``record_status``."""


class _NoSink:
    """The `SinkSource` of an observer without ``status_sink``: its sink is always None."""

    __slots__ = ("status_sink",)  # a slot: the quickest attribute for a worker to read

    def __init__(self) -> None:
        self.status_sink: StatusSink | None = None


_NO_SINK: Final = _NoSink()


class Emitter:
    """Delivers a pipeline's events to its observer and calls the stages' callbacks.

    Args:
        observer: The pipeline's observer (``status_tracker``), or None.
        callback_timeout: Seconds an awaited callback may take; None waits forever.
        events: The event classes to build.
    """

    __slots__ = (
        "callback_timeout",
        "emit",
        "events",
        "observer",
        "on_task",
        "record_finished",
        "sinks",
    )

    def __init__(
        self,
        observer: PipelineObserver | None,
        callback_timeout: float | None,
        events: EventTypes,
    ) -> None:
        self.observer = observer
        self.callback_timeout = callback_timeout
        self.events = events
        # How a status change reaches the observer: its record_status, or a StatusEvent.
        recorder = getattr(observer, "record_status", None)
        self.emit: StatusRecorder = (
            cast("StatusRecorder", recorder) if callable(recorder) else self._emit_event
        )
        finisher = getattr(observer, "record_finished", None)
        self.record_finished: FinishRecorder | None = (
            cast("FinishRecorder", finisher) if callable(finisher) else None
        )
        # Read at each change on the hot paths: the observer may set or clear its sink.
        self.sinks: SinkSource = (
            cast("SinkSource", observer) if hasattr(observer, "status_sink") else _NO_SINK
        )
        # Task events are built only for an observer that wants them.
        self.on_task: Callable[[TaskEvent], Awaitable[None] | None] | None = None
        self.read_task_observation()

    def read_task_observation(self) -> None:
        """Ask the observer whether it wants task events (at construction and each start).

        A tracker's task callback may be set after the pipeline was built, as in antflow
        0.10 (``tracker.on_task_retry = fn``): it takes effect at the next start.
        """
        observer = self.observer
        wants = observer is not None and getattr(observer, "observes_task_events", True)
        self.on_task = observer.on_task_event if wants and observer is not None else None

    def status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        record: WorkerRecord | None,
        metadata: Mapping[str, Any] = EMPTY_METADATA,
    ) -> Awaitable[None] | None:
        """Tell the observer that an item changed status; return what to `settle`, if any."""
        worker, worker_id = (None, None) if record is None else (record.name, record.worker_id)
        try:
            return self.emit(item_id, stage, status, worker, worker_id, time.time(), metadata)
        except BaseException as exc:
            return self.observer_raised(exc, item_id, status)

    def _emit_event(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
    ) -> Awaitable[None] | None:
        """`emit` for an observer without ``record_status``: build the `StatusEvent`."""
        observer = self.observer
        assert observer is not None
        return observer.on_status_event(
            self.events.status(item_id, stage, status, worker, worker_id, timestamp, metadata)
        )

    @staticmethod
    def observer_raised(exc: BaseException, item_id: Any, status: ItemStatus) -> None:
        """Log what an observer raised (call it in the ``except`` block).

        Re-raises ``exc`` instead when it is the cancellation of the running task.
        """
        if is_own_cancellation(exc):
            raise exc
        logger.exception(
            "antflow: the status tracker raised on %s of item %r; ignored", status, item_id
        )

    def task_event(
        self,
        item_id: Any,
        stage: str,
        task: str,
        record: WorkerRecord,
        kind: TaskEventType,
        attempt: int,
        *,
        error: BaseException | None = None,
        duration: float | None = None,
    ) -> Awaitable[None] | None:
        """Tell the observer about a task call (only when ``on_task`` is not None)."""
        on_task = self.on_task
        assert on_task is not None
        event = self.events.task(
            item_id,
            stage,
            task,
            record.name,
            record.worker_id,
            kind,
            attempt,
            time.time(),
            error,
            duration,
        )
        try:
            return on_task(event)
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            logger.exception("antflow: the status tracker raised on %r; ignored", event)
            return None

    def item_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem
    ) -> Awaitable[None] | None:
        """Tell the observer that an item left the pipeline as ``ended``."""
        try:
            recorder = self.record_finished
            if recorder is not None:
                return recorder(item_id, ended, time.time())
            observer = self.observer
            assert observer is not None
            outcome = (
                succeeded_outcome(ended)
                if isinstance(ended, PipelineResult)
                else failed_outcome(ended)
            )
            return observer.on_item_finished(self.events.finished(item_id, outcome, time.time()))
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            logger.exception(
                "antflow: the status tracker raised on the end of item %r; ignored", item_id
            )
            return None

    async def settle(self, pending: Awaitable[None]) -> None:
        """Await what the observer returned, within ``callback_timeout``; log its errors."""
        scope = asyncio.timeout(self.callback_timeout)
        try:
            async with scope:
                await pending
        except BaseException as exc:  # anything the observer raised, even CancelledError
            if is_own_cancellation(exc):
                raise
            if isinstance(exc, TimeoutError) and scope.expired():
                logger.error(
                    "antflow: the status tracker's callback took longer than "
                    "callback_timeout=%ss; abandoned",
                    self.callback_timeout,
                )
            else:
                logger.exception("antflow: the status tracker's coroutine raised; ignored")

    async def task_events(
        self,
        ids: Iterable[Any],
        stage: str,
        task: str,
        record: WorkerRecord,
        kind: TaskEventType,
        attempt: int,
        *,
        duration: float | None = None,
    ) -> None:
        """Tell the observer about one task call made for each item of ``ids``, in order.

        For the paths off the common hop (a batch's call, a call after a retry), where an
        awaited helper costs nothing that matters; only when ``on_task`` is not None.
        """
        for item_id in ids:
            pending = self.task_event(
                item_id, stage, task, record, kind, attempt, duration=duration
            )
            if pending is not None:
                await self.settle(pending)

    async def retrying(
        self,
        ids: Iterable[Any],
        stage: str,
        task: str,
        record: WorkerRecord,
        failed_attempt: int,
        next_attempt: int,
        error: BaseException,
        duration: float | None,
    ) -> None:
        """Tell the observer that each item of ``ids`` is to be tried again.

        Per item, in this order: the task event ``retry`` of ``failed_attempt`` (when task
        events are observed), then the status ``retrying`` with `retry_metadata` naming
        ``next_attempt`` (when anything observes). Per-task retries, ``per_stage``
        re-queues and batch retries all say it this way.
        """
        on_task = self.on_task
        observed = self.observer is not None
        for item_id in ids:
            if on_task is not None:
                pending = self.task_event(
                    item_id,
                    stage,
                    task,
                    record,
                    TaskEventType.RETRY,
                    failed_attempt,
                    error=error,
                    duration=duration,
                )
                if pending is not None:
                    await self.settle(pending)
            if observed:
                metadata = retry_metadata(error, next_attempt, task)
                pending = self.status(item_id, stage, ItemStatus.RETRYING, record, metadata)
                if pending is not None:
                    await self.settle(pending)

    async def decision(self, pending: Awaitable[Any], what: str, stage: str) -> Any:
        """Await what an ``async`` ``skip_if`` returned, within ``callback_timeout``.

        A decision cannot be abandoned like a callback (the item needs it), so one that
        takes longer raises `TimeoutError`, and the item fails as if it had raised.
        """
        scope = asyncio.timeout(self.callback_timeout)
        try:
            async with scope:
                return await pending
        except TimeoutError as exc:
            if scope.expired():
                raise TimeoutError(
                    f"{what} of stage {stage!r} took longer than "
                    f"callback_timeout={self.callback_timeout}s"
                ) from exc
            raise

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
        except BaseException as exc:  # anything the callback raised, even CancelledError
            if is_own_cancellation(exc):
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
