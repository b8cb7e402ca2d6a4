"""Calling user code: one task (sync or async, unpacked arguments, limits, timeout).

A task of a ``fan_out`` or ``batch_size`` stage has a *shape* (`TaskSpec.shape`): a step
that belongs to the call and runs right after it, inside its timeout and its
concurrency slot: a fan-out task's output is checked and its first element pulled
(`antflow_core.runtime.fan_out.start_expansion`), a batch task's results are checked
(`antflow_core.runtime.batches.batch_shape`). A failure there is a failure of the call,
retried or not as any other.

A plain (non-async) task runs in the pipeline's `TaskThreads`, which give every call a
thread at once (see `antflow_core.runtime.threads`), so ``workers=50`` means 50 calls at
once and ``task_timeout`` measures the call, never a wait for a thread. A thread cannot
be stopped: when a timeout or a shutdown stops waiting for it, it runs to its end, and it
keeps its ``task_concurrency_limits`` (and ``call_concurrency``) slot until then, so a
limit holds even for calls that timed out.

A task of a stage with rate limits or ``call_concurrency`` has a `CallGate`: each call
passes it first (slots, then rate limits), so retries count like first calls. The task
timeout measures the call, not the wait at the gate. A task without a gate runs the code
it always ran.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from types import CoroutineType
from typing import Any, NoReturn, Protocol, TypeAlias

from antflow_core.errors import TaskReturnedCoroutineError, TaskTimeoutError
from antflow_core.runtime.limits import CallGate
from antflow_core.runtime.threads import TaskThreads

__all__ = ["Shape", "TaskSpec", "invoke", "is_own_cancellation", "returned_coroutine"]

Shape: TypeAlias = Callable[["TaskSpec", Any, Any], Awaitable[Any]]
"""``shape(spec, value, output)``: what a call's output becomes, as part of the call."""


class _Held(Protocol):
    """What a call holds while it runs and gives back when it ends (a semaphore, a gate)."""

    def release(self) -> None: ...


def is_own_cancellation(exc: BaseException) -> bool:
    """Tell a cancellation of the running task from a CancelledError raised by user code.

    Every ``except BaseException`` around user code (tasks, callbacks, observers) asks
    this: the runtime's own cancellation propagates, anything user code raised is handled.
    """
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


class TaskSpec:
    """One task of a stage, with everything needed to call it, prepared once.

    Args:
        fn: The task.
        name: Its name (see `task_name`).
        stage: The stage's name, for messages.
        is_async: Whether calling it returns a coroutine; if not it runs in a thread.
        unpack: Call it with ``*value`` (a tuple or a list) or ``**value`` (a mapping): the
            first task of an ``unpack_args`` stage.
        semaphore: The concurrency limit of its name in its stage, shared by every task of
            that name, or None.
        timeout: Seconds one call may take, or None.
        gate: What each call waits for first when the stage limits rates or call
            concurrency (it then holds ``semaphore`` too), or None.
        shape: What the call's output becomes, as part of the call (a fan-out task's
            expansion, a batch task's checked results), or None.
    """

    __slots__ = (
        "direct",
        "executor",
        "fn",
        "gate",
        "is_async",
        "name",
        "semaphore",
        "shape",
        "simple",
        "stage",
        "timeout",
        "unpack",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        stage: str,
        is_async: bool,
        unpack: bool,
        semaphore: asyncio.Semaphore | None,
        timeout: float | None,
        gate: CallGate | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.fn = fn
        self.name = name
        self.stage = stage
        self.is_async = is_async
        self.unpack = unpack
        self.semaphore = semaphore
        self.timeout = timeout
        self.gate = gate
        self.shape = shape
        # Where a plain function runs: set by the pipeline when it starts.
        self.executor: TaskThreads | None = None
        # The call itself is ``await fn(value)``: async, nothing unpacked, no timeout, no
        # shape.
        self.direct = is_async and not unpack and timeout is None and shape is None
        # The common case, an async function with nothing around it, is awaited directly.
        self.simple = self.direct and semaphore is None and gate is None


async def invoke(spec: TaskSpec, value: Any) -> Any:
    """Call ``spec``'s task on ``value`` once, honouring its limits and timeout."""
    gate = spec.gate
    if gate is not None:
        return await _invoke_gated(spec, gate, value)
    semaphore = spec.semaphore
    if semaphore is None:
        return await _call_with_timeout(spec, value, None)
    await semaphore.acquire()
    if not spec.is_async:
        # The thread gives the slot back when it ends, whether or not we still wait.
        return await _call_with_timeout(spec, value, semaphore)
    try:
        return await _call_with_timeout(spec, value, None)
    finally:
        semaphore.release()


async def _invoke_gated(spec: TaskSpec, gate: CallGate, value: Any) -> Any:
    """`invoke` for a task with a gate: pass it, call, give its slots back when the call ends."""
    if not gate.try_enter():
        await gate.enter()
    if not gate.semaphores:  # rate limits only: nothing to give back
        if spec.direct:
            result = await spec.fn(value)
            if type(result) is CoroutineType:
                returned_coroutine(spec, result)
            return result
        return await _call_with_timeout(spec, value, None)
    if not spec.is_async:
        # The thread gives the slots back when it ends, whether or not we still wait.
        return await _call_with_timeout(spec, value, gate)
    try:
        return await _call_with_timeout(spec, value, None)
    finally:
        gate.release()


async def _call_with_timeout(spec: TaskSpec, value: Any, held: _Held | None) -> Any:
    if spec.timeout is None:
        return await _call(spec, value, held)
    scope = asyncio.timeout(spec.timeout)
    try:
        async with scope:
            return await _call(spec, value, held)
    except TimeoutError as exc:
        if scope.expired():
            raise TaskTimeoutError(
                f"task {spec.name!r} of stage {spec.stage!r} took longer than "
                f"task_timeout={spec.timeout}s"
            ) from exc
        raise


async def _call(spec: TaskSpec, value: Any, held: _Held | None) -> Any:
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    if spec.unpack and isinstance(value, tuple | list):
        args, kwargs = tuple(value), {}
    elif spec.unpack and isinstance(value, Mapping):
        args, kwargs = (), value
    else:
        args, kwargs = (value,), {}
    if spec.is_async:
        result = await spec.fn(*args, **kwargs)
        if type(result) is CoroutineType:
            returned_coroutine(spec, result)
    else:
        executor = spec.executor
        if executor is None:  # pragma: no cover - the pipeline sets it before any call
            raise RuntimeError(f"task {spec.name!r} has no threads: the pipeline did not start")
        try:
            call = executor.submit(spec.fn, args, kwargs, held)
        except RuntimeError:  # closed: the pipeline stopped
            if held is not None:
                held.release()  # the call never started: nothing else gives the slot back
            raise
        ok, result = await call
        if not ok:
            if isinstance(result, StopIteration):
                # Raised out of this coroutine it would become "coroutine raised StopIteration".
                raise RuntimeError(
                    f"task {spec.name!r} of stage {spec.stage!r} raised StopIteration"
                ) from result
            raise result
        if inspect.isawaitable(result):
            # A plain function that returns a coroutine (e.g. a lambda around an async call).
            result = await result
    shape = spec.shape
    if shape is not None:
        return await shape(spec, value, result)
    return result


def returned_coroutine(spec: TaskSpec, result: CoroutineType[Any, Any, Any]) -> NoReturn:
    """Reject the coroutine an async task returned instead of its value (a missing ``await``)."""
    name = getattr(result, "__qualname__", "a coroutine")
    result.close()  # never awaited: close it so Python does not warn about it later
    raise TaskReturnedCoroutineError(
        f"task {spec.name!r} of stage {spec.stage!r} returned the coroutine {name}() instead "
        "of a value: add `await` where that coroutine is created inside the task"
    )
