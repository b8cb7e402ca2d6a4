"""The observer side of `StatusTracker`: recording what the pipeline reports, at its pace.

Theory of operation
-------------------
`StatusRecorder` is the half of the tracker that the pipeline calls from its workers,
once or more per item per stage; `StatusTracker` adds the configuration (its callbacks
and options) and the queries. Everything here is on the hot path, so it is written for
it: a status change given as plain fields (``record_status``) is one ``list.extend`` on
the `StatusLog` (the ``{"attempt": n}`` metadata of an ``in_progress`` stored as the
number alone), and a `StatusEvent` is built only when ``on_status_change`` is set. An
item's end (``record_finished``) usually costs a look at the last record: the
pipeline's last status change of the item is normally its final one. Otherwise the
recorder settles it (adds the ``completed`` or ``failed`` event that a custom runtime
may not have sent), counts a failure (`FailureCounts`), applies ``keep_finished``
(`FinishedItems`, only when something is bounded) and calls ``on_success`` or
``on_failure``.

Cheaper still, while no ``on_status_change`` is set the recorder offers the log's bound
``list.extend`` as its ``status_sink`` (the core's `StatusSink`): the pipeline then
writes its commonest changes (``queued``, ``in_progress``, ``completed``) into the log
itself, with no Python call, their metadata as it is (``EMPTY_METADATA``,
``FIRST_ATTEMPT``), which reads back the same. Setting a callback clears the sink, and
the next change comes through ``record_status`` again.

The callbacks in use are plain attributes read once per event (``_on_status_change``,
``_call_success``, ``_call_failure``, ``_task_callbacks``); `StatusTracker`'s setters
keep them current (``on_status_change`` through ``_use_status_callback``, which keeps
``status_sink`` in step). Each callback is called through `call`, which never lets it
fail an item or a worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from antflow_core.model import (
    EMPTY_METADATA,
    FIRST_ATTEMPT,
    FailedItem,
    ItemFinished,
    ItemStatus,
    PipelineResult,
    StatusEvent,
    StatusSink,
    TaskEvent,
    TaskEventType,
)
from returns.result import Success

from antflow_tracker._log import CODES, FIELDS, StatusLog
from antflow_tracker.callbacks import (
    TASK_CALLBACK_NAMES,
    StatusCallback,
    TaskCallback,
    call,
    chain,
)
from antflow_tracker.failures import FailureCounts
from antflow_tracker.retention import FinishedItems, HistoryLimit

__all__ = ["StatusRecorder"]

_COMPLETED: Final = ItemStatus.COMPLETED
_FAILED: Final = ItemStatus.FAILED
_SKIPPED: Final = ItemStatus.SKIPPED
_EXPANDED: Final = ItemStatus.EXPANDED
_RESULT_STATUSES: Final = (_COMPLETED, _SKIPPED)
"""The final statuses of an item that ended as a result."""
_FINISHED_METADATA: Final[Mapping[str, Any]] = MappingProxyType({"finished": True})


class StatusRecorder:
    """Records the status changes and ends the pipeline reports; calls the callbacks in use.

    The base of `StatusTracker`, which documents it; not meant to be used alone.
    """

    def __init__(
        self, history: HistoryLimit, keep_finished: bool | int, max_failures: int | None
    ) -> None:
        self._log = StatusLog(None if history == "full" else int(history))
        self._flat = self._log.flat
        self._extend = self._flat.extend
        # Whether ending items must be forgotten or the log compacted from time to time.
        self._bounded = history != "full" or keep_finished is not True
        self._finished_items = FinishedItems(self._log, keep_finished)
        self._after_finish = self._finished_items.after_finish
        self._failures = FailureCounts(max_failures)
        self._record_failure = self._failures.record
        # The callbacks in use, kept current by StatusTracker's setters; those of the
        # ends as functions of the result / failed item, in their decided form.
        self._on_status_change: StatusCallback | None = None
        self.status_sink: StatusSink | None = None
        """The core's fastest hook (`StatusSink`): the log's ``list.extend``, through which the
        pipeline writes its ``queued``, ``in_progress`` and ``completed`` changes with no
        Python call; None while ``on_status_change`` is set, or when a subclass overrides
        ``record_status`` (every change then comes through ``record_status``). You do not
        set it yourself."""
        self._use_status_callback(None)
        self._call_success: Callable[[PipelineResult[Any]], Awaitable[None] | None] | None
        self._call_failure: Callable[[FailedItem], Awaitable[None] | None] | None
        self._call_success = self._call_failure = None
        self._task_callbacks: dict[TaskEventType, TaskCallback] = {}
        # Whether a result's end needs nothing once its last status is "completed".
        self._plain_results = not self._bounded

    def _use_status_callback(self, callback: StatusCallback | None) -> None:
        """Make ``callback`` the ``on_status_change`` in use, and offer the sink without one.

        A subclass that overrides `record_status` is offered no sink: it sees every change.
        """
        self._on_status_change = callback
        plain = type(self).record_status is StatusRecorder.record_status
        self.status_sink = self._extend if callback is None and plain else None

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
        return call(callback, event, "on_status_change")

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
        return call(callback, event, "on_status_change")

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
        return call(callback, event, "on_status_change")

    def on_task_event(self, event: TaskEvent) -> Awaitable[None] | None:
        """Pass a `TaskEvent` to the callback of its kind (``on_task_start``, ...)."""
        callback = self._task_callbacks.get(event.event_type)
        if callback is None:
            return None
        return call(callback, event, TASK_CALLBACK_NAMES[event.event_type])

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
                pending = chain(pending, call(on_success, ended, "on_success"))
            return pending
        self._record_failure(ended, timestamp)
        pending = None
        if not (last_is_mine and flat[2 - FIELDS] is _FAILED):
            pending = self._settle_final(item_id, ItemStatus.FAILED, timestamp, ended)
        if self._bounded:
            self._after_finish(item_id)
        if self._call_failure is not None:
            pending = chain(pending, call(self._call_failure, ended, "on_failure"))
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
