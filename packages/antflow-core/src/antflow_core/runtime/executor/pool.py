"""`AsyncExecutor`: a pool of workers that calls submitted functions, `concurrent.futures` style.

Theory of operation
-------------------
``submit()`` wraps a call into an `AsyncFuture` and appends it to the executor's queue
(a deque; calls are served first in, first out). Up to ``max_workers`` worker tasks,
named ``antflow:AsyncExecutor-W<n>``, take calls from it: a worker is started when a call
arrives and no worker is idle, and an idle worker sleeps on a future of its own that
``submit()`` completes to wake it (nothing polls). A worker calls the function (the
``calls`` room: async or in a thread, limit, retries), settles the future, and takes
the next call; it never ends because of what a call did:

* a call that raises (anything, including a ``CancelledError`` the function raised on
  its own) fails its future with that exception;
* ``future.cancel()`` on a running call cancels the worker task where the call awaits;
  the worker recognises its own request (the future is cancelled), withdraws it
  (``Task.uncancel``) and goes on with the next call;
* a cancellation of the worker task itself (the executor stopping, the loop closing)
  cancels the future of the call it was running and ends the worker.

A worker makes the executor's named limits current (``antflow_core.runtime.limits``), so
``rate_limit("api", 500, 60)``, ``concurrency_limit(...)`` and
``call_rate_has_capacity(...)`` work inside its calls, shared by every call of the
executor; an executor used inside a pipeline's task shares the pipeline's instead.

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
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from types import CoroutineType, TracebackType
from typing import Any, ParamSpec, Self, TypeVar, overload

from typing_extensions import Unpack

from antflow_core.errors import ExecutorShutdownError
from antflow_core.model.calls import (
    ALL_COMPLETED,
    ReturnWhen,
    map_window,
    option_keywords,
    validate_max_workers,
)
from antflow_core.runtime.executor.calls import (
    OPTION_NAMES,
    CallOptions,
    CallPlan,
    CompiledOptions,
    compile_options,
    merge_options,
    plan_call,
    returned_coroutine,
    run_call,
)
from antflow_core.runtime.executor.futures import FINISHED, RUNNING, AsyncFuture
from antflow_core.runtime.executor.mapping import MapResults, argument_puller
from antflow_core.runtime.executor.waiting import AsCompleted, DoneAndNotDone, as_completed, wait
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.limits import NamedLimits, current_limits
from antflow_core.runtime.threads import TaskThreads

__all__ = ["DEFAULT_MAX_WORKERS", "AsyncExecutor", "Submitter"]

P = ParamSpec("P")
T = TypeVar("T")
A1 = TypeVar("A1")
A2 = TypeVar("A2")
A3 = TypeVar("A3")

DEFAULT_MAX_WORKERS = 5
"""How many calls an `AsyncExecutor` runs at once when not told (antflow 0.10's default)."""


class Submitter:
    """The calling half of an `AsyncExecutor`: ``submit``, ``map`` and ``map_iter``.

    An `AsyncExecutor` is one, with its own options; ``executor.with_options(...)``
    returns another that sends its calls to the same executor with other options.
    """

    __slots__ = ("_executor", "_options")

    def __init__(self, executor: AsyncExecutor, options: CompiledOptions) -> None:
        self._executor = executor
        self._options = options

    # ---------------------------------------------------------------- submit
    @overload
    def submit(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncFuture[T]: ...
    @overload
    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncFuture[T]: ...
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AsyncFuture[Any]:
        """Start ``fn(*args, **kwargs)`` (queued until a worker is free); return its future.

        ``fn`` may be an ``async`` function (awaited on the loop) or a plain one (run in
        the executor's threads, at most ``max_workers`` at once too). Every keyword
        argument goes to ``fn``; give a call its own options with
        ``executor.with_options(retries=3).submit(fn, ...)``.

        antflow 0.10's form ``submit(fn, x, retries=3, retry_delay=1, semaphore=s)``
        works too: those keywords are taken as the call's options when ``fn`` has no
        parameter of that name.

        Returns:
            The call's future: ``await future`` gives what ``fn`` returned.

        Raises:
            ExecutorShutdownError: If the executor was shut down.
            TypeError: If ``fn`` is not callable.
        """
        options = self._options
        if kwargs and not OPTION_NAMES.isdisjoint(kwargs):
            legacy = option_keywords(fn, kwargs, OPTION_NAMES)
            if legacy:
                options = merge_options(options, {k: kwargs[k] for k in legacy})
                kwargs = {k: v for k, v in kwargs.items() if k not in legacy}
        executor = self._executor
        loop = executor._bind("submit")
        plan = executor._plan(fn, options)
        future: AsyncFuture[Any] = AsyncFuture._pending(
            loop.create_future(), fn, args, kwargs, plan
        )
        executor._enqueue(future)
        return future

    # ------------------------------------------------------------------- map
    @overload
    def map(
        self,
        fn: Callable[[A1], Awaitable[T]],
        iterable: Iterable[A1],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[[A1, A2], Awaitable[T]],
        iterable1: Iterable[A1],
        iterable2: Iterable[A2],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[[A1, A2, A3], Awaitable[T]],
        iterable1: Iterable[A1],
        iterable2: Iterable[A2],
        iterable3: Iterable[A3],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[..., Awaitable[T]],
        iterable1: Iterable[Any],
        iterable2: Iterable[Any],
        iterable3: Iterable[Any],
        iterable4: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[[A1], T],
        iterable: Iterable[A1],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[[A1, A2], T],
        iterable1: Iterable[A1],
        iterable2: Iterable[A2],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[[A1, A2, A3], T],
        iterable1: Iterable[A1],
        iterable2: Iterable[A2],
        iterable3: Iterable[A3],
        /,
        *,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map(
        self,
        fn: Callable[..., T],
        iterable1: Iterable[Any],
        iterable2: Iterable[Any],
        iterable3: Iterable[Any],
        iterable4: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    def map(
        self,
        fn: Callable[..., Any],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[Any]:
        """Call ``fn`` on every input at once (up to ``max_workers`` at a time); results in order.

        As `concurrent.futures.Executor.map`, for coroutines: the iterables are read at
        once and a call is submitted for each ``zip(*iterables)`` tuple before this
        returns. ``async for result in executor.map(fn, items)`` yields the results in
        input order; ``await executor.map(fn, items)`` returns them as a list. For an
        endless or ``async`` iterable, use `map_iter`.

        Args:
            fn: The function (``async`` or plain), called as ``fn(*args)``.
            *iterables: One iterable per positional argument of ``fn``.
            timeout: Seconds from this call after which a result not yet ready raises
                `TimeoutError` (the calls not yet read are then cancelled). None waits
                as long as it takes.
            **options: The calls' options (`CallOptions`): ``retries``,
                ``retry_delay``, ``semaphore``.

        Returns:
            The results, in input order. The exception of a call that failed is raised
            when its turn comes, and the calls after it are cancelled.

        Raises:
            ExecutorShutdownError: If the executor was shut down.
            TypeError: If an iterable is async (use `map_iter`), or ``fn`` is not callable.
        """
        executor = self._executor
        loop = executor._bind("map")
        for iterable in iterables:
            if isinstance(iterable, AsyncIterable):
                raise TypeError(
                    "map() reads its iterables at once, so they must be plain iterables; "
                    "for an async iterable use map_iter(fn, aiterable)"
                )
        if not iterables:
            raise TypeError("map() needs at least one iterable of arguments for fn")
        plan = executor._plan(fn, merge_options(self._options, options))
        futures = [
            AsyncFuture._pending(loop.create_future(), fn, args, {}, plan)
            for args in zip(*iterables, strict=False)
        ]
        executor._enqueue_many(futures)
        return MapResults(futures, timeout)

    @overload
    def map_iter(
        self,
        fn: Callable[[A1], Awaitable[T]],
        iterable: Iterable[A1] | AsyncIterable[A1],
        /,
        *,
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map_iter(
        self,
        fn: Callable[[A1, A2], Awaitable[T]],
        iterable1: Iterable[A1] | AsyncIterable[A1],
        iterable2: Iterable[A2] | AsyncIterable[A2],
        /,
        *,
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map_iter(
        self,
        fn: Callable[..., Awaitable[T]],
        iterable1: Iterable[Any] | AsyncIterable[Any],
        iterable2: Iterable[Any] | AsyncIterable[Any],
        iterable3: Iterable[Any] | AsyncIterable[Any],
        /,
        *iterables: Iterable[Any] | AsyncIterable[Any],
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map_iter(
        self,
        fn: Callable[[A1], T],
        iterable: Iterable[A1] | AsyncIterable[A1],
        /,
        *,
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map_iter(
        self,
        fn: Callable[[A1, A2], T],
        iterable1: Iterable[A1] | AsyncIterable[A1],
        iterable2: Iterable[A2] | AsyncIterable[A2],
        /,
        *,
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    @overload
    def map_iter(
        self,
        fn: Callable[..., T],
        iterable1: Iterable[Any] | AsyncIterable[Any],
        iterable2: Iterable[Any] | AsyncIterable[Any],
        iterable3: Iterable[Any] | AsyncIterable[Any],
        /,
        *iterables: Iterable[Any] | AsyncIterable[Any],
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[T]: ...
    def map_iter(
        self,
        fn: Callable[..., Any],
        /,
        *iterables: Iterable[Any] | AsyncIterable[Any],
        buffersize: int | None = None,
        timeout: float | None = None,
        **options: Unpack[CallOptions],
    ) -> MapResults[Any]:
        """Call ``fn`` on a stream of inputs, at most ``buffersize`` calls ahead; results in order.

        The streaming `map`: the iterables (plain or ``async``, possibly endless) are
        read only as results are taken, so at most ``buffersize`` calls are started and
        not yet yielded at any time. Calls start when the iteration starts.

        Args:
            fn: The function (``async`` or plain), called as ``fn(*args)``.
            *iterables: One iterable (or async iterable) per positional argument of ``fn``.
            buffersize: How many calls may be started ahead of the consumer, at least 1
                (None: twice ``max_workers``, so the workers stay busy while the
                consumer handles a result).
            timeout: Seconds from this call after which a result not yet ready raises
                `TimeoutError`.
            **options: The calls' options (`CallOptions`).

        Returns:
            The results, in input order. An exception raised by an iterable is raised
            after the results of the calls already started.

        Raises:
            ExecutorShutdownError: If the executor was shut down.
            ValueError: If ``buffersize`` is not an integer >= 1.
        """
        executor = self._executor
        executor._bind("map_iter")
        window = map_window(buffersize, executor._max_workers)
        if not iterables:
            raise TypeError("map_iter() needs at least one iterable of arguments for fn")
        plan = executor._plan(fn, merge_options(self._options, options))
        pull = argument_puller(iterables)

        def submit(args: tuple[Any, ...]) -> AsyncFuture[Any]:
            loop = executor._bind("map_iter")
            future: AsyncFuture[Any] = AsyncFuture._pending(
                loop.create_future(), fn, args, {}, plan
            )
            executor._enqueue(future)
            return future

        return MapResults((), timeout, submit=submit, pull=pull, window=window)

    def with_options(self, **options: Unpack[CallOptions]) -> Submitter:
        """Return a `Submitter` whose calls go to the same executor with these options.

        The options given here replace the executor's, key by key; the others stay.

        Example:
            ```python
            careful = executor.with_options(retries=5, retry_delay=0.5)
            future = careful.submit(fetch, url)  # typed AsyncFuture[str]
            ```

        Raises:
            TypeError: For an unknown option or a ``semaphore`` that is not one.
            ValueError: For ``retries`` or ``retry_delay`` out of range.
        """
        return Submitter(self._executor, merge_options(self._options, options))


class AsyncExecutor(Submitter):
    """A pool of ``max_workers`` workers that runs functions, `concurrent.futures` style.

    Use it as ``async with AsyncExecutor(max_workers=20) as executor:``. Submit one call
    (`submit` returns an `AsyncFuture`), or a function over many inputs (`map`, and
    `map_iter` for a stream), with retries; wait with `as_completed` and `wait`. When
    the block ends, every call submitted has ended (it waits for them) and nothing the
    executor started is left running.

    Args:
        max_workers: How many calls run at once, at least 1 (default 5).
        **options: Options of every call (`CallOptions`: ``retries``, ``retry_delay``,
            ``semaphore``); ``with_options()`` and ``map()`` can override them.

    Raises:
        ValueError: If ``max_workers`` is not an integer >= 1, or an option is out of range.
        TypeError: For an unknown option.

    Example:
        ```python
        async with AsyncExecutor(max_workers=20, retries=2) as executor:
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
        self._workers.append(loop.create_task(self._work(), name=name))

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

    async def _work(self) -> None:
        """One worker: take calls from the queue and run them, until the executor stops."""
        queue = self._queue
        idle = self._idle
        loop = self._loop
        assert loop is not None
        task = asyncio.current_task()
        assert task is not None
        threads = self._thread_pool
        if current_limits.get() is None:  # inside a pipeline's task: share the pipeline's
            current_limits.set(self._named_limits)
        while True:
            if queue:
                future = queue.popleft()
            elif self._closing:
                self._retire(task)
                return
            else:
                waiter: asyncio.Future[None] = loop.create_future()
                idle.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter in idle:  # cancelled while idle
                        idle.remove(waiter)
                continue
            inner = future._future
            if inner.done():  # cancelled before it started
                continue
            future._state = RUNNING
            future._runner = task
            fn = future._fn
            assert fn is not None
            try:
                if future._plan.simple:
                    result = await fn(*future._args, **future._kwargs)
                    if type(result) is CoroutineType:
                        returned_coroutine(fn, result)
                else:
                    result = await run_call(future._plan, fn, future._args, future._kwargs, threads)
            except BaseException as error:
                _settle_failure(task, future, error)
            else:
                if inner.done():  # cancelled while it ran, and it ended anyway
                    _withdraw_cancel(task)
                else:
                    inner.set_result(result)
            finally:
                future._state = FINISHED
                future._runner = None
                future._release()


def _withdraw_cancel(task: asyncio.Task[None]) -> None:
    """Take back the cancel request ``future.cancel()`` made; raise if another one remains."""
    if task.uncancel() > 0:
        raise asyncio.CancelledError  # the worker itself is being cancelled too


def _settle_failure(
    task: asyncio.Task[None], future: AsyncFuture[Any], error: BaseException
) -> None:
    """End ``future`` with ``error``, or end the worker if the cancellation was the worker's."""
    inner = future._future
    if inner.cancelled():
        # future.cancel() stopped this call: whatever it raised, the call is over.
        _withdraw_cancel(task)
        return
    if is_own_cancellation(error):
        inner.cancel()  # the worker is being stopped: its call ends cancelled
        raise error
    if isinstance(error, StopIteration):  # a Future refuses StopIteration
        wrapped = RuntimeError(f"the call raised StopIteration: {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    inner.set_exception(error)
