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

Where each part lives: this module holds `StatusTracker`'s configuration (callbacks,
options) and its queries; the observer side it inherits from `StatusRecorder`
(``recorder.py``); calling callbacks safely is ``callbacks.py``; what is kept and
forgotten, ``retention.py`` (over the `StatusLog` of ``_log.py``); the error summary,
``failures.py``.

A callback may be a plain function or an ``async`` one. The tracker returns the
callback's awaitable to the worker, which awaits it before the item moves on, so after
``await pipeline.run(...)`` every callback has finished. A callback that raises (any
exception, a BaseException too) is logged on the ``"antflow"`` logger and ignored: it
never fails an item, stops a worker, or keeps another callback from being called.
"""

from __future__ import annotations

from typing import Any

from antflow_core.model import ErrorSummary, ItemStatus, StatusEvent, TaskEventType

from antflow_tracker._log import CODES, STATUSES
from antflow_tracker.callbacks import (
    TASK_CALLBACK_NAMES,
    FailedItemCallback,
    ResultCallback,
    StatusCallback,
    TaskCallback,
    check_callback,
    item_callback,
)
from antflow_tracker.recorder import StatusRecorder
from antflow_tracker.retention import (
    DEFAULT_KEEP_FINISHED,
    HistoryLimit,
    check_history,
    check_keep_finished,
    check_max_failures,
)

__all__ = [
    "DEFAULT_KEEP_FINISHED",
    "FailedItemCallback",
    "HistoryLimit",
    "ResultCallback",
    "StatusCallback",
    "StatusTracker",
    "TaskCallback",
]


class StatusTracker(StatusRecorder):
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
        # Checked in the order of the arguments: the first mistake is the one reported.
        on_status_change = check_callback("on_status_change", on_status_change)
        task_callbacks = {
            TaskEventType.START: on_task_start,
            TaskEventType.COMPLETE: on_task_complete,
            TaskEventType.RETRY: on_task_retry,
            TaskEventType.FAIL: on_task_fail,
        }
        for kind, callback in task_callbacks.items():
            check_callback(TASK_CALLBACK_NAMES[kind], callback)
        self._history: HistoryLimit = check_history(history)
        self._keep_finished = check_keep_finished(keep_finished)
        self._max_failures = check_max_failures(max_failures)
        super().__init__(self._history, self._keep_finished, self._max_failures)
        self._use_status_callback(on_status_change)
        self._on_success: ResultCallback | None = None
        self._on_failure: FailedItemCallback | None = None
        for kind, callback in task_callbacks.items():
            self._set_task_callback(kind, callback)
        self.on_success = on_success
        self.on_failure = on_failure

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
        self._use_status_callback(check_callback("on_status_change", callback))

    @property
    def on_success(self) -> ResultCallback | None:
        """Called with the `PipelineResult` of each item that went through every stage."""
        return self._on_success

    @on_success.setter
    def on_success(self, callback: ResultCallback | None) -> None:
        check_callback("on_success", callback)
        self._on_success = callback
        self._call_success = item_callback("on_success", callback, "result", "value")
        self._plain_results = not self._bounded and self._on_success is None

    @property
    def on_failure(self) -> FailedItemCallback | None:
        """Called with the `FailedItem` of each item a stage gave up on."""
        return self._on_failure

    @on_failure.setter
    def on_failure(self, callback: FailedItemCallback | None) -> None:
        check_callback("on_failure", callback)
        self._on_failure = callback
        self._call_failure = item_callback("on_failure", callback, "failed item", "error")

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
        checked = check_callback(TASK_CALLBACK_NAMES[kind], callback)
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
        return self._failures.summary(limit)

    def clear(self) -> None:
        """Forget every item, event and failure, e.g. before reusing the tracker."""
        self._log.clear()
        self._finished_items.clear()
        self._failures.clear()
