"""Calling one submitted function: async or in a thread, under a limit, with retries.

Theory of operation
-------------------
The options of a call (`CallOptions`: the retry options, ``semaphore``, ``rate_limit``)
are checked once, when they are given (to the executor, to ``with_options()`` or to
``map()``), and compiled with the function into a `CallPlan`. The retry options become
one `RetryPolicy` (the model's `call_retry_policy`): the value a `Stage` decides its
retries with, so a call and a stage decide alike. A plan whose function is ``async``
and that has one attempt and no limit is *simple*: the worker awaits the function
itself, with nothing around it. Any other call goes through `run_call`.

`run_call` makes the first attempt directly. When it raises, the policy decides
(`RetryPolicy.decide`, once per failed attempt, with a random draw for the jitter that
the executor makes: ``_jitter_draw()``) and, if the call retries, tenacity executes:
its ``stop`` and ``wait`` read that decision and it sleeps with the executor's
``_backoff_sleep()``; the first attempt, which already failed, is replayed into it as
its attempt 1, so no retry machinery is built for a call that succeeds at once (as for
a stage's tasks, see ``task_calls``). After the last attempt, or on an error the policy
does not retry (not in ``retry_on``, refused by ``retry_if``, a `PermanentError`), the
function's own exception is raised again, never a wrapper; if ``retry_if`` itself
raised, the call fails with what it raised (chained to the function's error), as an
item of a stage does.

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
from typing import Any, Final, NoReturn, Protocol, TypedDict

from returns.result import Failure, Success
from tenacity import AsyncRetrying, RetryCallState

from antflow_core.errors import TaskReturnedCoroutineError
from antflow_core.model import is_async_callable
from antflow_core.model.calls import (
    NO_RETRY,
    RETRY_OPTION_NAMES,
    call_rate_limit,
    call_retry_policy,
)
from antflow_core.model.limits import RateLimit
from antflow_core.model.retries import (
    Backoff,
    GiveUp,
    RetryOn,
    RetryPolicy,
    RetryPredicate,
    RetryTask,
)
from antflow_core.runtime.invoke import is_own_cancellation
from antflow_core.runtime.limits import RateLimiter
from antflow_core.runtime.threads import TaskThreads

__all__ = [
    "OPTION_NAMES",
    "SUBMIT_OPTION_NAMES",
    "CallOptions",
    "CallPlan",
    "CallRuntime",
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

    The retry options make the call's `RetryPolicy` (the one a `Stage` builds from its
    ``task_attempts``, ``task_wait_seconds``, ``backoff``... fields); the decision of
    which errors retry and how long to wait is that policy's.

    Attributes:
        retries: How many times a failed call is tried again (default 0: never). The
            function is called ``retries + 1`` times at most; after the last attempt
            its own exception is raised.
        retry_delay: Seconds to wait before the first retry (default 1.0, as a
            `Stage`'s ``task_wait_seconds``); every retry with ``backoff="fixed"``.
        backoff: ``"fixed"`` (default: every wait is ``retry_delay``) or
            ``"exponential"`` (each wait doubles: ``retry_delay``, twice, four times...).
        max_wait_seconds: No wait between attempts is longer (None, the default: no cap).
        jitter: The fraction of each wait that is random, from 0 to 1 (None, the
            default: 0 with ``"fixed"``, 0.5 with ``"exponential"``).
        retry_on: Only errors of these classes are retried (one class or several; None,
            the default: every `Exception`). Any other fails the call after one attempt.
        retry_if: Only errors for which ``retry_if(error)`` is true are retried (None,
            the default: all). If it raises, the call fails with what it raised.
        retry_policy: A `RetryPolicy` to start from (its ``attempts`` are ``retries +
            1``, its ``wait_seconds`` the ``retry_delay``); the retry options above, when
            given too, replace its fields. A `PermanentError` raised by the function is
            never retried, whatever the policy.
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
    backoff: Backoff
    max_wait_seconds: float | None
    jitter: float | None
    retry_on: RetryOn | None
    retry_if: RetryPredicate | None
    retry_policy: RetryPolicy | None
    semaphore: Limit | None
    rate_limit: tuple[int, float] | RateLimit | RateLimiter | None


OPTION_NAMES: Final = frozenset(CallOptions.__annotations__)
"""The keys of `CallOptions`."""

SUBMIT_OPTION_NAMES: Final = frozenset({"retries", "retry_delay", "semaphore", "rate_limit"})
"""The options antflow 0.10's ``submit(fn, x, retries=3)`` form takes among ``fn``'s keywords.

The other options (``retry_on``, ``backoff``...) are given only where no argument of
``fn`` can be meant: to the executor, ``with_options()`` or ``map()``.
"""


class CallRuntime(Protocol):
    """What a call needs from its executor (`AsyncExecutor` is one): threads, a draw, a sleep."""

    def _thread_pool(self) -> TaskThreads:
        """The threads a plain function runs in (made on first use)."""
        ...

    def _jitter_draw(self) -> float:
        """A random number in ``[0, 1)`` that jitters a retry's wait."""
        ...

    async def _backoff_sleep(self, seconds: float) -> None:
        """Wait ``seconds`` before a retry."""
        ...


@dataclass(frozen=True, slots=True)
class CompiledOptions:
    """`CallOptions`, checked: the call's `RetryPolicy` and the limits.

    Attributes:
        policy: When to retry, and how long to wait first.
        semaphore: Held around each attempt, or None.
        rate: Counts each attempt's start, or None.
        given: The options as given, a rate limit as its `RateLimiter` (so that options
            merged over these keep the same budget).
    """

    policy: RetryPolicy = NO_RETRY
    semaphore: Limit | None = None
    rate: RateLimiter | None = None
    given: tuple[tuple[str, Any], ...] = ()


DEFAULT_OPTIONS: Final = CompiledOptions()


def compile_options(options: CallOptions | dict[str, Any]) -> CompiledOptions:
    """Check ``options`` and compile them (alone, with the defaults for what they omit).

    Raises:
        TypeError: If a key is not an option, ``semaphore`` is not an async context
            manager, ``retry_policy`` not a `RetryPolicy`, or ``rate_limit`` not a pair,
            a `RateLimit` or a `RateLimiter`.
        ValueError: If a retry option or the numbers of ``rate_limit`` are out of range.
    """
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        accepted = ", ".join(sorted(OPTION_NAMES))
        raise TypeError(
            f"unknown call option {', '.join(map(repr, unknown))}: the options are {accepted}"
        )
    if not options:
        return DEFAULT_OPTIONS
    policy = call_retry_policy(options) if not RETRY_OPTION_NAMES.isdisjoint(options) else NO_RETRY
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
    """Compile ``options`` over ``base``: what ``options`` says wins, key by key.

    A ``retry_policy`` given in ``options`` is a whole policy: it replaces the retry
    options of ``base`` too, not only its ``retry_policy``.
    """
    if not options:
        return base
    given = dict(base.given)
    if "retry_policy" in options:
        given = {k: v for k, v in given.items() if k not in RETRY_OPTION_NAMES}
    return compile_options({**given, **options})


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
    runtime: CallRuntime,
) -> Any:
    """Call ``fn(*args, **kwargs)`` as ``plan`` says; return its value.

    Args:
        plan: The call's plan.
        fn: The function.
        args: Its positional arguments.
        kwargs: Its keyword arguments.
        runtime: The executor: its threads, its jitter draw and its sleep between attempts.

    Raises:
        BaseException: What the function raised on its last attempt (or what the
            policy's ``retry_if`` raised on it).
    """
    try:
        return await _attempt(plan, fn, args, kwargs, runtime)
    except BaseException as first_error:
        if is_own_cancellation(first_error):
            raise
        policy = plan.options.policy
        if policy.attempts == 1:
            raise  # no retry to decide on (retry_if is not asked either)
        decision = policy.decide(attempt=1, error=first_error, draw=runtime._jitter_draw())
        if isinstance(decision, Failure):
            _give_up(decision.failure(), first_error)
        return await _retry(plan, fn, args, kwargs, runtime, first_error, decision.unwrap())


def _give_up(give_up: GiveUp, error: BaseException) -> NoReturn:
    """End the call with ``error``, or with what ``retry_if`` raised on it."""
    if give_up.error is not None:
        raise give_up.error from error
    raise error


async def _retry(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runtime: CallRuntime,
    first_error: BaseException,
    first_decision: RetryTask,
) -> Any:
    policy = plan.options.policy
    draw = runtime._jitter_draw
    replayed = False
    attempts = 1
    # The decision on each failed attempt, made once: retry_if is asked and the jitter
    # drawn once per failure, though tenacity asks stop, wait and retry.
    decided: dict[int, Success[RetryTask] | Failure[GiveUp]] = {1: Success(first_decision)}

    def verdict(state: RetryCallState) -> Success[RetryTask] | Failure[GiveUp]:
        number = state.attempt_number
        found = decided.get(number)
        if found is None:
            found = decided[number] = policy.decide(
                attempt=number, error=_error(state), draw=draw()
            )
        return found

    def retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        return outcome is not None and outcome.failed and isinstance(verdict(state), Success)

    def stop(state: RetryCallState) -> bool:
        return isinstance(verdict(state), Failure)

    def wait(state: RetryCallState) -> float:
        chosen = verdict(state).value_or(None)
        return chosen.wait_seconds if isinstance(chosen, RetryTask) else 0.0

    async def attempt() -> Any:
        nonlocal replayed, attempts
        if not replayed:
            replayed = True  # tenacity's attempt 1 is the call that already failed
            raise first_error
        attempts += 1
        return await _attempt(plan, fn, args, kwargs, runtime)

    retrying = AsyncRetrying(
        stop=stop, wait=wait, retry=retry, sleep=runtime._backoff_sleep, reraise=True
    )
    try:
        return await retrying(attempt)
    except BaseException as error:
        last = decided.get(attempts)
        if isinstance(last, Failure) and not is_own_cancellation(error):
            _give_up(last.failure(), error)
        raise


async def _attempt(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runtime: CallRuntime,
) -> Any:
    options = plan.options
    semaphore = options.semaphore
    rate = options.rate
    if semaphore is None:
        if rate is not None:
            await rate.acquire()
        return await _call(plan, fn, args, kwargs, runtime)
    async with semaphore:
        if rate is not None:
            await rate.acquire()
        return await _call(plan, fn, args, kwargs, runtime)


async def _call(
    plan: CallPlan,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    runtime: CallRuntime,
) -> Any:
    if plan.is_async:
        result = await fn(*args, **kwargs)
        if type(result) is CoroutineType:
            returned_coroutine(fn, result)
        return result
    ok, result = await runtime._thread_pool().submit(fn, args, kwargs)
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
