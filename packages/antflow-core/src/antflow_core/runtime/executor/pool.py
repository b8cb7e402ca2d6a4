"""`AsyncExecutor`: a pool of workers that calls submitted functions, `concurrent.futures` style.

Theory of operation
-------------------
``submit()`` (the ``submitter`` room) wraps a call into an `AsyncFuture` and appends it
to the executor's queue (a deque; calls are served first in, first out). Up to
``max_workers`` worker tasks, named ``antflow:AsyncExecutor-W<n>``, take calls from it:
a worker is started when a call arrives and no worker is idle, and an idle worker
sleeps on a future of its own that ``_enqueue()`` completes to wake it (nothing polls).
What a worker does with a call, and why it never ends because of one, is the
``worker`` room.

This module owns the pool's life: the loop it is bound to (the one of its first call),
the queue, the idle waiters, the workers, the threads plain functions run in, and the
two protected hooks a retry uses: ``_jitter_draw()`` (the random draw that jitters a
wait) and ``_backoff_sleep(seconds)`` (the wait itself). A subclass may override them to
run retries on a controlled clock, as `Pipeline`'s hooks of the same names.

Structured concurrency: the executor owns every worker and its threads.
``shutdown(wait=True)`` and the end of an ``async with`` block return only when every
worker has ended: after the calls left in the queue have run (or been cancelled, with
``cancel_futures=True``). When the block ends with an exception, or the task waiting in
``shutdown()`` is cancelled, every call is cancelled, pending and running, and the stop
is still awaited to its end. Nothing the executor started is left running afterwards,
except a plain function already running in a thread (a thread cannot be stopped; its
result is dropped). After shutdown, ``submit()`` and ``map()`` raise
`ExecutorShutdownError`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from typing_extensions import Unpack

from antflow_core.errors import ExecutorShutdownError
from antflow_core.model.calls import ALL_COMPLETED, ReturnWhen, validate_max_workers
from antflow_core.runtime.executor.calls import (
    CallOptions,
    CallPlan,
    CompiledOptions,
    compile_options,
    plan_call,
)
from antflow_core.runtime.executor.futures import AsyncFuture
from antflow_core.runtime.executor.submitter import Submitter
from antflow_core.runtime.executor.waiting import AsCompleted, DoneAndNotDone, as_completed, wait
from antflow_core.runtime.executor.worker import work
from antflow_core.runtime.limits import NamedLimits
from antflow_core.runtime.threads import TaskThreads

__all__ = ["DEFAULT_MAX_WORKERS", "AsyncExecutor"]

T = TypeVar("T")

DEFAULT_MAX_WORKERS = 5
"""How many calls an `AsyncExecutor` runs at once when not told (antflow 0.10's default)."""


class AsyncExecutor(Submitter):
    """A pool of ``max_workers`` workers that runs functions, `concurrent.futures` style.

    Use it as ``async with AsyncExecutor(max_workers=20) as executor:``. Submit one call
    (`submit` returns an `AsyncFuture`), or a function over many inputs (`map`, and
    `map_iter` for a stream), with retries; wait with `as_completed` and `wait`. When
    the block ends, every call submitted has ended (it waits for them) and nothing the
    executor started is left running.

    Args:
        max_workers: How many calls run at once, at least 1 (default 5).
        **options: Options of every call (`CallOptions`): the retry options
            (``retries``, ``retry_delay``, ``backoff``, ``max_wait_seconds``, ``jitter``,
            ``retry_on``, ``retry_if``, ``retry_policy``), ``semaphore`` and
            ``rate_limit``; ``with_options()`` and ``map()`` can override them.

    Raises:
        ValueError: If ``max_workers`` is not an integer >= 1, or an option is out of range.
        TypeError: For an unknown option.

    Example:
        ```python
        async with AsyncExecutor(max_workers=20, retries=2, retry_on=TimeoutError) as executor:
            pages = await executor.map(fetch, urls)
        ```
    """

    __slots__ = (
        "_closing",
        "_idle",
        "_last_fn",
        "_last_plan",
        "_loop",
        "_max_workers",
        "_named_limits",
        "_queue",
        "_random",
        "_threads",
        "_workers",
    )

    def __init__(self, max_workers: int = DEFAULT_MAX_WORKERS, **options: Unpack[CallOptions]):
        super().__init__(self, compile_options(options))
        self._max_workers = validate_max_workers(max_workers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[AsyncFuture[Any]] = deque()
        self._idle: list[asyncio.Future[None]] = []  # one waiter per idle worker
        self._workers: list[asyncio.Task[None]] = []
        self._threads: TaskThreads | None = None  # made for the first plain function
        self._closing = False
        # What rate_limit("api", ...) & co. share by name in calls run outside a pipeline.
        self._named_limits = NamedLimits()
        # The plan of the last function submitted with the executor's own options.
        self._last_fn: Callable[..., Any] | None = None
        self._last_plan: CallPlan | None = None
        self._random = random.Random()  # draws the jitter of retry waits (_jitter_draw)

    @property
    def max_workers(self) -> int:
        """How many calls run at once."""
        return self._max_workers

    # ------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> Self:
        self._bind("async with")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.shutdown(wait=True)
        else:
            # The block failed or was cancelled: its calls are not wanted any more.
            self._cancel_everything()
            await self._join()

    async def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more calls; with ``wait``, return when every call has ended.

        As `concurrent.futures.Executor.shutdown`: the calls already submitted still
        run, unless ``cancel_futures`` cancels those not started yet (running calls go
        on). Afterwards `submit` and the maps raise `ExecutorShutdownError`. Calling it
        again is harmless. If the task waiting here is cancelled, every call is
        cancelled and the stop is still awaited to its end.

        Args:
            wait: Return only when every worker has ended (True), or at once (False; the
                workers end on their own after the calls left, and a later
                ``shutdown()`` or the end of the ``async with`` block awaits them).
            cancel_futures: Cancel the calls that have not started.

        Raises:
            RuntimeError: If called with ``wait=True`` from inside one of this
                executor's calls (it would wait for itself).
        """
        if wait and asyncio.current_task() in self._workers:
            raise RuntimeError(
                "shutdown(wait=True) was called from inside a call of this AsyncExecutor, "
                "which would wait for itself: use shutdown(wait=False) there"
            )
        self._closing = True
        if cancel_futures:
            queue = self._queue
            while queue:
                queue.popleft().cancel()
        self._wake_all()
        if wait:
            await self._join()

    # ---------------------------------------------------------------- waiting
    def as_completed(
        self, futures: Iterable[AsyncFuture[T]], timeout: float | None = None
    ) -> AsCompleted[T]:
        """`as_completed` (``executor.as_completed(...)``, antflow 0.10's form)."""
        return as_completed(futures, timeout)

    async def wait(
        self,
        futures: Iterable[AsyncFuture[T]],
        timeout: float | None = None,  # noqa: ASYNC109 - as concurrent.futures.wait
        return_when: ReturnWhen | str = ALL_COMPLETED,
    ) -> DoneAndNotDone[T]:
        """`wait` (``await executor.wait(...)``, antflow 0.10's form)."""
        return await wait(futures, timeout, return_when)

    # -------------------------------------------------------------- internals
    def _bind(self, caller: str) -> asyncio.AbstractEventLoop:
        """Return the running loop, checking that calls are welcome on it."""
        if self._closing and caller != "async with":
            raise ExecutorShutdownError(
                f"cannot {caller}(): this AsyncExecutor was shut down (its `async with` block "
                "ended or shutdown() was called); submit before that, or create a new "
                "AsyncExecutor"
            )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{caller}() needs a running asyncio event loop: call it from a coroutine "
                "(inside `async def`, under asyncio.run())"
            ) from None
        bound = self._loop
        if bound is None:
            self._loop = loop
        elif bound is not loop:
            raise RuntimeError(
                f"{caller}(): this AsyncExecutor belongs to another event loop (the one of "
                "its first call); create one AsyncExecutor per event loop"
            )
        return loop

    def _plan(self, fn: Callable[..., Any], options: CompiledOptions) -> CallPlan:
        if options is self._options:
            if fn is self._last_fn and self._last_plan is not None:
                return self._last_plan
            plan = plan_call(fn, options)
            self._last_fn, self._last_plan = fn, plan
            return plan
        return plan_call(fn, options)

    def _enqueue(self, future: AsyncFuture[Any]) -> None:
        self._queue.append(future)
        self._wake_one()

    def _enqueue_many(self, futures: list[AsyncFuture[Any]]) -> None:
        self._queue.extend(futures)
        for _ in range(len(futures)):
            if not self._wake_one():
                break

    def _wake_one(self) -> bool:
        """Wake an idle worker, or start one if there is room; False if neither."""
        idle = self._idle
        while idle:
            waiter = idle.pop()
            if not waiter.done():  # done: its worker was cancelled while idle
                waiter.set_result(None)
                return True
        if len(self._workers) < self._max_workers:
            self._start_worker()
            return True
        return False

    def _start_worker(self) -> None:
        loop = self._loop
        assert loop is not None
        name = f"antflow:AsyncExecutor-W{len(self._workers)}"
        self._workers.append(loop.create_task(work(self), name=name))

    async def _backoff_sleep(self, seconds: float) -> None:
        """Wait ``seconds`` before a retry (a protected hook: override it to control time)."""
        await asyncio.sleep(seconds)

    def _jitter_draw(self) -> float:
        """Draw the number in ``[0, 1)`` that jitters a retry's wait (a protected hook)."""
        return self._random.random()

    def _thread_pool(self) -> TaskThreads:
        threads = self._threads
        if threads is None:
            threads = self._threads = TaskThreads("antflow-executor")
        return threads

    def _wake_all(self) -> None:
        idle = self._idle
        waiters = idle[:]
        idle.clear()  # in place: the workers hold this list
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _cancel_everything(self) -> None:
        """Cancel every call, pending and running, and stop the workers."""
        self._closing = True
        queue = self._queue
        while queue:
            queue.popleft().cancel()
        for worker in self._workers:
            worker.cancel()

    def _retire(self, worker: asyncio.Task[None]) -> None:
        """A worker ends after shutdown: the last one lets the idle threads end."""
        if all(w.done() or w is worker for w in self._workers):
            self._release_threads()

    def _release_threads(self) -> None:
        threads, self._threads = self._threads, None
        if threads is not None:
            # A plain function still running in a thread (its call cancelled) ends on its own.
            threads.close()

    async def _join(self) -> None:
        """Await every worker's end; if cancelled meanwhile, cancel everything and finish."""
        cancelled = False
        while True:
            running = [w for w in self._workers if not w.done()]
            if not running:
                break
            try:
                await asyncio.wait(running)
            except asyncio.CancelledError:
                cancelled = True
                self._cancel_everything()
        workers, self._workers = self._workers, []
        self._release_threads()
        if cancelled:
            raise asyncio.CancelledError
        for worker in workers:
            crash = None if worker.cancelled() else worker.exception()
            if crash is not None:  # a bug: a worker never ends because of what a call did
                raise RuntimeError("an AsyncExecutor worker crashed") from crash
