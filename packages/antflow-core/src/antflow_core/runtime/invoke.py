"""Calling user code: one task (sync or async, unpacked arguments, limit, timeout).

A plain (non-async) task runs in the pipeline's own thread pool, sized so that every
worker of the stages with such tasks can run one at once (the event loop's default pool
would allow only ``min(32, cpus + 4)``). A thread cannot be stopped: when a timeout or a
shutdown stops waiting for it, it runs to its end, and it keeps its
``task_concurrency_limits`` slot until then, so a limit holds even for calls that timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from types import CoroutineType
from typing import Any, NoReturn

from antflow_core.errors import TaskReturnedCoroutineError, TaskTimeoutError

__all__ = ["TaskSpec", "invoke", "is_own_cancellation", "returned_coroutine"]


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
    """

    __slots__ = (
        "executor",
        "fn",
        "is_async",
        "name",
        "semaphore",
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
    ) -> None:
        self.fn = fn
        self.name = name
        self.stage = stage
        self.is_async = is_async
        self.unpack = unpack
        self.semaphore = semaphore
        self.timeout = timeout
        # Where a plain function runs: set by the pipeline when it starts.
        self.executor: Executor | None = None
        # The common case, an async function with nothing around it, is awaited directly.
        self.simple = is_async and not unpack and semaphore is None and timeout is None


async def invoke(spec: TaskSpec, value: Any) -> Any:
    """Call ``spec``'s task on ``value`` once, honouring its limit and timeout."""
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


async def _call_with_timeout(spec: TaskSpec, value: Any, held: asyncio.Semaphore | None) -> Any:
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


async def _call(spec: TaskSpec, value: Any, held: asyncio.Semaphore | None) -> Any:
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
        return result
    result = await asyncio.wrap_future(_in_thread(spec, args, kwargs, held))
    if inspect.isawaitable(result):
        # A plain function that returns a coroutine (e.g. a lambda around an async call).
        result = await result
    return result


def _in_thread(
    spec: TaskSpec,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    held: asyncio.Semaphore | None,
) -> Future[Any]:
    """Start a plain task in the pipeline's threads, with the caller's context variables."""
    executor = spec.executor
    if executor is None:  # pragma: no cover - the pipeline sets it before any call
        raise RuntimeError(f"task {spec.name!r} has no thread pool: the pipeline did not start")
    context = contextvars.copy_context()
    try:
        future = executor.submit(context.run, spec.fn, *args, **kwargs)
    except BaseException:
        if held is not None:
            held.release()
        raise
    if held is not None:
        loop = asyncio.get_running_loop()

        def give_back(_: Future[Any]) -> None:
            # RuntimeError: the loop is closed, nobody waits for the slot any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(held.release)

        future.add_done_callback(give_back)
    return future


def returned_coroutine(spec: TaskSpec, result: CoroutineType[Any, Any, Any]) -> NoReturn:
    """Reject the coroutine an async task returned instead of its value (a missing ``await``)."""
    name = getattr(result, "__qualname__", "a coroutine")
    result.close()  # never awaited: close it so Python does not warn about it later
    raise TaskReturnedCoroutineError(
        f"task {spec.name!r} of stage {spec.stage!r} returned the coroutine {name}() instead "
        "of a value: add `await` where that coroutine is created inside the task"
    )
