"""`Intake`: how items get into a pipeline (``feed``, ``feed_async``, ``run``, ``stream``).

Theory of operation
-------------------
A feed reads the user's iterable one item at a time. Each item is wrapped into a
`Payload` with the next sequence id (`prepare_payload`, or the facade's
``_prepare_payload`` when a subclass overrides it), and the entry
``(priority, sequence_id, (payload, 1))`` is put into the target stage's queue. Only then
does the item count as fed (``fed``) and in flight (`RunState.in_flight`), and does the
observer hear ``queued``: an item is never counted, or shown queued, before it is
somewhere a shutdown can find it. An item taken from the iterable whose wait for room is
stopped (a cancellation, a shutdown) is counted fed and listed unfinished instead.

When the queue is full the feed waits for room; that wait is the backpressure a
caller of ``feed()`` feels. A feed from code the pipeline runs (a task or a callback
feeding its own pipeline, as a recursive crawler does) never waits: its items go into
the queue over its capacity, since the workers that would make room may all be feeding,
and waiting there would deadlock them. Items may be fed before ``start()`` (and between ``join()``
and the next ``start()``): they wait in the queue for the workers, and belong to the
next run (``run_start_sequence``). The common case (no observer coroutine, room in the queue)
takes no await at all. A feed holds `RunState.active_feeds` while it runs, so ``join()``
waits for it.

Sequence ids are shared with the children of fan-out stages (`Intake.next_sequence`),
so that no two items ever share a queue key. In a pipeline with a fan-out stage, an item
fed without an id therefore gets its *position* among the items fed as its id, counted
apart (``position``), not its sequence id: ``run(range(3))`` still has items 0, 1 and 2
whatever children were made meanwhile.

Mistakes are refused before anything is fed (a string instead of a list, a bad
priority, an unknown ``target_stage``). An iterable that raises midway, or a
``_prepare_payload`` override that does, stops the feed with a `FeedError` that says how
many items were fed; those still end as results or failures. A queue closed under a
waiting feed (shutdown, or a worker's crash) raises the matching error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Final, TypeAlias

from returns.result import Failure

from antflow_core.errors import FeedError, PipelineStateError
from antflow_core.model import (
    EMPTY_METADATA,
    HeapItem,
    ItemStatus,
    Payload,
    PipelinePlan,
    coerce_payload,
    describe_error,
    prepare_payload,
    resolve_stage,
)
from antflow_core.runtime.emission import Emitter
from antflow_core.runtime.queues import QueueClosed
from antflow_core.runtime.run_state import Phase, RunState
from antflow_core.runtime.stage_runner import StageRunner
from antflow_core.runtime.workers import current_worker

__all__ = ["Intake", "PreparePayload"]

logger = logging.getLogger("antflow")

PreparePayload: TypeAlias = Callable[[Any], "Payload[Any] | dict[str, Any]"]
"""A ``_prepare_payload`` override: wraps one fed item."""

_QUEUED: Final = ItemStatus.QUEUED

_Waiting: TypeAlias = tuple[HeapItem | None, Awaitable[None] | None]
"""What `Intake.feed_waiting` finishes: an entry to wait for room for, or the observer's
coroutine to await for an entry already in its queue."""


class Intake:
    """Feeds items into a pipeline's stage queues and counts what was accepted.

    Args:
        plan: The compiled pipeline (for ``target_stage``).
        runners: The stage runners, in order.
        run_state: Counts items in flight and feeds running.
        emitter: Tells the observer that an item is queued.
        prepare: A ``_prepare_payload`` override, or None to use `prepare_payload`.
        unfinished: Where an item taken from the iterable but never put in a queue goes
            when its feed is stopped (the pipeline's unfinished items).
    """

    __slots__ = (
        "emitter",
        "fed",
        "msg_counter",
        "next_custom_sequence",
        "observed",
        "own_records",
        "plan",
        "position",
        "prepare",
        "run_start_sequence",
        "run_state",
        "runners",
        "unfinished",
        "wrap",
    )

    def __init__(
        self,
        plan: PipelinePlan,
        runners: list[StageRunner],
        run_state: RunState,
        emitter: Emitter,
        prepare: PreparePayload | None,
        unfinished: list[Payload[Any]],
    ) -> None:
        self.plan = plan
        self.unfinished = unfinished
        self.runners = runners
        # The workers' records, to tell a feed from inside the pipeline (`from_inside`).
        self.own_records = frozenset(id(r) for runner in runners for r in runner.records)
        self.run_state = run_state
        self.emitter = emitter
        self.observed = emitter.observer is not None
        self.prepare = prepare
        self.msg_counter = 0  # the next sequence id
        self.next_custom_sequence = 0  # the least sequence id an override may give next
        self.fed = 0  # items accepted into a queue
        # The next fed item's position, with a fan-out stage (its id; see the docstring).
        self.position = 0
        # How an item fed is wrapped: prepare_payload, or with its position as its id.
        fan_out = any(p.stage.fan_out for p in plan.stages)
        self.wrap: Callable[[Any, int], Payload[Any]] = (
            self.wrap_at_position if fan_out else prepare_payload
        )
        # The first sequence id of the next run: items fed while no worker runs belong to it.
        self.run_start_sequence = 0

    # --------------------------------------------------------------- feed(), feed_async()

    async def feed(self, items: Iterable[Any], *, target_stage: str | None, priority: int) -> None:
        """``Pipeline.feed``: check everything, then feed ``items`` into the target stage."""
        self.run_state.require_feedable("feed")
        self.check_items(items, allow_async=False)
        self.check_priority(priority)
        index = self.target_index(target_stage)
        await self.feed_iterator(iter(items), index, priority, inside=self.from_inside())

    async def feed_async(
        self, items: AsyncIterable[Any], *, target_stage: str | None, priority: int
    ) -> None:
        """``Pipeline.feed_async``: check everything, then feed the async ``items``."""
        self.run_state.require_feedable("feed_async")
        if not isinstance(items, AsyncIterable):
            raise TypeError(
                f"feed_async() takes an async iterable, got {type(items).__name__}: "
                "use feed() for lists and other iterables"
            )
        self.check_priority(priority)
        index = self.target_index(target_stage)
        inside = self.from_inside()
        await self.feed_async_iterator(items.__aiter__(), index, priority, inside=inside)

    def from_inside(self) -> bool:
        """Whether the caller is code this pipeline runs (a task, a callback, in a worker)."""
        record = current_worker.get()
        return record is not None and id(record) in self.own_records

    def refuse_from_inside(self, what: str) -> None:
        """Refuse ``what()`` (``join``, ``run``, ``stream``) from code the pipeline runs.

        It would wait until every item has ended, the caller's own item included: forever.
        """
        if self.from_inside():
            raise PipelineStateError(
                f"{what}() from code the pipeline runs (a task or a callback) would wait "
                "for its own item forever: feed() the new items from there instead (a feed "
                f"from inside never waits for room), and call {what}() from the code that "
                "started the pipeline"
            )

    # ----------------------------------------------------------------- checking input

    def target_index(self, target_stage: str | None) -> int:
        """The index of the stage to feed, from its name (None: the first)."""
        if target_stage is None:
            return 0
        if not isinstance(target_stage, str):
            raise TypeError(f"target_stage must be a stage name, got {target_stage!r}")
        found = resolve_stage(self.plan, target_stage)
        if isinstance(found, Failure):
            raise found.failure()
        return found.unwrap()

    @staticmethod
    def check_priority(priority: object) -> None:
        """Refuse a priority that is not an integer."""
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(
                f"priority must be an integer (lower runs first; default 100), got {priority!r}"
            )

    @staticmethod
    def check_items(items: object, *, allow_async: bool) -> None:
        """Refuse what is not an iterable of items (a string, an async iterable for feed())."""
        if isinstance(items, str | bytes | bytearray | memoryview):
            text = isinstance(items, str)
            unit, example = ("character", "[text]") if text else ("byte", "[data]")
            raise TypeError(
                f"items is a {type(items).__name__}, which would be fed one {unit} at a "
                f"time: pass a list, e.g. {example}"
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

    # ------------------------------------------------------------------------ feeding

    async def feed_any(self, items: Iterable[Any] | AsyncIterable[Any], priority: int) -> None:
        """Feed an iterable or async iterable into the first stage."""
        if isinstance(items, Iterable):
            await self.feed_iterator(iter(items), 0, priority)
        else:
            await self.feed_async_iterator(items.__aiter__(), 0, priority)

    async def feed_iterator(
        self, iterator: Iterator[Any], index: int, priority: int, *, inside: bool = False
    ) -> None:
        """Feed every item of ``iterator`` into stage ``index`` (never waiting if ``inside``)."""
        runner = self.runners[index]
        run_state = self.run_state
        run_state.begin_feed()
        count = 0
        try:
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    raise self.feed_error(exc, count) from exc
                waiting = self.feed_item(runner, item, priority, count)
                count += 1  # fed, or listed unfinished if its wait for room is stopped
                if waiting is not None:
                    await self.feed_waiting(runner, waiting, inside)
        except QueueClosed:
            raise run_state.closed_while_feeding(count) from run_state.crash
        finally:
            run_state.end_feed()

    async def feed_async_iterator(
        self, iterator: AsyncIterator[Any], index: int, priority: int, *, inside: bool = False
    ) -> None:
        """Feed every item of the async ``iterator`` into stage ``index`` (see `feed_iterator`)."""
        runner = self.runners[index]
        run_state = self.run_state
        run_state.begin_feed()
        count = 0
        try:
            while True:
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise self.feed_error(exc, count) from exc
                waiting = self.feed_item(runner, item, priority, count)
                count += 1  # fed, or listed unfinished if its wait for room is stopped
                if waiting is not None:
                    await self.feed_waiting(runner, waiting, inside)
        except QueueClosed:
            raise run_state.closed_while_feeding(count) from run_state.crash
        finally:
            run_state.end_feed()

    def feed_item(
        self, runner: StageRunner, item: Any, priority: int, count: int
    ) -> _Waiting | None:
        """`feed_now`, with an error of a ``_prepare_payload`` override made a `FeedError`."""
        if self.prepare is None:
            return self.feed_now(runner, item, priority)
        try:
            return self.feed_now(runner, item, priority)
        except QueueClosed:
            raise
        except Exception as exc:
            raise self.feed_error(exc, count, "preparing an item (_prepare_payload)") from exc

    def feed_now(self, runner: StageRunner, item: Any, priority: int) -> _Waiting | None:
        """Feed one item if nothing must be waited for; else return what `feed_waiting` needs.

        The observer hears of the item (``queued``) once it is in the queue, never before:
        a feed stopped while it waits for room leaves no item the observer thinks queued.
        """
        seq = self.msg_counter
        prepare = self.prepare
        if prepare is None:
            payload = self.wrap(item, seq)
        else:  # the guide's override reads self._msg_counter: advance it afterwards
            prepared = prepare(item)
            payload = prepared if type(prepared) is Payload else coerce_payload(prepared, seq)
            if payload.sequence_id < self.next_custom_sequence:
                raise ValueError(
                    f"_prepare_payload gave sequence id {payload.sequence_id} after "
                    f"{self.next_custom_sequence - 1}: sequence ids must increase with each "
                    "item fed, as self._msg_counter does (use it for '_sequence_id')"
                )
            self.next_custom_sequence = payload.sequence_id + 1
        self.msg_counter = seq + 1
        entry = (priority, payload.sequence_id, (payload, 1))
        if not runner.queue.try_put(entry):
            return (entry, None)
        self.fed += 1
        self.run_state.in_flight += 1
        if self.observed:
            sink = self.emitter.sinks.status_sink
            if sink is not None:  # the observer's fastest hook: no Python call
                sink((payload.id, runner.name, _QUEUED, None, None, time.time(), EMPTY_METADATA))
                return None
            pending = self.emitter.status(payload.id, runner.name, _QUEUED, None)
            if pending is not None:
                return (None, pending)
        return None

    async def feed_waiting(self, runner: StageRunner, waiting: _Waiting, inside: bool) -> None:
        """Finish feeding one item: wait for room in the queue, then await the observer.

        A feed from inside the pipeline (``inside``) never waits for room: its workers,
        which would have to make that room, may all be feeding. The item goes into the
        queue over its capacity, as a ``per_stage`` retry's does.
        """
        entry, pending = waiting
        if entry is not None:
            pending = await self.put_waiting(runner, entry, inside)
        if pending is not None:
            await self.emitter.settle(pending)

    async def put_waiting(
        self, runner: StageRunner, entry: HeapItem, inside: bool
    ) -> Awaitable[None] | None:
        """Wait for room for ``entry``, then count it in and tell the observer (``queued``).

        An item taken from the iterable whose feed stops here (a cancellation, a
        shutdown closing the queue) never reached a queue, so no shutdown can find it
        there: it is counted fed and listed unfinished now, never silently dropped.
        """
        try:
            if inside:
                runner.queue.force_put(entry)
                return self.count_in(runner, entry)
            if self.run_state.phase is not Phase.RUNNING and runner.queue.full():
                if runner.pull:
                    logger.warning(
                        "antflow: feed() waits for a free worker of the pull stage %r but the "
                        "pipeline is not started: it waits until start(). Call start() before "
                        "feeding a pull stage, or feed from another task",
                        runner.name,
                    )
                else:
                    logger.warning(
                        "antflow: feed() waits for room in the queue of stage %r (%d items, "
                        "full) but the pipeline is not started: it waits until start(). Call "
                        "start() before feeding this many items, or feed from another task",
                        runner.name,
                        runner.queue.maxsize,
                    )
            await runner.queue.put(entry)
        except BaseException:
            self.fed += 1
            self.unfinished.append(entry[2][0])
            raise
        return self.count_in(runner, entry)

    def count_in(self, runner: StageRunner, entry: HeapItem) -> Awaitable[None] | None:
        """``entry`` is in its queue: count it fed and in flight, and tell the observer."""
        self.fed += 1
        self.run_state.in_flight += 1
        if not self.observed:
            return None
        return self.emitter.status(entry[2][0].id, runner.name, ItemStatus.QUEUED, None)

    def wrap_at_position(self, item: Any, seq: int) -> Payload[Any]:
        """`prepare_payload`, with the item's position among the items fed as its default id."""
        position = self.position
        self.position = position + 1
        return prepare_payload(item, seq, position)

    def next_sequence(self) -> int:
        """Hand out a sequence id to a child of a fan-out stage (after every one given)."""
        seq = max(self.msg_counter, self.next_custom_sequence)
        self.msg_counter = seq + 1
        if self.prepare is not None:
            self.next_custom_sequence = seq + 1
        return seq

    @staticmethod
    def feed_error(exc: Exception, count: int, where: str = "the items iterable") -> FeedError:
        """The error for a feed stopped by ``exc`` after ``count`` items."""
        return FeedError(
            f"{where} raised {type(exc).__name__}: {describe_error(exc)} after {count} items; "
            f"those {count} items were fed and will still end as results or failures",
            fed_count=count,
        )
