"""`Submitter`: the calling half of an executor (``submit``, maps, ``with_options``).

Theory of operation
-------------------
A `Submitter` is a pair: an `AsyncExecutor` (where calls go) and compiled call options
(`CompiledOptions`, from the ``calls`` room: the retry policy and the limits). Every
method turns what it is given into `AsyncFuture` objects, each holding its function,
arguments and `CallPlan`, and hands them to the executor's queue (``_enqueue``); the
workers do the rest. ``with_options()`` returns another `Submitter` on the same
executor with options merged over its own, so options are checked once, where they are
given, never per call.

``map()`` reads its iterables at once and submits every call before it returns;
``map_iter()`` submits lazily, from the ``mapping`` room, as its consumer reads results
(at most ``buffersize`` ahead). Both return a `MapResults` that gives the results in
input order.

The overloads are the typing: ``submit(fetch, url)`` is an ``AsyncFuture[str]`` when
``fetch`` returns ``str`` (async or not), and a map yields the function's return type.
`AsyncExecutor` is a `Submitter` with the executor's own options.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from typing_extensions import Unpack

from antflow_core.model.calls import map_window, option_keywords
from antflow_core.runtime.executor.calls import (
    SUBMIT_OPTION_NAMES,
    CallOptions,
    CompiledOptions,
    merge_options,
)
from antflow_core.runtime.executor.futures import AsyncFuture
from antflow_core.runtime.executor.mapping import MapResults, argument_puller

if TYPE_CHECKING:
    from antflow_core.runtime.executor.pool import AsyncExecutor

__all__ = ["Submitter"]

P = ParamSpec("P")
T = TypeVar("T")
A1 = TypeVar("A1")
A2 = TypeVar("A2")
A3 = TypeVar("A3")


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
        works too: those keywords (and ``rate_limit``) are taken as the call's options
        when ``fn`` has no parameter of that name; the other options (``retry_on``,
        ``backoff``...) are given only to ``with_options()``, ``map()`` or the executor.

        Returns:
            The call's future: ``await future`` gives what ``fn`` returned.

        Raises:
            ExecutorShutdownError: If the executor was shut down.
            TypeError: If ``fn`` is not callable.
        """
        options = self._options
        if kwargs and not SUBMIT_OPTION_NAMES.isdisjoint(kwargs):
            legacy = option_keywords(fn, kwargs, SUBMIT_OPTION_NAMES)
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
                ``retry_delay``, ``retry_on``, ``backoff``..., ``semaphore``,
                ``rate_limit``.

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
            if not isinstance(iterable, Iterable):
                raise TypeError(
                    "map() takes iterables of arguments, one per parameter of fn "
                    f"(map(fetch, urls)), got {iterable!r} of type {type(iterable).__name__}"
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
                `TimeoutError`, whether its call is running or the input has not given
                its arguments yet.
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

        reads_wait = any(isinstance(iterable, AsyncIterable) for iterable in iterables)
        return MapResults(
            (), timeout, submit=submit, pull=pull, window=window, reads_wait=reads_wait
        )

    def with_options(self, **options: Unpack[CallOptions]) -> Submitter:
        """Return a `Submitter` whose calls go to the same executor with these options.

        The options given here replace the executor's, key by key; the others stay.

        Example:
            ```python
            careful = executor.with_options(retries=5, retry_delay=0.5, backoff="exponential")
            future = careful.submit(fetch, url)  # typed AsyncFuture[str]
            ```

        Raises:
            TypeError: For an unknown option, a ``semaphore`` or ``retry_policy`` that is
                not one.
            ValueError: For a retry option out of range (``retries``, ``retry_delay``,
                ``jitter``...).
        """
        return Submitter(self._executor, merge_options(self._options, options))
