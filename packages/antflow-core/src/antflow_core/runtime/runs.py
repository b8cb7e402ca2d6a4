r"""``run()``, ``stream()`` and ``stream_outcomes()``: a batch of items from start to end.

Theory of operation
-------------------
`PipelineRuns` holds the three public methods (a base class of `Pipeline`, as
`antflow_ray.runs` is of `RayPipeline`); they check their arguments, then call the
drivers below. Both drive the facade's lifecycle: ``start()``, feed every item
(`Intake.feed_any`), wait for all of them to end, and stop cleanly when anything goes
wrong.

`run_items` feeds in the caller's task, then ``join()``\ s, and returns the results of
the items it fed, in input order. An iterable that raised midway (`FeedError`) does not
stop the items already fed: they end first, then the error is raised. Any other error
or a cancellation shuts the pipeline down (``unfinished_items`` lists what had not
ended) and propagates; while a display is shown, SIGTERM does the same
(`interrupt_guard`).

A stream is a run whose consumer reads ended items while the pipeline still works.
`stream_items` opens the stream channel (`Outcomes.open_stream`): a `StageQueue` keyed
by arrival that holds at most ``buffer_size`` ended items (by default as many as the
last stage's queue would), so a consumer that reads slowly holds the last stage back
instead of piling results up in memory, and that stage holds back the ones before it, up
to ``feed()``. With ``buffer_size=0`` the channel is a `Rendezvous`: each result is
handed straight to the consumer, and the worker that made it waits until the consumer
asks for the next one. Two helper tasks, owned by the `Supervisor`, run beside the
consumer:

* the feeder feeds the items (`Intake.feed_any`);
* the closer waits for the feeder, says the input is closed (`RunState.close_input`: a
  batch stage then calls its last, partial batch), then waits for every fed item to end,
  and closes the channel, which ends the consumer's loop. It returns the feeder's error,
  if any, which the stream raises after the last result. A BaseException that is not an
  Exception (a custom one, or a CancelledError the iterable raised) closes the channel
  at once instead: the consumer gets what was ready, the pipeline shuts down, and the
  stream raises it, as ``run()`` does.

When the consumer stops early (it breaks out, is cancelled, or throws an error in),
the pipeline shuts down: helpers and workers stop, and the items that had not ended are
in ``unfinished_items``. A shutdown from elsewhere ends the stream with
`PipelineStateError`; a worker's crash with `PipelineCrashedError`.

This module is written against the facade's lifecycle (``start``, ``join``,
``shutdown``) and its rooms. ``stream_outcomes()`` turns each ended item into its
`returns` Result as it is yielded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Sized
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, cast

from antflow_core.errors import FeedError, PipelineStateError
from antflow_core.model import (
    DEFAULT_PRIORITY,
    DashboardProtocol,
    FailedItem,
    InT,
    ItemOutcome,
    Items,
    OutT,
    PipelineResult,
    ProgressDisplay,
    default_queue_capacity,
    failed_outcome,
    succeeded_outcome,
)
from antflow_core.runtime.interrupts import interrupt_guard
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.outcomes import StreamEntry
from antflow_core.runtime.queues import EMPTY, QueueClosed, StageQueue
from antflow_core.runtime.rendezvous import Rendezvous
from antflow_core.runtime.run_state import RunState

if TYPE_CHECKING:
    from antflow_core.runtime.pipeline import Pipeline

__all__ = ["DisplayOptions", "PipelineRuns", "check_stream", "run_items", "stream_items"]


class PipelineRuns(Generic[InT, OutT]):
    """``run()``, ``stream()`` and ``stream_outcomes()`` of `Pipeline` (its base class)."""

    def _as_pipeline(self) -> Pipeline[InT, OutT]:
        return cast("Pipeline[InT, OutT]", self)  # `Pipeline` is the only class built on this

    async def run(
        self,
        items: Items[InT],
        *,
        priority: int = DEFAULT_PRIORITY,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> list[PipelineResult[OutT]]:
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
        display = DisplayOptions(progress, dashboard, refresh_interval, custom_dashboard)
        return await run_items(self._as_pipeline(), items, priority, display)

    def stream(
        self,
        items: Items[InT],
        *,
        priority: int = DEFAULT_PRIORITY,
        buffer_size: int | None = None,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> AsyncGenerator[PipelineResult[OutT], None]:
        """Feed ``items`` and yield each result as soon as it is ready (completion order).

        Results are not kept (whatever ``collect_results`` says), so memory stays flat
        however many items flow. Failures are not yielded; find them in `failures`, or
        use `stream_outcomes`. Breaking out of the loop stops the pipeline; items that had
        not ended are in `unfinished_items`. For a stop at a known point, iterate inside
        ``async with contextlib.aclosing(pipeline.stream(items)) as results:``.

        Args:
            items: An iterable or async iterable of items.
            priority: Priority of these items (lower first; default 100).
            buffer_size: How many ended results may wait for you to read them. When that
                many wait, the last stage's workers wait too, and backpressure reaches
                ``feed``. None (the default) gives the last stage's default queue
                capacity; ``0`` hands each result straight to you: a worker waits with its
                result until you ask for the next one.
            progress: True for a live progress bar (needs antflow-rich), or a `ProgressDisplay`.
            dashboard: ``"compact"``, ``"detailed"``, ``"full"`` or a `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes.
            custom_dashboard: antflow 0.10's `DashboardProtocol` object (or a
                `ProgressDisplay`); not together with ``progress`` or ``dashboard``.

        Raises:
            FeedError: After the last result, if the iterable raised midway.
            PipelineStateError: At the call, after ``shutdown()`` or while another stream runs.
            ValueError: At the call, if ``buffer_size`` is not None or an integer >= 0.
        """
        check_stream(self._as_pipeline(), items, priority, buffer_size)
        display = DisplayOptions(progress, dashboard, refresh_interval, custom_dashboard)
        ended = stream_items(
            self._as_pipeline(), items, priority, display, failures=False, buffer_size=buffer_size
        )
        return cast("AsyncGenerator[PipelineResult[OutT], None]", ended)

    async def stream_outcomes(
        self,
        items: Items[InT],
        *,
        priority: int = DEFAULT_PRIORITY,
        buffer_size: int | None = None,
        progress: bool | ProgressDisplay = False,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    ) -> AsyncGenerator[ItemOutcome[OutT], None]:
        """Like `stream`, but yield every ended item: ``Success(result)`` or ``Failure(failed)``.

        ``buffer_size`` bounds the ended items (results and failures) waiting for you.
        """
        check_stream(self._as_pipeline(), items, priority, buffer_size)
        display = DisplayOptions(progress, dashboard, refresh_interval, custom_dashboard)
        async with contextlib.aclosing(
            stream_items(
                self._as_pipeline(),
                items,
                priority,
                display,
                failures=True,
                buffer_size=buffer_size,
            )
        ) as ended:
            async for item in ended:
                if isinstance(item, PipelineResult):
                    yield succeeded_outcome(item)
                else:
                    yield failed_outcome(item)


class DisplayOptions(NamedTuple):
    """The display arguments of ``run()`` and ``stream()``, handed on to ``start()``."""

    progress: bool | ProgressDisplay
    dashboard: str | ProgressDisplay | None
    refresh_interval: float | None
    custom_dashboard: DashboardProtocol | ProgressDisplay | None = None

    async def start(self, pipeline: Pipeline, total: int | None) -> None:
        """Start ``pipeline`` with these display options."""
        await pipeline.start(
            progress=self.progress,
            dashboard=self.dashboard,
            refresh_interval=self.refresh_interval,
            total=total,
            custom_dashboard=self.custom_dashboard,
        )


async def run_items(
    pipeline: Pipeline,
    items: Iterable[Any] | AsyncIterable[Any],
    priority: int,
    display: DisplayOptions,
) -> list[PipelineResult[Any]]:
    """Feed ``items``, wait until each has ended, and return their results in input order."""
    run_state = pipeline._run_state
    run_state.require_open("run")
    intake = pipeline._intake
    intake.refuse_from_inside("run")
    refuse_if_busy(run_state, "run")
    intake.check_items(items, allow_async=True)
    intake.check_priority(priority)
    total = len(items) if isinstance(items, Sized) else None
    first_seq = intake.msg_counter
    if not pipeline.is_running:
        # Items fed before this start() are processed by this run, and returned by it.
        first_seq = intake.run_start_sequence
        if total is not None:
            total += pipeline._run_state.in_flight
    run_state.batch = "run"
    try:
        await display.start(pipeline, total)
        feed_error: FeedError | None = None
        with interrupt_guard(sigterm=pipeline._supervisor.has_display):
            try:
                try:
                    await intake.feed_any(items, priority)
                except FeedError as exc:
                    feed_error = exc
                await pipeline.join()
            except BaseException:
                await pipeline.shutdown()  # (if shut down already: waits until it is done)
                raise
    finally:
        run_state.batch = None
    if feed_error is not None:
        raise feed_error
    return pipeline._outcomes.results_since(first_seq)


_BUSY = {
    ("run", "run"): (
        "run() while another run() runs on this pipeline: each would wait for the other's "
        "items and return them; await the first (or feed() more items into it), or use "
        "another Pipeline"
    ),
    ("run", "stream"): (
        "run() while stream() runs on this pipeline: its results would go to the stream; "
        "wait for the stream to end, or use another Pipeline"
    ),
    ("stream", "run"): (
        "stream() while run() runs on this pipeline: the run's results would go to the "
        "stream; await the run first, or use another Pipeline"
    ),
    ("stream", "stream"): (
        "stream() is already running on this pipeline: wait for it to end, or use another Pipeline"
    ),
}


def refuse_if_busy(run_state: RunState, what: str) -> None:
    """Refuse a ``run()`` or ``stream()`` (``what``) while one of them runs: one at a time.

    Their results and their wait for the end are the pipeline's, not a call's: two at once
    would return each other's results and wait for each other's items.
    """
    busy = run_state.batch
    if busy is not None:
        raise PipelineStateError(_BUSY[(what, busy)])


def check_stream(
    pipeline: Pipeline, items: object, priority: object, buffer_size: object = None
) -> None:
    """Refuse a stream before anything starts: closed pipeline, bad items, one already running."""
    pipeline._run_state.require_open("stream")
    pipeline._intake.check_items(items, allow_async=True)
    pipeline._intake.check_priority(priority)
    if buffer_size is not None and (
        not isinstance(buffer_size, int) or isinstance(buffer_size, bool) or buffer_size < 0
    ):
        raise ValueError(
            "buffer_size must be None (the default: as many results as the last stage's "
            "queue holds), 0 (hand each result straight to you) or a number of results > 0, "
            f"got {buffer_size!r}"
        )
    pipeline._intake.refuse_from_inside("stream")
    refuse_if_busy(pipeline._run_state, "stream")


async def stream_items(
    pipeline: Pipeline,
    items: Iterable[Any] | AsyncIterable[Any],
    priority: int,
    display: DisplayOptions,
    *,
    failures: bool,
    buffer_size: int | None = None,
) -> AsyncGenerator[PipelineResult[Any] | FailedItem, None]:
    """Feed ``items`` and yield every result (and every failure, if ``failures``) as it ends.

    At most ``buffer_size`` ended items wait for the consumer (None: the last stage's
    default queue capacity; 0: none, each is handed over directly).
    """
    check_stream(pipeline, items, priority, buffer_size)
    outcomes, run_state, supervisor = pipeline._outcomes, pipeline._run_state, pipeline._supervisor
    run_state.batch = "stream"
    try:
        total = len(items) if isinstance(items, Sized) else None
        workers = pipeline.plan.stages[-1].stage.workers
        out: StageQueue[StreamEntry] | Rendezvous[StreamEntry]
        if buffer_size == 0:
            out = Rendezvous(1)  # the consumer is the one taker
        else:
            size = default_queue_capacity(workers) if buffer_size is None else buffer_size
            out = StageQueue(maxsize=size)
        await display.start(pipeline, total)
        outcomes.open_stream(out, failures=failures)
        loop = asyncio.get_running_loop()
        feeder = loop.create_task(
            _stream_feed(pipeline, items, priority), name="antflow:stream-feeder"
        )
        closer = loop.create_task(
            _close_when_done(run_state, feeder, out), name="antflow:stream-closer"
        )
        supervisor.adopt(feeder, closer)
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
            await pipeline.shutdown()
            outcomes.close_stream()
            raise
        outcomes.close_stream()
        supervisor.release_helpers()
        if pipeline.is_closed and run_state.crash is None:
            await pipeline.shutdown()  # waits until that shutdown is done
            raise PipelineStateError(
                "the pipeline was shut down while streaming: the items that had not ended "
                "are in unfinished_items"
            )
        feed_error = await closer
        if run_state.crash is not None:
            await pipeline.shutdown()
            run_state.raise_crash()
        if feed_error is not None and not isinstance(feed_error, Exception):
            await pipeline.shutdown()  # a BaseException from the iterable stops it, as in run()
            raise feed_error
        await pipeline.join()
        if feed_error is not None:
            raise feed_error
    finally:
        run_state.batch = None


async def _stream_feed(
    pipeline: Pipeline, items: Iterable[Any] | AsyncIterable[Any], priority: int
) -> BaseException | None:
    """A stream's feeder: feed, and return what the feed raised for the stream to raise.

    A BaseException from the iterable (even a CancelledError it raised) is returned, not
    raised: the task must end normally for the closer to see it.
    """
    try:
        await pipeline._intake.feed_any(items, priority)
    except BaseException as exc:
        if is_own_cancellation(exc):
            raise
        return exc
    return None


async def _close_when_done(
    run_state: RunState,
    feeder: asyncio.Task[BaseException | None],
    out: StageQueue[StreamEntry] | Rendezvous[StreamEntry],
) -> BaseException | None:
    """End the stream once everything fed has ended; return what the feed raised.

    An Exception (a `FeedError`) ends the stream after the items fed before it; any other
    BaseException ends it at once, as ``run()`` stops at once.
    """
    error = await feeder
    if error is None or isinstance(error, Exception):
        run_state.close_input()  # the iterable is fed: batches being collected may go
        await run_state.wait_idle()
    out.close()
    return error
