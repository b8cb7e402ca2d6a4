"""`RayPipeline`: the same `Stage` definitions, run as pools of Ray actors.

Theory of operation
-------------------
The driver (the process that builds the pipeline) keeps everything the model decides
on: the stage queues, the workers that walk items through their stages, retries,
routing, counters, events and callbacks (`antflow_ray.runner`). The stages' tasks run
in Ray actors (`antflow_ray.actor`), ``RayStageOptions.actors`` per stage, on this
machine or anywhere in a cluster; values move between them through Ray's object store.
So a `StatusTracker`, a progress display, ``get_stats()`` and every query behave as
with the asyncio `Pipeline`, while the work runs on as many cores and machines as the
cluster has.

Lifecycle: ``start()`` connects to Ray (`antflow_ray.connection.connect`), creates the
actors and waits until they are constructed, then starts the workers; ``join()`` waits
until every fed item has ended, then stops the workers and kills the actors, releasing
their resources; ``shutdown()`` does the same at once and lists what had not ended in
``unfinished_items``. Completion is event driven (`antflow_ray.outcomes`); nothing polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import (
    AsyncIterable,
    Iterable,
    Mapping,
)
from typing import Any, Final, NoReturn

from antflow_core.errors import (
    PipelineCrashedError,
    PipelineStateError,
    UnknownStageError,
)
from antflow_core.model import (
    DEFAULT_PRIORITY,
    DashboardProtocol,
    Payload,
    PipelineObserver,
    PipelinePlan,
    PipelineStats,
    ProgressDisplay,
    Stage,
    coerce_payload,
    plan_pipeline,
    prepare_payload,
    resolve_stage,
    validate_pipeline_options,
)
from antflow_core.runtime import DisplayDriver, StageQueue, resolve_display
from antflow_core.runtime.extensions import with_telemetry
from returns.result import Failure

from antflow_ray.connection import connect, resolve
from antflow_ray.emission import Emitter
from antflow_ray.intake import Intake, check_items, check_priority, feed_error, target_index
from antflow_ray.options import RayStageOptions, check_stage
from antflow_ray.outcomes import Outcomes
from antflow_ray.queries import PipelineQueries
from antflow_ray.runner import QueueEntry, StageRunner
from antflow_ray.runs import PipelineRuns, _State

__all__ = ["RayPipeline"]

logger = logging.getLogger("antflow")

DEFAULT_CALLBACK_TIMEOUT: Final = 60.0


class RayPipeline(PipelineRuns, PipelineQueries):
    """A multi-stage pipeline whose stages run as pools of Ray actors.

    It takes the same `Stage` objects as the asyncio `Pipeline` and has the same public
    surface for what it supports: ``run``, ``stream``, ``start``/``feed``/``join``/
    ``shutdown``, ``results``, ``failures``, ``outcomes``, ``get_stats()``, a
    ``status_tracker``, priorities, both retry strategies, ``skip_if``,
    ``task_concurrency_limits`` and the stage callbacks (which run on the driver).

    Args:
        stages: The stages, in order. At least one; names must be unique.
        collect_results: Keep results in memory for ``run()`` and `results`.
        status_tracker: An observer of every status and task event, such as
            ``antflow.StatusTracker``; it runs on the driver.
        options: `RayStageOptions` by stage name: actors and resources per stage. A stage
            not named gets ``RayStageOptions()`` (one actor).
        address: The Ray cluster to join (``"auto"``, ``"ray://head:10001"``); None uses
            ``RAY_ADDRESS``, or starts a local Ray with this machine's CPUs. Ignored when
            Ray is already initialised in this process.
        init_options: More keyword arguments for ``ray.init()`` when the pipeline starts
            Ray (``num_cpus``, ``runtime_env``, ...).
        callback_timeout: Seconds an async callback may run before it is abandoned.
        telemetry: True for OpenTelemetry traces and metrics of the pipeline (needs
            antflow-otel), or an observer such as ``antflow_otel.TelemetryObserver(...)``,
            as on the asyncio ``Pipeline``; spans are timed on the driver.

    Raises:
        StageValidationError: If ``stages`` is empty, holds a non-Stage or repeats a name.
        UnsupportedStageOptionError: If a stage sets an option this runtime does not
            support; the message names it.
        TaskNotSerializableError: If a task or ``skip_if`` cannot be pickled.
        UnknownStageError: If ``options`` names no stage.

    Example:
        ```python
        pipeline = RayPipeline(
            [Stage("Parse", workers=4, tasks=[parse]), Stage("Save", workers=2, tasks=[save])],
            options={"Parse": RayStageOptions(actors=2, num_cpus=1)},
        )
        results = await pipeline.run(paths)
        ```
    """

    def __init__(
        self,
        # Objects, as antflow_core.Pipeline takes them: mypy joins a list of stages of
        # different types kept in a variable to list[object]. plan_pipeline refuses
        # anything that is not a Stage.
        stages: Iterable[object],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        options: Mapping[str, RayStageOptions] | None = None,
        address: str | None = None,
        init_options: Mapping[str, Any] | None = None,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None:
        self._plan: PipelinePlan = plan_pipeline(stages)
        validate_pipeline_options(
            collect_results=collect_results,
            status_tracker=status_tracker,
            callback_timeout=callback_timeout,
        )
        chosen = dict(options or {})
        for name, option in chosen.items():
            found = resolve_stage(self._plan, name)
            if isinstance(found, Failure):
                raise UnknownStageError(f"options: {found.failure()}")
            if not isinstance(option, RayStageOptions):
                raise TypeError(
                    f"options[{name!r}] must be a RayStageOptions, got {type(option).__name__}"
                )
        stage_options = [chosen.get(p.name, RayStageOptions()) for p in self._plan.stages]
        for plan, option in zip(self._plan.stages, stage_options, strict=True):
            check_stage(plan.stage, option)
        self.collect_results = collect_results
        self.status_tracker = status_tracker
        self.callback_timeout = callback_timeout
        self.address = address
        self.init_options: Mapping[str, Any] = dict(init_options or {})
        self._outcomes = Outcomes(collect_results)
        self._emitter = Emitter(with_telemetry(status_tracker, telemetry), callback_timeout)
        self._runners = [
            StageRunner(plan, option, self._outcomes, self._emitter, self._crashed)
            for plan, option in zip(self._plan.stages, stage_options, strict=True)
        ]
        for current, following in zip(self._runners, self._runners[1:], strict=False):
            current.next = following
        self._queues: list[StageQueue[QueueEntry]] = [r.queue for r in self._runners]
        self._intake = Intake(
            self._runners, self._outcomes, self._emitter, self._payload_of, lambda: self._crash
        )
        self._msg_counter = 0
        self._run_first_seq = 0  # the first sequence id fed for the next run
        self._own_prepare = type(self)._prepare_payload is RayPipeline._prepare_payload
        self._next_custom_sequence = 0
        self._state = _State.NEW
        self._crash: BaseException | None = None
        self._closed = asyncio.Event()
        self._helpers: list[asyncio.Task[Any]] = []
        self._driver: DisplayDriver | None = None
        self._started_at: float | None = None
        self._run_baseline: PipelineStats | None = None
        self._run_first_failure = 0

    # ------------------------------------------------------------------ introspection

    def __repr__(self) -> str:
        names = ", ".join(self._plan.stage_names)
        return f"<RayPipeline [{names}] {self._state.value}>"

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages, in order."""
        return tuple(p.stage for p in self._plan.stages)

    @property
    def plan(self) -> PipelinePlan:
        """The compiled plan the workers follow."""
        return self._plan

    @property
    def stage_options(self) -> dict[str, RayStageOptions]:
        """The `RayStageOptions` of every stage, by name."""
        return {r.name: r.pool.options for r in self._runners}

    @property
    def is_running(self) -> bool:
        """Whether the workers and actors are up (between ``start()`` and ``join()``)."""
        return self._state is _State.RUNNING

    @property
    def is_closed(self) -> bool:
        """Whether ``shutdown()`` was called (the pipeline cannot be used again)."""
        return self._state is _State.CLOSED

    # ----------------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> RayPipeline:
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
        """Connect to Ray, create the actors, start the workers; then ``feed()`` and ``join()``.

        Calling it while running does nothing; after ``join()`` it starts again.

        Args:
            progress: True for a live progress bar (needs antflow-rich), or a `ProgressDisplay`.
            dashboard: ``"compact"``, ``"detailed"``, ``"full"`` or a `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes.
            total: How many items you will feed, if known, for the display's ETA.
            custom_dashboard: antflow 0.10's way to pass your own display (see
                ``Pipeline.start``); not together with ``progress`` or ``dashboard``.

        The first start of a process that has not called ``ray.init()`` starts or joins
        Ray, which takes a few seconds.

        Raises:
            PipelineStateError: After ``shutdown()``.
            ActorStartError: If the actors of a stage could not be created.
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
        connect(self.address, self.init_options)
        try:
            for runner in self._runners:
                runner.pool.start()
            await asyncio.gather(*(r.pool.wait_ready() for r in self._runners))
        except BaseException:
            for runner in self._runners:
                runner.pool.stop()
            raise
        self._started_at = time.time()
        self._run_baseline = self.get_stats()
        self._run_first_failure = len(self._outcomes.failure_records)
        for runner in self._runners:
            runner.start_workers()
        self._state = _State.RUNNING
        if display is not None:
            self._start_display(display, total)

    def _start_display(self, display: ProgressDisplay, total: int | None) -> None:
        driver = DisplayDriver(display, self.get_dashboard_snapshot, total, self._plan.stage_names)
        self._driver = driver
        driver.start()

    async def _stop_display(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.stop()

    async def join(self) -> None:
        """Wait until every fed item has ended, then stop the workers and kill the actors.

        If the task awaiting ``join()`` is cancelled, the pipeline shuts down and
        `unfinished_items` lists what had not ended.

        Raises:
            PipelineCrashedError: If a worker died of an internal error.
            PipelineStateError: If items were fed and the workers were never started.
        """
        if self._state is not _State.RUNNING:
            in_flight = self._outcomes.in_flight
            if in_flight and self._state is not _State.CLOSED:
                raise PipelineStateError(
                    f"join() before start(): {in_flight} fed items wait in the queues and no "
                    "worker runs to process them; call `await pipeline.start()` first"
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
        if self.is_closed:
            raise PipelineStateError(
                "the pipeline was shut down while join() waited: the items that had not "
                "ended are in unfinished_items"
            )
        # Until the workers are gone feed() is refused: a stopping worker could take an
        # item and be cancelled with it. From IDLE on, fed items wait for the next start().
        self._state = _State.STOPPING
        self._run_first_seq = self._msg_counter
        for runner in self._runners:
            await runner.stop_workers()
            runner.pool.stop()
        if self._state is _State.STOPPING:  # (not shut down meanwhile)
            self._state = _State.IDLE
        await self._stop_display()

    async def shutdown(self) -> None:
        """Stop the workers, kill the actors and close the pipeline for good.

        Items that had not ended are listed in `unfinished_items`. Calling it again, or
        before ``start()``, does nothing more. Ray itself keeps running (``ray.shutdown()``
        stops it).
        """
        if self._state is _State.CLOSED:
            await self._closed.wait()
            return
        await self._abort()

    async def _abort(self) -> None:
        self._state = _State.CLOSED
        for queue in self._queues:
            queue.close()
        if self._outcomes.stream_out is not None:
            self._outcomes.stream_out.close()
        helpers, self._helpers = self._helpers, []
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        left: list[Payload[Any]] = []
        for runner in self._runners:
            await runner.stop_workers()
            runner.pool.stop()
            left.extend(runner.take_unfinished())
        self._outcomes.abandon([await self._fetched(payload) for payload in left])
        await self._stop_display()
        self._closed.set()

    @staticmethod
    async def _fetched(payload: Payload[Any]) -> Payload[Any]:
        try:
            return payload.with_value(await resolve(payload.value))
        except Exception:  # lost with its node: keep the reference
            return payload

    async def _wait_idle(self) -> None:
        idle = self._outcomes.idle
        while (self._outcomes.in_flight or self._outcomes.active_feeds) and self._crash is None:
            idle.clear()
            await idle.wait()

    def _crashed(self, exc: BaseException) -> None:
        self._crash = exc
        for queue in self._queues:
            queue.close()
        self._outcomes.idle.set()

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
                "create a new RayPipeline"
            )

    def _require_feedable(self, what: str) -> None:
        self._require_open(what)
        if self._state is _State.STOPPING:
            raise PipelineStateError(
                f"{what}() while join() stops the workers: feed once join() has returned "
                "(the items then wait for the next start()), or before join()"
            )

    # ------------------------------------------------------------------------ feeding

    def _prepare_payload(self, item: Any) -> Payload[Any] | dict[str, Any]:
        """Wrap a fed item; override to change how ids are given (as on `Pipeline`)."""
        return prepare_payload(item, self._msg_counter)

    def _payload_of(self, item: Any, count: int) -> Payload[Any]:
        """Wrap the ``count``-th item of a feed and advance the sequence counter."""
        seq = self._msg_counter
        if self._own_prepare:
            payload = prepare_payload(item, seq)
        else:
            try:
                prepared = self._prepare_payload(item)
                payload = coerce_payload(prepared, seq)
                if payload.sequence_id < self._next_custom_sequence:
                    raise ValueError(
                        f"_prepare_payload gave sequence id {payload.sequence_id} after "
                        f"{self._next_custom_sequence - 1}: sequence ids must increase with "
                        "each item fed, as self._msg_counter does (use it for '_sequence_id')"
                    )
            except Exception as exc:
                raise feed_error(exc, count, "preparing an item (_prepare_payload)") from exc
            self._next_custom_sequence = payload.sequence_id + 1
        self._msg_counter = seq + 1
        return payload

    async def feed(
        self,
        items: Iterable[Any],
        target_stage: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Put items into the pipeline, waiting while the target stage's queue is full.

        Items fed before ``start()`` (or between ``join()`` and the next ``start()``) wait
        in the queue and are processed once the workers start, as on the asyncio
        ``Pipeline``; the queue's capacity still applies.

        Args:
            items: The items; dicts with ``"id"``/``"value"`` keys give their own ids.
            target_stage: The stage to enter at (default: the first).
            priority: Lower is processed first (default 100); kept across stages and retries.

        Raises:
            PipelineStateError: After ``shutdown()``, or while ``join()`` stops the workers.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        self._require_feedable("feed")
        check_items(items, allow_async=False)
        check_priority(priority)
        index = target_index(self._plan, target_stage)
        await self._intake.feed(iter(items), index, priority)

    async def feed_async(
        self,
        items: AsyncIterable[Any],
        target_stage: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Like `feed`, for an async iterable.

        Raises:
            PipelineStateError: After ``shutdown()``, or while ``join()`` stops the workers.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        self._require_feedable("feed_async")
        if not isinstance(items, AsyncIterable):
            raise TypeError(
                f"feed_async() takes an async iterable, got {type(items).__name__}: "
                "use feed() for lists and other iterables"
            )
        check_priority(priority)
        index = target_index(self._plan, target_stage)
        await self._intake.feed(items.__aiter__(), index, priority)
