"""Calling one submitted function: async or in a thread, under a limit, with retries.

Theory of operation
-------------------
The options of a call (`CallOptions`: ``retries``, ``retry_delay``, ``semaphore``,
``rate_limit``) are checked once, when they are given (to the executor, to
``with_options()`` or to ``map()``), and compiled with the function into a `CallPlan`.
A plan whose function is ``async`` and that has no retry and no limit is *simple*: the
worker awaits the function itself, with nothing around it. Any other call goes through
`run_call`.

`run_call` makes the first attempt directly. When it raises, the model decides
(`decide_call_retry`) and, if the call retries, tenacity executes: its ``stop`` and
``wait`` ask the model, and the first attempt, which already failed, is replayed into it
as its attempt 1, so no retry machinery is built for a call that succeeds at once (as
for a stage's tasks, see ``task_calls``). After the last attempt the function's own
exception is raised again, never a wrapper.

A plain function (not ``async``) runs in the executor's `TaskThreads` (the threads a
pipeline's plain tasks run in: a thread for every call at once, daemon threads, the
outcome handed back as a value), with the caller's context variables; if it returns an
awaitable (a lambda around an async call), that is awaited on the loop. A cancelled
plain call is abandoned: it runs to its end in its thread, which keeps no later call
waiting. The ``semaphore`` (any async context manager: an
`asyncio.Semaphore`, a lock...) is held around each attempt, not during the waits
between attempts. The ``rate_limit`` (a `RateLimiter` of ``antflow_core.runtime.limits``,
the one a stage's ``call_rate`` uses) counts each attempt as a start, once the
semaphore is held, as a stage's limits are taken: concurrency first, then rate.

A ``rate_limit=(calls, period)`` is compiled into one `RateLimiter` when it is given:
the executor's own is shared by all its calls (``with_options()`` and ``map()`` keep
it unless they give their own), and a `RateLimiter` object passed in is shared with
whatever else uses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import CoroutineType
from typing import Any, Final, NoReturn, TypedDict

from returns.result import Failure
from tenacity import AsyncRetrying, RetryCallState

from antflow_core.errors import TaskReturnedCoroutineError
from antflow_core.model import is_async_callable, is_retryable
from antflow_core.model.calls import (
    NO_RETRY,
    CallPolicy,
    call_policy,
    call_rate_limit,
    decide_call_retry,
)
from antflow_core.model.decisions import RetryTask
from antflow_core.model.limits import RateLimit
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.limits import RateLimiter
from antflow_core.runtime.threads import TaskThreads

__all__ = [
    "OPTION_NAMES",
    "CallOptions",
    "CallPlan",
    "Limit",
    "compile_options",
    "merge_options",
    "plan_call",
    "run_call",
]

Limit = AbstractAsyncContextManager[Any]
"""What ``semaphore=`` accepts: an `asyncio.Semaphore`, or any async context manager."""


class CallOptions(TypedDict, total=False):
    """The options of a call, given to `AsyncExecutor`, ``with_options()``, ``map()``.

    Every key is optional; what a call does not say, the executor's options say, and
    what they do not say, the defaults below.

    Attributes:
        retries: How many times a failed call is tried again (default 0: never). The
            function is called ``retries + 1`` times at most; after the last attempt
            its own exception is raised.
        retry_delay: Seconds to wait before each retry (default 1.0, as a `Stage`'s
            ``task_wait_seconds``).
        semaphore: An `asyncio.Semaphore` (or any async context manager) held around
            each attempt: a limit shared by calls of several executors or maps, on top
            of ``max_workers``. None (the default) for none.
        rate_limit: At most ``calls`` attempts start in any window of ``period``
            seconds: ``(calls, period)`` (``(500, 60)``: 500 a minute) or a `RateLimit`,
            one budget for the calls made with these options; or a `RateLimiter`, whose
            budget is shared with everything else that uses it. None (the default) for
            none.
    """

    retries: int
    retry_delay: float
    semaphore: Limit | None
    rate_limit: tuple[int, float] | RateLimit | RateLimiter | None


OPTION_NAMES: Final = frozenset(CallOptions.__annotations__)
"""The keys of `CallOptions`."""


@dataclass(frozen=True, slots=True)
class CompiledOptions:
    """`CallOptions`, checked: the model's `CallPolicy` and the limits.

    Attributes:
        policy: When to retry.
        semaphore: Held around each attempt, or None.
        rate: Counts each attempt's start, or None.
        given: The options as given, a rate limit as its `RateLimiter` (so that options
            merged over these keep the same budget).
    """

    policy: CallPolicy = NO_RETRY
    semaphore: Limit | None = None
    rate: RateLimiter | None = None
    given: tuple[tuple[str, Any], ...] = ()


DEFAULT_OPTIONS: Final = CompiledOptions()


def compile_options(options: CallOptions | dict[str, Any]) -> CompiledOptions:
    """Check ``options`` and compile them (alone, with the defaults for what they omit).

    Raises:
        TypeError: If a key is not an option, ``semaphore`` is not an async context
            manager, or ``rate_limit`` not a pair, a `RateLimit` or a `RateLimiter`.
        ValueError: If ``retries``, ``retry_delay`` or the numbers of ``rate_limit`` are
            out of range.
    """
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        accepted = ", ".join(sorted(OPTION_NAMES))
        raise TypeError(
            f"unknown call option {', '.join(map(repr, unknown))}: the options are {accepted}"
        )
    if not options:
        return DEFAULT_OPTIONS
    policy = call_policy(**{k: v for k, v in options.items() if k in ("retries", "retry_delay")})
    rate = _rate_limiter(options.get("rate_limit"))
    semaphore = options.get("semaphore")
    if semaphore is not None and not (
        hasattr(semaphore, "__aenter__") and hasattr(semaphore, "__aexit__")
    ):
        raise TypeError(
            "semaphore must be an asyncio.Semaphore (or any async context manager) or None, "
            f"got {semaphore!r}"
        )
    given = {**options, "rate_limit": rate} if "rate_limit" in options else dict(options)
    return CompiledOptions(policy, semaphore, rate, tuple(sorted(given.items())))


def _rate_limiter(value: object) -> RateLimiter | None:
    """The limiter of a ``rate_limit`` option: made from a pair or a `RateLimit`, or as given."""
    if value is None or isinstance(value, RateLimiter):
        return value
    return RateLimiter.of(call_rate_limit(value), name="rate_limit")


def merge_options(base: CompiledOptions, options: CallOptions | dict[str, Any]) -> CompiledOptions:
    """Compile ``options`` over ``base``: what ``options`` says wins, key by key."""
    if not options:
        return base
    return compile_options({**dict(base.given), **options})


@dataclass(frozen=True, slots=True)
class CallPlan:
    """A function with its compiled options: how a worker calls it, decided once.

    Attributes:
        options: The call's options.
        is_async: Whether the function returns a coroutine; if not it runs in a thread.
        simple: Awaited as it is: async, no retry, no limit.
    """

    options: CompiledOptions
    is_async: bool
    simple: bool


def plan_call(fn: Callable[..., Any], options: CompiledOptions) -> CallPlan:
    """Return the `CallPlan` of calling ``fn`` with ``options``.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(
            f"the function to call must be callable, got {fn!r} of type {type(fn).__name__}: "
            "pass the function itself, e.g. submit(fetch, url), not submit(fetch(url))"
        )
    is_async = is_async_callable(fn)
    simple = (
        is_async
        and options.policy.attempts == 1
        and options.semaphore is None
        and options.rate is None
    )
    return CallPlan(options, is_async, simple)


async def run_call(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: Callable[[], TaskThreads],
) -> Any:
    """Call ``fn(*args, **kwargs)`` as ``plan`` says; return its value.

    Args:
        plan: The call's plan.
        fn: The function.
        args: Its positional arguments.
        kwargs: Its keyword arguments.
        threads: Returns the threads a plain function runs in (made on first use).

    Raises:
        BaseException: What the function raised on its last attempt.
    """
    try:
        return await _attempt(plan, fn, args, kwargs, threads)
    except BaseException as first_error:
        if is_own_cancellation(first_error):
            raise
        policy = plan.options.policy
        decision = decide_call_retry(policy, attempt=1, error=first_error)
        if not isinstance(decision.value_or(None), RetryTask):
            raise
        return await _retry(plan, fn, args, kwargs, threads, first_error)


async def _retry(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: Callable[[], TaskThreads],
    first_error: BaseException,
) -> Any:
    policy = plan.options.policy
    replayed = False

    def verdict(state: RetryCallState) -> Any:
        return decide_call_retry(policy, attempt=state.attempt_number, error=_error(state))

    def stop(state: RetryCallState) -> bool:
        return isinstance(verdict(state), Failure)

    def wait(state: RetryCallState) -> float:
        chosen = verdict(state).value_or(None)
        return chosen.wait_seconds if isinstance(chosen, RetryTask) else 0.0

    async def attempt() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True  # tenacity's attempt 1 is the call that already failed
            raise first_error
        return await _attempt(plan, fn, args, kwargs, threads)

    retrying = AsyncRetrying(stop=stop, wait=wait, retry=_retry_if_retryable, reraise=True)
    return await retrying(attempt)


async def _attempt(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: Callable[[], TaskThreads],
) -> Any:
    options = plan.options
    semaphore = options.semaphore
    rate = options.rate
    if semaphore is None:
        if rate is not None:
            await rate.acquire()
        return await _call(plan, fn, args, kwargs, threads)
    async with semaphore:
        if rate is not None:
            await rate.acquire()
        return await _call(plan, fn, args, kwargs, threads)


async def _call(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: Callable[[], TaskThreads],
) -> Any:
    if plan.is_async:
        result = await fn(*args, **kwargs)
        if type(result) is CoroutineType:
            returned_coroutine(fn, result)
        return result
    ok, result = await threads().submit(fn, args, kwargs)
    if not ok:
        if isinstance(result, StopIteration):
            # Raised out of this coroutine it would become "coroutine raised StopIteration".
            raise RuntimeError(f"the call raised StopIteration: {result!r}") from result
        raise result
    if inspect.isawaitable(result):
        # A plain function that returns an awaitable (e.g. a lambda around an async call).
        result = await result
    return result


def returned_coroutine(fn: Callable[..., Any], result: CoroutineType[Any, Any, Any]) -> NoReturn:
    """Reject the coroutine an async function returned instead of a value (a missing ``await``)."""
    name = getattr(result, "__qualname__", "a coroutine")
    result.close()  # never awaited: close it so Python does not warn about it later
    caller = getattr(fn, "__qualname__", type(fn).__name__)
    raise TaskReturnedCoroutineError(
        f"{caller}() returned the coroutine {name}() instead of a value: add `await` where "
        "that coroutine is created inside it"
    )


def _error(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # pragma: no cover - tenacity only consults us after a failure
        raise RuntimeError("tenacity consulted the retry policy without a failed attempt")
    return error


def _retry_if_retryable(state: RetryCallState) -> bool:
    outcome = state.outcome
    return outcome is not None and outcome.failed and is_retryable(_error(state))
