"""The decisions of single calls (`AsyncExecutor`'s work): retrying a call, and waiting on calls.

An executor call is one function called with its arguments, with no stage around it. Two
tables decide what the executor does besides calling.

**Retry**: a call's retries are decided by a `RetryPolicy` (`antflow_core.model.retries`),
the same value a stage builds from its fields and `decide_retry` reads, so a call and a
stage with equal numbers decide the same: which errors retry (``retry_on``, ``retry_if``,
`PermanentError`, never a `BaseException` that is not an `Exception`, such as a
``CancelledError`` the function raised itself) and how long to wait (fixed or
exponential, capped, jittered by a draw the runtime passes in). `call_retry_policy`
builds it from the executor's options, where antflow 0.10's names count differently:

| option                 | `RetryPolicy` field                          |
|------------------------|----------------------------------------------|
| ``retries=r``          | ``attempts = r + 1`` (default 0: one attempt)  |
| ``retry_delay=s``      | ``wait_seconds = s`` (default 1.0)           |
| ``backoff``, ``max_wait_seconds``, ``jitter``, ``retry_on``, ``retry_if`` | the same name |
| ``retry_policy=p``     | the starting point: the fields above, when given, replace ``p``'s |

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
from dataclasses import replace
from types import MappingProxyType
from typing import Final

from antflow_core.model.limits import RateLimit, rate_limit_problems
from antflow_core.model.retries import RetryPolicy, retry_policy_problems

__all__ = [
    "ALL_COMPLETED",
    "DEFAULT_RETRY_DELAY",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "NO_RETRY",
    "RETRY_OPTION_NAMES",
    "WAIT_TABLE",
    "ReturnWhen",
    "call_rate_limit",
    "call_retry_policy",
    "default_buffersize",
    "map_window",
    "option_keywords",
    "parse_return_when",
    "validate_max_workers",
    "wait_is_over",
]

DEFAULT_RETRY_DELAY: Final = 1.0
"""Seconds between attempts when a call retries without saying (a `Stage`'s default too)."""


NO_RETRY: Final = RetryPolicy(attempts=1, wait_seconds=DEFAULT_RETRY_DELAY)
"""One attempt: the policy of a call that asks for no retry (the executor's default)."""

RETRY_OPTION_NAMES: Final = frozenset(
    {
        "retries",
        "retry_delay",
        "backoff",
        "max_wait_seconds",
        "jitter",
        "retry_on",
        "retry_if",
        "retry_policy",
    }
)
"""The executor's call options that make its `RetryPolicy` (see `call_retry_policy`)."""


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


def call_retry_policy(options: Mapping[str, object]) -> RetryPolicy:
    """Check a call's retry options and return its `RetryPolicy` (the table above).

    Args:
        options: The call's options; only the keys of `RETRY_OPTION_NAMES` are read:
            ``retries`` (how many times a failed call is tried again, 0: never),
            ``retry_delay`` (seconds before a retry, the base of an exponential
            backoff), ``backoff``, ``max_wait_seconds``, ``jitter``, ``retry_on``,
            ``retry_if`` (as `RetryPolicy`'s) and ``retry_policy`` (a `RetryPolicy` to
            start from, or None).

    Returns:
        `NO_RETRY` when nothing is said; otherwise ``retry_policy`` (or `NO_RETRY`) with
        the fields given by name replaced.

    Raises:
        TypeError: If ``retry_policy`` is neither a `RetryPolicy` nor None.
        ValueError: If a value is out of range; the message says what to pass instead.
    """
    base = options.get("retry_policy")
    if base is None:
        base = NO_RETRY
    elif not isinstance(base, RetryPolicy):
        raise TypeError(
            "retry_policy must be a RetryPolicy, e.g. retry_policy=RetryPolicy(attempts=3, "
            f"backoff='exponential'), or None; got {base!r}"
        )
    fields: dict[str, object] = {}
    problems: list[str] = []
    if "retries" in options:
        retries = options["retries"]
        count = _count(retries)
        if count is None or count < 0:
            problems.append(
                "retries must be an integer >= 0 (how many times a failed call is tried "
                f"again; 0 means no retry), got {retries!r}"
            )
        else:
            fields["attempts"] = count + 1
    if "retry_delay" in options:
        delay = options["retry_delay"]
        seconds = _seconds(delay)
        if seconds is None or seconds < 0:
            problems.append(
                "retry_delay must be a number of seconds >= 0 (the wait before each retry), "
                f"got {delay!r}"
            )
        else:
            fields["wait_seconds"] = seconds
    for name in ("backoff", "max_wait_seconds", "jitter", "retry_if"):
        if name in options:
            fields[name] = options[name]
    if "retry_on" in options:
        retry_on = options["retry_on"]
        if isinstance(retry_on, type):  # retry_on=TimeoutError: one class
            retry_on = (retry_on,)
        elif isinstance(retry_on, list | set | frozenset):
            retry_on = tuple(retry_on)
        fields["retry_on"] = retry_on
    if problems:
        raise ValueError("; ".join(problems))
    if not fields:
        return base
    merged = {name: fields.get(name, getattr(base, name)) for name in _POLICY_FIELDS}
    problems = retry_policy_problems(
        attempts=merged["attempts"],
        wait_seconds=merged["wait_seconds"],
        backoff=merged["backoff"],
        max_wait_seconds=merged["max_wait_seconds"],
        jitter=merged["jitter"],
        retry_on=merged["retry_on"],
        retry_if=merged["retry_if"],
        wait_name="retry_delay",
    )
    if problems:
        raise ValueError("; ".join(problems))
    return replace(base, **fields)  # type: ignore[arg-type]


_POLICY_FIELDS: Final = (
    "attempts",
    "wait_seconds",
    "backoff",
    "max_wait_seconds",
    "jitter",
    "retry_on",
    "retry_if",
)


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
