"""Flow control, decided: rate limits and the limits a stage puts on its task calls.

Theory of operation
-------------------
A **rate limit** (`RateLimit`) says: at most ``calls`` task calls *start* in any window
of ``period`` seconds. Windows are half-open: the window that ends at ``now`` is
``(now - period, now]``, so a call that started exactly ``period`` seconds ago no
longer counts. A limiter keeps the start times of the calls of its current window, oldest
first (*the window's starts*), and asks one question before each call:

| starts in the window ending now | decision (`call_delay`)                       |
|---------------------------------|-----------------------------------------------|
| fewer than ``calls``            | start now: delay ``0.0``                      |
| ``calls`` or more               | wait until ``starts[-calls] + period``        |

``starts[-calls] + period`` is the moment the oldest of the last ``calls`` starts leaves
the window.

A start leaves the window once ``now - period`` reaches it (`RateLimit.horizon`), so a
limiter drops the starts at or before the horizon and keeps at most ``calls`` of them.
Waiting for the computed delay and asking again (the delay is a deadline, not a polling
interval) grants the calls in the order they asked, and never more than ``calls`` in any
window: the ``k``-th start and the ``(k + calls)``-th are at least ``period`` apart.
`rate_limited_starts` plays the whole schedule for calls that ask at given times: a
runtime (or a test) can compare what its limiter granted with it.

This is a sliding window, not a leaky bucket: a bucket of ``calls`` per ``period``
admits a burst of ``calls`` and then one call every ``period / calls``, which puts up to
``2 * calls - 1`` starts in one window; an API that allows 500 requests a minute counts
them per window.

A stage limits its task calls with three options (`Stage`): ``call_rate`` /
``call_rate_period`` (a `RateLimit` over every task call of the stage, across its
workers), ``task_rate_limits`` (a `RateLimit` per task name) and ``call_concurrency``
(how many task calls of the stage run at once). A retry is a call like any other: it
counts against the limits. Everything here is data and arithmetic; the clock is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from antflow_core.errors import StageValidationError

__all__ = [
    "RateLimit",
    "call_delay",
    "coerce_rate_limit",
    "rate_limit_problems",
    "rate_limited_starts",
]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def rate_limit_problems(calls: object, period: object, *, what: str = "rate limit") -> list[str]:
    """Return what is wrong with ``calls`` per ``period`` seconds, each saying what to change.

    Args:
        calls: How many calls may start per window: an integer of at least 1.
        period: The window's length in seconds: a finite number > 0.
        what: How the messages name the limit (``"call_rate"``, ``"task_rate_limits['upload']"``).
    """
    problems = []
    if not _is_int(calls) or calls < 1:
        problems.append(
            f"{what}: calls must be an integer of at least 1 (the most calls that may start "
            f"per period), got {calls!r}"
        )
    if not _is_finite_number(period) or period <= 0:
        problems.append(
            f"{what}: period must be a finite number of seconds > 0 (e.g. 1.0 for 'per "
            f"second', 60 for 'per minute'), got {period!r}"
        )
    return problems


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``calls`` calls start in any window of ``period`` seconds.

    Args:
        calls: The most calls that may start in one window (an integer of at least 1).
        period: The window's length in seconds (default 1.0: "per second").

    Raises:
        ValueError: If ``calls`` is not an integer >= 1 or ``period`` not a finite number
            > 0; the message says what to change.

    Example:
        ```python
        RateLimit(500, 60.0)  # 500 requests a minute
        Stage("Ask", workers=20, tasks=[ask_llm], task_rate_limits={"ask_llm": RateLimit(500, 60)})
        ```
    """

    calls: int
    period: float = 1.0

    def __post_init__(self) -> None:
        problems = rate_limit_problems(self.calls, self.period, what="RateLimit")
        if problems:
            raise ValueError("; ".join(problems))
        object.__setattr__(self, "period", float(self.period))

    def __str__(self) -> str:
        return f"{self.calls} calls per {self.period:g}s"

    def horizon(self, now: float) -> float:
        """The time at or before which a start no longer counts in the window ending ``now``."""
        return now - self.period

    @property
    def rate(self) -> float:
        """The average rate the limit allows, in calls per second."""
        return self.calls / self.period


def coerce_rate_limit(value: object, *, what: str) -> RateLimit:
    """Accept a `RateLimit` or a ``(calls, period)`` pair; return a `RateLimit`.

    Raises:
        StageValidationError: If ``value`` is neither, or its numbers are invalid; the
            message names ``what`` and says what to change.
    """
    if isinstance(value, RateLimit):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        problems = rate_limit_problems(value[0], value[1], what=what)
        if problems:
            raise StageValidationError("; ".join(problems))
        return RateLimit(value[0], value[1])
    raise StageValidationError(
        f"{what} must be a RateLimit or a (calls, period_seconds) pair, e.g. (10, 1.0) for "
        f"10 calls per second, got {value!r}"
    )


def call_delay(starts: Sequence[float], now: float, limit: RateLimit) -> float:
    """Seconds until the next call may start (the table in this module's docstring).

    Args:
        starts: The start times of the calls in the window ending ``now``, oldest first
            (starts at or before ``limit.horizon(now)`` may be left in: they are ignored).
        now: The current time, on the clock ``starts`` were read from.
        limit: The rate limit.

    Returns:
        ``0.0`` when a call may start now, else how long to wait.
    """
    calls = limit.calls
    if len(starts) < calls:
        return 0.0
    delay = starts[-calls] + limit.period - now
    return delay if delay > 0.0 else 0.0


def rate_limited_starts(requests: Iterable[float], limit: RateLimit) -> list[float]:
    """When calls that ask at ``requests`` (in that order) start under ``limit``.

    Each call starts as soon as `call_delay` allows, and not before the one that asked
    before it (first come, first served). A runtime's limiter must grant exactly these
    times to calls that ask at these times.

    Raises:
        ValueError: If ``requests`` go back in time.
    """
    started: list[float] = []
    previous = -math.inf
    for asked in requests:
        if asked < previous:
            raise ValueError(f"requests must not go back in time: {asked} after {previous}")
        previous = asked
        at = max(asked, started[-1]) if started else asked
        if call_delay(started, at, limit) > 0.0:
            at = started[-limit.calls] + limit.period  # exactly, not at + a rounded delay
        started.append(at)
    return started
