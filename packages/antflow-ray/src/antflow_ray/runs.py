"""`PipelineRuns`: a `RayPipeline`'s ways to run items through: ``run`` and ``stream``.

``run()`` starts the pipeline, feeds the items, joins, and returns the results of this run
in input order. ``stream()`` and ``stream_outcomes()`` start it, feed from a helper task,
and yield each item as it ends through a bounded channel (so memory stays flat); a
closer task closes the channel once the feed has ended and nothing is in flight. Breaking
out of a stream shuts the pipeline down. Both are built on the lifecycle methods of
`antflow_ray.pipeline` (``start``, ``join``, ``shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Sized
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, cast

from antflow_core.errors import FeedError, PipelineStateError
from antflow_core.model import (
    DEFAULT_PRIORITY,
    DashboardProtocol,
    FailedItem,
    ItemOutcome,
    PipelineResult,
    ProgressDisplay,
    default_queue_capacity,
    failed_outcome,
    succeeded_outcome,
)
from antflow_core.runtime import QueueClosed, StageQueue

from antflow_ray.intake import check_items, check_priority
from antflow_ray.outcomes import StreamItem

if TYPE_CHECKING:
    from antflow_core.model import PipelinePlan

    from antflow_ray.intake import Intake
    from antflow_ray.outcomes import Outcomes

__all__ = ["PipelineRuns"]


class _State(Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"  # join() is stopping the workers: feed() must wait for it
    IDLE = "idle"
    CLOSED = "closed"


class PipelineRuns:
    """``run``, ``stream`` and ``stream_outcomes`` of `RayPipeline` (a mixin)."""

    if TYPE_CHECKING:  # what the mixin uses of RayPipeline
        _plan: PipelinePlan
        _outcomes: Outcomes
        _intake: Intake
        _state: _State
        _crash: BaseException | None
        _helpers: list[asyncio.Task[Any]]
        _msg_counter: int
        _run_first_seq: int

        @property
        def results(self) -> list[PipelineResult[Any]]:
            """See `RayPipeline.results`."""

        async def start(
            self,
            *,
            progress: bool | ProgressDisplay = False,
            dashboard: str | ProgressDisplay | None = None,
            refresh_interval: float | None = None,
            total: int | None = None,
            custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
        ) -> None:
            """See `RayPipeline.start`."""

        async def join(self) -> None:
            """See `RayPipeline.join`."""

        async def shutdown(self) -> None:
            """See `RayPipeline.shutdown`."""

        async def _abort(self) -> None: ...

        def _raise_crash(self) -> NoReturn: ...

        async def _wait_idle(self) -> None: ...

        def _require_open(self, what: str) -> None: ...

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

        Items that fail are not in the list; find them in `failures`.

        Raises:
            FeedError: If the iterable raised midway; the items before it were processed.
            PipelineStateError: After ``shutdown()``.
            ActorStartError: If the actors of a stage could not be created.
        """
        self._require_open("run")
        if self._outcomes.stream_out is not None:
            raise PipelineStateError(
                "run() while stream() runs on this pipeline: wait for the stream to end, "
                "or use another RayPipeline"
            )
        check_items(items, allow_async=True)
        check_priority(priority)
        total = len(items) if isinstance(items, Sized) else None
        first_seq = self._msg_counter
        if self._state is not _State.RUNNING:
            # Items fed before this start() are processed by this run, and returned by it.
            first_seq = self._run_first_seq
            if total is not None:
                total += self._outcomes.in_flight
        await self.start(
            progress=progress,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            total=total,
            custom_dashboard=custom_dashboard,
        )
        feed_error: FeedError | None = None
        try:
            try:
                await self._intake.feed_any(items, priority)
            except FeedError as exc:
                feed_error = exc
            await self.join()
        except BaseException:
            if self._state is not _State.CLOSED:
                await self._abort()
            raise
        if feed_error is not None:
            raise feed_error
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

        Results are not kept. Breaking out of the loop shuts the pipeline down.

        Raises:
            FeedError: After the last result, if the iterable raised midway.
            PipelineStateError: At the call, after ``shutdown()`` or while another stream runs.
        """
        self._check_stream(items, priority)
        ended = self._stream(
            items, priority, progress, dashboard, refresh_interval, custom_dashboard, False
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
                items, priority, progress, dashboard, refresh_interval, custom_dashboard, True
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
        custom_dashboard: DashboardProtocol | ProgressDisplay | None,
        failures: bool,
    ) -> AsyncGenerator[PipelineResult[Any] | FailedItem, None]:
        self._check_stream(items, priority)
        total = len(items) if isinstance(items, Sized) else None
        out: StageQueue[StreamItem] = StageQueue(
            maxsize=default_queue_capacity(self._plan.stages[-1].stage.workers)
        )
        await self.start(
            progress=progress,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            total=total,
            custom_dashboard=custom_dashboard,
        )
        outcomes = self._outcomes
        outcomes.stream_out = out
        outcomes.stream_failures = failures
        loop = asyncio.get_running_loop()
        feeder = loop.create_task(
            self._intake.feed_any(items, priority), name="antflow:stream-feeder"
        )
        closer = loop.create_task(self._close_when_done(feeder, out), name="antflow:stream-closer")
        self._helpers = [feeder, closer]
        try:
            while True:
                try:
                    entry = await out.get()
                except QueueClosed:
                    break
                yield entry[1]
        except BaseException:
            await self.shutdown()
            outcomes.stream_out = None
            raise
        outcomes.stream_out = None
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
        check_items(items, allow_async=True)
        check_priority(priority)
        if self._outcomes.stream_out is not None:
            raise PipelineStateError(
                "stream() is already running on this pipeline: wait for it to end, or use "
                "another RayPipeline"
            )

    async def _close_when_done(
        self, feeder: asyncio.Task[None], out: StageQueue[StreamItem]
    ) -> Exception | None:
        error: Exception | None = None
        try:
            await feeder
        except Exception as exc:
            error = exc
        await self._wait_idle()
        out.close()
        return error
