"""`RunState`: where the pipeline is in its life, and when ``join()`` may stop waiting.

Theory of operation
-------------------
A pipeline is in one `Phase`: ``NEW`` (never started), ``RUNNING`` (workers up),
``STOPPING`` (``join()`` is stopping the workers), ``IDLE`` (joined: workers stopped, it
may start again) or ``CLOSED`` (shut down for good). The facade moves it from one to the
next; worker loops read it once per item and stop once it is ``CLOSED``; ``feed()``
(accepted in every phase but ``STOPPING`` and ``CLOSED``: items fed while no worker runs
wait in the queues for the next ``start()``) and ``start()`` check it first.

``join()`` waits until every item fed has ended and no feed is running. Intake counts
an item in (``in_flight += 1``) once it is in a queue, the outcome side counts it out
(`RunState.end_item`) when it ends as a result or a failure, and a feed holds
``active_feeds`` while it runs. When both are zero, ``idle`` is set and ``join()``
wakes: nothing polls.

Batch stages need to know when **the input has ended** (`input_ended`): a worker
collecting a batch then calls it with what it has instead of waiting for more. Nobody
will feed again once ``join()`` is called or a ``stream()`` fed its whole iterable
(`RunState.close_input`; ``start()`` opens it again); collecting workers count the items
they hold (`RunState.park`, ``parked``). When the input is closed, no feed runs and every
item in flight is parked, the input has ended: the future `RunState.drain_waiter` gave
out is set, which wakes every collecting worker. It is checked where those counts
change (a pipeline with a batch stage has a `BatchingRunState`, whose ``end_item`` and
``end_feed`` check it), never polled.

A worker that dies of an internal error (a bug, never an item's fault) records it with
`RunState.crashed`: every queue is closed, which wakes a ``feed()`` blocked on a full
queue, and ``idle`` is set, which wakes ``join()``; both then raise
`PipelineCrashedError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import Enum
from typing import Any, NoReturn

from antflow_core.errors import AntflowError, PipelineCrashedError, PipelineStateError
from antflow_core.model import describe_error, input_ended
from antflow_core.runtime.queues import StageQueue
from antflow_core.runtime.rendezvous import Rendezvous

__all__ = ["BatchingRunState", "Phase", "RunState"]


class Phase(Enum):
    """Where a pipeline is in its life."""

    NEW = "new"  # constructed, never started
    RUNNING = "running"  # workers are up
    STOPPING = "stopping"  # join() is stopping the workers: feed() must wait for it
    IDLE = "idle"  # joined: workers stopped, may start again
    CLOSED = "closed"  # shut down for good


class RunState:
    """The phase, the count of items in flight and feeds running, and a worker's crash.

    Args:
        queues: Every stage's queue, closed when a worker crashes.
    """

    __slots__ = (
        "active_feeds",
        "batch",
        "crash",
        "drained",
        "idle",
        "in_flight",
        "input_closed",
        "parked",
        "phase",
        "queues",
    )

    def __init__(self, queues: Sequence[StageQueue[Any] | Rendezvous[Any]]) -> None:
        self.phase = Phase.NEW
        self.queues = queues
        self.in_flight = 0  # items fed (or spawned) that have not ended
        self.active_feeds = 0  # feed() calls running
        self.idle = asyncio.Event()  # set while both are zero (or after a crash)
        self.idle.set()
        self.crash: BaseException | None = None
        self.batch: str | None = None  # "run" or "stream" while one of them runs

        self.input_closed = False  # nobody feeds again: join() was called, a stream fed all
        self.parked = 0  # items held by workers collecting a batch
        self.drained: asyncio.Future[None] | None = None  # set when the input has ended

    def renew_idle(self) -> None:
        """Give ``idle`` a new event, as it is, for a new event loop (asyncio binds events)."""
        idle = asyncio.Event()
        if self.idle.is_set():
            idle.set()
        self.idle = idle

    def end_item(self) -> None:
        """Count out an item that ended (as a result, a failure, or expanded)."""
        self.in_flight -= 1
        if not self.in_flight and not self.active_feeds:
            self.idle.set()

    # ------------------------------------------------------------------ batch stages

    def close_input(self) -> None:
        """Nobody will feed again (``join()``, or a stream whose iterable is fed)."""
        self.input_closed = True
        if self.drained is not None:
            self.check_drained()

    def input_has_ended(self) -> bool:
        """Whether no more items can reach a worker collecting a batch (`input_ended`)."""
        return input_ended(
            closed=self.input_closed,
            feeds=self.active_feeds,
            in_flight=self.in_flight,
            collecting=self.parked,
        )

    def park(self, count: int = 1) -> None:
        """A collecting worker took ``count`` more items into its batch."""
        self.parked += count

    def unpark(self, count: int) -> None:
        """A collecting worker let go of ``count`` items (its batch is called)."""
        self.parked -= count

    def drain_waiter(self) -> asyncio.Future[None]:
        """A future set once the input has ended (at once if it has)."""
        waiter = self.drained
        if waiter is None:
            waiter = self.drained = asyncio.get_running_loop().create_future()
            self.check_drained()
        return waiter

    def check_drained(self) -> None:
        """Wake the collecting workers if the input has ended."""
        waiter = self.drained
        if waiter is not None and self.input_has_ended():
            self.drained = None
            if not waiter.done():
                waiter.set_result(None)

    def begin_feed(self) -> None:
        """A feed starts: ``join()`` waits for it."""
        self.active_feeds += 1
        self.idle.clear()

    def end_feed(self) -> None:
        """A feed ended (done, failed or cancelled)."""
        self.active_feeds -= 1
        if not self.active_feeds and not self.in_flight:
            self.idle.set()

    async def wait_idle(self) -> None:
        """Wait until every item fed has ended and no feed runs, a worker crashed, or closed."""
        while (
            (self.in_flight or self.active_feeds)
            and self.crash is None
            and self.phase is not Phase.CLOSED
        ):
            self.idle.clear()
            await self.idle.wait()

    def crashed(self, exc: BaseException) -> None:
        """A worker died: wake ``join()`` and any ``feed()`` waiting for room, so they raise."""
        self.crash = exc
        for queue in self.queues:
            queue.close()
        self.idle.set()

    def raise_crash(self) -> NoReturn:
        """Raise the `PipelineCrashedError` that reports the recorded crash."""
        crash = self.crash
        raise PipelineCrashedError(
            f"a worker died of an internal error ({type(crash).__name__}: "
            f"{describe_error(crash) if crash is not None else 'unknown'}); "
            "the pipeline was shut down, see unfinished_items"
        ) from crash

    def require_open(self, what: str) -> None:
        """Refuse ``what()`` after ``shutdown()``."""
        if self.phase is Phase.CLOSED:
            raise PipelineStateError(
                f"{what}() after shutdown(): a pipeline cannot be used once shut down; "
                "create a new Pipeline"
            )

    def require_feedable(self, what: str) -> None:
        """Refuse ``what()`` (a feed) after ``shutdown()`` or while ``join()`` stops the workers."""
        self.require_open(what)
        if self.phase is Phase.STOPPING:
            raise PipelineStateError(
                f"{what}() while join() stops the workers: feed once join() has returned "
                "(the items then wait for the next start()), or before join()"
            )

    def closed_while_feeding(self, count: int) -> AntflowError:
        """The error for a feed whose queue was closed under it, after ``count`` items."""
        crash = self.crash
        if crash is not None:
            return PipelineCrashedError(
                f"a worker died of an internal error ({type(crash).__name__}: "
                f"{describe_error(crash)}) "
                f"while feeding; {count} items of this feed had been fed"
            )
        return PipelineStateError(
            f"the pipeline was shut down while feeding; {count} items of this feed had "
            "been fed (see unfinished_items for those that had not ended)"
        )


class BatchingRunState(RunState):
    """The `RunState` of a pipeline with a batch stage: it also sees the end of the input.

    Where an item or a feed ends, it wakes the workers collecting batches once the input
    has ended (`RunState.check_drained`). A pipeline without a batch stage has a plain
    `RunState`, whose ``end_item`` (once per item) does no more than count.
    """

    __slots__ = ()

    def end_item(self) -> None:
        """Count out an item that ended; wake collecting workers if the input has ended."""
        self.in_flight -= 1
        if not self.in_flight and not self.active_feeds:
            self.idle.set()
        elif self.drained is not None:
            self.check_drained()

    def end_feed(self) -> None:
        """A feed ended; wake collecting workers if the input has ended."""
        self.active_feeds -= 1
        if not self.active_feeds and not self.in_flight:
            self.idle.set()
        elif self.drained is not None:
            self.check_drained()
