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
  still yielded, then that exception is raised. A read from an ``async`` iterable may
  wait (a work queue), so such an input is read by a task of its own (`_read`, one per
  map), which keeps the window topped up while the consumer waits for the oldest call:
  a result that is ready is yielded without waiting for more input (a queue whose next
  job depends on that result would otherwise wait forever). The task is cancelled when
  the map is left.

Either way ``timeout`` is counted from the call that made the map, as in
`concurrent.futures`: a step that would wait past it (for a call, or for the input when
no call is pending) raises `TimeoutError`.

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
        "_reader",
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
        reads_wait: bool = False,
    ) -> None:
        self._futures: deque[AsyncFuture[T]] = deque(futures)
        self._timeout = timeout
        loop = asyncio.get_running_loop()
        self._deadline = None if timeout is None else loop.time() + timeout
        # A lazy map pulls arguments (pull) and starts calls (submit) up to window; an
        # async input is read by a task of its own (the _Reader), plain ones in __anext__.
        self._submit = submit
        self._pull = pull
        self._window = window
        self._reader = _Reader() if reads_wait else None
        self._input_error: Exception | None = None
        self._taken = 0

    async def __anext__(self) -> T:
        futures = self._futures
        reader = self._reader
        try:
            if reader is not None:
                await self._wait_for_a_call(reader)
            elif self._pull is not None:
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
            if reader is not None:
                reader.in_hand = 1  # started, not yet yielded: it counts in the window
            if self._deadline is None:
                return await future.result()
            try:
                return await future.result(timeout=self._remaining())
            except TimeoutError:
                if inner.done():
                    raise  # the function itself raised TimeoutError
                raise self._timed_out(self._taken) from None
        except BaseException:
            future.cancel()
            self._cancel_rest()
            raise
        finally:
            if reader is not None:
                reader.in_hand = 0
                reader.wake_room()

    def _remaining(self) -> float | None:
        deadline = self._deadline
        if deadline is None:
            return None
        return max(deadline - asyncio.get_running_loop().time(), 0.0)

    def _timed_out(self, number: int) -> TimeoutError:
        return TimeoutError(
            f"map(timeout={self._timeout}): result {number} was not ready "
            f"{self._timeout} seconds after the map started"
        )

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

    async def _wait_for_a_call(self, reader: _Reader) -> None:
        """Start the reader at the first step; wait until a call is started or the input ends.

        Raises:
            TimeoutError: If neither happens by the map's deadline.
        """
        pull, self._pull = self._pull, None
        if pull is not None:
            submit = self._submit
            assert submit is not None
            reader.task = asyncio.ensure_future(
                _read(reader, self._futures, pull, submit, self._window)
            )
        futures = self._futures
        while not futures and not reader.ended:
            arrival = reader.arrival = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout_at(self._deadline):
                    await arrival
            except TimeoutError:
                if futures or reader.ended:  # it came just as the time was up
                    break
                raise self._timed_out(self._taken + 1) from None
            finally:
                reader.arrival = None
        if not futures and reader.error is not None:
            self._input_error, reader.error = reader.error, None

    def __await__(self) -> Generator[Any, None, list[T]]:
        """``await results`` collects every result into a list, in input order."""
        return self._collect().__await__()

    async def _collect(self) -> list[T]:
        return [result async for result in self]

    async def aclose(self) -> None:
        """Stop: cancel the calls started and not yet yielded, and take no more inputs."""
        reader = self._reader
        task = None if reader is None else reader.task
        self._cancel_rest()
        if task is not None:
            await asyncio.wait((task,))  # the input is no longer read

    def _cancel_rest(self) -> None:
        self._pull = None
        reader = self._reader
        if reader is not None:
            reader.stop()
        futures = self._futures
        while futures:
            future = futures.popleft()
            if not future.cancel() and not future.cancelled():
                future._future.exception()  # it ended; nobody will read it: do not report it

    def __del__(self) -> None:
        # Left before its end (a break): nobody will read these results.
        reader = getattr(self, "_reader", None)
        if not getattr(self, "_futures", None) and (reader is None or reader.task is None):
            return
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            self._cancel_rest()


class _Reader:
    """The state of a lazy map's async input, read by a task of its own (`_read`).

    Reading an async input may wait (a work queue). Read in ``__anext__``, that wait
    would hold back a result already ready, forever if the next input depends on it; so
    the reader tops the window up while the consumer waits for the oldest call. The task
    refers to this state, never to the `MapResults`, so a map dropped early is collected
    and stops its reader.
    """

    __slots__ = ("arrival", "ended", "error", "in_hand", "room", "task")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.ended = False
        self.error: Exception | None = None
        self.in_hand = 0  # the call the consumer is waiting for (taken off the window)
        self.arrival: asyncio.Future[None] | None = None  # the consumer waits for a call
        self.room: asyncio.Future[None] | None = None  # the reader waits for room

    def wake_arrival(self) -> None:
        arrival = self.arrival
        if arrival is not None and not arrival.done():
            arrival.set_result(None)

    def wake_room(self) -> None:
        room = self.room
        if room is not None and not room.done():
            room.set_result(None)

    def stop(self) -> None:
        self.ended = True  # (also when it never started: nothing more will come)
        task, self.task = self.task, None
        if task is not None:
            task.cancel()


async def _read(
    reader: _Reader, futures: deque[AsyncFuture[Any]], pull: Puller, submit: Submit, window: int
) -> None:
    """Read an async input and start its calls, at most ``window`` ahead of the consumer."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            if len(futures) + reader.in_hand >= window:
                room = reader.room = loop.create_future()
                try:
                    await room
                finally:
                    reader.room = None
                continue
            arguments = await pull()
            if arguments is None:
                return
            futures.append(submit(arguments))
            reader.wake_arrival()
    except Exception as error:  # the input failed: its end, raised after the calls started
        reader.error = error
    finally:
        reader.ended = True
        reader.wake_arrival()


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
