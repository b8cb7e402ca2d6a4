"""`Pipeline`: the asyncio runtime's facade, which wires the rooms and owns the run.

Theory of operation
-------------------
A `Pipeline` is built from rooms, each in a module named after it, and delegates to
them; it keeps for itself its construction (which wires them), the protected hooks
below and the public methods that change its state, whose bodies delegate.

* ``intake`` (`Intake`): ``feed()`` and ``feed_async()``: payloads, sequence ids,
  priorities, ``target_stage``, backpressure, the count of items accepted.
* ``stage_runner`` (`StageRunner`, one per stage): the stage's queue and workers; the
  loops they run (``fast_paths``, ``batches``), the task calls and retries
  (``task_calls``) and what happens when a stage is over for an item (``handoff``,
  ``fan_out``).
* ``outcomes`` (`Outcomes`): results in input order, failures, unfinished items, the
  channel ``stream()`` reads.
* ``emission`` (`Emitter`): events to the observer, the stages' callbacks,
  ``callback_timeout``.
* ``run_state`` (`RunState`): the phase (new, running, idle, closed), items in flight
  and feeds running, the event ``join()`` waits on, a worker's crash.
* ``lifecycle`` (`Lifecycle`): what ``start()``, ``join()`` and ``shutdown()`` do, and
  the event loop the pipeline runs in.
* ``runs`` (`PipelineRuns`, a base class): ``run()``, ``stream()`` and
  ``stream_outcomes()``, which drive that lifecycle for a batch of items.
* ``queries`` (`PipelineQueries`, a base class): the read side (``results``,
  ``failures``, ``get_stats()``, worker states, snapshots), read through ``monitoring``
  (`Monitor`).

What is decided (payloads, queue order, retries, routing, capacities, stats) is decided
by `antflow_core.model`; the rooms wait, schedule and call. None of this adds a call per
item: the facade is crossed when a method is called, not when an item moves.

Lifecycle: ``start()`` starts every runner's workers (and a thread pool when a stage has
plain-function tasks), ``join()`` waits until every fed item has ended and stops them,
``shutdown()`` stops everything at once and lists what had not ended in
``unfinished_items``. Every task the pipeline starts (workers, the display refresher,
the stream's feeder and closer) is owned by it (`Supervisor`) and cancelled and awaited
by ``join()``, ``shutdown()`` or the method that started it. Nothing polls.

The protected members of the guide's "Advanced Internals" stay on the facade:
``_queues`` (each stage's `StageQueue`), ``_prepare_payload`` (override it to give ids
your way) and ``_msg_counter`` (the next sequence id). Two protected hooks decide how
retries wait: ``_backoff_sleep(seconds)`` (``asyncio.sleep``) and ``_jitter_draw()`` (a
random number in ``[0, 1)`` for the jitter the model applies); a subclass may replace
them, for example to run retries on a controlled clock with a seeded draw.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterable, Iterable
from typing import Any, Self, overload

from typing_extensions import TypeVar

from antflow_core.model import (
    DEFAULT_PRIORITY,
    DashboardProtocol,
    InT,
    Item,
    ItemFinished,
    OutT,
    Payload,
    PipelineObserver,
    PipelinePlan,
    ProgressDisplay,
    Stage,
    StatusEvent,
    TaskEvent,
    plan_pipeline,
    prepare_payload,
    validate_pipeline_options,
)
from antflow_core.runtime.emission import DEFAULT_CALLBACK_TIMEOUT, Emitter, EventTypes
from antflow_core.runtime.extensions import (
    builders_missing_error,
    resolve_display,
    with_telemetry,
)
from antflow_core.runtime.fan_out import Spawner
from antflow_core.runtime.intake import Intake
from antflow_core.runtime.lifecycle import Lifecycle
from antflow_core.runtime.limits import NamedLimits
from antflow_core.runtime.monitoring import Monitor
from antflow_core.runtime.outcomes import Outcomes
from antflow_core.runtime.queries import PipelineQueries
from antflow_core.runtime.queues import StageQueue
from antflow_core.runtime.rendezvous import Rendezvous
from antflow_core.runtime.run_state import BatchingRunState, RunState
from antflow_core.runtime.runs import PipelineRuns
from antflow_core.runtime.stage_runner import FinishNow, StageInput, StageRunner
from antflow_core.runtime.supervisor import Supervisor

__all__ = ["DEFAULT_CALLBACK_TIMEOUT", "Pipeline"]

# The value types between stages, in the typed signatures of __init__.
_B = TypeVar("_B")
_C = TypeVar("_C")
_D = TypeVar("_D")


class Pipeline(PipelineRuns[InT, OutT], PipelineQueries[OutT]):
    """A multi-stage asyncio pipeline: items flow through stages, each a pool of workers.

    For a type checker it is ``Pipeline[InT, OutT]``: what its first stage takes and what
    its last stage returns. ``feed()``, ``run()`` and ``stream()`` accept ``InT`` items
    (or `KeyedItem` dicts of them) and results are ``PipelineResult[OutT]``. The types
    are inferred from the stages when the checker can follow them: a list of one stage
    (or of stages of one type), or a tuple of stages each taking what the one before
    returns. A list of stages of different types gives ``Pipeline[Any, Any]``, as does
    any pipeline whose types are not known; annotate to say them,
    ``pipeline: Pipeline[str, float] = Pipeline(stages=[...])``. The types are
    annotations only and cost nothing at run time.

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
            worker; an ``async`` ``skip_if`` that takes longer fails its item at that stage
            with a `TimeoutError`. ``None`` waits forever. A plain (sync) callback runs on
            the event loop and cannot be interrupted: keep it short.
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

    @overload
    def __init__(
        self,
        stages: Iterable[Stage[InT, OutT]],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None: ...

    @overload
    def __init__(
        self,
        stages: tuple[Stage[InT, _B], Stage[_B, OutT]],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None: ...

    @overload
    def __init__(
        self,
        stages: tuple[Stage[InT, _B], Stage[_B, _C], Stage[_C, OutT]],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None: ...

    @overload
    def __init__(
        self,
        stages: tuple[Stage[InT, _B], Stage[_B, _C], Stage[_C, _D], Stage[_D, OutT]],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None: ...

    # Any other list of stages, whose types the checker cannot follow. Typed as objects:
    # mypy joins a list of stages of different types kept in a variable to list[object].
    # Anything that is not a Stage is refused at construction (StageValidationError).
    @overload
    def __init__(
        self,
        stages: Iterable[object],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None: ...

    def __init__(
        self,
        stages: Iterable[object],
        collect_results: bool = True,
        status_tracker: PipelineObserver | None = None,
        *,
        callback_timeout: float | None = DEFAULT_CALLBACK_TIMEOUT,
        telemetry: bool | PipelineObserver = False,
    ) -> None:
        self._plan: PipelinePlan = plan_pipeline(stages)
        validate_pipeline_options(
            collect_results=collect_results,
            status_tracker=status_tracker,
            callback_timeout=callback_timeout,
        )
        self.collect_results = collect_results
        self.status_tracker = status_tracker
        # The rooms (see the module's docstring), wired once.
        self._emitter = Emitter(
            with_telemetry(status_tracker, telemetry),  # the tracker, telemetry, or both
            callback_timeout,
            # Looked up here, at construction, so that the event classes can be substituted.
            EventTypes(status=StatusEvent, task=TaskEvent, finished=ItemFinished),
        )
        # In front of each stage: its queue, or a pull stage's hand-over point.
        self._queues: list[StageInput] = [
            Rendezvous(p.stage.workers) if p.pull else StageQueue(maxsize=p.capacity)
            for p in self._plan.stages
        ]
        self._named_limits = NamedLimits()  # what rate_limit() & co. share by name
        batching = any(p.stage.batch_size is not None for p in self._plan.stages)
        self._run_state = (BatchingRunState if batching else RunState)(self._queues)
        self._outcomes = Outcomes(collect_results, self._emitter, self._run_state)
        finish_now: FinishNow = self._finish_now
        self._runners = [
            StageRunner(
                p,
                q,
                run_state=self._run_state,
                outcomes=self._outcomes,
                emitter=self._emitter,
                finish_now=finish_now,
                named_limits=self._named_limits,
            )
            for p, q in zip(self._plan.stages, self._queues, strict=True)
        ]
        # A _prepare_payload override is called for each item; ours is the model's function.
        overridden = type(self)._prepare_payload is not Pipeline._prepare_payload
        self._intake = Intake(
            self._plan,
            self._runners,
            self._run_state,
            self._emitter,
            self._prepare_payload if overridden else None,
            self._outcomes.unfinished,
        )
        fans_out = any(p.stage.fan_out for p in self._plan.stages)
        spawner = Spawner(self._plan, self._runners, self._intake.next_sequence)
        self._random = random.Random()  # draws the jitter of retry waits (_jitter_draw)
        for runner in self._runners:  # where items go (the plan says), how retries wait
            following = runner.plan.next_index
            runner.next = None if following is None else self._runners[following]
            runner.spawner = spawner if fans_out else None
            runner.sleep, runner.draw = self._backoff_sleep, self._jitter_draw
        self._supervisor = Supervisor()  # owns the workers, threads, display, stream helpers
        self._monitor = Monitor(self._plan, self._runners, self._intake, self._outcomes)
        self._lifecycle = Lifecycle(
            self._plan,
            self._queues,
            self._runners,
            self._run_state,
            self._intake,
            self._outcomes,
            self._emitter,
            self._monitor,
            self._supervisor,
            self.get_dashboard_snapshot,
        )

    # ------------------------------------------------------------ protected members

    @property
    def _msg_counter(self) -> int:
        """The sequence id the next item fed gets (read it in a ``_prepare_payload`` override)."""
        return self._intake.msg_counter

    @_msg_counter.setter
    def _msg_counter(self, value: int) -> None:
        self._intake.msg_counter = value

    def _prepare_payload(self, item: Any) -> Payload[Any] | dict[str, Any]:
        """Wrap a fed item; override to change how ids are given.

        The default takes ``"id"``/``"value"`` from dict items and otherwise uses the
        item's position (``self._msg_counter``) as its id. An override may return a
        `Payload` or the guide's dict form ``{"id", "value", "_sequence_id"}``.
        """
        return prepare_payload(item, self._msg_counter)

    async def _backoff_sleep(self, seconds: float) -> None:
        """Wait ``seconds`` before a retry (a protected hook: override it to control time)."""
        await asyncio.sleep(seconds)

    def _jitter_draw(self) -> float:
        """Draw the number in ``[0, 1)`` that jitters a retry's wait (a protected hook)."""
        return self._random.random()

    @property
    def _finish_now(self) -> FinishNow:
        """What the last stage's lean loop calls to end an item (`Outcomes.finish_now`).

        A protected hook: replacing it on a subclass (before construction) replaces it
        for every worker, at no cost per item when it is not replaced.
        """
        return self._outcomes.finish_now

    @property
    def callback_timeout(self) -> float | None:
        """Seconds an awaited callback may take before it is abandoned (None: no limit)."""
        return self._emitter.callback_timeout

    @callback_timeout.setter
    def callback_timeout(self, value: float | None) -> None:
        self._emitter.callback_timeout = value

    # ------------------------------------------------------------------ introspection

    def __repr__(self) -> str:
        names = ", ".join(self._plan.stage_names)
        return f"<Pipeline [{names}] {self._run_state.phase.value}>"

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

    async def __aenter__(self) -> Self:
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
        self._run_state.require_open("start")
        self._lifecycle.check_total(total)
        display = resolve_display(
            progress, dashboard, refresh_interval, custom_dashboard=custom_dashboard, pipeline=self
        )
        self._lifecycle.start(display, total)

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
        await self._lifecycle.join(self.shutdown, self._stop_workers)

    async def shutdown(self) -> None:
        """Stop the workers now and close the pipeline for good.

        Items that had not ended are listed in `unfinished_items` (and counted in
        ``get_stats().items_unfinished``); a ``feed()`` blocked on a full queue raises
        `PipelineStateError`. Calling it again, or before ``start()``, does nothing more.

        It may be called from code the pipeline runs (a task, ``on_success``,
        ``skip_if``, a tracker's callback): it stops everything else and returns; the
        worker running the caller is stopped too, at its next ``await`` after this
        returns, and its item is listed unfinished unless it ended first. The stop
        completes even if the caller is cancelled meanwhile; the cancellation is then
        raised.
        """
        await self._lifecycle.shutdown()

    async def _stop_workers(self) -> None:
        await self._supervisor.stop_workers()

    # ------------------------------------------------------------------------ feeding

    async def feed(
        self,
        items: Iterable[Item[InT]],
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
            PipelineStateError: After ``shutdown()``, or while ``join()`` stops the workers.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        await self._intake.feed(items, target_stage=target_stage, priority=priority)

    async def feed_async(
        self,
        items: AsyncIterable[Item[InT]],
        target_stage: str | None = None,
        *,
        priority: int = DEFAULT_PRIORITY,
    ) -> None:
        """Like `feed`, for an async iterable (an ``async def`` generator, a stream).

        Raises:
            PipelineStateError: After ``shutdown()``, or while ``join()`` stops the workers.
            UnknownStageError: If ``target_stage`` names no stage.
            FeedError: If the iterable raised; the items read before it were fed.
        """
        await self._intake.feed_async(items, target_stage=target_stage, priority=priority)
