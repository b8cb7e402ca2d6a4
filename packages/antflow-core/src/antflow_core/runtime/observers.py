"""`combine_observers`: several `PipelineObserver` objects attached to one pipeline.

A pipeline has one observer slot. To attach a `StatusTracker` and telemetry, pass
``Pipeline(status_tracker=tracker, telemetry=True)``, which combines them with this
function; to attach observers of your own, pass ``status_tracker=combine_observers(a, b)``.

The group keeps the core's fast paths (see `PipelineObserver`): it always offers
``record_status`` and ``record_finished``, calling each member's fast form when it has
one and building a single event for the members that do not; it asks for task events
only when a member wants them, and passes them only to those members.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from returns.result import Success

from antflow_core.model import (
    FailedItem,
    FinishRecorder,
    ItemFinished,
    ItemStatus,
    PipelineObserver,
    PipelineResult,
    StatusEvent,
    StatusRecorder,
    TaskEvent,
    failed_outcome,
    succeeded_outcome,
)

__all__ = ["combine_observers"]

logger = logging.getLogger("antflow")


def combine_observers(first: PipelineObserver, *more: PipelineObserver) -> PipelineObserver:
    """Return one observer that passes every event to each of ``first, *more``, in order.

    Each member is called in turn; one that raises is logged and the others are still
    called. What members return to be awaited (an ``async`` callback's coroutine) is
    awaited in the same order, after every member has been called. With a single
    observer, it is returned unchanged.

    Args:
        first: An observer.
        *more: More observers.

    Raises:
        TypeError: If an argument does not implement `PipelineObserver`.

    Example:
        ```python
        observer = combine_observers(tracker, audit_log)
        pipeline = Pipeline(stages, status_tracker=observer)
        ```
    """
    members = (first, *more)
    for member in members:
        if not isinstance(member, PipelineObserver):
            raise TypeError(
                "combine_observers() takes observers implementing on_status_event, "
                f"on_task_event and on_item_finished (e.g. a StatusTracker), got {member!r}"
            )
    if not more:
        return first
    return _ObserverGroup(members)


class _ObserverGroup:
    """The observer `combine_observers` returns."""

    __slots__ = ("_finishers", "_recorders", "_task_observers", "observers")

    def __init__(self, observers: tuple[PipelineObserver, ...]) -> None:
        self.observers = observers
        recorders: list[tuple[StatusRecorder | None, PipelineObserver]] = []
        finishers: list[tuple[FinishRecorder | None, PipelineObserver]] = []
        for observer in observers:
            recorder = getattr(observer, "record_status", None)
            recorders.append((recorder if callable(recorder) else None, observer))
            finisher = getattr(observer, "record_finished", None)
            finishers.append((finisher if callable(finisher) else None, observer))
        self._recorders = tuple(recorders)
        self._finishers = tuple(finishers)
        self._task_observers: tuple[Callable[[TaskEvent], Awaitable[None] | None], ...] = tuple(
            observer.on_task_event
            for observer in observers
            if getattr(observer, "observes_task_events", True)
        )

    def __repr__(self) -> str:
        return f"combine_observers({', '.join(map(repr, self.observers))})"

    @property
    def observes_task_events(self) -> bool:
        """Whether a member wants task events."""
        return bool(self._task_observers)

    def record_status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
        /,
    ) -> Awaitable[None] | None:
        """Pass a status change to each member, as plain fields or as one `StatusEvent`."""
        pending: list[Awaitable[None]] | None = None
        event: StatusEvent | None = None
        for recorder, observer in self._recorders:
            try:
                if recorder is not None:
                    result = recorder(
                        item_id, stage, status, worker, worker_id, timestamp, metadata
                    )
                else:
                    if event is None:
                        event = StatusEvent(
                            item_id, stage, status, worker, worker_id, timestamp, metadata
                        )
                    result = observer.on_status_event(event)
            except Exception:
                logger.exception(
                    "antflow: observer %r raised on %s of item %r; ignored",
                    observer,
                    status,
                    item_id,
                )
                continue
            if result is not None:
                pending = [result] if pending is None else [*pending, result]
        return None if pending is None else _settle_all(pending)

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        """Pass a `StatusEvent` to each member."""
        return self.record_status(
            event.item_id,
            event.stage,
            event.status,
            event.worker,
            event.worker_id,
            event.timestamp,
            event.metadata,
        )

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """Pass a `TaskEvent` to each member that wants task events."""
        pending: list[Awaitable[None]] | None = None
        for on_task in self._task_observers:
            try:
                result = on_task(event)
            except Exception:
                logger.exception("antflow: observer raised on %r; ignored", event)
                continue
            if result is not None:
                pending = [result] if pending is None else [*pending, result]
        return None if pending is None else _settle_all(pending)

    def record_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        """Tell each member that an item left the pipeline, unwrapped or as one `ItemFinished`."""
        pending: list[Awaitable[None]] | None = None
        event: ItemFinished | None = None
        for finisher, observer in self._finishers:
            try:
                if finisher is not None:
                    result = finisher(item_id, ended, timestamp)
                else:
                    if event is None:
                        outcome = (
                            succeeded_outcome(ended)
                            if isinstance(ended, PipelineResult)
                            else failed_outcome(ended)
                        )
                        event = ItemFinished(item_id, outcome, timestamp)
                    result = observer.on_item_finished(event)
            except Exception:
                logger.exception(
                    "antflow: observer %r raised on the end of item %r; ignored", observer, item_id
                )
                continue
            if result is not None:
                pending = [result] if pending is None else [*pending, result]
        return None if pending is None else _settle_all(pending)

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        """Tell each member that an item left the pipeline."""
        outcome = event.outcome
        ended = outcome.unwrap() if isinstance(outcome, Success) else outcome.failure()
        return self.record_finished(event.item_id, ended, event.timestamp)


async def _settle_all(pending: list[Awaitable[None]]) -> None:
    """Await each member's awaitable in turn; one that raises does not stop the others."""
    for index, awaitable in enumerate(pending):
        try:
            await awaitable
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                # The worker itself is being cancelled (or timed out): close the rest
                # unawaited, so Python does not warn about them.
                for rest in pending[index + 1 :]:
                    if inspect.iscoroutine(rest):
                        rest.close()
                raise
            logger.exception("antflow: an observer's coroutine was cancelled; ignored")
        except Exception:
            logger.exception("antflow: an observer's coroutine raised; ignored")
