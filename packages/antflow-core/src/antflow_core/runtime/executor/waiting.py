"""`as_completed` and `wait`: waiting on several `AsyncFuture` objects.

Theory of operation
-------------------
Both mirror their `concurrent.futures` namesakes, for coroutines: `as_completed` is an
async iterator, `wait` is awaited. Neither polls: each registers a done callback on the
futures still pending and sleeps on one waiter that the callbacks wake. Neither cancels
anything: when the time is up the futures go on.

* `as_completed` yields the futures already done first, then each one as it ends. Its
  ``timeout`` is counted from the call, across the whole iteration (not per step): when
  it is up, the next step raises `TimeoutError` naming how many futures are unfinished.
* `wait` returns ``(done, not_done)`` sets as soon as ``return_when`` is satisfied (the
  model's `wait_is_over` decides) or the ``timeout`` is up; it never raises on timeout.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

from antflow_core.model.calls import ALL_COMPLETED, ReturnWhen, parse_return_when, wait_is_over
from antflow_core.runtime.executor.futures import AsyncFuture

__all__ = ["AsCompleted", "DoneAndNotDone", "as_completed", "wait"]

T = TypeVar("T")


class DoneAndNotDone(NamedTuple, Generic[T]):
    """What `wait` returns: the futures that are done, and the others."""

    done: set[AsyncFuture[T]]
    """The futures that finished (returned or raised) or were cancelled."""
    not_done: set[AsyncFuture[T]]
    """The futures still pending or running."""


def _checked(futures: Iterable[AsyncFuture[T]], caller: str) -> dict[AsyncFuture[T], None]:
    """The futures in order, each once; a clear error for anything else."""
    if isinstance(futures, AsyncFuture):
        raise TypeError(f"{caller}() takes a collection of futures: pass [future]")
    unique = dict.fromkeys(futures)
    for future in unique:
        if not isinstance(future, AsyncFuture):
            raise TypeError(
                f"{caller}() waits on the futures AsyncExecutor.submit() returns, got "
                f"{future!r}; for asyncio tasks use asyncio.{caller}()"
            )
    return unique


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    return asyncio.get_running_loop().time() + timeout


def _failed(future: AsyncFuture[Any]) -> bool:
    inner = future._future
    return inner.done() and not inner.cancelled() and inner.exception() is not None


class AsCompleted(AsyncIterator[AsyncFuture[T]]):
    """The async iterator `as_completed` returns: the futures, as they end."""

    __slots__ = ("_deadline", "_done", "_pending", "_timeout", "_total", "_waiter")

    def __init__(self, futures: Iterable[AsyncFuture[T]], timeout: float | None) -> None:
        unique = _checked(futures, "as_completed")
        self._timeout = timeout
        self._deadline = _deadline(timeout)
        self._total = len(unique)
        self._done: deque[AsyncFuture[T]] = deque(f for f in unique if f.done())
        self._pending: dict[asyncio.Future[Any], AsyncFuture[T]] = {
            f._future: f for f in unique if not f.done()
        }
        self._waiter: asyncio.Future[None] | None = None
        for inner in self._pending:
            inner.add_done_callback(self._arrived)

    def _arrived(self, inner: asyncio.Future[Any]) -> None:
        future = self._pending.pop(inner, None)
        if future is None:
            return
        self._done.append(future)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def __anext__(self) -> AsyncFuture[T]:
        while not self._done:
            if not self._pending:
                raise StopAsyncIteration
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                async with asyncio.timeout_at(self._deadline):
                    await waiter
            except TimeoutError:
                if self._done:  # one ended just as the time was up
                    break
                raise TimeoutError(
                    f"{len(self._pending)} (of {self._total}) futures unfinished after "
                    f"as_completed(timeout={self._timeout})"
                ) from None
            finally:
                self._waiter = None
        return self._done.popleft()

    async def aclose(self) -> None:
        """Stop iterating: forget the futures still pending (they go on)."""
        for inner in self._pending:
            inner.remove_done_callback(self._arrived)
        self._pending.clear()
        self._done.clear()


def as_completed(futures: Iterable[AsyncFuture[T]], timeout: float | None = None) -> AsCompleted[T]:
    """Yield the futures as they end: those already done first, then in order of ending.

    ``async for future in as_completed(futures)``, as `concurrent.futures.as_completed`
    for coroutines. A future given twice is yielded once.

    Args:
        futures: Futures returned by `AsyncExecutor.submit`.
        timeout: Seconds from this call after which the iteration gives up; the time is
            counted across the whole iteration, not per future. None waits as long as
            it takes.

    Raises:
        TimeoutError: From the step that would wait past the timeout; the futures not
            yet yielded go on (the message says how many).
        TypeError: If ``futures`` holds something that is not an `AsyncFuture`.
    """
    return AsCompleted(futures, timeout)


async def wait(
    futures: Iterable[AsyncFuture[T]],
    timeout: float | None = None,  # noqa: ASYNC109 - as concurrent.futures.wait
    return_when: ReturnWhen | str = ALL_COMPLETED,
) -> DoneAndNotDone[T]:
    """Wait until ``return_when`` is satisfied or ``timeout`` is up; return ``(done, not_done)``.

    As `concurrent.futures.wait` for coroutines: ``done, not_done = await wait(futures)``.

    Args:
        futures: Futures returned by `AsyncExecutor.submit`; duplicates count once.
        timeout: Seconds to wait at most; None waits as long as it takes. When it is up
            `wait` returns (it does not raise) and the futures go on.
        return_when: `FIRST_COMPLETED`, `FIRST_EXCEPTION` or `ALL_COMPLETED` (the
            default); the constants of `concurrent.futures` and `asyncio` work too.

    Returns:
        The futures that are done and those that are not, as two sets.

    Raises:
        ValueError: If ``return_when`` is none of the three.
        TypeError: If ``futures`` holds something that is not an `AsyncFuture`.
    """
    when = parse_return_when(return_when)
    unique = list(_checked(futures, "wait"))
    total = len(unique)
    done = sum(1 for f in unique if f.done())
    failed = sum(1 for f in unique if _failed(f))
    if not wait_is_over(when, total=total, done=done, failed=failed):
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending = [f._future for f in unique if not f.done()]

        def arrived(inner: asyncio.Future[Any]) -> None:
            nonlocal done, failed
            done += 1
            if not inner.cancelled() and inner.exception() is not None:
                failed += 1
            if not waiter.done() and wait_is_over(when, total=total, done=done, failed=failed):
                waiter.set_result(None)

        for inner in pending:
            inner.add_done_callback(arrived)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            pass  # the time is up: report where things stand
        finally:
            for inner in pending:
                inner.remove_done_callback(arrived)
    finished = {f for f in unique if f.done()}
    return DoneAndNotDone(finished, {f for f in unique if not f.done()})
