"""Limiters: how many task calls start per window, how many run at once, shared by name.

Theory of operation
-------------------
`RateLimiter` executes the model's `RateLimit` (see `antflow_core.model.limits`): it keeps
the start times of the calls of its current window and, before a call, asks the model
(`call_delay`) how long the call must wait. A call that may start now is recorded and
goes on without awaiting anything (the common case costs a clock read and a deque
append). A call that must wait queues up: callers are served first come, first served;
only the first in line waits on a timer, for exactly the delay the model computed, then
asks again (a timer may fire a hair early), records its start and hands the turn to the
next. Nothing polls, and a cancelled caller leaves the line without losing anyone's turn.
The clock is the event loop's (``loop.time()``) unless one is given, so a loop with a
virtual clock drives the limiter too; the sleep is ``asyncio.sleep`` unless one is given.

`ConcurrencyLimiter` is an `asyncio.Semaphore` that knows its limit and name.

A stage's limits meet in one `CallGate` per task: its concurrency limits
(``task_concurrency_limits``, ``call_concurrency``) are taken first, in that order, then
its rate limits (the task's own, then the stage's ``call_rate``) all at once: a call is
recorded in every rate limiter at the same moment, the moment it starts, so no limiter
counts a start earlier than it happened. A stage without limits has no gate and runs
exactly the code it runs without this module.

**Named limits** (`NamedLimits`) are shared by name by every task of one pipeline: each
worker makes its pipeline's registry current (a context variable, also seen by
plain-function tasks in their threads), and the helpers a task calls look names up there:
`rate_limit` and `concurrency_limit` (async context managers: ``async with
rate_limit("api", 500, 60): ...``) and `call_rate_has_capacity`. The first use of a name
creates its limiter; a later use with other numbers is refused, so two stages cannot
silently disagree about one budget. Limiters also work on their own, outside any
pipeline (``async with RateLimiter(10, 1.0): ...``), and another runtime can make a
registry of its own current with `NamedLimits.activate`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Final, TypeAlias

from antflow_core.model import RateLimit, call_delay

__all__ = [
    "CallGate",
    "Clock",
    "ConcurrencyLimiter",
    "NamedLimits",
    "RateLimiter",
    "Sleep",
    "acquire_rates",
    "call_rate_has_capacity",
    "concurrency_limit",
    "current_limits",
    "rate_limit",
]

Clock: TypeAlias = Callable[[], float]
"""A monotonic clock in seconds (``loop.time``, ``time.monotonic``)."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep``)."""


class RateLimiter:
    """At most ``calls`` calls start in any window of ``period`` seconds; first come, first served.

    Use it as an async context manager (``async with limiter: await call()``) or call
    `acquire` before each call. Leaving the block gives nothing back: a rate limit counts
    starts, not calls in progress.

    Args:
        calls: The most calls that may start in one window (an integer >= 1).
        period: The window's length in seconds (default 1.0).
        name: A name for messages and ``repr``.
        clock: The clock to read; by default the running event loop's ``time()``.
        sleep: How to wait; by default ``asyncio.sleep``.

    Raises:
        ValueError: If ``calls`` or ``period`` is invalid; the message says what to change.
    """

    __slots__ = ("_clock", "_sleep", "limit", "name", "starts", "turns")

    def __init__(
        self,
        calls: int,
        period: float = 1.0,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.limit = RateLimit(calls, period)
        self.name = name
        self._clock = clock
        self._sleep: Sleep = asyncio.sleep if sleep is None else sleep
        # The window's starts, oldest first; and the callers waiting ([0] is served).
        self.starts: deque[float] = deque()
        self.turns: deque[asyncio.Future[None]] = deque()

    @classmethod
    def of(
        cls,
        limit: RateLimit,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> RateLimiter:
        """Return a limiter that executes ``limit``."""
        return cls(limit.calls, limit.period, name=name, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name is not None else ""
        return f"<RateLimiter{label} {self.limit} waiting={len(self.turns)}>"

    @property
    def waiting(self) -> int:
        """How many callers wait for their turn."""
        return len(self.turns)

    # -------------------------------------------------------------------- the clock

    def bind_clock(self) -> Clock:
        """The limiter's clock: the one given, or the running loop's (bound at first use)."""
        clock = self._clock
        if clock is None:
            loop = asyncio.get_running_loop()
            # asyncio's own loops read time.monotonic(): read it without the method call.
            is_stock = type(loop).time is asyncio.BaseEventLoop.time
            clock = self._clock = time.monotonic if is_stock else loop.time
        return clock

    def now(self) -> float:
        """The limiter's clock now (the running loop's time, unless a clock was given)."""
        clock = self._clock
        return clock() if clock is not None else self.bind_clock()()

    # ----------------------------------------------------------------- bookkeeping

    def delay(self, now: float) -> float:
        """Seconds until a call may start, from ``now`` (the model's `call_delay`)."""
        return call_delay(self.starts, now, self.limit)

    def record(self, now: float) -> None:
        """Count a call that starts at ``now``; forget the starts that left the window."""
        starts = self.starts
        horizon = self.limit.horizon(now)
        while starts and starts[0] <= horizon:
            starts.popleft()
        starts.append(now)

    # --------------------------------------------------------------------- asking

    def has_capacity(self) -> bool:
        """Whether a call asking now would start at once (nobody waits, the window has room).

        Safe to call from a plain-function task running in a thread.
        """
        if self.turns:
            return False
        clock = self._clock
        if clock is None:
            try:
                clock = self.bind_clock()
            except RuntimeError:  # a thread: nothing was recorded without a loop's clock
                return not self.starts
        return self.delay(clock()) <= 0.0

    def try_acquire(self) -> bool:
        """Start a call now if it may (and return True); never waits."""
        if self.turns:
            return False
        now = self.now()
        if self.delay(now) > 0.0:
            return False
        self.record(now)
        return True

    async def acquire(self) -> None:
        """Wait until a call may start, and count it as started."""
        if not self.try_acquire():
            await acquire_rates((self,))

    async def __aenter__(self) -> RateLimiter:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    # ---------------------------------------------------------------------- turns

    async def take_turn(self) -> asyncio.Future[None]:
        """Queue up and wait to be first in line; return the turn to give back with `pass_turn`."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turns = self.turns
        turns.append(turn)
        if len(turns) == 1:
            return turn
        try:
            await turn
        except BaseException:
            self.pass_turn(turn)
            raise
        return turn

    def pass_turn(self, turn: asyncio.Future[None]) -> None:
        """Leave the line (served or cancelled); wake the next caller if ``turn`` was first."""
        turns = self.turns
        if turns and turns[0] is turn:
            turns.popleft()
            if turns and not turns[0].done():
                turns[0].set_result(None)
            return
        try:
            turns.remove(turn)
        except ValueError:  # already gone
            return


def _try_rates(limiters: tuple[RateLimiter, ...]) -> bool:
    """Start a call in every limiter now if all of them allow it; never waits."""
    first = limiters[0]
    if len(limiters) == 1:
        return first.try_acquire()
    now = first.now()
    for limiter in limiters:
        if limiter.waiting or limiter.delay(now) > 0.0:
            return False
    for limiter in limiters:
        limiter.record(now)
    return True


async def acquire_rates(limiters: tuple[RateLimiter, ...]) -> None:
    """Wait until a call may start in every one of ``limiters``; count it in all of them.

    The call takes its turn in each limiter (in order), then waits for the largest delay
    any of them computes, and is recorded in all of them at the same moment. The first
    limiter's clock and sleep are used.
    """
    if _try_rates(limiters):
        return
    first = limiters[0]
    taken: list[tuple[RateLimiter, asyncio.Future[None]]] = []
    try:
        for limiter in limiters:
            taken.append((limiter, await limiter.take_turn()))
        while True:
            now = first.now()
            wait = max(limiter.delay(now) for limiter in limiters)
            if wait <= 0.0:
                break
            await first._sleep(wait)
        for limiter in limiters:
            limiter.record(now)
    finally:
        for limiter, turn in reversed(taken):
            limiter.pass_turn(turn)


class ConcurrencyLimiter(asyncio.Semaphore):
    """At most ``limit`` holders at once: an `asyncio.Semaphore` that knows its limit and name.

    Args:
        limit: How many may hold it at once (an integer >= 1).
        name: A name for messages and ``repr``.

    Raises:
        ValueError: If ``limit`` is not an integer >= 1.
    """

    def __init__(self, limit: int, *, name: str | None = None) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(
                f"a concurrency limit must be an integer of at least 1 (the most holders at "
                f"once), got {limit!r}"
            )
        super().__init__(limit)
        self.limit = limit
        self.name = name

    @property
    def in_use(self) -> int:
        """How many hold it now."""
        return self.limit - self._value

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name is not None else ""
        return f"<ConcurrencyLimiter{label} {self.in_use}/{self.limit}>"


class CallGate:
    """What one task's call waits for before it starts: concurrency slots, then rate limits.

    Args:
        semaphores: The concurrency limits to hold during the call, taken in this order.
        rates: The rate limits the call counts against, all recorded at its start.
    """

    __slots__ = ("rates", "semaphores")

    def __init__(
        self, semaphores: tuple[asyncio.Semaphore, ...], rates: tuple[RateLimiter, ...]
    ) -> None:
        self.semaphores = semaphores
        self.rates = rates

    def try_enter(self) -> bool:
        """Let a call through now if it needs no slot and every rate allows it."""
        return not self.semaphores and _try_rates(self.rates)

    async def enter(self) -> None:
        """Take every slot, then wait for the rate limits; on error give back what was taken."""
        taken = 0
        try:
            for semaphore in self.semaphores:
                await semaphore.acquire()
                taken += 1
            if self.rates:
                await acquire_rates(self.rates)
        except BaseException:
            for semaphore in self.semaphores[:taken]:
                semaphore.release()
            raise

    def release(self) -> None:
        """Give back the slots (the call ended)."""
        for semaphore in self.semaphores:
            semaphore.release()


# ------------------------------------------------------------------------ named limits


class NamedLimits:
    """The limits the tasks of one pipeline share by name.

    Args:
        clock: The clock of its rate limiters (default: the running loop's).
        sleep: How its rate limiters wait (default: ``asyncio.sleep``).
    """

    __slots__ = ("_clock", "_concurrency", "_rates", "_sleep")

    def __init__(self, *, clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self._clock = clock
        self._sleep = sleep
        self._rates: dict[str, RateLimiter] = {}
        self._concurrency: dict[str, ConcurrencyLimiter] = {}

    def __repr__(self) -> str:
        return f"<NamedLimits rates={sorted(self._rates)} concurrency={sorted(self._concurrency)}>"

    def rate(self, name: str, calls: int, period: float = 1.0) -> RateLimiter:
        """Return the rate limiter called ``name``, created at its first use.

        Raises:
            ValueError: If ``name`` already names a rate limit with other numbers, or the
                numbers are invalid.
        """
        _check_name(name, "rate_limit")
        limit = RateLimit(calls, period)
        found = self._rates.get(name)
        if found is None:
            found = self._rates[name] = RateLimiter.of(
                limit, name=name, clock=self._clock, sleep=self._sleep
            )
        elif found.limit != limit:
            raise ValueError(
                f"rate limit {name!r} is {found.limit} in this pipeline (set by its first "
                f"use); this call asks for {limit}: use the same numbers wherever the name is "
                "used, or another name"
            )
        return found

    def concurrency(self, name: str, limit: int) -> ConcurrencyLimiter:
        """Return the concurrency limiter called ``name``, created at its first use.

        Raises:
            ValueError: If ``name`` already names a concurrency limit with another limit,
                or ``limit`` is invalid.
        """
        _check_name(name, "concurrency_limit")
        found = self._concurrency.get(name)
        if found is None:
            found = self._concurrency[name] = ConcurrencyLimiter(limit, name=name)
        elif found.limit != limit:
            raise ValueError(
                f"concurrency limit {name!r} is {found.limit} in this pipeline (set by its "
                f"first use); this call asks for {limit!r}: use the same limit wherever the "
                "name is used, or another name"
            )
        return found

    def find_rate(self, name: str) -> RateLimiter | None:
        """The rate limiter called ``name``, None if no task has used the name yet."""
        return self._rates.get(name)

    def activate(self) -> Token[NamedLimits | None]:
        """Make these the limits the helpers find in the current context (and tasks it starts)."""
        return current_limits.set(self)


current_limits: Final[ContextVar[NamedLimits | None]] = ContextVar(
    "antflow_named_limits", default=None
)
"""The named limits of the pipeline running the current task (set in each worker)."""


def _check_name(name: object, helper: str) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{helper}() takes a non-empty string name, e.g. 'api', got {name!r}")


def _current(helper: str) -> NamedLimits:
    limits = current_limits.get()
    if limits is None:
        raise RuntimeError(
            f"{helper}() shares a limit by name across the tasks of a pipeline (or the calls "
            "of an AsyncExecutor), and is called outside of one; elsewhere, create the "
            "limiter yourself and share the object: RateLimiter(calls, period) or "
            "ConcurrencyLimiter(limit)"
        )
    return limits


def rate_limit(name: str, calls: int, period: float = 1.0) -> RateLimiter:
    """The rate limit called ``name`` of the running pipeline: ``calls`` starts per ``period``.

    Call it inside a task, as an async context manager around the rate-limited call. Every
    task of the pipeline that uses the same name shares one budget, whatever its stage::

        async def ask(prompt: str) -> str:
            async with rate_limit("llm", 500, 60):  # 500 requests a minute, pipeline-wide
                return await client.complete(prompt)

    Args:
        name: The budget's name.
        calls: The most calls that may start per window.
        period: The window, in seconds (default 1.0).

    Raises:
        RuntimeError: Outside a task run by a pipeline.
        ValueError: If the name is already used with other numbers, or they are invalid.
    """
    return _current("rate_limit").rate(name, calls, period)


def concurrency_limit(name: str, limit: int) -> ConcurrencyLimiter:
    """The concurrency limit called ``name`` of the running pipeline: at most ``limit`` at once.

    Call it inside a task, as an async context manager around the limited section::

        async with concurrency_limit("database", 5):
            await save(row)

    Raises:
        RuntimeError: Outside a task run by a pipeline.
        ValueError: If the name is already used with another limit, or it is invalid.
    """
    return _current("concurrency_limit").concurrency(name, limit)


def call_rate_has_capacity(name: str) -> bool:
    """Whether a call of the rate limit called ``name`` would start now, without waiting.

    A name no task has used yet has all its capacity (True). Safe to call from a
    plain-function task; it changes nothing.

    Raises:
        RuntimeError: Outside a task run by a pipeline.
    """
    _check_name(name, "call_rate_has_capacity")
    found = _current("call_rate_has_capacity").find_rate(name)
    return True if found is None else found.has_capacity()
