"""The worker loops that inline the common hop: `lean_loop`, `observed_loop`, `rate_loop`.

Theory of operation
-------------------
A hop (one item through one stage) costs about 1.5 us when written by hand; a Python call
costs about 0.05 us. So the commonest stages do not take the general path
(`StageRunner.process`, which reads as the spec and calls a method per step): their
workers run one of these loops, where every choice that does not depend on the item
(which task, which queue comes next, whether anyone observes) is made once, before the
loop, and bound to a local.

* `lean_loop` serves an unobserved stage without ``skip_if`` or ``on_success``: take an
  entry, await the task(s), hand the new value to the next queue or finish the item.
* `observed_loop` serves an observed stage of one plain async task, for an observer that
  wants no task events (a ``StatusTracker`` without task callbacks): the same, plus the
  hop's three status changes emitted inline.
* `rate_loop` is `lean_loop` for a stage of one async task whose only limit is one rate
  limit (``call_rate``, or that task's ``task_rate_limits``): the limiter's question (the
  model's `call_delay`, see ``limits``) is asked inline, so a limit that does not bind
  costs a clock read and a deque append per call; one that binds waits in the limiter.

Anything unusual leaves the loop for the general methods and comes back: a task that
raises goes to `StageRunner.recover` (retries, then complete, re-queue or fail), a
full next queue or stream is awaited, an observer that returns an awaitable is settled.
The loops decide nothing about an item themselves; where it goes is the plan's
``next`` (`StagePlan.next_index`), and everything on the failure path is the model's.
"""

from __future__ import annotations

import time
from types import CoroutineType
from typing import TYPE_CHECKING

from antflow_core.model import EMPTY_METADATA, FIRST_ATTEMPT, ItemStatus, PipelineResult
from antflow_core.model import attempt_metadata as _attempt_metadata
from antflow_core.runtime.invoke import TaskSpec, invoke, is_own_cancellation, returned_coroutine
from antflow_core.runtime.limits import RateLimiter, acquire_rates
from antflow_core.runtime.queues import EMPTY
from antflow_core.runtime.run_state import Phase
from antflow_core.runtime.workers import WorkerRecord

if TYPE_CHECKING:
    from antflow_core.runtime.stage_runner import StageRunner

__all__ = ["lean_loop", "observed_loop", "rate_loop"]


async def lean_loop(runner: StageRunner, record: WorkerRecord) -> None:
    """A worker's loop for an unobserved stage without ``skip_if`` or ``on_success``.

    One plain async task (the commonest stage, and the hop that `bench/throughput.py`
    measures against a hand-written pipeline) is awaited directly; several tasks run in
    turn. Every choice is made before the loop.
    """
    queue = runner.queue
    try_get = queue.try_get
    get = queue.get
    specs = runner.specs
    single = specs[0] if len(specs) == 1 and specs[0].simple else None
    following = runner.next
    hand_on = following.queue.try_put if following is not None else None
    finish_now = runner.finish_now
    finish = runner.outcomes.finish
    recover = runner.recover
    run_state = runner.run_state
    monotonic = time.monotonic
    coroutine_type = CoroutineType
    empty = EMPTY
    closed = Phase.CLOSED
    ended = 0.0
    while run_state.phase is not closed:
        entry = try_get()
        if entry is empty:
            entry = await get()
            started = monotonic()
        else:  # taken without waiting, right after the previous item: no new clock read
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
            if is_own_cancellation(exc):
                raise
            await recover(record, priority, seq, payload, attempt, index, value, exc)
        else:
            record.items_processed += 1
            if hand_on is None:
                result = PipelineResult.of(payload, value)
                if not finish_now(record, result):
                    await finish(record, result, runner.name)
            else:
                item = (priority, seq, (payload.with_value(value), 1))
                if not hand_on(item):
                    await following.queue.put(item)  # type: ignore[union-attr]
                record.payload = None
        record.last_active = ended = monotonic()
        record.total_time += ended - started


async def rate_loop(
    runner: StageRunner, record: WorkerRecord, spec: TaskSpec, limiter: RateLimiter
) -> None:
    """`lean_loop` for one async task whose calls count against one rate limiter.

    A call may start at once when nobody waits at the limiter and the window ending now
    holds fewer than ``calls`` starts, or its ``calls``-th latest start has left it: the
    model's `call_delay` is 0 (asked inline, as the loops inline a hop). Otherwise the
    worker waits its turn in the limiter (`acquire_rates`), which asks the model itself.
    """
    queue = runner.queue
    try_get = queue.try_get
    get = queue.get
    fn = spec.fn
    following = runner.next
    hand_on = following.queue.try_put if following is not None else None
    finish_now = runner.finish_now
    finish = runner.outcomes.finish
    recover = runner.recover
    run_state = runner.run_state
    monotonic = time.monotonic
    coroutine_type = CoroutineType
    empty = EMPTY
    closed = Phase.CLOSED
    limiters = (limiter,)
    starts, turns = limiter.starts, limiter.turns
    append, popleft = starts.append, starts.popleft
    calls, period = limiter.limit.calls, limiter.limit.period
    clock = limiter.bind_clock()
    ended = 0.0
    while run_state.phase is not closed:
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
        try:
            now = clock()
            if turns or (len(starts) >= calls and starts[-calls] > now - period):
                await acquire_rates(limiters)
            else:
                horizon = now - period  # RateLimit.horizon: older starts left the window
                while starts and starts[0] <= horizon:
                    popleft()
                append(now)
            value = await fn(value)
            if type(value) is coroutine_type:
                returned_coroutine(spec, value)
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            await recover(record, priority, seq, payload, attempt, 0, value, exc)
        else:
            record.items_processed += 1
            if hand_on is None:
                result = PipelineResult.of(payload, value)
                if not finish_now(record, result):
                    await finish(record, result, runner.name)
            else:
                item = (priority, seq, (payload.with_value(value), 1))
                if not hand_on(item):
                    await following.queue.put(item)  # type: ignore[union-attr]
                record.payload = None
        record.last_active = ended = monotonic()
        record.total_time += ended - started


async def observed_loop(runner: StageRunner, record: WorkerRecord, spec: TaskSpec) -> None:
    """A worker's loop for an observed stage of one plain async task.

    For an observer that wants no task events: the three status changes of a hop
    (``in_progress``, ``completed``, ``queued`` at the next stage) are emitted inline,
    with every choice made before the loop, as `lean_loop` does for unobserved stages.
    Each goes to the observer's ``status_sink`` when it has one at that moment (a
    ``StatusTracker`` without ``on_status_change``), else to ``record_status``.
    """
    queue = runner.queue
    try_get = queue.try_get
    get = queue.get
    fn = spec.fn
    following = runner.next
    hand_on = following.queue.try_put if following is not None else None
    emitter = runner.emitter
    emit = emitter.emit
    sinks = emitter.sinks
    settle = emitter.settle
    observer_raised = emitter.observer_raised
    item_finished = emitter.item_finished
    on_success = runner.on_success
    outcomes = runner.outcomes
    deliver = outcomes.deliver
    end_item = runner.run_state.end_item
    recover = runner.recover
    run_state = runner.run_state
    name, worker, worker_id = runner.name, record.name, record.worker_id
    next_name = following.name if following is not None else ""
    monotonic, wall = time.monotonic, time.time
    coroutine_type = CoroutineType
    empty = EMPTY
    closed = Phase.CLOSED
    in_progress, completed, queued = (
        ItemStatus.IN_PROGRESS,
        ItemStatus.COMPLETED,
        ItemStatus.QUEUED,
    )
    ended = 0.0
    while run_state.phase is not closed:
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
        sink = sinks.status_sink
        if sink is not None and attempt == 1:
            sink((item_id, name, in_progress, worker, worker_id, wall(), FIRST_ATTEMPT))
        else:
            try:
                pending = emit(
                    item_id,
                    name,
                    in_progress,
                    worker,
                    worker_id,
                    wall(),
                    FIRST_ATTEMPT if attempt == 1 else _attempt_metadata(attempt),
                )
            except BaseException as exc:
                pending = observer_raised(exc, item_id, in_progress)
            if pending is not None:
                await settle(pending)
        value = payload.value
        try:
            value = await fn(value)
            if type(value) is coroutine_type:
                returned_coroutine(spec, value)
        except BaseException as exc:
            if is_own_cancellation(exc):
                raise
            await recover(record, priority, seq, payload, attempt, 0, value, exc)
        else:
            record.items_processed += 1
            if on_success is not None:
                await emitter.callback(on_success, payload.with_value(value), "on_success", name)
            now = wall()  # completed here and queued at the next stage: one moment
            if hand_on is None:
                result = PipelineResult.of(payload, value)
                if deliver(result):  # `Outcomes.finish`, inline when nothing must be waited for
                    # Counted first, then told (completed, and the end), then awaited.
                    outcomes.processed += 1
                    record.payload = None
                    sink = sinks.status_sink
                    if sink is not None:
                        sink((item_id, name, completed, worker, worker_id, now, EMPTY_METADATA))
                        pending = None
                    else:
                        try:
                            pending = emit(
                                item_id, name, completed, worker, worker_id, now, EMPTY_METADATA
                            )
                        except BaseException as exc:
                            pending = observer_raised(exc, item_id, completed)
                    finished = item_finished(item_id, result)
                    if pending is not None:
                        await settle(pending)
                    if finished is not None:
                        await settle(finished)
                    end_item()
                else:
                    await outcomes.finish(record, result, name)
            else:
                sink = sinks.status_sink
                if sink is not None:  # read once for both: nothing runs between the two
                    sink((item_id, name, completed, worker, worker_id, now, EMPTY_METADATA))
                    sink((item_id, next_name, queued, None, None, now, EMPTY_METADATA))
                else:
                    try:
                        pending = emit(
                            item_id, name, completed, worker, worker_id, now, EMPTY_METADATA
                        )
                    except BaseException as exc:
                        pending = observer_raised(exc, item_id, completed)
                    if pending is not None:
                        await settle(pending)
                    try:
                        pending = emit(item_id, next_name, queued, None, None, now, EMPTY_METADATA)
                    except BaseException as exc:
                        pending = observer_raised(exc, item_id, queued)
                    if pending is not None:
                        await settle(pending)
                item = (priority, seq, (payload.with_value(value), 1))
                if not hand_on(item):
                    await following.queue.put(item)  # type: ignore[union-attr]
                record.payload = None
        record.last_active = ended = monotonic()
        record.total_time += ended - started
