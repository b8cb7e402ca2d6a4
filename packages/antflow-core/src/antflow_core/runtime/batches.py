"""Batch stages at run time: collect up to ``batch_size`` items, call the tasks once for all.

Theory of operation
-------------------
Every worker of a ``batch_size`` stage runs `batch_loop`: it *collects* a batch
(`collect`), then *calls* it (`call_batch`), then collects the next. One worker collects
at a time (the stage's ``collect_lock``), so batches fill up one after the other while
the workers that already hold a batch call its tasks.

Collecting takes the first entry waiting (or waits for one), then every entry waiting,
up to ``batch_size``; ``skip_if`` is asked of each as it is taken (a skipped item never
joins a batch). While the batch is not full it waits for more with
`StageQueue.get_until`, until the first item has waited ``batch_timeout`` (a timer) or
the input has ended (`RunState.drain_waiter`: a future, set where the counts change).
The model says when a batch is ready (`batch_ready`, `input_ended`). The items of a batch
being collected are *parked* (`RunState.park`): counted so the end of the input can be
seen, listed as pending in the stats, held in the worker's record (``record.held``) so a
shutdown lists them as unfinished.

Calling a batch emits ``in_progress`` for each item, then calls each task with the list
of values (`run_batch_tasks`); a task's *shape* (`batch_shape`) checks that it returned
one result per value, in order (`batch_results`): a wrong count is a `BatchResultError`,
which is never retried. A failed call is retried as a batch: per task through the same
tenacity machinery as single items (`retry_call`, with every item's id for the events),
per stage by running the stage's tasks again on the same batch (it stays together: it
is not re-queued). When the stage gives up, each item fails with the error; otherwise
each completes and goes on, one by one (`complete`, or inline as the lean loop does when
nobody observes the stage), as any item does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from returns.result import Failure, Success

from antflow_core.model import (
    ItemStatus,
    Payload,
    PipelineResult,
    TaskEventType,
    attempt_metadata,
    batch_ready,
    batch_results,
    call_attempt,
    stage_failure,
)
from antflow_core.runtime.handoff import complete, fail_item
from antflow_core.runtime.invoke import TaskSpec, invoke, is_own_cancellation
from antflow_core.runtime.queues import EMPTY, StageQueue
from antflow_core.runtime.run_state import Phase
from antflow_core.runtime.task_calls import TaskFailed, retry_call
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["Collected", "batch_loop", "batch_shape", "call_batch", "collect", "run_batch_tasks"]

Collected: TypeAlias = tuple[int, int, "Payload[Any]", int]
"""One item of a batch: ``(priority, sequence_id, payload, attempt)``."""


async def batch_shape(spec: TaskSpec, value: Any, output: Any) -> Sequence[Any]:
    """The shape of a batch task: its output must hold one result per value, in order.

    Raises:
        BatchResultError: If it does not.
    """
    checked = batch_results(output, len(value), task=spec.name, stage=spec.stage)
    if isinstance(checked, Failure):
        raise checked.failure()
    return checked.unwrap()


async def batch_loop(runner: StageRunner, record: WorkerRecord) -> None:
    """A batch stage's worker: collect a batch (one worker at a time), call it; repeat."""
    run_state = runner.run_state
    lock = runner.collect_lock
    monotonic = time.monotonic
    while run_state.phase is not Phase.CLOSED:
        async with lock:
            entries = await collect(runner, record)
        started = monotonic()
        await call_batch(runner, record, entries)
        record.last_active = ended = monotonic()
        record.total_time += ended - started


async def collect(runner: StageRunner, record: WorkerRecord) -> list[Collected]:
    """Take items into a batch until the model says it is ready; return them (at least one)."""
    queue = runner.queue
    assert isinstance(queue, StageQueue)  # a batch stage is never a pull stage
    stage = runner.stage
    size = stage.batch_size or 1
    timeout = stage.batch_timeout
    run_state = runner.run_state
    held = record.held
    entries: list[Collected] = []
    deadline: float | None = None
    ended = waited_out = False
    while not batch_ready(len(entries), size, timed_out=waited_out, ended=ended):
        entry = queue.try_get()
        if entry is EMPTY:
            if not entries:
                entry = await queue.get()
            elif run_state.input_has_ended():
                ended = True
                continue
            else:
                entry = await queue.get_until(run_state.drain_waiter(), deadline)
                if entry is EMPTY:  # the timer, or the end of the input
                    waited_out = not run_state.input_has_ended()
                    ended = not waited_out
                    continue
        priority, seq, (payload, attempt) = entry  # type: ignore[misc]
        if runner.skip_if is not None:
            record.payload = payload
            if await runner.skipped_or_failed(record, priority, seq, payload, attempt):
                continue
            record.payload = None
        if not entries:
            record.busy_since = time.monotonic()
            if timeout is not None:
                deadline = asyncio.get_running_loop().time() + timeout
        entries.append((priority, seq, payload, attempt))
        held.append(payload)
        runner.collecting += 1
        run_state.park()
    return entries


async def call_batch(runner: StageRunner, record: WorkerRecord, entries: list[Collected]) -> None:
    """Call the stage's tasks on a collected batch; complete or fail each of its items."""
    count = len(entries)
    runner.collecting -= count
    runner.run_state.unpark(count)
    record.task_status = None  # set_task_status of the previous batch is not this one's
    payloads = [payload for _, _, payload, _ in entries]
    ids = [payload.id for payload in payloads]
    values = [payload.value for payload in payloads]
    emitter = runner.emitter
    observed = emitter.observer is not None
    held = record.held
    attempt = 1
    while True:
        if observed:
            for item_id in ids:
                pending = emitter.status(
                    item_id, runner.name, ItemStatus.IN_PROGRESS, record, attempt_metadata(attempt)
                )
                if pending is not None:
                    await emitter.settle(pending)
        try:
            outputs = await run_batch_tasks(runner, record, ids, values, attempt)
            break
        except TaskFailed as failure:
            decision = stage_failure(failure.decision, task_attempts=failure.attempts)
            if isinstance(decision, Success):  # per_stage: the same batch, from its first task
                again = decision.unwrap()
                runner.retried += count
                await emitter.retrying(
                    ids,
                    runner.name,
                    failure.task,
                    record,
                    attempt,
                    again.attempt,
                    failure.error,
                    failure.duration,
                )
                if again.wait_seconds > 0:
                    await runner.sleep(again.wait_seconds)
                attempt = again.attempt
                if observed:
                    for item_id in ids:
                        pending = emitter.status(
                            item_id, runner.name, ItemStatus.QUEUED, None, attempt_metadata(attempt)
                        )
                        if pending is not None:
                            await emitter.settle(pending)
                continue
            gave_up = decision.failure()
            error = failure.error if gave_up.error is None else gave_up.error
            for payload in payloads:
                await fail_item(runner, record, payload, error, gave_up.attempts, failure)
                del held[0]
            return
    if observed or runner.on_success is not None:
        for (priority, seq, payload, _), output in zip(entries, outputs, strict=True):
            await complete(runner, record, priority, seq, payload, output)
            del held[0]
        return
    # Nobody to tell: hand each item on as the lean loop does (no call per step).
    following = runner.next
    finish_now = runner.finish_now
    for (priority, seq, payload, _), output in zip(entries, outputs, strict=True):
        record.items_processed += 1
        if following is None:
            result = PipelineResult.of(payload, output)
            if not finish_now(record, result):
                await runner.outcomes.add_result(result)
        else:
            item = (priority, seq, (payload.with_value(output), 1))
            if not following.queue.try_put(item):
                await following.queue.put(item)
        del held[0]


async def run_batch_tasks(
    runner: StageRunner,
    record: WorkerRecord,
    ids: Sequence[Any],
    values: list[Any],
    attempt: int,
) -> Sequence[Any]:
    """Run the stage's tasks in turn on a batch's values; return the last task's results.

    Raises:
        TaskFailed: When a task fails for good (after its per-task retries).
    """
    emitter = runner.emitter
    observed = emitter.on_task is not None
    first = call_attempt(runner.stage, task_attempt=1, stage_attempt=attempt) if observed else 0
    value: Any = values
    started = 0.0
    for spec in runner.specs:
        record.current_task = spec.name
        if observed:
            await emitter.task_events(
                ids, runner.name, spec.name, record, TaskEventType.START, first
            )
            started = time.perf_counter()
        try:
            output = await invoke(spec, value)
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            took = time.perf_counter() - started if observed else 0.0
            value = await retry_call(runner, record, spec, value, ids, attempt, exc, took)
            continue
        value = output
        if observed:
            took = time.perf_counter() - started
            await emitter.task_events(
                ids, runner.name, spec.name, record, TaskEventType.COMPLETE, first, duration=took
            )
    return value  # type: ignore[no-any-return]
