"""`AsyncFuture`: the eventual outcome of one call submitted to an `AsyncExecutor`.

Theory of operation
-------------------
A future is both the executor's work item and the caller's handle. ``submit()`` creates
it with the function and its arguments; a worker takes it from the queue, marks it
running, calls the function and settles it with the result or the exception; then the
function and its arguments are dropped so that a kept future does not keep them alive.

The outcome lives in a private `asyncio.Future` that only the executor settles and only
`AsyncFuture.cancel` cancels. Waiting never cancels the call: ``await future``,
``await future.result(timeout=...)``, `as_completed` and `wait` wait through
`asyncio.shield`, so a timeout or the cancellation of whoever waits leaves the call
running, as with `concurrent.futures`.

``cancel()`` cancels the call whatever its state: a pending call never runs; a running
async call is cancelled where it awaits (its worker then goes on with the next call); a
running plain function cannot be stopped in its thread, so it runs to its end and its
result is dropped. In every case the future is cancelled at once: after ``cancel()``
returns ``True``, ``cancelled()`` is true.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

if TYPE_CHECKING:
    from antflow_core.runtime.executor.calls import CallPlan

__all__ = ["AsyncFuture"]

T = TypeVar("T")

PENDING: Final = 0
RUNNING: Final = 1
FINISHED: Final = 2
_STATE_NAMES: Final = ("pending", "running", "finished")


class AsyncFuture(Generic[T]):
    """The eventual outcome of ``executor.submit(fn, *args, **kwargs)``.

    Await it (``await future``) or its `result` for the function's return value. Its
    methods are those of `concurrent.futures.Future`, for coroutines: `result` and
    waiting are awaited, the rest are plain calls.

    Example:
        ```python
        future = executor.submit(fetch, "https://example.org")
        page = await future  # or: await future.result(timeout=10)
        ```
    """

    __slots__ = ("__weakref__", "_args", "_fn", "_future", "_kwargs", "_plan", "_runner", "_state")

    _future: asyncio.Future[T]
    _fn: Callable[..., Any] | None
    _args: tuple[Any, ...]
    _kwargs: dict[str, Any]
    _plan: CallPlan
    _state: int
    _runner: asyncio.Task[None] | None  # the worker running the call: cancel() stops it there

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "an AsyncFuture is made by AsyncExecutor.submit() (or map()), which returns it: "
            "submit the call instead of building its future"
        )

    @classmethod
    def _pending(
        cls,
        future: asyncio.Future[T],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        plan: CallPlan,
    ) -> AsyncFuture[T]:
        """The future of a call about to be queued (what ``submit()`` builds)."""
        self: AsyncFuture[T] = object.__new__(cls)
        self._future = future
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._plan = plan
        self._state = PENDING
        self._runner = None
        return self

    # ------------------------------------------------------------------ state
    def done(self) -> bool:
        """Return True if the call finished (returned or raised) or was cancelled."""
        return self._future.done()

    def cancelled(self) -> bool:
        """Return True if the future was cancelled (by `cancel`, or by a shutdown)."""
        return self._future.cancelled()

    def running(self) -> bool:
        """Return True while the function is being called (between attempts too)."""
        return self._state == RUNNING and not self._future.done()

    # ---------------------------------------------------------------- outcome
    async def result(self, timeout: float | None = None) -> T:  # noqa: ASYNC109 - as concurrent.futures
        """Wait for the call to end and return what the function returned.

        Args:
            timeout: Seconds to wait at most; None waits as long as it takes. When the
                time is up the call goes on; only this wait ends.

        Raises:
            TimeoutError: If the call has not ended within ``timeout`` seconds.
            asyncio.CancelledError: If the future was cancelled.
            Exception: Whatever the function raised on its last attempt.
        """
        future = self._future
        if not future.done():
            if timeout is None:
                await asyncio.shield(future)
            else:
                try:
                    async with asyncio.timeout(timeout):
                        await asyncio.shield(future)
                except TimeoutError:
                    if future.done():  # it ended just as the time was up
                        return future.result()
                    raise TimeoutError(
                        f"the call of {self._name()} did not end within {timeout} seconds "
                        "(it goes on; cancel() stops it)"
                    ) from None
        return future.result()

    def __await__(self) -> Generator[Any, None, T]:
        """``await future`` is ``await future.result()``."""
        return self.result().__await__()

    def exception(self) -> BaseException | None:
        """Return what the call raised, or None if it returned a value.

        Unlike `concurrent.futures.Future.exception` this does not wait: call it once the
        future is done (after awaiting it, `wait` or `as_completed`).

        Raises:
            asyncio.CancelledError: If the future was cancelled.
            asyncio.InvalidStateError: If the call has not ended yet.
        """
        future = self._future
        if not future.done():
            raise asyncio.InvalidStateError(
                f"the call of {self._name()} has not ended yet: await the future (or "
                "antflow's wait() or as_completed()) before asking for its exception"
            )
        return future.exception()

    # --------------------------------------------------------------- control
    def cancel(self) -> bool:
        """Cancel the call: a pending one never runs, a running one is stopped.

        A running ``async`` function is cancelled where it awaits; a plain function
        running in a thread cannot be stopped and runs to its end, its result dropped.
        Either way the future is cancelled at once.

        Returns:
            False if the call had already ended, True otherwise.
        """
        future = self._future
        if future.done():
            return False
        future.cancel()
        runner = self._runner
        if runner is not None:
            runner.cancel()  # the worker turns this into the end of the call, not its own
        else:
            self._release()  # never called: drop the function and its arguments now
        return True

    def add_done_callback(self, fn: Callable[[AsyncFuture[T]], object]) -> None:
        """Call ``fn(future)`` once the future is done (at once, soon, if it already is).

        Callbacks run on the event loop in the order they were added; an exception one
        raises is logged by the loop and does not affect the others.
        """
        self._future.add_done_callback(lambda _: fn(self))

    # -------------------------------------------------------------- internals
    def _release(self) -> None:
        self._fn = None
        self._args = ()
        self._kwargs = {}

    def _name(self) -> str:
        fn = self._fn
        name = getattr(fn, "__qualname__", None) if fn is not None else None
        return f"{name}()" if isinstance(name, str) else "the function"

    def __repr__(self) -> str:
        future = self._future
        if future.cancelled():
            state = "cancelled"
        elif future.done():
            error = future.exception()
            state = "failed" if error is not None else "finished"
        else:
            state = _STATE_NAMES[self._state]
        return f"<AsyncFuture {state}>"
