"""`Pipeline`: the asyncio runtime that executes the model.

Theory of operation
-------------------
Each stage owns a `StageQueue` and ``workers`` worker tasks. A worker takes the
smallest ``(priority, sequence_id, (payload, attempt))`` entry, runs the stage's tasks,
and hands the item on: into the next stage's queue (waiting while it is full, which
is how backpressure reaches ``feed()``), out as a result, or out as a failure. What
happens on a failure and where an item goes are decided by `antflow_core.model`;
this module waits, schedules and calls.

Ownership: at any moment an item is in exactly one place: a feeder about to put it,
a queue, or a worker's record (``WorkerRecord.payload``). A worker clears its record
only after the item is safely elsewhere, so ``shutdown()`` can list every item that
had not finished by draining the queues and reading the records.

Completion is event driven: the pipeline counts items in flight and sets an event
when the count falls to zero with no feed running; ``join()`` waits on it. Nothing
polls. Every task the pipeline starts (workers, the display refresher, the stream
feeder) is owned by it and cancelled and awaited by ``join()``, ``shutdown()`` or the
method that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from types import CoroutineType
from typing import Any, Final, NoReturn, cast

from returns.result import Failure
from tenacity import AsyncRetrying, RetryCallState

from antflow_core.errors import AntflowError, FeedError, PipelineCrashedError, PipelineStateError
from antflow_core.model import (
    DEFAULT_PRIORITY,
    EMPTY_METADATA,
    FIRST_ATTEMPT,
    CallbackForm,
    DashboardProtocol,
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    FailureRecord,
    FinishRecorder,
    ItemFinished,
    ItemOutcome,
    ItemStatus,
    Payload,
    PipelineObserver,
    PipelinePlan,
    PipelineResult,
    PipelineStats,
    ProgressDisplay,
    RequeueItem,
    RetryTask,
    Stage,
    StageCounts,
    StagePlan,
    StatusEvent,
    StatusRecorder,
    TaskEvent,
    TaskEventType,
    WorkerMetrics,
    WorkerState,
    call_with_failure,
    call_with_payload,
    coerce_payload,
    compute_pipeline_stats,
    decide_retry,
    default_queue_capacity,
    failed_outcome,
    is_retryable,
    order_by_sequence,
    plan_pipeline,
    prepare_payload,
    resolve_stage,
    stage_counts,
    succeeded_outcome,
    summarize_errors,
)
from antflow_core.runtime.display import DisplayDriver
from antflow_core.runtime.extensions import (
    builders_missing_error,
    resolve_display,
    with_telemetry,
)
from antflow_core.runtime.interrupts import interrupt_guard
from antflow_core.runtime.invoke import TaskSpec, invoke, returned_coroutine
from antflow_core.runtime.queues import EMPTY, QueueClosed, StageQueue
from antflow_core.runtime.workers import WorkerRecord, current_worker

__all__ = ["Pipeline"]

logger = logging.getLogger("antflow")

_QueueItem = tuple[int, int, tuple[Payload[Any], int]]
_StreamItem = tuple[int, "PipelineResult[Any] | FailedItem"]

_RECENT_ERRORS: Final = 20

DEFAULT_CALLBACK_TIMEOUT: Final = 60.0
"""Seconds an async callback may run before the pipeline abandons it (``callback_timeout``)."""


class _State(Enum):
    NEW = "new"  # constructed, never started
    RUNNING = "running"  # workers are up
    STOPPING = "stopping"  # join() is stopping the workers: feed() must wait for it
    IDLE = "idle"  # joined: workers stopped, may start again
    CLOSED = "closed"  # shut down for good


class _TaskFailed(Exception):
    """Internal: a task of the stage failed for good (after its per-task retries)."""

    def __init__(self, error: BaseException, task: str, attempts: int, duration: float) -> None:
        super().__init__(error)
        self.error = error
        self.task = task
        self.attempts = attempts
        self.duration = duration


class _StageRuntime:
    """The mutable runtime side of one stage: its queue, tasks, workers and counters."""

    __slots__ = (
        "failed",
        "index",
        "name",
        "next",
        "on_failure",
        "on_skip",
        "on_success",
        "per_task",
        "plan",
        "queue",
        "records",
        "retried",
        "skip_if",
        "skipped",
        "specs",
        "stage",
    )

    def __init__(self, plan: StagePlan, queue: StageQueue[_QueueItem]) -> None:
        stage = plan.stage
        self.plan = plan
        self.stage = stage
        self.name = stage.name
        self.index = plan.index
        self.queue = queue
        self.next: _StageRuntime | None = None
        self.per_task = stage.retry == "per_task"
        self.skip_if = stage.skip_if
        # Each callback as a function of one argument, in the form the stage decided.
        self.on_success = _with_payload(stage.on_success, stage.on_success_form)
        self.on_skip = _with_payload(stage.on_skip, stage.on_skip_form)
        self.on_failure = (
            None
            if stage.on_failure is None or stage.on_failure_form is None
            else call_with_failure(stage.on_failure, stage.on_failure_form)
        )
        # One semaphore per limited task name: tasks sharing a name share its limit.
        semaphores = {
            name: asyncio.Semaphore(limit)
            for name, limit in zip(plan.task_names, plan.task_limits, strict=True)
            if limit is not None
        }
        self.specs = tuple(
            TaskSpec(
                fn,
                name=plan.task_names[i],
                stage=stage.name,
                is_async=plan.task_is_async[i],
                unpack=stage.unpack_args and i == 0,
                semaphore=semaphores.get(plan.task_names[i]),
                timeout=stage.task_timeout,
            )
            for i, fn in enumerate(stage.tasks)
        )
        self.records = tuple(
            WorkerRecord(name, stage.name, worker_id)
            for worker_id, name in enumerate(plan.worker_names)
        )
        self.failed = 0
        self.skipped = 0
        self.retried = 0

    def counts(self) -> StageCounts:
        # Read from the worker records, so the hot path updates one counter, not three.
        return stage_counts(
            pending=self.queue.qsize(),
            held=sum(1 for r in self.records if r.payload is not None),
            handled=sum(r.items_processed for r in self.records),
            failed=self.failed,
            skipped=self.skipped,
            retried=self.retried,
        )


def _is_own_cancellation(exc: BaseException) -> bool:
    """Tell a cancellation of the running task from a CancelledError raised by user code."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def _with_payload(
    callback: Callable[..., Any] | None, form: CallbackForm | None
) -> Callable[[Payload[Any]], Any] | None:
    if callback is None or form is None:
        return None
    return call_with_payload(callback, form)


def _error_metadata(error: BaseException, attempt: int) -> dict[str, Any]:
    return {
        "error": str(error) or type(error).__name__,
        "error_type": type(error).__name__,
        "exception": error,
        "attempt": attempt,
    }


def _retry_metadata(error: BaseException, next_attempt: int, task: str) -> dict[str, Any]:
    """A ``retrying`` event's metadata: ``retry`` and the attempt about to be made, as in 0.10."""
    return {
        "retry": True,
        "attempt": next_attempt,
        "error": str(error) or type(error).__name__,
        "error_type": type(error).__name__,
        "exception": error,
        "task": task,
    }


class Pipeline:
    """A multi-stage asyncio pipeline: items flow through stages, each a pool of workers.

    Args:
        stages: The stages, in order. At least one; names must be unique.
        collect_results: Keep results in memory for ``run()`` and `results`. Set it to
            False when you consume results some other way (``stream()``, ``on_success``,
            a tracker) to keep memory flat over millions of items.
        status_tracker: An observer of every status and task event, such as
            ``antflow.StatusTracker``; anything implementing `PipelineObserver` works.
        callback_timeout: Seconds an ``async`` callback (a stage's ``on_success`` /
            ``on_failure``, or a coroutine returned by the status tracker) may take before
            it is abandoned with a logged error, so a callback that hangs cannot stall a
            worker. ``None`` waits forever. A plain (sync) callback runs on the event loop
            and cannot be interrupted: keep it short.
        telemetry: True to send OpenTelemetry traces and metrics of the pipeline (needs
            antflow-otel: ``pip install antflow[otel]``), or an observer such as
            ``antflow_otel.TelemetryObserver(...)``. It works beside ``status_tracker``:
            both see every event. False (the default) builds and imports nothing.

    Raises:
        ExtensionNotInstalledError: If ``telemetry=True`` and antflow-otel is not installed.
        StageValidationError: If ``stages`` is empty, holds something that is not a
            `Stage`, or repeats a stage name.

    Example:
        ```python
        pipeline = Pipeline(stages=[Stage("Fetch", workers=5, tasks=[fetch]),
                                    Stage("Process", workers=2, tasks=[process])])
        results = await pipeline.run(urls)
        ```
    """

    def __init__(
        self,
        stages: Iterable[Stage],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None:
        self._plan: PipelinePlan = plan_pipeline(stages)
        if callback_timeout is not None and (
            isinstance(callback_timeout, bool)
            or not isinstance(callback_timeout, int | float)
            or callback_timeout <= 0
        ):
            raise ValueError(
                "callback_timeout must be None (no limit) or a number of seconds > 0, "
                f"got {callback_timeout!r}"
            )
        self.callback_timeout = callback_timeout
        if status_tracker is not None and not isinstance(status_tracker, PipelineObserver):
            raise TypeError(
                "status_tracker must implement on_status_event, on_task_event and "
                f"on_item_finished (e.g. antflow.StatusTracker), got {status_tracker!r}"
            )
        if not isinstance(collect_results, bool):
            raise TypeError(f"collect_results must be True or False, got {collect_results!r}")
        self.collect_results = collect_results
        self.status_tracker = status_tracker
        observer = with_telemetry(status_tracker, telemetry)
        self._observer: PipelineObserver | None = observer
        # Status events go through record_status when the observer has it, and task
        # events are built only for an observer that wants them (see PipelineObserver).
        recorder = getattr(observer, "record_status", None)
        # How a status change reaches the observer: its record_status, or a StatusEvent.
        self._emit: StatusRecorder = (
            cast("StatusRecorder", recorder) if callable(recorder) else self._emit_event
        )
        finisher = getattr(observer, "record_finished", None)
        self._record_finished: FinishRecorder | None = (
            cast("FinishRecorder", finisher) if callable(finisher) else None
        )
        self._on_task: Callable[[TaskEvent], Awaitable[None] | None] | None = None
        self._read_task_observation()
        self._queues: list[StageQueue[_QueueItem]] = [
            StageQueue(maxsize=p.capacity) for p in self._plan.stages
        ]
        self._stages = [
            _StageRuntime(p, q) for p, q in zip(self._plan.stages, self._queues, strict=True)
        ]
        for current, following in zip(self._stages, self._stages[1:], strict=False):
            current.next = following
        self._msg_counter = 0
        # Whether _prepare_payload is ours (not overridden): then feeding calls the model directly.
        self._own_prepare = type(self)._prepare_payload is Pipeline._prepare_payload
        self._next_custom_sequence = 0  # the least sequence id an override may give next
        self._state = _State.NEW
        self._workers: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self._active_feeds = 0
        self._fed = 0
        self._processed = 0
        self._failed = 0
        self._results: list[PipelineResult[Any]] = []
        self._results_sorted = True
        self._failures: list[FailedItem] = []
        self._failure_records: list[FailureRecord] = []
        self._unfinished: list[Payload[Any]] = []
        # Ended items on their way to a stream() consumer, keyed by arrival (FIFO).
        self._stream_out: StageQueue[_StreamItem] | None = None
        self._stream_arrivals = 0
        self._stream_failures = False  # whether failures go to the stream too
        self._crash: BaseException | None = None
        self._closed = asyncio.Event()  # set once shutdown has completed
        self._helpers: list[asyncio.Task[Any]] = []  # a stream's feeder and closer
        self._driver: DisplayDriver | None = None
        self._executor: ThreadPoolExecutor | None = None  # runs the plain-function tasks
        self._started_at: float | None = None
        self._run_baseline: PipelineStats | None = None
        self._run_first_failure = 0
        self._run_first_seq = 0  # the first sequence id fed for the next run

    # ------------------------------------------------------------------ introspection

    def __repr__(self) -> str:
        names = ", ".join(self._plan.stage_names)
        return f"<Pipeline [{names}] {self._state.value}>"

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, in order."""
        return tuple(p.stage for p in self._plan.stages)

    @property
    def plan(self) -> PipelinePlan:
        """The compiled plan the workers follow."""
        return self._plan

    @property
    def is_running(self) -> bool:
        """Whether the workers are up (between ``start()`` and ``join()``/``shutdown()``)."""
        return self._state is _State.RUNNING

    @property
    def is_closed(self) -> bool:
        """Whether ``shutdown()`` was called (the pipeline cannot be used again)."""
        return self._state is _State.CLOSED

    @property
    def results(self) -> list[PipelineResult[Any]]:
        """The results collected so far, in input order (empty with ``collect_results=False``)."""
        if not self._results_sorted:
            self._results = order_by_sequence(self._results)
            self._results_sorted = True
        return list(self._results)

    @property
    def failures(self) -> list[FailedItem]:
        """Every item that failed, in input order, with its error, stage and attempts."""
        return order_by_sequence(self._failures)

    @property
    def outcomes(self) -> list[ItemOutcome]:
        """Every ended item as a `returns` Result, in input order.

        ``Success(PipelineResult)`` for results (only those collected) and
        ``Failure(FailedItem)`` for failures.
        """
        ended: list[PipelineResult[Any] | FailedItem] = [*self._results, *self._failures]
        return [
            succeeded_outcome(x) if isinstance(x, PipelineResult) else failed_outcome(x)
            for x in order_by_sequence(ended)
        ]

    @property
    def unfinished_items(self) -> list[Payload[Any]]:
        """Items that had not ended when the pipeline was shut down or cancelled, in input order.

        Feed their ``value`` (or ``to_dict()``) to a new pipeline to resume.
        """
        return order_by_sequence(self._unfinished)

    def get_worker_names(self) -> dict[str, list[str]]:
        """Return the names of each stage's workers: ``{"Fetch": ["Fetch-W0", ...]}``.

        A worker's id (its index in that list, 0 to workers - 1) is the ``worker_id`` of
        the events it emits.
        """
        return {p.name: list(p.worker_names) for p in self._plan.stages}

    def get_stats(self) -> PipelineStats:
        """Return the pipeline's counts now: items processed, failed, in flight, and per stage."""
        return compute_pipeline_stats(
            self._plan.stage_names,
            [s.counts() for s in self._stages],
            fed=self._fed,
            processed=self._processed,
            failed=self._failed,
            unfinished=len(self._unfinished),
        )

    def get_worker_states(self) -> dict[str, WorkerState]:
        """Return what each worker is doing now, by worker name (idle or busy, item, task)."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.state(now_wall, now_mono) for s in self._stages for r in s.records}

    def get_worker_metrics(self) -> dict[str, WorkerMetrics]:
        """Return what each worker has done so far, by worker name."""
        now_wall, now_mono = time.time(), time.monotonic()
        return {r.name: r.metrics(now_wall, now_mono) for s in self._stages for r in s.records}

    def get_error_summary(self, limit: int | None = None) -> ErrorSummary:
        """Return failures counted by error type and by stage, with the failed items.

        Args:
            limit: Keep only the latest ``limit`` failed items in ``failed_items``
                (``total_failed`` still counts all).
        """
        return summarize_errors(self._failure_records, limit=limit)

    def get_dashboard_snapshot(self) -> DashboardSnapshot:
        """Return worker states, worker metrics, stats and recent errors, read at one moment.

        Its ``error_summary`` counts the failures of the current run (since the last
        ``start()``) and lists the latest of them; ``get_error_summary()`` covers all runs.
        """
        return DashboardSnapshot(
            timestamp=time.time(),
            stats=self.get_stats(),
            worker_states=self.get_worker_states(),
            worker_metrics=self.get_worker_metrics(),
            error_summary=summarize_errors(
                self._failure_records[self._run_first_failure :], limit=_RECENT_ERRORS
            ),
            started_at=self._started_at,
            stage_names=self._plan.stage_names,
            run_baseline=self._run_baseline,
        )

    # ------------------------------------------------------------- builder entry points

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> Any:
        """Start a fluent builder; provided by antflow-builders (``from antflow import Pipeline``).

        Raises:
            ExtensionNotInstalledError: Always, on the core class; the message says what to
                install or import.
        """
        raise builders_missing_error("create")

    @classmethod
    def quick(cls, *args: Any, **kwargs: Any) -> Any:
        """Run items through tasks in one call; provided by antflow-builders.

        Raises:
            ExtensionNotInstalledError: Always, on the core class; the message says what to
                install or import.
        """
        raise builders_missing_error("quick")

    # ----------------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Pipeline:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            await self.join()
        await self.shutdown()

    async def start(
        self,
        *,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        total: int | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> None:
        """Start the workers; then ``feed()`` items and ``join()``.

        Calling it while running does nothing; after ``join()`` it starts the workers again.

        Args:
            progress: True for a live progress bar (needs antflow-rich), or your own
                `ProgressDisplay`.
            dashboard: ``"compact"``, ``"detailed"`` or ``"full"`` (needs antflow-rich), or your
                own `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes (the display's default if None).
            total: How many items you will feed, if known, for the display's ETA.
            custom_dashboard: antflow 0.10's way to pass your own display: a
                `DashboardProtocol` object (``on_start``, ``on_update``, ``on_finish``),
                or a `ProgressDisplay`. Not together with ``progress`` or ``dashboard``.

        Raises:
            PipelineStateError: After ``shutdown()``.
            ExtensionNotInstalledError: If a display is asked for and antflow-rich is missing.
            ValueError: If ``custom_dashboard`` comes with ``progress`` or ``dashboard``.
        """
        self._require_open("start")
        if total is not None and (
            not isinstance(total, int) or isinstance(total, bool) or total < 0
        ):
            raise ValueError(f"total must be None or a number of items >= 0, got {total!r}")
        display = resolve_display(
            progress, dashboard, refresh_interval, custom_dashboard=custom_dashboard, pipeline=self
        )
        if self._state is _State.RUNNING:
            if display is not None and self._driver is None:
                self._start_display(display, total)
            return
        self._crash = None
        self._read_task_observation()
        self._start_threads()
        self._started_at = time.time()
        baseline = self.get_stats()
        # Items fed before start() (waiting in the queues) belong to this run.
        self._run_baseline = dataclasses.replace(
            baseline, items_fed=baseline.items_fed - baseline.items_in_flight
        )
        self._run_first_failure = len(self._failure_records)
        loop = asyncio.get_running_loop()
        for stage in self._stages:
            for record in stage.records:
                self._workers.append(
                    loop.create_task(self._worker(stage, record), name=f"antflow:{record.name}")
                )
        self._state = _State.RUNNING
        if display is not None:
            self._start_display(display, total)

    def _read_task_observation(self) -> None:
        """Ask the observer whether it wants task events (at construction and each start).

        A tracker's task callback may be set after the pipeline was built, as in antflow
        0.10 (``tracker.on_task_retry = fn``): it takes effect at the next start.
        """
        observer = self._observer
        wants = observer is not None and getattr(observer, "observes_task_events", True)
        self._on_task = observer.on_task_event if wants and observer is not None else None

    def _start_display(self, display: ProgressDisplay, total: int | None) -> None:
        driver = DisplayDriver(display, self.get_dashboard_snapshot, total, self._plan.stage_names)
        self._driver = driver
        driver.start()

    async def _stop_display(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.stop()

    async def join(self) -> None:
        """Wait until every fed item has ended, then stop the workers.

        Results are then in `results`, failures in `failures`. If the task awaiting
        ``join()`` is cancelled, the pipeline shuts down: workers stop, no new task call
        starts, and `unfinished_items` lists what had not ended.

        Raises:
            PipelineCrashedError: If a worker died of an internal error.
            PipelineStateError: If items were fed and the workers were never started:
                nothing would ever process them.
        """
        if self._state is not _State.RUNNING:
            if self._in_flight and self._state is not _State.CLOSED:
                raise PipelineStateError(
                    f"join() before start(): {self._in_flight} fed items wait in the queues "
                    "and no worker runs to process them; call `await pipeline.start()` first"
                )
            return
        try:
            await self._wait_idle()
        except BaseException:
            await self._abort()
            raise
        if self._crash is not None:
            await self._abort()
            self._raise_crash()
        if self.is_closed:  # (the property: mypy would narrow _state across the await)
            raise PipelineStateError(
                "the pipeline was shut down while join() waited: the items that had not "
                "ended are in unfinished_items"
            )
        # Until the workers are gone feed() is refused: a stopping worker could take an
        # item and be cancelled with it. From IDLE on, fed items wait for the next start().
        self._state = _State.STOPPING
        self._run_first_seq = self._msg_counter
        await self._stop_workers()
        if self._state is _State.STOPPING:  # (not started again or shut down meanwhile)
            self._state = _State.IDLE
        await self._stop_display()

    async def shutdown(self) -> None:
        """Stop the workers now and close the pipeline for good.

        Items that had not ended are listed in `unfinished_items` (and counted in
        ``get_stats().items_unfinished``); a ``feed()`` blocked on a full queue raises
        `PipelineStateError`. Calling it again, or before ``start()``, does nothing more.
        """
        if self._state is _State.CLOSED:
            await self._closed.wait()  # another caller is closing it: wait until done
            return
        await self._abort()

    async def _abort(self) -> None:
        """Close everything: queues, workers, display; record what had not ended."""
        self._state = _State.CLOSED
        for queue in self._queues:
            queue.close()
        if self._stream_out is not None:
            self._stream_out.close()
        helpers, self._helpers = self._helpers, []
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await self._stop_workers()
        for stage in self._stages:
            self._unfinished.extend(payload for _, _, (payload, _) in stage.queue.drain())
            for record in stage.records:
                if record.payload is not None:
                    self._unfinished.append(record.payload)
                    record.payload = None
                record.current_task = None
        self._in_flight = 0
        self._idle.set()
        await self._stop_display()
        self._closed.set()

    async def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
        executor, self._executor = self._executor, None
        if executor is not None:
            # Threads still running a task (a timed-out call) finish on their own.
            executor.shutdown(wait=False, cancel_futures=True)

    def _start_threads(self) -> None:
        """Give plain-function tasks a thread pool: a thread for each worker that may call one."""
        threads = sum(
            len(stage.records) for stage in self._stages if any(not s.is_async for s in stage.specs)
        )
        if not threads:
            return
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="antflow")
        for stage in self._stages:
            for spec in stage.specs:
                if not spec.is_async:
                    spec.executor = self._executor

    async def _wait_idle(self) -> None:
        while (self._in_flight or self._active_feeds) and self._crash is None:
            self._idle.clear()
            await self._idle.wait()

    def _crashed(self, exc: BaseException) -> None:
        """A worker died: wake ``join()`` and any ``feed()`` waiting for room, so they raise."""
        self._crash = exc
        for queue in self._queues:
            queue.close()
        self._idle.set()

    def _raise_crash(self) -> NoReturn:
        crash = self._crash
        raise PipelineCrashedError(
            f"a worker died of an internal error ({type(crash).__name__}: {crash}); "
            "the pipeline was shut down, see unfinished_items"
        ) from crash

    def _require_open(self, what: str) -> None:
        if self._state is _State.CLOSED:
            raise PipelineStateError(
                f"{what}() after shutdown(): a pipeline cannot be used once shut down; "
                "create a new Pipeline"
            )

    # ------------------------------------------------------------------------ feeding

    def _require_feedable(self, what: str) -> None:
        self._require_open(what)
        if self._state is _State.STOPPING:
            raise PipelineStateError(
                f"{what}() while join() stops the workers: feed once join() has returned "
                "(the items then wait for the next start()), or before join()"
            )

    def _prepare_payload(self, item: Any) -> Payload[Any] | dict[str, Any]:
        """Wrap a fed item; override to change how ids are given.

        The default takes ``"id"``/``"value"`` from dict items and otherwise uses the
        item's position (``self._msg_counter``) as its id. An override may return a
        `Payload` or the guide's dict form ``{"id", "value", "_sequence_id"}``.
        """
        return prepare_payload(item, self._msg_counter)

    def _target_index(self, target_stage: str | None) -> int:
        if target_stage is None:
            return 0
        if not isinstance(target_stage, str):
            raise TypeError(f"target_stage must be a stage name, got {target_stage!r}")
        found = resolve_stage(self._plan, target_stage)
        if isinstance(found, Failure):
            raise found.failure()
        return found.unwrap()

    @staticmethod
    def _check_priority(priority: object) -> None:
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(
                f"priority must be an integer (lower runs first; default 100), got {priority!r}"
            )

    @staticmethod
    def _check_items(items: object, *, allow_async: bool) -> None:
        if isinstance(items, str | bytes):
            raise TypeError(
                f"items is a {type(items).__name__}, which would be fed one character at a "
                "time: pass a list, e.g. [text]"
            )
        if isinstance(items, Iterable):
            return
        if isinstance(items, AsyncIterable):
            if allow_async:
                return
            raise TypeError("items is an async iterable: use `await pipeline.feed_async(items)`")
        raise TypeError(
            f"items must be an iterable of items (a list, range, generator...), got "
            f"{type(items).__name__}"
        )

    async def feed(
        self,
        items: Iterable[Any],
        target_stage: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Put items into the pipeline, waiting while the target stage's queue is full.

        Items fed before ``start()`` (or between ``join()`` and the next ``start()``) wait
        in the queue and are processed once the workers start, as in antflow 0.10. The
        queue's capacity still applies: feeding more than it holds before ``start()``
        waits for the workers, so start the pipeline first, or feed from another task
        (``asyncio.create_task(pipeline.feed(items))``); a warning is logged when that
        happens.

        Args:
            items: The items; dicts with ``"id"``/``"value"`` keys give their own ids.
            target_stage: The stage to enter at (default: the first), e.g. to resume
                items from a checkpoint; earlier stages are skipped.
            priority: Lower is processed first (default 100); kept across stages and retries.

        Raises:
            PipelineStateError: After ``shutdown()``.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        self._require_feedable("feed")
        self._check_items(items, allow_async=False)
        self._check_priority(priority)
        index = self._target_index(target_stage)
        await self._feed_sync(iter(items), index, priority)

    async def feed_async(
        self,
        items: AsyncIterable[Any],
        target_stage: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Like `feed`, for an async iterable (an ``async def`` generator, a stream).

        Raises:
            PipelineStateError: After ``shutdown()``.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        self._require_feedable("feed_async")
        if not isinstance(items, AsyncIterable):
            raise TypeError(
                f"feed_async() takes an async iterable, got {type(items).__name__}: "
                "use feed() for lists and other iterables"
            )
        self._check_priority(priority)
        index = self._target_index(target_stage)
        await self._feed_async(items.__aiter__(), index, priority)

    async def _feed_any(self, items: Iterable[Any] | AsyncIterable[Any], priority: int) -> None:
        if isinstance(items, Iterable):
            await self._feed_sync(iter(items), 0, priority)
        else:
            await self._feed_async(items.__aiter__(), 0, priority)

    async def _feed_sync(self, iterator: Iterator[Any], index: int, priority: int) -> None:
        stage = self._stages[index]
        self._begin_feed()
        count = 0
        try:
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    raise self._feed_error(exc, count) from exc
                waiting = self._feed_item(stage, item, priority, count)
                if waiting is not None:
                    await self._feed_waiting(stage, waiting)
                count += 1
        except QueueClosed:
            raise self._closed_while_feeding(count) from self._crash
        finally:
            self._end_feed()

    async def _feed_async(self, iterator: AsyncIterator[Any], index: int, priority: int) -> None:
        stage = self._stages[index]
        self._begin_feed()
        count = 0
        try:
            while True:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise self._feed_error(exc, count) from exc
                waiting = self._feed_item(stage, item, priority, count)
                if waiting is not None:
                    await self._feed_waiting(stage, waiting)
                count += 1
        except QueueClosed:
            raise self._closed_while_feeding(count) from self._crash
        finally:
            self._end_feed()

    def _feed_now(
        self, stage: _StageRuntime, item: Any, priority: int
    ) -> tuple[_QueueItem, Awaitable[None] | None] | None:
        """Feed one item if nothing must be waited for; else return what `_feed_waiting` needs.

        The observer hears of the item (``queued``) before it enters the queue.
        """
        seq = self._msg_counter
        if self._own_prepare:
            payload = prepare_payload(item, seq)
        else:  # the guide's override reads self._msg_counter: advance it afterwards
            prepared = self._prepare_payload(item)
            payload = prepared if type(prepared) is Payload else coerce_payload(prepared, seq)
            if payload.sequence_id < self._next_custom_sequence:
                raise ValueError(
                    f"_prepare_payload gave sequence id {payload.sequence_id} after "
                    f"{self._next_custom_sequence - 1}: sequence ids must increase with each "
                    "item fed, as self._msg_counter does (use it for '_sequence_id')"
                )
            self._next_custom_sequence = payload.sequence_id + 1
        self._msg_counter = seq + 1
        entry = (priority, payload.sequence_id, (payload, 1))
        pending = None
        if self._observer is not None:
            pending = self._status(entry[2][0].id, stage.name, ItemStatus.QUEUED, None)
        if pending is None and stage.queue.try_put(entry):
            self._fed += 1
            self._in_flight += 1
            return None
        return (entry, pending)

    async def _feed_waiting(
        self, stage: _StageRuntime, waiting: tuple[_QueueItem, Awaitable[None] | None]
    ) -> None:
        """Finish feeding one item: await the observer, then wait for room in the queue."""
        entry, pending = waiting
        if pending is not None:
            await self._settle(pending)
        if self._state is not _State.RUNNING and stage.queue.full():
            logger.warning(
                "antflow: feed() waits for room in the queue of stage %r (%d items, full) "
                "but the pipeline is not started: it waits until start(). Call start() "
                "before feeding this many items, or feed from another task",
                stage.name,
                stage.queue.maxsize,
            )
        await stage.queue.put(entry)
        self._fed += 1
        self._in_flight += 1

    def _closed_while_feeding(self, count: int) -> AntflowError:
        crash = self._crash
        if crash is not None:
            return PipelineCrashedError(
                f"a worker died of an internal error ({type(crash).__name__}: {crash}) "
                f"while feeding; {count} items of this feed had been fed"
            )
        return PipelineStateError(
            f"the pipeline was shut down while feeding; {count} items of this feed had "
            "been fed (see unfinished_items for those that had not ended)"
        )

    @staticmethod
    def _feed_error(exc: Exception, count: int, where: str = "the items iterable") -> FeedError:
        return FeedError(
            f"{where} raised {type(exc).__name__}: {exc} after {count} items; "
            f"those {count} items were fed and will still end as results or failures",
            fed_count=count,
        )

    def _feed_item(
        self, stage: _StageRuntime, item: Any, priority: int, count: int
    ) -> tuple[_QueueItem, Awaitable[None] | None] | None:
        """`_feed_now`, with an error of a ``_prepare_payload`` override made a `FeedError`."""
        if self._own_prepare:
            return self._feed_now(stage, item, priority)
        try:
            return self._feed_now(stage, item, priority)
        except QueueClosed:
            raise
        except Exception as exc:
            raise self._feed_error(exc, count, "preparing an item (_prepare_payload)") from exc

    def _begin_feed(self) -> None:
        self._active_feeds += 1
        self._idle.clear()

    def _end_feed(self) -> None:
        self._active_feeds -= 1
        if not self._active_feeds and not self._in_flight:
            self._idle.set()

    # ------------------------------------------------------------------------ running

    async def run(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        priority: int = DEFAULT_PRIORITY,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> list[PipelineResult[Any]]:
        """Feed ``items``, wait for all of them, and return the results in input order.

        Items that fail are not in the list; find them in `failures` (or with a tracker).
        Items fed with ``feed()`` before this call, while the pipeline was not running, are
        processed by this run and their results returned with the others.

        Args:
            items: An iterable or async iterable of items.
            priority: Priority of these items (lower first; default 100).
            progress: True for a live progress bar (needs antflow-rich), or a `ProgressDisplay`.
            dashboard: ``"compact"``, ``"detailed"``, ``"full"`` or a `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes.
            custom_dashboard: antflow 0.10's `DashboardProtocol` object (or a
                `ProgressDisplay`); not together with ``progress`` or ``dashboard``.

        While a display is shown, SIGTERM (unless the program handles it) shuts the
        pipeline down as Ctrl-C does and then raises ``SystemExit(143)``; see
        `antflow_core.runtime.interrupts`.

        Raises:
            FeedError: If the iterable raised midway; the items before it were still
                processed and are in `results` / `failures`.
            PipelineStateError: After ``shutdown()``.
            ExtensionNotInstalledError: If a display is asked for and antflow-rich is missing.
            ValueError: If ``custom_dashboard`` comes with ``progress`` or ``dashboard``.
        """
        self._require_open("run")
        if self._stream_out is not None:
            raise PipelineStateError(
                "run() while stream() runs on this pipeline: its results would go to the "
                "stream; wait for the stream to end, or use another Pipeline"
            )
        self._check_items(items, allow_async=True)
        self._check_priority(priority)
        total = len(items) if isinstance(items, Sized) else None
        first_seq = self._msg_counter
        if self._state is not _State.RUNNING:
            # Items fed before this start() are processed by this run, and returned by it.
            first_seq = self._run_first_seq
            if total is not None:
                total += self._in_flight
        await self.start(
            progress=progress,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            total=total,
            custom_dashboard=custom_dashboard,
        )
        feed_error: FeedError | None = None
        with interrupt_guard(sigterm=self._driver is not None):
            try:
                try:
                    await self._feed_any(items, priority)
                except FeedError as exc:
                    feed_error = exc
                await self.join()
            except BaseException:
                if self._state is not _State.CLOSED:
                    await self._abort()
                raise
        if feed_error is not None:
            raise feed_error
        if first_seq == 0:
            return self.results
        return [r for r in self.results if r.sequence_id >= first_seq]

    def stream(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        priority: int = DEFAULT_PRIORITY,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> AsyncGenerator[PipelineResult[Any], None]:
        """Feed ``items`` and yield each result as soon as it is ready (completion order).

        Results are not kept (whatever ``collect_results`` says), so memory stays flat
        however many items flow. Failures are not yielded; find them in `failures`, or
        use `stream_outcomes`. Breaking out of the loop stops the pipeline; items that had
        not ended are in `unfinished_items`. For a stop at a known point, iterate inside
        ``async with contextlib.aclosing(pipeline.stream(items)) as results:``.

        Raises:
            FeedError: After the last result, if the iterable raised midway.
            PipelineStateError: At the call, after ``shutdown()`` or while another stream runs.
        """
        self._check_stream(items, priority)
        ended = self._stream(
            items, priority, progress, dashboard, refresh_interval, False, custom_dashboard
        )
        return cast("AsyncGenerator[PipelineResult[Any], None]", ended)

    async def stream_outcomes(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        priority: int = DEFAULT_PRIORITY,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> AsyncGenerator[ItemOutcome, None]:
        """Like `stream`, but yield every ended item: ``Success(result)`` or ``Failure(failed)``."""
        self._check_stream(items, priority)
        async with contextlib.aclosing(
            self._stream(
                items, priority, progress, dashboard, refresh_interval, True, custom_dashboard
            )
        ) as ended:
            async for item in ended:
                if isinstance(item, PipelineResult):
                    yield succeeded_outcome(item)
                else:
                    yield failed_outcome(item)

    async def _stream(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        priority: int,
        progress: bool | ProgressDisplay,
        dashboard: str | ProgressDisplay | None,
        refresh_interval: float | None,
        failures: bool,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> AsyncGenerator[PipelineResult[Any] | FailedItem, None]:
        self._check_stream(items, priority)
        total = len(items) if isinstance(items, Sized) else None
        last = self._plan.stages[-1]
        out: StageQueue[_StreamItem] = StageQueue(
            maxsize=default_queue_capacity(last.stage.workers)
        )
        await self.start(
            progress=progress,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            total=total,
            custom_dashboard=custom_dashboard,
        )
        self._stream_out = out
        self._stream_failures = failures
        loop = asyncio.get_running_loop()
        feeder = loop.create_task(self._feed_any(items, priority), name="antflow:stream-feeder")
        closer = loop.create_task(self._close_when_done(feeder, out), name="antflow:stream-closer")
        self._helpers = [feeder, closer]
        try_get = out.try_get
        try:
            while True:
                entry = try_get()
                if entry is EMPTY:
                    try:
                        entry = await out.get()
                    except QueueClosed:
                        break
                yield entry[1]  # type: ignore[index]
        except BaseException:
            # The consumer broke out (GeneratorExit), was cancelled, or threw in an error:
            # stop everything, the feeder and closer included.
            await self.shutdown()
            self._stream_out = None
            raise
        self._stream_out = None
        self._helpers = []
        if self._state is _State.CLOSED and self._crash is None:
            raise PipelineStateError(
                "the pipeline was shut down while streaming: the items that had not ended "
                "are in unfinished_items"
            )
        feed_error = await closer
        if self._crash is not None:
            await self._abort()
            self._raise_crash()
        await self.join()
        if feed_error is not None:
            raise feed_error

    def _check_stream(self, items: object, priority: object) -> None:
        self._require_open("stream")
        self._check_items(items, allow_async=True)
        self._check_priority(priority)
        if self._stream_out is not None:
            raise PipelineStateError(
                "stream() is already running on this pipeline: wait for it to end, or use "
                "another Pipeline"
            )

    async def _close_when_done(
        self, feeder: asyncio.Task[None], out: StageQueue[_StreamItem]
    ) -> Exception | None:
        error: Exception | None = None
        try:
            await feeder
        except Exception as exc:
            error = exc
        await self._wait_idle()
        out.close()
        return error

    # ------------------------------------------------------------------------ workers

    async def _worker(self, stage: _StageRuntime, record: WorkerRecord) -> None:
        """One worker: take an entry, run the stage on it, hand it on; until cancelled.

        The worker runs one of three loops, chosen once. They repeat the few lines that take
        an entry and time it instead of sharing a helper: a call per item is what the hot
        path cannot afford. `_lean_loop` (no observer, no ``skip_if``, no ``on_success``)
        and `_observed_loop` (an observer that wants no task events, one plain async task)
        inline the common case; `_general_loop` runs everything else through `_process`. Any
        failure leaves the inlined path for the general methods (`_recover`).
        """
        current_worker.set(record)
        specs = stage.specs
        if len(specs) == 1:
            record.current_task = specs[0].name
        observer = self._observer
        try:
            if observer is None and stage.skip_if is None and stage.on_success is None:
                await self._lean_loop(stage, record)
            elif (
                observer is not None
                and self._on_task is None
                and stage.skip_if is None
                and len(specs) == 1
                and specs[0].simple
            ):
                await self._observed_loop(stage, record, specs[0])
            else:
                await self._general_loop(stage, record)
        except QueueClosed:
            return
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            # A bug (never an item's fault: those are handled), or a BaseException that
            # escaped user code outside a task.
            logger.critical("antflow: worker %s crashed", record.name, exc_info=exc)
            self._crashed(exc)

    async def _general_loop(self, stage: _StageRuntime, record: WorkerRecord) -> None:
        """`_worker`'s loop for any stage: every item through `_process`."""
        try_get, get = stage.queue.try_get, stage.queue.get
        monotonic = time.monotonic
        ended = 0.0
        while self._state is not _State.CLOSED:
            entry = try_get()
            if entry is EMPTY:
                entry = await get()
                started = monotonic()
            else:  # taken without waiting, right after the previous item: no new clock read
                started = ended or monotonic()
            priority, seq, (payload, attempt) = entry  # type: ignore[misc]
            record.payload = payload
            record.busy_since = started
            await self._process(stage, record, priority, seq, payload, attempt)
            record.last_active = ended = monotonic()
            record.total_time += ended - started

    async def _lean_loop(self, stage: _StageRuntime, record: WorkerRecord) -> None:
        """`_worker`'s loop for an unobserved stage without ``skip_if`` or ``on_success``.

        One plain async task (the commonest stage, and the hop that `bench/throughput.py`
        measures against a hand-written pipeline) is awaited directly; several tasks run in
        turn. Every choice is made before the loop.
        """
        queue = stage.queue
        try_get = queue.try_get
        get = queue.get
        specs = stage.specs
        single = specs[0] if len(specs) == 1 and specs[0].simple else None
        following = stage.next
        hand_on = following.queue.try_put if following is not None else None
        monotonic = time.monotonic
        coroutine_type = CoroutineType
        empty = EMPTY
        closed = _State.CLOSED
        ended = 0.0
        while self._state is not closed:
            entry = try_get()
            if entry is empty:
                entry = await get()
                started = monotonic()
            else:
                started = ended or monotonic()
            priority, seq, (payload, attempt) = entry  # type: ignore[misc]
            record.payload = payload
            record.busy_since = started
            value = payload.value
            index = 0
            try:
                if single is not None:
                    value = await single.fn(value)
                    if type(value) is coroutine_type:
                        returned_coroutine(single, value)
                else:
                    for spec in specs:
                        record.current_task = spec.name
                        if spec.simple:
                            value = await spec.fn(value)
                            if type(value) is coroutine_type:
                                returned_coroutine(spec, value)
                        else:
                            value = await invoke(spec, value)
                        index += 1
            except BaseException as exc:
                if _is_own_cancellation(exc):
                    raise
                await self._recover(
                    stage, record, priority, seq, payload, attempt, index, value, exc
                )
            else:
                record.items_processed += 1
                if hand_on is None:
                    result = PipelineResult.of(payload, value)
                    if not self._finish_now(record, result):
                        await self._finish(record, result)
                else:
                    item = (priority, seq, (payload.with_value(value), 1))
                    if not hand_on(item):
                        await following.queue.put(item)  # type: ignore[union-attr]
                    record.payload = None
            record.last_active = ended = monotonic()
            record.total_time += ended - started

    async def _process(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        attempt: int,
    ) -> None:
        """The general path for one item at one stage: skip, events, tasks, hand-off.

        ``skip_if`` is asked first: a skipped item goes from ``queued`` to ``skipped``
        without being ``in_progress`` (and a ``skip_if`` that raises fails it there).
        """
        if stage.skip_if is not None:
            try:
                skip = stage.skip_if(payload.value)
                if isinstance(skip, Awaitable):
                    skip = await skip
                skip = bool(skip)  # a truth value that raises fails the item here
            except BaseException as exc:
                if _is_own_cancellation(exc):
                    raise
                await self._fail_item(stage, record, payload, exc, attempt, None)
                return
            if skip:
                await self._skip(stage, record, priority, seq, payload)
                return
        if self._observer is not None:
            pending = self._status(
                payload.id,
                stage.name,
                ItemStatus.IN_PROGRESS,
                record,
                FIRST_ATTEMPT if attempt == 1 else {"attempt": attempt},
            )
            if pending is not None:
                await self._settle(pending)
        try:
            value = await self._run_tasks(stage, record, payload, attempt, 0, payload.value)
        except _TaskFailed as failure:
            await self._stage_failed(stage, record, priority, seq, payload, attempt, failure)
            return
        await self._complete(stage, record, priority, seq, payload, value)

    async def _skip(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
    ) -> None:
        """``skip_if`` was true: the item passes the stage unchanged, ``on_skip`` is called."""
        stage.skipped += 1
        record.items_processed += 1
        if stage.on_skip is not None:
            await self._callback(stage.on_skip, payload, "on_skip", stage.name)
        if self._observer is not None:
            pending = self._status(payload.id, stage.name, ItemStatus.SKIPPED, record)
            if pending is not None:
                await self._settle(pending)
        await self._forward(stage, record, priority, seq, payload)

    async def _observed_loop(
        self, stage: _StageRuntime, record: WorkerRecord, spec: TaskSpec
    ) -> None:
        """`_worker`'s loop for an observed stage of one plain async task.

        For an observer that wants no task events (a `StatusTracker` without task
        callbacks): the three status changes of a hop are emitted inline, with every choice
        made before the loop, as `_lean_loop` does for unobserved stages.
        """
        queue = stage.queue
        try_get = queue.try_get
        get = queue.get
        fn = spec.fn
        following = stage.next
        hand_on = following.queue.try_put if following is not None else None
        emit = self._emit
        settle = self._settle
        name, worker, worker_id = stage.name, record.name, record.worker_id
        next_name = following.name if following is not None else ""
        monotonic, wall = time.monotonic, time.time
        coroutine_type = CoroutineType
        empty = EMPTY
        closed = _State.CLOSED
        in_progress, completed, queued = (
            ItemStatus.IN_PROGRESS,
            ItemStatus.COMPLETED,
            ItemStatus.QUEUED,
        )
        ended = 0.0
        while self._state is not closed:
            entry = try_get()
            if entry is empty:
                entry = await get()
                started = monotonic()
            else:
                started = ended or monotonic()
            priority, seq, (payload, attempt) = entry  # type: ignore[misc]
            record.payload = payload
            record.busy_since = started
            item_id = payload.id
            try:
                pending = emit(
                    item_id,
                    name,
                    in_progress,
                    worker,
                    worker_id,
                    wall(),
                    FIRST_ATTEMPT if attempt == 1 else {"attempt": attempt},
                )
            except BaseException as exc:
                pending = self._observer_raised(exc, item_id, in_progress)
            if pending is not None:
                await settle(pending)
            value = payload.value
            try:
                value = await fn(value)
                if type(value) is coroutine_type:
                    returned_coroutine(spec, value)
            except BaseException as exc:
                if _is_own_cancellation(exc):
                    raise
                await self._recover(stage, record, priority, seq, payload, attempt, 0, value, exc)
            else:
                record.items_processed += 1
                if stage.on_success is not None:
                    await self._callback(
                        stage.on_success, payload.with_value(value), "on_success", name
                    )
                now = wall()  # completed here and queued at the next stage: one moment
                try:
                    pending = emit(item_id, name, completed, worker, worker_id, now, EMPTY_METADATA)
                except BaseException as exc:
                    pending = self._observer_raised(exc, item_id, completed)
                if pending is not None:
                    await settle(pending)
                if hand_on is None:
                    result = PipelineResult.of(payload, value)
                    if self._deliver(result):  # `_finish`, inline when nothing must be waited for
                        self._processed += 1
                        record.payload = None
                        pending = self._item_finished(item_id, result)
                        if pending is not None:
                            await settle(pending)
                        self._end_item()
                    else:
                        await self._finish(record, result)
                else:
                    try:
                        pending = emit(item_id, next_name, queued, None, None, now, EMPTY_METADATA)
                    except BaseException as exc:
                        pending = self._observer_raised(exc, item_id, queued)
                    if pending is not None:
                        await settle(pending)
                    item = (priority, seq, (payload.with_value(value), 1))
                    if not hand_on(item):
                        await following.queue.put(item)  # type: ignore[union-attr]
                    record.payload = None
            record.last_active = ended = monotonic()
            record.total_time += ended - started

    async def _recover(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        attempt: int,
        index: int,
        value: Any,
        error: BaseException,
    ) -> None:
        """Continue an item whose task ``index`` failed on ``value`` in the worker's fast path."""
        try:
            value = await self._retry_task(
                stage, record, stage.specs[index], value, payload, attempt, error, 0.0
            )
            value = await self._run_tasks(stage, record, payload, attempt, index + 1, value)
        except _TaskFailed as failure:
            await self._stage_failed(stage, record, priority, seq, payload, attempt, failure)
            return
        await self._complete(stage, record, priority, seq, payload, value)

    async def _run_tasks(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        payload: Payload[Any],
        attempt: int,
        start: int,
        value: Any,
    ) -> Any:
        """Run the stage's tasks from index ``start`` on ``value``; return the last output.

        Raises:
            _TaskFailed: When a task fails for good (after its per-task retries).
        """
        specs = stage.specs
        on_task = self._on_task
        started = 0.0
        # A task event's attempt: the call's number (per_task: the first is 1, retries come
        # from _retry_task) or the stage attempt (per_stage), as its retry and fail events.
        first = 1 if stage.per_task else attempt
        for index in range(start, len(specs)):
            spec = specs[index]
            record.current_task = spec.name
            if on_task is not None:
                pending = self._task_event(
                    on_task, payload.id, stage.name, spec.name, record, TaskEventType.START, first
                )
                if pending is not None:
                    await self._settle(pending)
                started = time.perf_counter()
            try:
                value = await (spec.fn(value) if spec.simple else invoke(spec, value))
                if type(value) is CoroutineType:
                    returned_coroutine(spec, value)
            except BaseException as exc:
                if _is_own_cancellation(exc):
                    raise
                took = time.perf_counter() - started if on_task is not None else 0.0
                value = await self._retry_task(
                    stage, record, spec, value, payload, attempt, exc, took
                )
                continue
            if on_task is not None:
                pending = self._task_event(
                    on_task,
                    payload.id,
                    stage.name,
                    spec.name,
                    record,
                    TaskEventType.COMPLETE,
                    first,
                    duration=time.perf_counter() - started,
                )
                if pending is not None:
                    await self._settle(pending)
        return value

    async def _retry_task(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        spec: TaskSpec,
        value: Any,
        payload: Payload[Any],
        stage_attempt: int,
        first_error: BaseException,
        first_duration: float,
    ) -> Any:
        """Handle a failed first call: per-task retries through tenacity, or give up.

        The model decides (`decide_retry`); tenacity executes: its ``stop`` and ``wait``
        ask the model, and the first, already failed, call is replayed into it as attempt 1
        so that tenacity owns the whole sequence of waits.

        Raises:
            _TaskFailed: When the task fails for good.
        """
        decision = decide_retry(
            stage.stage, task_attempt=1, stage_attempt=stage_attempt, error=first_error
        )
        if not isinstance(decision.value_or(None), RetryTask):
            # Give up here, or (RequeueItem, per_stage) let the stage re-queue the item.
            raise _TaskFailed(first_error, spec.name, 1, first_duration)
        on_task = self._on_task
        observing = self._observer is not None
        attempts = 1
        replayed = False
        last_duration = first_duration

        def verdict(state: RetryCallState) -> Any:
            return decide_retry(
                stage.stage,
                task_attempt=state.attempt_number,
                stage_attempt=stage_attempt,
                error=_outcome_error(state),
            )

        def stop(state: RetryCallState) -> bool:
            return isinstance(verdict(state), Failure)

        def wait(state: RetryCallState) -> float:
            chosen = verdict(state).value_or(None)
            return chosen.wait_seconds if isinstance(chosen, RetryTask | RequeueItem) else 0.0

        async def before_sleep(state: RetryCallState) -> None:
            stage.retried += 1
            error = _outcome_error(state)
            if on_task is not None:
                pending = self._task_event(
                    on_task,
                    payload.id,
                    stage.name,
                    spec.name,
                    record,
                    TaskEventType.RETRY,
                    state.attempt_number,
                    error=error,
                    duration=last_duration,
                )
                if pending is not None:
                    await self._settle(pending)
            if observing:
                pending = self._status(
                    payload.id,
                    stage.name,
                    ItemStatus.RETRYING,
                    record,
                    _retry_metadata(error, state.attempt_number + 1, spec.name),
                )
                if pending is not None:
                    await self._settle(pending)

        async def attempt_call() -> Any:
            nonlocal attempts, replayed, last_duration
            if not replayed:
                # Tenacity's first attempt is the call that already failed.
                replayed = True
                raise first_error
            attempts += 1
            if on_task is not None:
                pending = self._task_event(
                    on_task,
                    payload.id,
                    stage.name,
                    spec.name,
                    record,
                    TaskEventType.START,
                    attempts,
                )
                if pending is not None:
                    await self._settle(pending)
            call_started = time.perf_counter()
            try:
                output = await invoke(spec, value)
            finally:
                last_duration = time.perf_counter() - call_started
            if on_task is not None:
                pending = self._task_event(
                    on_task,
                    payload.id,
                    stage.name,
                    spec.name,
                    record,
                    TaskEventType.COMPLETE,
                    attempts,
                    duration=last_duration,
                )
                if pending is not None:
                    await self._settle(pending)
            return output

        retrying = AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=_retry_if_retryable,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return await retrying(attempt_call)
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            raise _TaskFailed(exc, spec.name, attempts, last_duration) from None

    async def _complete(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        value: Any,
    ) -> None:
        """The item completed the stage with output ``value``: count, call back, hand on."""
        record.items_processed += 1
        result = payload.with_value(value)
        if stage.on_success is not None:
            await self._callback(stage.on_success, result, "on_success", stage.name)
        if self._observer is not None:
            pending = self._status(result.id, stage.name, ItemStatus.COMPLETED, record)
            if pending is not None:
                await self._settle(pending)
        await self._forward(stage, record, priority, seq, result)

    async def _stage_failed(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        stage_attempt: int,
        failure: _TaskFailed,
    ) -> None:
        """A task failed for good: re-queue the item (``per_stage``) or fail it."""
        error = failure.error
        decision = decide_retry(
            stage.stage, task_attempt=failure.attempts, stage_attempt=stage_attempt, error=error
        )
        chosen = decision.value_or(None)
        if isinstance(chosen, RequeueItem):
            await self._requeue(
                stage, record, priority, seq, payload, stage_attempt, failure, chosen
            )
            return
        # GiveUp says how many attempts were made (task calls, or stage attempts).
        attempts = (
            decision.failure().attempts if isinstance(decision, Failure) else failure.attempts
        )
        await self._fail_item(stage, record, payload, error, attempts, failure)

    async def _requeue(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        stage_attempt: int,
        failure: _TaskFailed,
        requeue: RequeueItem,
    ) -> None:
        """``per_stage`` retry: wait, then put the item back at the start of its stage."""
        stage.retried += 1
        if self._on_task is not None:
            pending = self._task_event(
                self._on_task,
                payload.id,
                stage.name,
                failure.task,
                record,
                TaskEventType.RETRY,
                stage_attempt,
                error=failure.error,
                duration=failure.duration,
            )
            if pending is not None:
                await self._settle(pending)
        if self._observer is not None:
            pending = self._status(
                payload.id,
                stage.name,
                ItemStatus.RETRYING,
                record,
                _retry_metadata(failure.error, requeue.attempt, failure.task),
            )
            if pending is not None:
                await self._settle(pending)
        if requeue.wait_seconds > 0:
            await asyncio.sleep(requeue.wait_seconds)
        if self._observer is not None:
            pending = self._status(
                payload.id, stage.name, ItemStatus.QUEUED, None, {"attempt": requeue.attempt}
            )
            if pending is not None:
                await self._settle(pending)
        # Into its own stage's queue: never wait for room there, or a full stage whose
        # workers all re-queue would wait on itself forever.
        stage.queue.force_put((priority, seq, (payload, requeue.attempt)))
        record.payload = None

    async def _fail_item(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        payload: Payload[Any],
        error: BaseException,
        attempts: int,
        failure: _TaskFailed | None,
    ) -> None:
        """The item ends here as a `FailedItem`."""
        failed = FailedItem(
            payload.id,
            payload.value,
            error,
            stage.name,
            attempts,
            payload.sequence_id,
            payload.metadata,
        )
        stream_out = self._stream_out
        if stream_out is not None and self._stream_failures:
            entry = (self._stream_arrivals, failed)
            self._stream_arrivals += 1
            if not stream_out.try_put(entry):
                await stream_out.put(entry)
        now = time.time()
        stage.failed += 1
        record.items_failed += 1
        self._failed += 1
        self._failures.append(failed)
        self._failure_records.append(
            FailureRecord(
                payload.id, failed.error_message, failed.error_type, stage.name, attempts, now
            )
        )
        record.payload = None
        if stage.on_failure is not None:
            await self._callback(stage.on_failure, failed, "on_failure", stage.name)
        if failure is not None and self._on_task is not None:
            pending = self._task_event(
                self._on_task,
                payload.id,
                stage.name,
                failure.task,
                record,
                TaskEventType.FAIL,
                attempts,
                error=error,
                duration=failure.duration,
            )
            if pending is not None:
                await self._settle(pending)
        if self._observer is not None:
            pending = self._status(
                payload.id, stage.name, ItemStatus.FAILED, record, _error_metadata(error, attempts)
            )
            if pending is not None:
                await self._settle(pending)
            pending = self._item_finished(payload.id, failed)
            if pending is not None:
                await self._settle(pending)
        self._end_item()

    async def _forward(
        self,
        stage: _StageRuntime,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
    ) -> None:
        """Hand the item to the next stage (waiting for room), or finish it."""
        following = stage.next
        if following is None:
            await self._finish(record, PipelineResult.from_payload(payload))
            return
        if self._observer is not None:
            pending = self._status(payload.id, following.name, ItemStatus.QUEUED, None)
            if pending is not None:
                await self._settle(pending)
        item = (priority, seq, (payload, 1))
        if not following.queue.try_put(item):
            await following.queue.put(item)
        record.payload = None

    def _deliver(self, result: PipelineResult[Any]) -> bool:
        """Hand a result to its consumer (a stream, or the collected results) without waiting.

        Returns False when the stream is full; then `_finish` waits for room.
        """
        stream_out = self._stream_out
        if stream_out is not None:
            if not stream_out.try_put((self._stream_arrivals, result)):
                return False
            self._stream_arrivals += 1
        elif self.collect_results:
            results = self._results
            if results and results[-1].sequence_id > result.sequence_id:
                self._results_sorted = False
            results.append(result)
        return True

    def _finish_now(self, record: WorkerRecord, result: PipelineResult[Any]) -> bool:
        """`_finish` for an unobserved pipeline when nothing must be waited for.

        Returns False, having done nothing, when the stream is full: await `_finish` then.
        """
        if not self._deliver(result):
            return False
        self._processed += 1
        record.payload = None
        self._end_item()
        return True

    async def _finish(self, record: WorkerRecord, result: PipelineResult[Any]) -> None:
        """The item left the last stage: it ends as ``result``."""
        if not self._deliver(result):
            stream_out = self._stream_out
            assert stream_out is not None
            entry = (self._stream_arrivals, result)
            self._stream_arrivals += 1
            await stream_out.put(entry)
        self._processed += 1
        record.payload = None
        if self._observer is not None:
            pending = self._item_finished(result.id, result)
            if pending is not None:
                await self._settle(pending)
        self._end_item()

    def _end_item(self) -> None:
        self._in_flight -= 1
        if not self._in_flight and not self._active_feeds:
            self._idle.set()

    # ------------------------------------------------------------- events and callbacks
    #
    # Emitting is synchronous: the observer's method is called right away and whatever it
    # returns, if not None, is awaited by the caller through _settle. A sync observer so
    # costs one call per event and no coroutine.

    def _status(
        self,
        item_id: Any,
        stage: str,
        status: ItemStatus,
        record: WorkerRecord | None,
        metadata: Mapping[str, Any] = EMPTY_METADATA,
    ) -> Awaitable[None] | None:
        worker, worker_id = (None, None) if record is None else (record.name, record.worker_id)
        try:
            return self._emit(item_id, stage, status, worker, worker_id, time.time(), metadata)
        except BaseException as exc:
            return self._observer_raised(exc, item_id, status)

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
        """`_emit` for an observer without ``record_status``: build the `StatusEvent`."""
        observer = self._observer
        assert observer is not None
        return observer.on_status_event(
            StatusEvent(item_id, stage, status, worker, worker_id, timestamp, metadata)
        )

    @staticmethod
    def _observer_raised(exc: BaseException, item_id: Any, status: ItemStatus) -> None:
        """Log what an observer raised (call it in the ``except`` block).

        Re-raises ``exc`` instead when it is the cancellation of the running task.
        """
        if _is_own_cancellation(exc):
            raise exc
        logger.exception(
            "antflow: the status tracker raised on %s of item %r; ignored", status, item_id
        )

    def _task_event(
        self,
        on_task: Callable[[TaskEvent], Awaitable[None] | None],
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
        event = TaskEvent(
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
            if _is_own_cancellation(exc):
                raise
            logger.exception("antflow: the status tracker raised on %r; ignored", event)
            return None

    def _item_finished(
        self, item_id: Any, ended: PipelineResult[Any] | FailedItem
    ) -> Awaitable[None] | None:
        try:
            recorder = self._record_finished
            if recorder is not None:
                return recorder(item_id, ended, time.time())
            observer = self._observer
            assert observer is not None
            outcome = (
                succeeded_outcome(ended)
                if isinstance(ended, PipelineResult)
                else failed_outcome(ended)
            )
            return observer.on_item_finished(ItemFinished(item_id, outcome, time.time()))
        except BaseException as exc:
            if _is_own_cancellation(exc):
                raise
            logger.exception(
                "antflow: the status tracker raised on the end of item %r; ignored", item_id
            )
            return None

    async def _settle(self, pending: Awaitable[None]) -> None:
        """Await what the observer returned, within ``callback_timeout``; log its errors."""
        scope = asyncio.timeout(self.callback_timeout)
        try:
            async with scope:
                await pending
        except BaseException as exc:  # anything the observer raised, even CancelledError
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

    async def _callback(
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


def _outcome_error(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # pragma: no cover - tenacity only consults us after a failure
        raise RuntimeError("tenacity consulted the retry policy without a failed attempt")
    return error


def _retry_if_retryable(state: RetryCallState) -> bool:
    outcome = state.outcome
    return outcome is not None and outcome.failed and is_retryable(_outcome_error(state))
