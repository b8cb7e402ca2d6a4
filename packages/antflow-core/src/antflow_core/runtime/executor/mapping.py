"""`MapResults`: what ``map()`` and ``map_iter()`` return, the results in input order.

Theory of operation
-------------------
A `MapResults` holds the futures of the calls it started, oldest first, and hands out
their results in that order: ``async for result in results`` yields one at a time,
``await results`` collects them all into a list. The result of a call that raised is
that exception, raised when its turn comes; then (and on a timeout, or if the consumer
is cancelled while it waits) every call the map started and nobody will read is
cancelled, as `concurrent.futures` does when its map iterator is left.

* ``map()`` (*eager*) takes its arguments from the iterables at once and submits every
  call before returning, like `concurrent.futures.Executor.map`.
* ``map_iter()`` (*lazy*) pulls arguments only as results are taken: before each step
  it tops its window up to ``buffersize`` calls started and not yet yielded, so it
  serves an endless or ``async`` iterable with at most ``buffersize`` calls pending.
  An exception raised by the iterable ends the input: the calls already started are
  still yielded, then that exception is raised.

Either way ``timeout`` is counted from the call that made the map, as in
`concurrent.futures`: a step that would wait past it raises `TimeoutError`.

A `MapResults` left before its end (a ``break`` out of ``async for``) cancels the calls
it started and nobody will read when it is garbage-collected, as a dropped
`concurrent.futures` map iterator does; `aclose` does the same at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from typing import Any, TypeVar

from antflow_core.runtime.executor.futures import AsyncFuture

__all__ = ["MapResults", "argument_puller"]

T = TypeVar("T")

Submit = Callable[[tuple[Any, ...]], AsyncFuture[Any]]
"""Start one call with these positional arguments; return its future."""
Puller = Callable[[], Awaitable[tuple[Any, ...] | None]]
"""Return the next arguments, zipped from the iterables; None at the end of the shortest."""


class MapResults(AsyncIterator[T]):
    """The results of a map, in the order of its inputs.

    Iterate it (``async for result in ex.map(fn, items)``) to take each result as soon
    as it and those before it are ready, or await it (``await ex.map(fn, items)``) for
    the list of all of them.
    """

    __slots__ = (
        "_deadline",
        "_futures",
        "_input_error",
        "_pull",
        "_submit",
        "_taken",
        "_timeout",
        "_window",
    )

    def __init__(
        self,
        futures: Iterable[AsyncFuture[T]],
        timeout: float | None,
        *,
        submit: Submit | None = None,
        pull: Puller | None = None,
        window: int = 0,
    ) -> None:
        self._futures: deque[AsyncFuture[T]] = deque(futures)
        self._timeout = timeout
        loop = asyncio.get_running_loop()
        self._deadline = None if timeout is None else loop.time() + timeout
        # A lazy map pulls arguments (pull) and starts calls (submit) up to window.
        self._submit = submit
        self._pull = pull
        self._window = window
        self._input_error: Exception | None = None
        self._taken = 0

    async def __anext__(self) -> T:
        futures = self._futures
        if self._pull is not None:
            try:
                await self._top_up()
            except BaseException:
                self._cancel_rest()
                raise
        if not futures:
            error, self._input_error = self._input_error, None
            if error is not None:
                raise error
            raise StopAsyncIteration
        future = futures.popleft()
        self._taken += 1
        inner = future._future
        try:
            if inner.done():
                return inner.result()
            if self._deadline is None:
                return await future.result()
            remaining = self._deadline - asyncio.get_running_loop().time()
            try:
                return await future.result(timeout=max(remaining, 0.0))
            except TimeoutError:
                if inner.done():
                    raise  # the function itself raised TimeoutError
                raise TimeoutError(
                    f"map(timeout={self._timeout}): result {self._taken} was not ready "
                    f"{self._timeout} seconds after the map started"
                ) from None
        except BaseException:
            future.cancel()
            self._cancel_rest()
            raise

    async def _top_up(self) -> None:
        futures = self._futures
        pull = self._pull
        submit = self._submit
        assert submit is not None
        while pull is not None and len(futures) < self._window:
            try:
                arguments = await pull()
            except Exception as error:  # the iterable failed: its end, raised in turn
                self._input_error = error
                arguments = None
            if arguments is None:
                self._pull = pull = None
            else:
                futures.append(submit(arguments))

    def __await__(self) -> Generator[Any, None, list[T]]:
        """``await results`` collects every result into a list, in input order."""
        return self._collect().__await__()

    async def _collect(self) -> list[T]:
        return [result async for result in self]

    async def aclose(self) -> None:
        """Stop: cancel the calls started and not yet yielded, and take no more inputs."""
        self._cancel_rest()

    def _cancel_rest(self) -> None:
        self._pull = None
        futures = self._futures
        while futures:
            future = futures.popleft()
            if not future.cancel() and not future.cancelled():
                future._future.exception()  # it ended; nobody will read it: do not report it

    def __del__(self) -> None:
        # Left before its end (a break): nobody will read these results.
        futures = getattr(self, "_futures", None)
        if not futures:
            return
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            self._cancel_rest()


def argument_puller(iterables: tuple[Iterable[Any] | AsyncIterable[Any], ...]) -> Puller:
    """Return the coroutine function that zips ``iterables`` (plain or async) one step at a time.

    Raises:
        TypeError: If one of them is neither an iterable nor an async iterable.
    """
    sources: list[tuple[Iterator[Any] | AsyncIterator[Any], bool]] = []
    for iterable in iterables:
        if isinstance(iterable, AsyncIterable):
            sources.append((aiter(iterable), True))
        elif isinstance(iterable, Iterable):
            sources.append((iter(iterable), False))
        else:
            raise TypeError(
                "map_iter() takes iterables or async iterables of arguments, got "
                f"{iterable!r} of type {type(iterable).__name__}"
            )

    async def pull() -> tuple[Any, ...] | None:
        values = []
        for source, asynchronous in sources:
            try:
                if asynchronous:
                    values.append(await anext(source))  # type: ignore[arg-type]
                else:
                    values.append(next(source))  # type: ignore[arg-type]
            except (StopIteration, StopAsyncIteration):
                return None
        return tuple(values)

    return pull
