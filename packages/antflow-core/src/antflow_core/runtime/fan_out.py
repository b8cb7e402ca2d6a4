"""Fan-out at run time: a ``fan_out=True`` stage's output becomes items of their own.

Theory of operation
-------------------
The last task of a fan-out stage has a *shape* (`start_expansion`): as part of its call,
its output is checked (`fan_out_problem`) and its first element pulled. So an error
raised before the first child exists (the call itself, or a generator that fails at its
start) is a failed attempt like any other, retried as the stage says. The call's value
is then an `Expansion`: the first element and the rest of the iterable.

`expand` turns it into children, one element at a time, through the `Spawner`: each
child gets its id (``(parent_id, n)`` or its `Child`'s), the parent's priority and
metadata, a sequence id of its own (`Intake.next_sequence`), is counted in
(``spawned``, ``in_flight``) and goes where `route_child` says: into a later stage's
queue, waiting for room there (backpressure), into its own or an earlier stage's queue
without waiting (a loop of stages would otherwise deadlock), or out as a result when
the fan-out stage is the last. The parent is held by its worker all along; it ends as
*expanded* (status ``expanded``, counted in ``expanded``) once its last child is on its
way, so ``join()`` never sees an empty pipeline between a parent and its children.

An error while reading the rest of the iterable (after the first child) fails the
parent at once, not retried (its first children are already on their way); those
children go on. A child on its way into a queue is held in the worker's record
(``record.held``), so a shutdown lists it as unfinished, as it lists the parent whose
expansion it interrupted.

Elements are read on the event loop: a plain-function task that returns a generator
which blocks (network calls between two elements) blocks the loop while it is read; an
``async def`` generator is the way to produce elements slowly. The stage's limits on the
call hold for each later element of an async iterable too (`read_within_limits`): its
concurrency slots (``task_concurrency_limits``, ``call_concurrency``) are held while
the element is read, and released while the child waits for room downstream, and
``task_timeout`` bounds the read, so a read that hangs fails the parent
(`TaskTimeoutError`) instead of holding its worker forever. Rate limits count the call
only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Final

from returns.result import Failure

from antflow_core.errors import FanOutError, TaskTimeoutError
from antflow_core.model import (
    Child,
    ChildRoute,
    ItemStatus,
    Payload,
    PipelinePlan,
    PipelineResult,
    child_id,
    fan_out_problem,
    route_child,
)
from antflow_core.runtime.handoff import fail_item
from antflow_core.runtime.invoke import TaskSpec, is_own_cancellation
from antflow_core.runtime.queues import QueueClosed
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["Expansion", "Spawner", "expand", "read_within_limits", "start_expansion"]


class _Nothing:
    __slots__ = ()


NOTHING: Final = _Nothing()
"""The first element of an empty expansion."""


class Expansion:
    """A fan-out task's output, started: its first element and the rest to read.

    Attributes:
        first: The first element, or `NOTHING` when the iterable was empty.
        rest: What reads the next elements: a sync or an async iterator.
        is_async: Whether ``rest`` is an async iterator.
        spec: The task that made it: its limits hold for each read of an async ``rest``.
    """

    __slots__ = ("first", "is_async", "rest", "spec")

    def __init__(
        self,
        first: Any,
        rest: Iterator[Any] | AsyncIterator[Any] | None,
        is_async: bool,
        spec: TaskSpec | None = None,
    ) -> None:
        self.first = first
        self.rest = rest
        self.is_async = is_async
        self.spec = spec

    async def next(self) -> Any:
        """The next element, or `NOTHING` when the iterable is exhausted."""
        rest = self.rest
        if rest is None:
            return NOTHING
        try:
            if self.is_async:
                spec = self.spec
                if spec is None or (
                    spec.timeout is None and spec.semaphore is None and spec.gate is None
                ):
                    return await rest.__anext__()  # type: ignore[union-attr]
                return await read_within_limits(rest, spec)  # type: ignore[arg-type]
            return next(rest)  # type: ignore[arg-type]
        except (StopIteration, StopAsyncIteration):
            self.rest = None
            return NOTHING

    async def close(self) -> None:
        """Close a generator that was not read to its end (an error, a shutdown)."""
        rest, self.rest = self.rest, None
        if rest is None:
            return
        closer = getattr(rest, "aclose" if self.is_async else "close", None)
        if closer is None:
            return
        try:
            closing = closer()
            if self.is_async:
                await closing
        except Exception:  # a generator that raises while closing: nothing to add
            return


async def read_within_limits(rest: AsyncIterator[Any], spec: TaskSpec) -> Any:
    """The next element of ``rest``, read as a call of ``spec`` runs.

    The task's concurrency slots are held during the read (not its rate limits, which
    count the call), and ``spec.timeout`` bounds it, not counting the wait for a slot.

    Raises:
        TaskTimeoutError: If the read took longer than ``spec.timeout``.
    """
    gate = spec.gate
    if gate is not None:
        slots = gate.semaphores
    else:
        slots = () if spec.semaphore is None else (spec.semaphore,)
    taken = 0
    try:
        for slot in slots:
            await slot.acquire()
            taken += 1
        if spec.timeout is None:
            return await rest.__anext__()
        scope = asyncio.timeout(spec.timeout)
        try:
            async with scope:
                return await rest.__anext__()
        except TimeoutError as exc:
            if scope.expired():
                raise TaskTimeoutError(
                    f"task {spec.name!r} of fan-out stage {spec.stage!r} took longer than "
                    f"task_timeout={spec.timeout}s to make its next item"
                ) from exc
            raise
    finally:
        for slot in slots[:taken]:
            slot.release()


async def start_expansion(spec: TaskSpec, value: Any, output: Any) -> Expansion:
    """The shape of a fan-out stage's last task: check its output, pull its first element.

    Raises:
        FanOutError: If the output is not an iterable of items.
    """
    problem = fan_out_problem(output)
    if problem is not None:
        raise FanOutError(
            f"task {spec.name!r} of fan-out stage {spec.stage!r} returned {problem} "
            "(a fan-out task returns or yields the items it makes)"
        )
    if isinstance(output, AsyncIterable):
        iterator: AsyncIterator[Any] = output.__aiter__()
        try:
            first = await iterator.__anext__()
        except StopAsyncIteration:
            return Expansion(NOTHING, None, True)
        return Expansion(first, iterator, True, spec)
    sync_iterator: Iterator[Any] = iter(output)
    try:
        first = next(sync_iterator)
    except StopIteration:
        return Expansion(NOTHING, None, False)
    return Expansion(first, sync_iterator, False)


class Spawner:
    """Makes the children of a pipeline's fan-out stages and sends them on their way.

    Args:
        plan: The compiled pipeline (for routing).
        runners: Every stage's runner, in order.
        next_sequence: Gives each child its sequence id (`Intake.next_sequence`).
    """

    __slots__ = ("next_sequence", "plan", "routes", "runners")

    def __init__(self, plan: PipelinePlan, runners: list[StageRunner], next_sequence: Any) -> None:
        self.plan = plan
        self.runners = runners
        self.next_sequence = next_sequence
        self.routes: dict[tuple[int, str | None], ChildRoute] = {}

    def route(self, index: int, stage: str | None) -> ChildRoute:
        """Where a child of stage ``index`` goes (the model's `route_child`, remembered).

        Raises:
            UnknownStageError: If ``stage`` names no stage.
        """
        key = (index, stage)
        found = self.routes.get(key)
        if found is None:
            decided = route_child(self.plan, index, stage)
            if isinstance(decided, Failure):
                raise decided.failure()
            found = self.routes[key] = decided.unwrap()
        return found

    async def spawn(
        self,
        runner: StageRunner,
        record: WorkerRecord,
        priority: int,
        parent: Payload[Any],
        number: int,
        element: Any,
    ) -> None:
        """Make child ``number`` of ``parent`` from ``element`` and send it on."""
        if type(element) is Child:
            value, target, given = element.value, element.stage, element.id
        else:
            value, target, given = element, None, None
        route = self.route(runner.index, target)
        ident = child_id(parent.id, number) if given is None else given
        child = Payload(ident, value, self.next_sequence(), parent.metadata)
        runner.spawned += 1
        runner.run_state.in_flight += 1
        held = record.held
        held.append(child)  # until it is in a queue or ended: a shutdown finds it here
        emitter = runner.emitter
        if runner.on_success is not None:
            await emitter.callback(runner.on_success, child, "on_success", runner.name)
        about = {"parent": parent.id} if emitter.observer is not None else None
        destination = route.index
        if destination is None:  # the fan-out stage is the last: a result at once
            told = None if about is None else (runner.name, record, about)
            await runner.outcomes.add_result(PipelineResult.from_payload(child), told)
            held.pop()
            return
        following = self.runners[destination]
        if about is not None:
            pending = emitter.status(ident, following.name, ItemStatus.QUEUED, None, about)
            if pending is not None:
                await emitter.settle(pending)
        entry = (priority, child.sequence_id, (child, 1))
        queue = following.queue
        if not route.waits:
            queue.force_put(entry)
        elif not queue.try_put(entry):
            await queue.put(entry)
        held.pop()


async def expand(
    runner: StageRunner,
    record: WorkerRecord,
    priority: int,
    payload: Payload[Any],
    attempt: int,
    expansion: Expansion,
) -> None:
    """Make the children of ``payload`` from ``expansion``; the parent then ends as expanded."""
    spawner = runner.spawner
    assert spawner is not None  # (a fan-out stage's runner has one)
    made = 0
    element = expansion.first
    try:
        while element is not NOTHING:
            await spawner.spawn(runner, record, priority, payload, made, element)
            made += 1
            element = await expansion.next()
    except QueueClosed:  # shut down: the parent and the child in hand are unfinished
        await expansion.close()
        raise
    except BaseException as exc:
        await expansion.close()
        if is_own_cancellation(exc):
            raise
        # The iterable raised after the first children, or a Child named no stage: the
        # parent fails, not retried (calling again would make its children twice).
        await fail_item(runner, record, payload, exc, attempt, None)
        return
    runner.expanded += 1
    record.items_processed += 1
    emitter = runner.emitter
    if emitter.observer is not None:
        pending = emitter.status(
            payload.id, runner.name, ItemStatus.EXPANDED, record, {"children": made}
        )
        if pending is not None:
            await emitter.settle(pending)
    record.payload = None
    runner.run_state.end_item()
