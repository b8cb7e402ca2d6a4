"""The decisions of single calls (`AsyncExecutor`'s work): retrying a call, and waiting on calls.

An executor call is one function called with its arguments, with no stage around it. Two
tables decide what the executor does besides calling.

**Retry** (`decide_call_retry`), after attempt ``attempt`` of a call raised ``error``:

| error is retryable | attempt < policy.attempts | decision                                     |
|--------------------|---------------------------|----------------------------------------------|
| yes                | yes                       | `RetryTask` (``attempt + 1``, ``wait_seconds``) |
| yes                | no                        | `GiveUp`                                     |
| no                 | any                       | `GiveUp`                                     |

It is the ``per_task`` row of a stage's retry table (`decide_retry`) with the call's own
`CallPolicy` instead of a stage's ``task_attempts`` and ``task_wait_seconds``: for equal
numbers the two decide the same. Retryable means what it means for a stage
(`is_retryable`): any `Exception`; a `BaseException` that is not one (``SystemExit``, a
``CancelledError`` the function raised itself) ends the call at once.

**Waiting** (`wait_is_over`), for ``wait(futures, return_when=...)`` given how many of the
futures are done and how many of those failed (finished by raising, not cancelled):

| return_when       | over when                                   |
|-------------------|---------------------------------------------|
| `FIRST_COMPLETED` | at least one is done (or none was given)    |
| `FIRST_EXCEPTION` | one failed, or all are done                 |
| `ALL_COMPLETED`   | all are done                                |

The values are those of `concurrent.futures` and `asyncio` (``"FIRST_COMPLETED"``, ...), so
their constants are accepted too.

Smaller decisions: how many calls a streaming map keeps ahead of its consumer
(`map_window`: ``buffersize``, or twice ``max_workers`` by default); which keywords of
antflow 0.10's ``submit(fn, x, retries=3)`` are the call's options rather than ``fn``'s
arguments (`option_keywords`); and the `RateLimit` a ``rate_limit=(calls, period)``
option means (`call_rate_limit`): the same sliding window as a stage's ``call_rate``
(`antflow_core.model.limits`), counting every attempt of a call as a start.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from returns.result import Failure, Success

from antflow_core.model.decisions import GiveUp, RetryDecision, RetryTask, is_retryable
from antflow_core.model.limits import RateLimit, rate_limit_problems

__all__ = [
    "ALL_COMPLETED",
    "DEFAULT_RETRY_DELAY",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "WAIT_TABLE",
    "CallPolicy",
    "ReturnWhen",
    "call_policy",
    "call_rate_limit",
    "decide_call_retry",
    "default_buffersize",
    "map_window",
    "option_keywords",
    "parse_return_when",
    "validate_max_workers",
    "wait_is_over",
]

DEFAULT_RETRY_DELAY: Final = 1.0
"""Seconds between attempts when a call retries without saying (a `Stage`'s default too)."""


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """How often an executor call is attempted, and how long to wait between attempts.

    Build one with `call_policy`, which checks the values and says what to change.

    Attributes:
        attempts: How many times the function may be called, from 1 (1: no retry).
        wait_seconds: Seconds to wait before each retry.
    """

    attempts: int = 1
    wait_seconds: float = DEFAULT_RETRY_DELAY

    @property
    def retries(self) -> int:
        """How many retries follow a failed first attempt: ``attempts - 1``."""
        return self.attempts - 1


NO_RETRY: Final = CallPolicy()
"""One attempt: the policy of a call that asks for no retry."""


def _count(value: object) -> int | None:
    """``value`` if it is an int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return seconds if seconds - seconds == 0 else None  # NaN and infinities are not


def call_policy(*, retries: object = 0, retry_delay: object = DEFAULT_RETRY_DELAY) -> CallPolicy:
    """Check a call's retry options and return its `CallPolicy`.

    Args:
        retries: How many times a failed call is tried again (0: never); a call is
            attempted ``retries + 1`` times at most.
        retry_delay: Seconds to wait before each retry.

    Raises:
        ValueError: If ``retries`` is not an integer >= 0 or ``retry_delay`` not a finite
            number >= 0; the message says what to pass instead.
    """
    count = _count(retries)
    if count is None or count < 0:
        raise ValueError(
            "retries must be an integer >= 0 (how many times a failed call is tried again; "
            f"0 means no retry), got {retries!r}"
        )
    delay = _seconds(retry_delay)
    if delay is None or delay < 0:
        raise ValueError(
            "retry_delay must be a number of seconds >= 0 (the wait before each retry), "
            f"got {retry_delay!r}"
        )
    if count == 0:
        return NO_RETRY  # the delay of a call that never retries does not matter
    return CallPolicy(count + 1, delay)


def decide_call_retry(policy: CallPolicy, *, attempt: int, error: BaseException) -> RetryDecision:
    """Decide what follows a failed attempt of a call (the retry table of this module).

    Args:
        policy: The call's policy.
        attempt: The number of the attempt that failed, from 1.
        error: What it raised.

    Returns:
        ``Success(RetryTask)`` to call the function again after ``wait_seconds``, or
        ``Failure(GiveUp)``: the call ends with ``error``.
    """
    if not is_retryable(error):
        return Failure(GiveUp(attempt, f"{type(error).__name__} is not retryable"))
    if attempt < policy.attempts:
        return Success(RetryTask(attempt + 1, policy.wait_seconds))
    return Failure(GiveUp(attempt, f"{attempt} of {policy.attempts} attempts used"))


def validate_max_workers(max_workers: object) -> int:
    """Return ``max_workers`` if it is an integer of at least 1.

    Raises:
        ValueError: Otherwise, saying what to pass.
    """
    count = _count(max_workers)
    if count is None or count < 1:
        raise ValueError(
            "max_workers must be an integer of at least 1 (how many calls run at once), "
            f"got {max_workers!r}"
        )
    return count


def default_buffersize(max_workers: int) -> int:
    """Return how many calls a streaming map keeps ahead when not told: ``2 * max_workers``.

    Twice the workers keeps every worker busy while the consumer handles a result.
    """
    return 2 * max_workers


def map_window(buffersize: object, max_workers: int) -> int:
    """Return how many calls a streaming map may start ahead of its consumer.

    Raises:
        ValueError: If ``buffersize`` is neither None (the default) nor an integer >= 1.
    """
    if buffersize is None:
        return default_buffersize(max_workers)
    count = _count(buffersize)
    if count is None or count < 1:
        raise ValueError(
            "buffersize must be None (twice max_workers) or an integer >= 1 (how many calls "
            f"may run ahead of the consumer), got {buffersize!r}"
        )
    return count


def call_rate_limit(value: object) -> RateLimit:
    """Return the `RateLimit` of an executor's ``rate_limit=`` option.

    Args:
        value: A ``(calls, period_seconds)`` pair, e.g. ``(500, 60)`` for 500 calls a
            minute, or a `RateLimit`.

    Raises:
        TypeError: If ``value`` is neither.
        ValueError: If its numbers are invalid; the message says what to change.
    """
    if isinstance(value, RateLimit):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        calls, period = value
        problems = rate_limit_problems(calls, period, what="rate_limit")
        if problems:
            raise ValueError("; ".join(problems))
        return RateLimit(calls, period)
    raise TypeError(
        "rate_limit must be a (calls, period_seconds) pair, e.g. rate_limit=(500, 60) for 500 "
        f"calls a minute, a RateLimit, or a RateLimiter to share; got {value!r}"
    )


def option_keywords(
    fn: Callable[..., object], keywords: Collection[str], options: Collection[str]
) -> frozenset[str]:
    """Return which of ``keywords`` are call options in antflow 0.10's ``submit(fn, ..., k=v)``.

    A keyword named like an option (``retries``, ``retry_delay``, ``semaphore``) is the
    call's option unless ``fn`` takes it: a parameter of that name that can be passed by
    keyword, or ``**kwargs``. A function whose signature cannot be read takes them all.
    """
    named = frozenset(options).intersection(keywords)
    if not named:
        return named
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # no readable signature: everything goes to fn
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return frozenset()
    return frozenset(
        name
        for name in named
        if name not in parameters or parameters[name].kind is inspect.Parameter.POSITIONAL_ONLY
    )


class ReturnWhen(enum.StrEnum):
    """When ``wait()`` returns; the values of `concurrent.futures`' constants."""

    FIRST_COMPLETED = "FIRST_COMPLETED"
    """As soon as one future is done (finished or cancelled)."""
    FIRST_EXCEPTION = "FIRST_EXCEPTION"
    """As soon as one future finishes by raising; when none does, as `ALL_COMPLETED`."""
    ALL_COMPLETED = "ALL_COMPLETED"
    """When every future is done."""


FIRST_COMPLETED: Final = ReturnWhen.FIRST_COMPLETED
"""``wait()`` returns as soon as one future is done (finished or cancelled)."""
FIRST_EXCEPTION: Final = ReturnWhen.FIRST_EXCEPTION
"""``wait()`` returns when a future raises, or when all are done."""
ALL_COMPLETED: Final = ReturnWhen.ALL_COMPLETED
"""``wait()`` returns when every future is done (the default)."""


def _first_completed(total: int, done: int, failed: int) -> bool:
    return done >= 1 or total == 0


def _first_exception(total: int, done: int, failed: int) -> bool:
    return failed >= 1 or done == total


def _all_completed(total: int, done: int, failed: int) -> bool:
    return done == total


WAIT_TABLE: Final[Mapping[ReturnWhen, Callable[[int, int, int], bool]]] = MappingProxyType(
    {
        # return_when -> over(total, done, failed)
        ReturnWhen.FIRST_COMPLETED: _first_completed,
        ReturnWhen.FIRST_EXCEPTION: _first_exception,
        ReturnWhen.ALL_COMPLETED: _all_completed,
    }
)
"""The waiting table in this module's docstring, as data."""


def wait_is_over(return_when: ReturnWhen, *, total: int, done: int, failed: int) -> bool:
    """Tell whether ``wait()`` returns: ``done`` of ``total`` futures are, ``failed`` by raising."""
    return WAIT_TABLE[return_when](total, done, failed)


def parse_return_when(value: object) -> ReturnWhen:
    """Return the `ReturnWhen` that ``value`` names (a member, or its string value).

    Raises:
        ValueError: If ``value`` names none; the message lists the accepted values.
    """
    if isinstance(value, str):
        try:
            return ReturnWhen(value)
        except ValueError:
            pass
    accepted = ", ".join(member.value for member in ReturnWhen)
    raise ValueError(f"return_when must be one of {accepted}, got {value!r}")
