"""`StatusTracker`: records what happens to every item, answers queries, runs callbacks.

Theory of operation
-------------------
A tracker is a `PipelineObserver`. The pipeline calls it from its workers:

* ``record_status(...)`` for every status change, with plain fields (the core's fast
  form of ``on_status_event``). The tracker appends the fields to its `StatusLog` (one
  ``list.extend``) and, only if ``on_status_change`` is set, builds the `StatusEvent` and
  calls it. Queries index the log and build events when asked.
* ``on_task_event(event)`` for task starts, completions, retries and failures, but only
  when a task callback is set: `observes_task_events` tells the pipeline not to build
  task events otherwise.
* ``on_item_finished(event)`` once per item when it leaves the pipeline. An item that
  ended as a result has ``completed`` as its final status (``skipped`` if ``skip_if``
  sent it past the last stage), one that ended as a failure ``failed``; the tracker adds
  that final event itself if the pipeline did not end on it (a custom runtime may not).
  Failures also go to the error summary. Then ``on_success`` or ``on_failure`` is called.

Every callback is an attribute that may also be set after construction
(``tracker.on_status_change = fn``), as in antflow 0.10. A status or item callback takes
effect at once; a task callback at the next ``start()`` or ``run()`` of the pipeline,
which reads `observes_task_events` when it starts.

A callback may be a plain function or an ``async`` one. The tracker returns the
callback's awaitable to the worker, which awaits it before the item moves on, so after
``await pipeline.run(...)`` every callback has finished. A callback that raises (any
exception, a BaseException too) is logged on the ``"antflow"`` logger and ignored: it
never fails an item, stops a worker, or keeps another callback from being called.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias, TypeVar

from antflow_core.model import (
    EMPTY_METADATA,
    FIRST_ATTEMPT,
    CallbackForm,
    ErrorSummary,
    FailedItem,
    FailureRecord,
    ItemFinished,
    ItemStatus,
    PipelineResult,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    callback_form,
)
from returns.result import Success

from antflow_tracker._log import CODES, FIELDS, STATUSES, StatusLog

__all__ = [
    "FailedItemCallback",
    "HistoryLimit",
    "ResultCallback",
    "StatusCallback",
    "StatusTracker",
    "TaskCallback",
]

logger = logging.getLogger("antflow")

StatusCallback: TypeAlias = Callable[[StatusEvent], Awaitable[None] | None]
"""``on_status_change``: called with each `StatusEvent`; a plain or ``async`` function."""

TaskCallback: TypeAlias = Callable[[TaskEvent], Awaitable[None] | None]
"""``on_task_start`` and the other task callbacks: called with a `TaskEvent`."""

ResultCallback: TypeAlias = (
    Callable[[PipelineResult[Any]], Awaitable[None] | None]
    | Callable[[Any, Any, dict[str, Any]], Awaitable[None] | None]
)
"""``on_success``: ``(result)`` with the item's `PipelineResult` when it leaves the last
stage, or ``(item_id, value, metadata)`` as a stage's 0.10-form callback."""

FailedItemCallback: TypeAlias = (
    Callable[[FailedItem], Awaitable[None] | None]
    | Callable[[Any, Any, dict[str, Any]], Awaitable[None] | None]
)
"""``on_failure``: ``(failed_item)`` with the `FailedItem` when a stage gives up on the item,
or ``(item_id, error, metadata)``."""

HistoryLimit: TypeAlias = Literal["full"] | int
"""How many status events the tracker keeps per item: ``"full"`` (all) or N >= 1."""

_E = TypeVar("_E")
_C = TypeVar("_C")

DEFAULT_KEEP_FINISHED: Final = 100_000
"""How many ended items a tracker keeps by default (the latest to end); see ``keep_finished``."""

_COMPLETED: Final = ItemStatus.COMPLETED
_FAILED: Final = ItemStatus.FAILED
_SKIPPED: Final = ItemStatus.SKIPPED
_EXPANDED: Final = ItemStatus.EXPANDED
_RESULT_STATUSES: Final = (_COMPLETED, _SKIPPED)
"""The final statuses of an item that ended as a result."""
_FINISHED_METADATA: Final[Mapping[str, Any]] = MappingProxyType({"finished": True})
_TASK_CALLBACK_NAMES: Final = {
    TaskEventType.START: "on_task_start",
    TaskEventType.COMPLETE: "on_task_complete",
    TaskEventType.RETRY: "on_task_retry",
    TaskEventType.FAIL: "on_task_fail",
}


class StatusTracker:
    """Tracks every item of a pipeline: status events, task events, queries and callbacks.

    Pass it as ``Pipeline(stages, status_tracker=tracker)``. During the run it receives
    every status change of every item (and task events, when a task callback is set);
    during or after the run, query it.

    Every callback is optional and may be a plain function or an ``async def`` one. The
    worker that caused the event waits for the callback before it goes on, so keep
    callbacks short (hand heavy work to a queue). A callback that raises is logged on the
    ``"antflow"`` logger and ignored.

    Memory: by default the tracker keeps every status event of every item, as the guide
    shows (`get_history`), for the latest 100,000 items that ended (and every item in
    flight): about 9 events and 0.9 KB per item through 3 stages, so an ordinary run keeps
    everything and a million-item run holds about 90 MB instead of 0.9 GB. The counts
    (`get_stats`, `get_error_summary`) always cover every item. Keep more with
    ``keep_finished=True`` (all) or an int, less with ``history=1`` (the current status
    only, about 0.25 KB per item) and ``keep_finished=False`` (forget items once they
    ended: memory then follows the items in flight). The package README has the
    measurements.

    Every callback can also be set, replaced or removed later by assigning the attribute
    of the same name (``tracker.on_status_change = fn``).

    Args:
        on_status_change: Called with each `StatusEvent` (an item changed status at a stage).
            The only argument that may be given by position: ``StatusTracker(print_event)``.
        on_task_start: Called with a `TaskEvent` when a task call begins.
        on_task_complete: Called with a `TaskEvent` when a task call succeeded.
        on_task_retry: Called with a `TaskEvent` when a failed task call will be retried.
        on_task_fail: Called with a `TaskEvent` when a task failed for good.
        on_success: Called once per item that went through every stage, with its
            `PipelineResult` (id and final value), or as ``on_success(item_id, value,
            metadata)``: like a stage's callbacks, the form is decided from the signature
            when the callback is set (see `antflow_core.model.callback_form`).
        on_failure: Called once per item a stage gave up on, with its `FailedItem` (id,
            value, error, stage and attempts), or as ``on_failure(item_id, error,
            metadata)``.
        history: Status events kept per item: ``"full"`` for all of them (the default), or an
            int N >= 1 for the latest N; ``1`` keeps the current status only.
        keep_finished: Which items to keep after they leave the pipeline: an int N for the
            latest N to end (the default, 100,000), True for all of them, False for none.
            An item that is not kept has its events dropped, so memory follows the items in
            flight, not the items fed; `get_stats` still counts every item, and
            ``get_status`` returns None for it.
        max_failures: Keep at most this many failed items in `get_error_summary` (the
            latest ones; the counts stay exact). None keeps all.

    Raises:
        TypeError: If a callback is not callable or an option has the wrong type.
        ValueError: If ``history`` or ``max_failures`` is out of range.

    Example:
        ```python
        tracker = StatusTracker(on_status_change=print_event, on_failure=alert)
        pipeline = Pipeline(stages=[stage], status_tracker=tracker)
        await pipeline.run(items)
        print(tracker.get_stats()["completed"], tracker.get_error_summary().errors_by_type)
        ```
    """

    def __init__(
        self,
        on_status_change: StatusCallback | None = None,
        *,
        on_task_start: TaskCallback | None = None,
        on_task_complete: TaskCallback | None = None,
        on_task_retry: TaskCallback | None = None,
        on_task_fail: TaskCallback | None = None,
        on_success: ResultCallback | None = None,
        on_failure: FailedItemCallback | None = None,
        history: HistoryLimit = "full",
        keep_finished: bool | int = DEFAULT_KEEP_FINISHED,
        max_failures: int | None = None,
    ) -> None:
        self._on_status_change = _check_callback("on_status_change", on_status_change)
        self._on_success: ResultCallback | None = None
        self._on_failure: FailedItemCallback | None = None
        # The callbacks as functions of the result / failed item, in their decided form.
        self._call_success: Callable[[PipelineResult[Any]], Awaitable[None] | None] | None
        self._call_failure: Callable[[FailedItem], Awaitable[None] | None] | None
        self._call_success = self._call_failure = None
        self._task_callbacks: dict[TaskEventType, TaskCallback] = {}
        self._set_task_callback(TaskEventType.START, on_task_start)
        self._set_task_callback(TaskEventType.COMPLETE, on_task_complete)
        self._set_task_callback(TaskEventType.RETRY, on_task_retry)
        self._set_task_callback(TaskEventType.FAIL, on_task_fail)
        self._history: HistoryLimit = _check_history(history)
        self._keep_finished = _check_keep_finished(keep_finished)
        # The ended items still kept, oldest first, when only the latest N are kept.
        self._finished: deque[Any] = deque()
        self._max_failures = _check_max_failures(max_failures)
        self._log = StatusLog(None if self._history == "full" else int(self._history))
        self._flat = self._log.flat
        self._extend = self._flat.extend
        # Whether ending items must be forgotten or the log compacted from time to time.
        self._bounded = self._history != "full" or self._keep_finished is not True
        # Whether a result's end needs nothing once its last status is "completed"
        # (kept up to date by the on_success setter).
        self._plain_results = not self._bounded
        self.on_success = on_success
        self.on_failure = on_failure
        self._failures: deque[FailureRecord] = deque(maxlen=self._max_failures)
        self._failed_total = 0
        self._errors_by_type: dict[str, int] = {}
        self._errors_by_stage: dict[str, int] = {}

    def __repr__(self) -> str:
        return (
            f"<StatusTracker items={self._log.tracked()} events={len(self._log)} "
            f"history={self._history!r} keep_finished={self._keep_finished}>"
        )

    # ------------------------------------------------------------------ configuration

    @property
    def observes_task_events(self) -> bool:
        """Whether a task callback is set; when False the pipeline builds no `TaskEvent`.

        A pipeline reads it when it starts: a task callback set later takes effect at
        the pipeline's next ``start()`` or ``run()``.
        """
        return bool(self._task_callbacks)

    @property
    def on_status_change(self) -> StatusCallback | None:
        """Called with each `StatusEvent`; assign it to set, replace or remove (None) it."""
        return self._on_status_change

    @on_status_change.setter
    def on_status_change(self, callback: StatusCallback | None) -> None:
        self._on_status_change = _check_callback("on_status_change", callback)

    @property
    def on_success(self) -> ResultCallback | None:
        """Called with the `PipelineResult` of each item that went through every stage."""
        return self._on_success

    @on_success.setter
    def on_success(self, callback: ResultCallback | None) -> None:
        _check_callback("on_success", callback)
        self._on_success = callback
        self._call_success = _item_callback("on_success", callback, "result", "value")
        self._plain_results = not self._bounded and self._on_success is None

    @property
    def on_failure(self) -> FailedItemCallback | None:
        """Called with the `FailedItem` of each item a stage gave up on."""
        return self._on_failure

    @on_failure.setter
    def on_failure(self, callback: FailedItemCallback | None) -> None:
        _check_callback("on_failure", callback)
        self._on_failure = callback
        self._call_failure = _item_callback("on_failure", callback, "failed item", "error")

    @property
    def on_task_start(self) -> TaskCallback | None:
        """Called with a `TaskEvent` when a task call begins."""
        return self._task_callbacks.get(TaskEventType.START)

    @on_task_start.setter
    def on_task_start(self, callback: TaskCallback | None) -> None:
        self._set_task_callback(TaskEventType.START, callback)

    @property
    def on_task_complete(self) -> TaskCallback | None:
        """Called with a `TaskEvent` when a task call succeeded."""
        return self._task_callbacks.get(TaskEventType.COMPLETE)

    @on_task_complete.setter
    def on_task_complete(self, callback: TaskCallback | None) -> None:
        self._set_task_callback(TaskEventType.COMPLETE, callback)

    @property
    def on_task_retry(self) -> TaskCallback | None:
        """Called with a `TaskEvent` when a failed task call will be retried."""
        return self._task_callbacks.get(TaskEventType.RETRY)

    @on_task_retry.setter
    def on_task_retry(self, callback: TaskCallback | None) -> None:
        self._set_task_callback(TaskEventType.RETRY, callback)

    @property
    def on_task_fail(self) -> TaskCallback | None:
        """Called with a `TaskEvent` when a task failed for good."""
        return self._task_callbacks.get(TaskEventType.FAIL)

    @on_task_fail.setter
    def on_task_fail(self, callback: TaskCallback | None) -> None:
        self._set_task_callback(TaskEventType.FAIL, callback)

    def _set_task_callback(self, kind: TaskEventType, callback: TaskCallback | None) -> None:
        checked = _check_callback(_TASK_CALLBACK_NAMES[kind], callback)
        if checked is None:
            self._task_callbacks.pop(kind, None)
        else:
            self._task_callbacks[kind] = checked

    @property
    def history(self) -> HistoryLimit:
        """Status events kept per item: ``"full"`` or N."""
        return self._history

    @property
    def keep_finished(self) -> bool | int:
        """Items kept after they leave the pipeline: True (all), False, or the latest N."""
        return self._keep_finished

    @property
    def retained_events(self) -> int:
        """How many status events the tracker holds in memory now (all items together)."""
        return len(self._log)

    # ------------------------------------------------------------------ observer side

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
        """Record one status change given as plain fields (the pipeline's fast path).

        The fields are those of `StatusEvent`, in order. You do not call this yourself:
        the pipeline does, instead of building a `StatusEvent` for `on_status_event`.
        """
        if metadata is EMPTY_METADATA:
            meta: Any = None
        elif metadata is FIRST_ATTEMPT:  # every "in_progress" but retries
            meta = 1
        elif len(metadata) == 1 and type(attempt := metadata.get("attempt")) is int:
            meta = attempt  # {"attempt": n}, stored as the number alone
        else:  # failures, retries, and the ends and starts of a fan-out: rarer
            meta = metadata or None
            if status is _EXPANDED:  # it ended, fanned out into children
                self._extend((item_id, stage, status, worker, worker_id, timestamp, meta))
                if self._bounded:
                    self._after_finish(item_id)
                return self._status_changed(
                    item_id, stage, status, worker, worker_id, timestamp, metadata
                )
        self._extend((item_id, stage, status, worker, worker_id, timestamp, meta))
        callback = self._on_status_change
        if callback is None:
            return None
        event = StatusEvent(item_id, stage, status, worker, worker_id, timestamp, metadata)
        return _call(callback, event, "on_status_change")

    def _status_changed(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        worker: str | None,
        worker_id: int | None,
        timestamp: float,
        metadata: Mapping[str, Any],
    ) -> Awaitable[None] | None:
        """Call ``on_status_change`` with the event, if one is set."""
        callback = self._on_status_change
        if callback is None:
            return None
        event = StatusEvent(item_id, stage, status, worker, worker_id, timestamp, metadata)
        return _call(callback, event, "on_status_change")

    def on_status_event(self, event: StatusEvent) -> Awaitable[None] | None:
        """Record one `StatusEvent` and pass it to ``on_status_change``.

        The asyncio pipeline uses `record_status` instead; a custom runtime may call either.
        """
        if event.status not in CODES:
            raise ValueError(f"unknown status {event.status!r}: use an ItemStatus")
        metadata = event.metadata
        self._extend(
            (
                event.item_id,
                event.stage,
                event.status,
                event.worker,
                event.worker_id,
                event.timestamp,
                metadata if metadata else None,
            )
        )
        if event.status is _EXPANDED and self._bounded:
            self._after_finish(event.item_id)
        callback = self._on_status_change
        if callback is None:
            return None
        return _call(callback, event, "on_status_change")

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """Pass a `TaskEvent` to the callback of its kind (``on_task_start``, ...)."""
        callback = self._task_callbacks.get(event.event_type)
        if callback is None:
            return None
        return _call(callback, event, _TASK_CALLBACK_NAMES[event.event_type])

    def on_item_finished(self, event: ItemFinished) -> Awaitable[None] | None:
        """Settle the item's final status, record a failure, call ``on_success``/``on_failure``.

        The asyncio pipeline uses `record_finished` instead; a custom runtime may call either.
        """
        outcome = event.outcome
        ended = outcome.unwrap() if type(outcome) is Success else outcome.failure()
        return self.record_finished(event.item_id, ended, event.timestamp)

    def record_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem, timestamp: float, /
    ) -> Awaitable[None] | None:
        """Record that an item left the pipeline, as a result or as a failure (the fast path).

        You do not call this yourself: the pipeline does, instead of building an
        `ItemFinished` for `on_item_finished`.
        """
        flat = self._flat
        # The pipeline's last status change of an item is normally the one just written
        # (its "completed" at the last stage, or its "failed"): then nothing is to settle.
        last_is_mine = len(flat) >= FIELDS and flat[-FIELDS] is item_id
        if not isinstance(ended, FailedItem):
            if self._plain_results and last_is_mine and flat[2 - FIELDS] is _COMPLETED:
                return None  # the common case, in a few steps
            pending: Awaitable[None] | None = None
            if not (last_is_mine and flat[2 - FIELDS] in _RESULT_STATUSES):
                pending = self._settle_final(item_id, ItemStatus.COMPLETED, timestamp, None)
            if self._bounded:
                self._after_finish(item_id)
            on_success = self._call_success
            if on_success is not None:
                pending = _chain(pending, _call(on_success, ended, "on_success"))
            return pending
        self._record_failure(ended, timestamp)
        pending = None
        if not (last_is_mine and flat[2 - FIELDS] is _FAILED):
            pending = self._settle_final(item_id, ItemStatus.FAILED, timestamp, ended)
        if self._bounded:
            self._after_finish(item_id)
        if self._call_failure is not None:
            pending = _chain(pending, _call(self._call_failure, ended, "on_failure"))
        return pending

    def _settle_final(
        self, item_id: Any, status: ItemStatus, timestamp: float, failed: FailedItem | None
    ) -> Awaitable[None] | None:
        """Make ``status`` the item's latest status, adding that event if it is not yet."""
        log = self._log
        latest = log.latest(item_id)
        if latest is not None and (
            log.status_of(latest) == CODES[status]
            or (status is _COMPLETED and log.status_of(latest) == CODES[_SKIPPED])
        ):
            return None  # ended as it should: a result skipped at the last stage ends skipped
        if latest is None and failed is None:
            return None  # never seen: the tracker was not attached while it ran
        stage: str = failed.stage if failed is not None else ""
        worker: str | None = None
        worker_id: int | None = None
        if latest is not None:
            flat = log.flat
            stage, worker, worker_id = flat[latest + 1], flat[latest + 3], flat[latest + 4]
        metadata: Mapping[str, Any] = _FINISHED_METADATA
        if failed is not None:
            stage = failed.stage
            metadata = {
                "error": failed.error_message,
                "error_type": failed.error_type,
                "exception": failed.error,
                "attempt": failed.attempts,
                "finished": True,
            }
        return self.record_status(item_id, stage, status, worker, worker_id, timestamp, metadata)

    def _after_finish(self, item_id: Any) -> None:
        log = self._log
        keep = self._keep_finished
        if keep is False:
            log.forget(item_id)
        elif keep is not True:
            finished = self._finished
            finished.append(item_id)
            if len(finished) > keep:
                log.forget(finished.popleft())
            elif log.keep is None:
                return  # nothing was dropped: nothing to compact
        if log.needs_compaction():
            log.compact()

    def _record_failure(self, failed: FailedItem, timestamp: float) -> None:
        record = FailureRecord(
            failed.id,
            failed.error_message,
            failed.error_type,
            failed.stage,
            failed.attempts,
            timestamp,
        )
        self._failures.append(record)
        self._failed_total += 1
        by_type = self._errors_by_type
        by_type[record.error_type] = by_type.get(record.error_type, 0) + 1
        by_stage = self._errors_by_stage
        by_stage[record.stage] = by_stage.get(record.stage, 0) + 1

    # ------------------------------------------------------------------------ queries

    def get_stats(self) -> dict[str, int]:
        """Return how many items are in each status now, by status name.

        Every item counts once, under its current (latest) status: an item that
        completed stage 1 and waits at stage 2 counts as ``"queued"``. An item that went
        through every stage ends ``"completed"`` (``"skipped"`` when ``skip_if`` sent it
        past the last stage) and one a stage gave up on ends ``"failed"``, so after a run
        ``"completed"`` plus the items skipped at the last stage equal the pipeline's
        ``items_processed``, ``"failed"`` its ``items_failed`` and ``"expanded"`` (items
        a fan-out stage turned into children) its ``items_expanded``. Items are told apart
        by id: give items unique ids when one tracker watches several pipelines.

        Returns:
            The counts by ``"queued"``, ``"in_progress"``, ``"completed"``, ``"failed"``,
            ``"retrying"``, ``"skipped"`` and ``"expanded"``. Computing them reads every
            tracked item (a C loop: about 30 ms for a million items); to poll a big run
            often, prefer ``pipeline.get_stats()``.
        """
        counts = self._log.counts()
        return {status.value: counts[code] for code, status in enumerate(STATUSES)}

    def get_status(self, item_id: Any) -> StatusEvent | None:
        """Return the item's latest `StatusEvent`, or None if the tracker never saw it.

        With ``keep_finished=False`` an item that has ended is no longer known (None).
        """
        log = self._log
        latest = log.latest(item_id)
        return None if latest is None else log.event(latest)

    def get_by_status(self, status: ItemStatus | str) -> list[StatusEvent]:
        """Return the latest event of every item now in ``status``, in order of first sight.

        Args:
            status: An `ItemStatus` or its name, e.g. ``"failed"``.

        Raises:
            ValueError: If ``status`` is not a status name.
        """
        code = CODES.get(status) if isinstance(status, str) else None
        if code is None:
            names = ", ".join(repr(s.value) for s in STATUSES)
            raise ValueError(f"unknown status {status!r}: use one of {names}")
        log = self._log
        return [log.event(slot) for slot in log.with_status(code)]

    def get_failed_items(self) -> list[StatusEvent]:
        """Return the latest event of every item that failed: ``get_by_status("failed")``.

        Each event's ``metadata`` holds the ``error`` (message), ``error_type`` and
        ``attempt``. `get_error_summary` gives the failures counted by type and stage.
        """
        return self.get_by_status(ItemStatus.FAILED)

    def get_tracked_ids(self) -> list[Any]:
        """Return the id of every item the tracker knows, in the order it first saw them.

        Items forgotten after they ended (see ``keep_finished``) are not listed.
        """
        return self._log.tracked_ids()

    def get_history(self, item_id: Any) -> list[StatusEvent]:
        """Return the item's status events, oldest first (the latest ``history`` of them).

        An empty list if the tracker never saw the item (or forgot it, with
        ``keep_finished=False``).
        """
        log = self._log
        return [log.event(slot) for slot in log.history(item_id)]

    def get_error_summary(self, limit: int | None = None) -> ErrorSummary:
        """Return the failed items, counted by error type and by stage.

        The same shape as ``pipeline.get_error_summary()``: ``total_failed``,
        ``errors_by_type``, ``errors_by_stage`` and ``failed_items`` (each a
        `FailureRecord` with the error message, error type, stage, attempts and
        timestamp), oldest first.

        Args:
            limit: Keep only the latest ``limit`` failed items in ``failed_items``
                (the counts still cover all).
        """
        records = tuple(self._failures)
        if limit is not None:
            records = records[max(0, len(records) - limit) :]
        return ErrorSummary(
            total_failed=self._failed_total,
            errors_by_type=dict(self._errors_by_type),
            errors_by_stage=dict(self._errors_by_stage),
            failed_items=records,
        )

    def clear(self) -> None:
        """Forget every item, event and failure, e.g. before reusing the tracker."""
        self._log.clear()
        self._finished.clear()
        self._failures.clear()
        self._failed_total = 0
        self._errors_by_type.clear()
        self._errors_by_stage.clear()


# --------------------------------------------------------------------- callbacks


def _call(
    callback: Callable[[_E], Awaitable[None] | None], event: _E, what: str
) -> Awaitable[None] | None:
    """Call a user callback; return its awaitable, guarded, if it is ``async``.

    Whatever a plain callback raises (a BaseException too: it is user code, not the
    cancellation of a worker) is logged and ignored, so that the tracker's other duties
    (recording, ``on_success``, ``on_failure``) still happen for this item and the next.
    """
    try:
        pending: object = callback(event)  # a sloppy sync callback may return anything
    except BaseException:
        logger.exception("antflow: the tracker's %s callback raised; ignored", what)
        return None
    if pending is None:
        return None
    if isinstance(pending, Awaitable):
        return _guarded(pending, what)
    return None


async def _guarded(pending: Awaitable[None], what: str) -> None:
    try:
        await pending
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # the worker itself is being cancelled
        logger.exception("antflow: the tracker's %s callback was cancelled; ignored", what)
    except BaseException:
        logger.exception("antflow: the tracker's %s callback raised; ignored", what)


def _chain(first: Awaitable[None] | None, second: Awaitable[None] | None) -> Awaitable[None] | None:
    if first is None:
        return second
    if second is None:
        return first
    return _both(first, second)


async def _both(first: Awaitable[None], second: Awaitable[None]) -> None:
    await first
    await second


# -------------------------------------------------------------------- validation


def _check_callback(name: str, callback: _C | None) -> _C | None:
    if callback is not None and not callable(callback):
        raise TypeError(
            f"{name} must be a function or an async function taking the event, got {callback!r}"
        )
    return callback


def _item_callback(name: str, callback: Callable[..., Any] | None, single: str, second: str) -> Any:
    """Return ``callback`` as a function of the result or failed item, in its decided form.

    ``single`` names what a one-argument callback gets; ``second`` the attribute a
    three-argument one gets second (``"value"`` or ``"error"``).

    Raises:
        TypeError: If the callback can take neither one nor three positional arguments.
    """
    if callback is None:
        return None
    form = callback_form(callback)
    if form is CallbackForm.ONE_ARGUMENT:
        return callback
    if form is None:
        raise TypeError(
            f"{name} must take one argument (the {single}) or three, as "
            f"{name}(item_id, {second}, metadata)"
        )

    def call(ended: Any) -> Any:
        return callback(ended.id, getattr(ended, second), dict(ended.metadata))

    return call


def _check_history(history: object) -> HistoryLimit:
    if history == "full":
        return "full"
    if isinstance(history, int) and not isinstance(history, bool):
        if history >= 1:
            return history
        raise ValueError(
            f"history={history} keeps nothing: use history=1 to keep each item's current "
            "status only, N for its latest N events, or 'full' for all of them"
        )
    raise TypeError(
        f"history must be 'full' or a positive int (events kept per item), got {history!r}"
    )


def _check_keep_finished(keep_finished: object) -> bool | int:
    if isinstance(keep_finished, bool):
        return keep_finished
    if isinstance(keep_finished, int):
        if keep_finished >= 1:
            return keep_finished
        raise ValueError(
            f"keep_finished must be True (all), False (none) or a number of items >= 1, "
            f"got {keep_finished}"
        )
    raise TypeError(
        f"keep_finished must be True, False or a number of items, got {keep_finished!r}"
    )


def _check_max_failures(max_failures: object) -> int | None:
    if max_failures is None:
        return None
    if isinstance(max_failures, int) and not isinstance(max_failures, bool):
        if max_failures >= 0:
            return max_failures
        raise ValueError(f"max_failures must be >= 0 or None (keep all), got {max_failures}")
    raise TypeError(f"max_failures must be an int or None, got {max_failures!r}")
