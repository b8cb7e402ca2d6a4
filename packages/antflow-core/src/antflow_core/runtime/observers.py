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
from typing import Any, cast

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
    """The observer `combine_observers` returns.

    ``record_status``, ``record_finished`` and ``on_task_event`` are functions made for
    the members at hand (with two members, the common case, calling each directly rather
    than looping), so the group adds about one call per event to what its members cost.
    """

    __slots__ = ("_task_members", "observers", "record_finished", "record_status")

    def __init__(self, observers: tuple[PipelineObserver, ...]) -> None:
        self.observers = observers
        self.record_status: StatusRecorder = _fan_out_status(
            tuple(_status_recorder(observer) for observer in observers)
        )
        self.record_finished: FinishRecorder = _fan_out_finished(
            tuple(_finish_recorder(observer) for observer in observers)
        )
        self._task_members: tuple[_Task, ...] = tuple(
            (observer.on_task_event, observer) for observer in observers
        )

    @property
    def observes_task_events(self) -> bool:
        """Whether a member wants task events now (a pipeline asks at each start).

        Read at each start and at each event, so a task callback set on a member after
        the pipeline was built (``tracker.on_task_retry = fn``) takes effect.
        """
        return any(getattr(observer, "observes_task_events", True) for observer in self.observers)

    def __repr__(self) -> str:
        return f"combine_observers({', '.join(map(repr, self.observers))})"

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """Pass a `TaskEvent` to each member that wants task events."""
        pending: list[Awaitable[None]] = []
        for call, observer in self._task_members:
            if not getattr(observer, "observes_task_events", True):
                continue
            try:
                result = call(event)
            except Exception:
                result = _raised(observer, f"task {event.event_type}", event.item_id)
            if result is not None:
                pending.append(result)
        return _settle_all(pending) if pending else None

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

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        """Tell each member that an item left the pipeline."""
        outcome = event.outcome
        ended = outcome.unwrap() if isinstance(outcome, Success) else outcome.failure()
        return self.record_finished(event.item_id, ended, event.timestamp)


# A member's hook with what to log when it raises: (hook, observer).
_Status = tuple[StatusRecorder, PipelineObserver]
_Finish = tuple[FinishRecorder, PipelineObserver]
_Task = tuple[Callable[[TaskEvent], Awaitable[None] | None], PipelineObserver]


def _status_recorder(observer: PipelineObserver) -> _Status:
    """The member's ``record_status``, or one that builds a `StatusEvent` for it."""
    recorder = getattr(observer, "record_status", None)
    if callable(recorder):
        return cast("StatusRecorder", recorder), observer
    on_status_event = observer.on_status_event

    def build_event(
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
        /,
    ) -> Awaitable[None] | None:
        return on_status_event(
            StatusEvent(item_id, stage, status, worker, worker_id, timestamp, metadata)
        )

    return build_event, observer


def _finish_recorder(observer: PipelineObserver) -> _Finish:
    """The member's ``record_finished``, or one that builds an `ItemFinished` for it."""
    finisher = getattr(observer, "record_finished", None)
    if callable(finisher):
        return cast("FinishRecorder", finisher), observer
    on_item_finished = observer.on_item_finished

    def build_event(
        item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        outcome = (
            succeeded_outcome(ended) if isinstance(ended, PipelineResult) else failed_outcome(ended)
        )
        return on_item_finished(ItemFinished(item_id, outcome, timestamp))

    return build_event, observer


def _raised(observer: PipelineObserver, what: object, item_id: Any) -> Awaitable[None] | None:
    """Log what a member raised (call it in the ``except`` block): nothing to await."""
    logger.exception(
        "antflow: observer %r raised on %s of item %r; ignored", observer, what, item_id
    )
    return None


def _both(first: Awaitable[None] | None, second: Awaitable[None] | None) -> Awaitable[None] | None:
    if first is None:
        return second
    if second is None:
        return first
    return _settle_all([first, second])


def _fan_out_status(members: tuple[_Status, ...]) -> StatusRecorder:
    if len(members) == 2:
        (first, one), (second, other) = members

        def record_pair(
            item_id: Any,
            stage: str,
            status: ItemStatus,
            worker: str | None,
            worker_id: int | None,
            timestamp: float,
            metadata: Mapping[str, Any],
            /,
        ) -> Awaitable[None] | None:
            try:
                a = first(item_id, stage, status, worker, worker_id, timestamp, metadata)
            except Exception:
                a = _raised(one, status, item_id)
            try:
                b = second(item_id, stage, status, worker, worker_id, timestamp, metadata)
            except Exception:
                b = _raised(other, status, item_id)
            return _both(a, b)

        return record_pair

    def record_each(
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
        /,
    ) -> Awaitable[None] | None:
        pending: list[Awaitable[None]] = []
        for call, observer in members:
            try:
                result = call(item_id, stage, status, worker, worker_id, timestamp, metadata)
            except Exception:
                result = _raised(observer, status, item_id)
            if result is not None:
                pending.append(result)
        return _settle_all(pending) if pending else None

    return record_each


def _fan_out_finished(members: tuple[_Finish, ...]) -> FinishRecorder:
    if len(members) == 2:
        (first, one), (second, other) = members

        def finish_pair(
            item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
        ) -> Awaitable[None] | None:
            try:
                a = first(item_id, ended, timestamp)
            except Exception:
                a = _raised(one, "the end", item_id)
            try:
                b = second(item_id, ended, timestamp)
            except Exception:
                b = _raised(other, "the end", item_id)
            return _both(a, b)

        return finish_pair

    def finish_each(
        item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        pending: list[Awaitable[None]] = []
        for call, observer in members:
            try:
                result = call(item_id, ended, timestamp)
            except Exception:
                result = _raised(observer, "the end", item_id)
            if result is not None:
                pending.append(result)
        return _settle_all(pending) if pending else None

    return finish_each


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
