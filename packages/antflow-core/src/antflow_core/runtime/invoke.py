"""Calling one task: sync or async, unpacked arguments, concurrency limit, timeout."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from types import CoroutineType
from typing import Any, NoReturn

from antflow_core.errors import TaskReturnedCoroutineError, TaskTimeoutError

__all__ = ["TaskSpec", "invoke", "returned_coroutine"]


class TaskSpec:
    """One task of a stage, with everything needed to call it, prepared once."""

    __slots__ = ("fn", "is_async", "name", "semaphore", "simple", "stage", "timeout", "unpack")

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        stage: str,
        is_async: bool,
        unpack: bool,
        limit: int | None,
        timeout: float | None,
    ) -> None:
        self.fn = fn
        self.name = name
        self.stage = stage
        self.is_async = is_async
        self.unpack = unpack
        self.semaphore = asyncio.Semaphore(limit) if limit is not None else None
        self.timeout = timeout
        # The common case, an async function with nothing around it, is awaited directly.
        self.simple = is_async and not unpack and limit is None and timeout is None


async def invoke(spec: TaskSpec, value: Any) -> Any:
    """Call ``spec``'s task on ``value`` once, honouring its limit and timeout."""
    semaphore = spec.semaphore
    if semaphore is None:
        return await _call_with_timeout(spec, value)
    async with semaphore:
        return await _call_with_timeout(spec, value)


async def _call_with_timeout(spec: TaskSpec, value: Any) -> Any:
    if spec.timeout is None:
        return await _call(spec, value)
    scope = asyncio.timeout(spec.timeout)
    try:
        async with scope:
            return await _call(spec, value)
    except TimeoutError as exc:
        if scope.expired():
            raise TaskTimeoutError(
                f"task {spec.name!r} of stage {spec.stage!r} took longer than "
                f"task_timeout={spec.timeout}s"
            ) from exc
        raise


async def _call(spec: TaskSpec, value: Any) -> Any:
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    if spec.unpack and isinstance(value, tuple):
        args, kwargs = value, {}
    elif spec.unpack and isinstance(value, Mapping):
        args, kwargs = (), value
    else:
        args, kwargs = (value,), {}
    if spec.is_async:
        result = await spec.fn(*args, **kwargs)
        if type(result) is CoroutineType:
            returned_coroutine(spec, result)
        return result
    result = await asyncio.to_thread(spec.fn, *args, **kwargs)
    if inspect.isawaitable(result):
        # A plain function that returns a coroutine (e.g. a lambda around an async call).
        result = await result
    return result


def returned_coroutine(spec: TaskSpec, result: CoroutineType[Any, Any, Any]) -> NoReturn:
    """Reject the coroutine an async task returned instead of its value (a missing ``await``)."""
    name = getattr(result, "__qualname__", "a coroutine")
    result.close()  # never awaited: close it so Python does not warn about it later
    raise TaskReturnedCoroutineError(
        f"task {spec.name!r} of stage {spec.stage!r} returned the coroutine {name}() instead "
        "of a value: add `await` where that coroutine is created inside the task"
    )
