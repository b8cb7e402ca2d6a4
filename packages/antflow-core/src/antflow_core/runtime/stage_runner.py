"""`StageRunner`: one stage at run time, its queue, its workers and the loops they run.

Theory of operation
-------------------
Each stage of a pipeline gets one `StageRunner`. It owns the stage's input queue (a
`StageQueue` of ``(priority, sequence_id, (payload, attempt))`` entries), one
`WorkerRecord` per worker, the stage's tasks prepared for calling (`TaskSpec`), and the
stage's counters (failed, skipped, retried; completed items are counted per worker).
Its ``next`` is the runner the plan routes completed and skipped items to
(`StagePlan.next_index`), or None for the last stage, whose items end as results.

Every worker runs one loop, chosen once when it starts (`StageRunner.worker`):

* `lean_loop` (``fast_paths``): no observer, no ``skip_if``, no ``on_success``;
* `rate_loop` (``fast_paths``): the same, for one async task with one rate limit;
* `observed_loop` (``fast_paths``): an observer that wants no task events, and one
  plain async task;
* `StageRunner.general_loop`: everything else, each item through `StageRunner.process`
  (a ``fan_out`` stage's items end in `expand`, ``fan_out``);
* `batch_loop` (``batches``): a ``batch_size`` stage, whose workers collect batches.

The two fast loops inline the common case of a hop and leave it for the general
methods as soon as anything goes wrong (`StageRunner.recover`). The general path reads
as the spec: ask ``skip_if`` (a skipped item is never ``in_progress``), emit
``in_progress``, run the tasks (``task_calls``), then hand the item on (``handoff``): to
the next stage, out as a result, back into this queue (``per_stage`` retry), or out as
a failure.

A **pull** stage (``Stage(pull=True)``) has a `Rendezvous` instead of a queue: the same
interface, but an item is handed over only to a free worker, so the worker of the stage
before it waits, holding its item, until one is free. Its ``per_stage`` retries stay with
the worker that made them (`StageRunner.process` runs the stage again), since putting an
item back in front of a stage whose workers all wait to put theirs back would wait
forever. A stage whose calls are limited (rates, ``call_concurrency``) gives each task a
`CallGate` (see ``limits``); its workers run the same loops.

Ownership: an item is in exactly one place, this queue or a worker's record
(``record.payload``, or ``record.held`` for a batch and for a fan-out child on its way).
A worker clears its record only once the item is safely elsewhere, so
`StageRunner.take_unfinished` can list every item that had not ended when the pipeline
shuts down.

Retry waits go through ``sleep`` and their jitter draws through ``draw``, which the
facade sets from its ``_backoff_sleep`` and ``_jitter_draw`` hooks.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from antflow_core.model import (
    CallbackForm,
    HeapItem,
    ItemStatus,
    Payload,
    PipelineResult,
    StageCounts,
    StagePlan,
    attempt_metadata,
    call_with_failure,
    call_with_payload,
    skip_check_failed,
    stage_counts,
)
from antflow_core.runtime.batches import batch_loop, batch_shape
from antflow_core.runtime.emission import Emitter
from antflow_core.runtime.fan_out import Expansion, expand, start_expansion
from antflow_core.runtime.fast_paths import lean_loop, observed_loop, rate_loop
from antflow_core.runtime.handoff import complete, fail_item, skip_stage, stage_failed
from antflow_core.runtime.invoke import Shape, TaskSpec, is_own_cancellation
from antflow_core.runtime.limits import CallGate, NamedLimits, RateLimiter, current_limits
from antflow_core.runtime.outcomes import Outcomes
from antflow_core.runtime.queues import EMPTY, QueueClosed, StageQueue
from antflow_core.runtime.rendezvous import Rendezvous
from antflow_core.runtime.run_state import Phase, RunState
from antflow_core.runtime.task_calls import TaskFailed, retry_task, run_tasks
from antflow_core.runtime.threads import TaskThreads
from antflow_core.runtime.workers import WorkerRecord, current_worker

if TYPE_CHECKING:
    from antflow_core.runtime.fan_out import Spawner

__all__ = ["FinishNow", "StageInput", "StageRunner"]

logger = logging.getLogger("antflow")

FinishNow: TypeAlias = Callable[[WorkerRecord, PipelineResult[Any]], bool]
"""Ends an unobserved item as a result if nothing must be waited for (`Outcomes.finish_now`)."""

StageInput: TypeAlias = StageQueue[HeapItem] | Rendezvous[HeapItem]
"""What is in front of a stage: its queue, or a pull stage's `Rendezvous`."""


def _calls_async_generator(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` returns an async generator (an ``async def`` with ``yield``)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.isasyncgenfunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - the class attribute, on purpose
    return call is not None and not inspect.isroutine(fn) and inspect.isasyncgenfunction(call)


def _awaitable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An ``async def`` that returns what calling ``fn`` (an async generator function) gives."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return call


def _with_payload(
    callback: Callable[..., Any] | None, form: CallbackForm | None
) -> Callable[[Payload[Any]], Any] | None:
    if callback is None or form is None:
        return None
    return call_with_payload(callback, form)


class StageRunner:
    """The run-time side of one stage: its queue, tasks, workers, counters and loops.

    Args:
        plan: The stage, compiled.
        queue: Its input queue.
        run_state: The pipeline's phase (loops stop when it is closed) and crash.
        outcomes: Where items that leave the pipeline go.
        emitter: The observer and the stage callbacks.
        finish_now: What a last stage's lean loop calls to end an item.
        named_limits: The limits the pipeline's tasks share by name (made current in
            each worker).
    """

    __slots__ = (
        "collect_lock",
        "collecting",
        "draw",
        "emitter",
        "expanded",
        "failed",
        "finish_now",
        "index",
        "name",
        "named_limits",
        "next",
        "on_failure",
        "on_skip",
        "on_success",
        "outcomes",
        "per_task",
        "plan",
        "pull",
        "queue",
        "records",
        "retried",
        "run_state",
        "skip_if",
        "skipped",
        "sleep",
        "spawned",
        "spawner",
        "specs",
        "stage",
    )

    def __init__(
        self,
        plan: StagePlan,
        queue: StageInput,
        *,
        run_state: RunState,
        outcomes: Outcomes,
        emitter: Emitter,
        finish_now: FinishNow,
        named_limits: NamedLimits | None = None,
    ) -> None:
        stage = plan.stage
        self.plan = plan
        self.stage = stage
        self.name = stage.name
        self.index = plan.index
        self.queue = queue
        self.pull = plan.pull
        self.named_limits = named_limits if named_limits is not None else NamedLimits()
        self.next: StageRunner | None = None  # set by the facade from plan.next_index
        self.run_state = run_state
        self.outcomes = outcomes
        self.emitter = emitter
        self.finish_now = finish_now
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
        semaphores = self._semaphores()
        gates = _gates(plan, semaphores)
        self.specs = tuple(
            self._task_spec(plan, i, fn, semaphores.get(plan.task_names[i]), gates[i])
            for i, fn in enumerate(stage.tasks)
        )
        self.records = tuple(
            WorkerRecord(name, stage.name, worker_id)
            for worker_id, name in enumerate(plan.worker_names)
        )
        self.failed = 0
        self.skipped = 0
        self.retried = 0
        self.expanded = 0  # items that fanned out here
        self.spawned = 0  # children they made
        self.collecting = 0  # items in the batch being collected (batch stages)
        self.collect_lock = asyncio.Lock()  # one worker collects a batch at a time (new per start)
        # Where a fan-out stage's children go (set by the facade), how retries wait and
        # draw their jitter (the facade's hooks).
        self.spawner: Spawner | None = None
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.draw: Callable[[], float] = random.random

    @staticmethod
    def _task_spec(
        plan: StagePlan,
        index: int,
        fn: Callable[..., Any],
        semaphore: asyncio.Semaphore | None,
        gate: CallGate | None,
    ) -> TaskSpec:
        """Task ``index`` of the stage, prepared for calling (with its shape, if it has one)."""
        stage = plan.stage
        is_async = plan.task_is_async[index]
        shape: Shape | None = None
        if stage.batch_size is not None:
            shape = batch_shape
        elif stage.fan_out and index == len(stage.tasks) - 1:
            shape = start_expansion
            if _calls_async_generator(fn):  # its call returns the async iterable at once
                fn, is_async = _awaitable(fn), True
        return TaskSpec(
            fn,
            name=plan.task_names[index],
            stage=stage.name,
            is_async=is_async,
            unpack=stage.unpack_args and index == 0,
            semaphore=semaphore,
            timeout=stage.task_timeout,
            gate=gate,
            shape=shape,
        )

    def _semaphores(self) -> dict[str, asyncio.Semaphore]:
        """One semaphore per limited task name: tasks sharing a name share its limit."""
        plan = self.plan
        return {
            name: asyncio.Semaphore(limit)
            for name, limit in zip(plan.task_names, plan.task_limits, strict=True)
            if limit is not None
        }

    def renew_semaphores(self) -> None:
        """Give the limits new semaphores and gates: asyncio binds them to their event loop.

        For a pipeline that runs again in a new event loop; the rate limiters start anew
        too (their clock is the loop's).
        """
        semaphores = self._semaphores()
        gates = _gates(self.plan, semaphores)
        for spec, gate in zip(self.specs, gates, strict=True):
            spec.semaphore = semaphores.get(spec.name)
            spec.gate = gate

    def __repr__(self) -> str:
        return f"<StageRunner {self.name!r} workers={len(self.records)} queue={self.queue!r}>"

    # ------------------------------------------------------------------ bookkeeping

    def counts(self) -> StageCounts:
        """The stage's counters now, for `compute_pipeline_stats`.

        A pull stage has nothing pending: an item handed to a free worker that has not
        picked it up yet is already in progress there.
        """
        # Read from the worker records, so the hot path updates one counter, not three.
        handed = self.queue.qsize()
        collecting = self.collecting  # taken into a batch, not called yet: still pending
        return stage_counts(
            pending=(0 if self.pull else handed) + collecting,
            held=sum((r.payload is not None) + len(r.held) for r in self.records)
            - collecting
            + (handed if self.pull else 0),
            handled=sum(r.items_processed for r in self.records),
            failed=self.failed,
            skipped=self.skipped,
            retried=self.retried,
            expanded=self.expanded,
            spawned=self.spawned,
        )

    @property
    def calls_plain_functions(self) -> bool:
        """Whether a task of this stage runs in a thread (a plain function)."""
        return any(not spec.is_async for spec in self.specs)

    def use_executor(self, executor: TaskThreads) -> None:
        """Run this stage's plain-function tasks in ``executor``."""
        for spec in self.specs:
            if not spec.is_async:
                spec.executor = executor

    def start_workers(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[None]]:
        """Start one task per worker; the caller owns them (cancels and awaits them)."""
        self.collect_lock = asyncio.Lock()  # of this event loop
        return [
            loop.create_task(self.worker(record), name=f"antflow:{record.name}")
            for record in self.records
        ]

    def take_unfinished(self, spare: WorkerRecord | None = None) -> list[Payload[Any]]:
        """Empty the queue and the workers' hands (workers stopped): the items not ended.

        ``spare`` is the worker that called ``shutdown()`` and still runs: its item is
        its own to end, or to list as unfinished when it stops (`worker`).
        """
        taken = [payload for _, _, (payload, _) in self.queue.drain()]
        for record in self.records:
            if record is spare:
                continue
            if record.payload is not None:
                taken.append(record.payload)
                record.payload = None
            taken.extend(record.held)
            record.held.clear()
            record.current_task = None
        self.collecting = 0
        return taken

    # ------------------------------------------------------------------------ workers

    async def worker(self, record: WorkerRecord) -> None:
        """One worker: take an entry, run the stage on it, hand it on; until cancelled.

        The worker runs one of three loops, chosen once. They repeat the few lines that take
        an entry and time it instead of sharing a helper: a call per item is what the hot
        path cannot afford.
        """
        current_worker.set(record)
        current_limits.set(self.named_limits)
        specs = self.specs
        if len(specs) == 1:
            record.current_task = specs[0].name
        emitter = self.emitter
        stage = self.stage
        try:
            lean = emitter.observer is None and self.skip_if is None and self.on_success is None
            limiter = _single_rate(specs) if lean else None
            if stage.batch_size is not None:
                await batch_loop(self, record)
            elif stage.fan_out:
                await self.general_loop(record)
            elif limiter is not None:
                await rate_loop(self, record, specs[0], limiter)
            elif lean:
                await lean_loop(self, record)
            elif (
                emitter.observer is not None
                and emitter.on_task is None
                and self.skip_if is None
                and len(specs) == 1
                and specs[0].simple
            ):
                await observed_loop(self, record, specs[0])
            else:
                await self.general_loop(record)
        except QueueClosed:
            return
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            # A bug (never an item's fault: those are handled), or a BaseException that
            # escaped user code outside a task.
            logger.critical("antflow: worker %s crashed", record.name, exc_info=exc)
            self.run_state.crashed(exc)
        finally:
            if record.payload is not None and self.run_state.phase is Phase.CLOSED:
                # Stopped by a shutdown with an item in hand: it had not ended.
                self.outcomes.unfinished.append(record.payload)
                record.payload = None
                record.current_task = None
                self.run_state.end_item()
            if record.held and self.run_state.phase is Phase.CLOSED:
                # The worker that called shutdown() (the others' are taken by it): the
                # rest of its batch, or the child of a fan-out it was handing on.
                for payload in record.held:
                    self.outcomes.unfinished.append(payload)
                    self.run_state.end_item()
                record.held.clear()

    async def general_loop(self, record: WorkerRecord) -> None:
        """`worker`'s loop for any stage: every item through `process`."""
        try_get, get = self.queue.try_get, self.queue.get
        run_state = self.run_state
        monotonic = time.monotonic
        ended = 0.0
        while run_state.phase is not Phase.CLOSED:
            entry = try_get()
            if entry is EMPTY:
                entry = await get()
                started = monotonic()
            else:  # taken without waiting, right after the previous item: no new clock read
                started = ended or monotonic()
            priority, seq, (payload, attempt) = entry  # type: ignore[misc]
            record.payload = payload
            record.busy_since = started
            await self.process(record, priority, seq, payload, attempt)
            record.last_active = ended = monotonic()
            record.total_time += ended - started

    # ------------------------------------------------------------------ the general path

    async def process(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any], attempt: int
    ) -> None:
        """The general path for one item at this stage: skip, events, tasks, hand-off.

        ``skip_if`` is asked first: a skipped item goes from ``queued`` to ``skipped``
        without being ``in_progress`` (and a ``skip_if`` that raises fails it there). In a
        pull stage a ``per_stage`` retry runs the stage again here, in the same worker.
        """
        again: int | None = attempt
        while again is not None:
            again = await self._attempt(record, priority, seq, payload, again)

    async def _attempt(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any], attempt: int
    ) -> int | None:
        """One stage attempt of `process`; the attempt to run next in this worker, if any."""
        if self.skip_if is not None and await self.skipped_or_failed(
            record, priority, seq, payload, attempt
        ):
            return None
        emitter = self.emitter
        if emitter.observer is not None:
            pending = emitter.status(
                payload.id, self.name, ItemStatus.IN_PROGRESS, record, attempt_metadata(attempt)
            )
            if pending is not None:
                await emitter.settle(pending)
        try:
            value = await run_tasks(self, record, payload, attempt, 0, payload.value)
        except TaskFailed as failure:
            return await stage_failed(self, record, priority, seq, payload, attempt, failure)
        if type(value) is Expansion:
            await expand(self, record, priority, payload, attempt, value)
            return None
        await complete(self, record, priority, seq, payload, value)
        return None

    async def skipped_or_failed(
        self, record: WorkerRecord, priority: int, seq: int, payload: Payload[Any], attempt: int
    ) -> bool:
        """Ask ``skip_if``; if it is true skip the item, if it raises fail it. True if either.

        The worker's record holds the item (``record.payload``); this hands it on.
        """
        skip_if = self.skip_if
        assert skip_if is not None
        try:
            skip = skip_if(payload.value)
            if isinstance(skip, Awaitable):
                skip = await self.emitter.decision(skip, "skip_if", self.name)
            skip = bool(skip)  # a truth value that raises fails the item here
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            gave_up = skip_check_failed(exc, stage_attempt=attempt)
            await fail_item(self, record, payload, exc, gave_up.attempts, None)
            return True
        if skip:
            await skip_stage(self, record, priority, seq, payload)
            return True
        return False

    async def recover(
        self,
        record: WorkerRecord,
        priority: int,
        seq: int,
        payload: Payload[Any],
        attempt: int,
        index: int,
        value: Any,
        error: BaseException,
    ) -> None:
        """Continue an item whose task ``index`` failed on ``value`` in a fast loop."""
        try:
            value = await retry_task(
                self, record, self.specs[index], value, payload, attempt, error, 0.0
            )
            value = await run_tasks(self, record, payload, attempt, index + 1, value)
        except TaskFailed as failure:
            again = await stage_failed(self, record, priority, seq, payload, attempt, failure)
            if again is not None:  # a pull stage's per_stage retry: run it again here
                await self.process(record, priority, seq, payload, again)
            return
        if type(value) is Expansion:
            await expand(self, record, priority, payload, attempt, value)
            return
        await complete(self, record, priority, seq, payload, value)


def _single_rate(specs: tuple[TaskSpec, ...]) -> RateLimiter | None:
    """The limiter of a stage of one direct async task whose only limit is one rate limit."""
    if len(specs) != 1:
        return None
    gate = specs[0].gate
    if gate is None or gate.semaphores or len(gate.rates) != 1 or not specs[0].direct:
        return None
    return gate.rates[0]


def _gates(plan: StagePlan, semaphores: dict[str, asyncio.Semaphore]) -> list[CallGate | None]:
    """Each task's `CallGate`, None for every task when the stage limits no rate or concurrency.

    Tasks of one name share their rate limiter, as they share their semaphore; every task
    shares the stage's ``call_rate`` and ``call_concurrency``.
    """
    if not plan.limits_calls:
        return [None] * len(plan.task_names)
    stage_rate = (
        RateLimiter.of(plan.call_rate, name=plan.name) if plan.call_rate is not None else None
    )
    stage_slots = (
        asyncio.Semaphore(plan.call_concurrency) if plan.call_concurrency is not None else None
    )
    task_rates: dict[str, RateLimiter] = {}
    for name, rate in zip(plan.task_names, plan.task_rates, strict=True):
        if rate is not None and name not in task_rates:
            task_rates[name] = RateLimiter.of(rate, name=f"{plan.name}.{name}")
    gates: list[CallGate | None] = []
    for name in plan.task_names:
        slots = tuple(s for s in (semaphores.get(name), stage_slots) if s is not None)
        rates = tuple(r for r in (task_rates.get(name), stage_rate) if r is not None)
        gates.append(CallGate(slots, rates) if slots or rates else None)
    return gates
