"""Retry policies: which errors are worth another attempt, and how long to wait before it.

A `RetryPolicy` is the part of a stage's configuration that decides retries, as a small
frozen value that works without a `Stage` (a per-call executor uses it as it is).
`Stage` builds one from its own fields (``Stage.retry_policy``), and `decide_retry`
reads it.

**Which errors retry** (`RetryPolicy.refusal`), in this order:

| the error                                  | retried?                                   |
|--------------------------------------------|--------------------------------------------|
| a `BaseException` that is not an Exception | never (``SystemExit``, ``KeyboardInterrupt``) |
| a `PermanentError` (raised by the task)    | never: the task says "give up now"         |
| not an instance of ``retry_on`` (if given) | no                                         |
| ``retry_if(error)`` false (if given)       | no                                         |
| ``retry_if(error)`` raises                 | no: the item fails with what it raised     |
| anything else                              | yes, while attempts are left               |

**How long to wait** (`RetryPolicy.wait`) before the attempt after failed attempt
``n`` (from 1), given a random ``draw`` in ``[0, 1)`` that the runtime passes in (this
module draws none):

| backoff         | the wait before jitter                                      |
|-----------------|-------------------------------------------------------------|
| ``"fixed"``     | ``wait_seconds``                                            |
| ``"exponential"`` | ``wait_seconds * 2 ** (n - 1)``: 1, 2, 4, 8... times the first |

then capped at ``max_wait_seconds`` (if given), then jittered: a wait ``w`` becomes
``w * (1 - jitter * draw)``, so ``jitter`` is the fraction of each wait that is random
(0: none; 1: anywhere between 0 and ``w``). ``jitter=None`` means 0 for ``"fixed"``
(waits stay exactly ``wait_seconds``, as before) and `DEFAULT_EXPONENTIAL_JITTER` (0.5)
for ``"exponential"``. With a jitter of at most 0.5 exponential waits never shrink
from one retry to the next while they are below the cap: the shortest next wait is the
longest previous one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from returns.result import Failure, Success

from antflow_core.errors import PermanentError

__all__ = [
    "BACKOFFS",
    "DEFAULT_EXPONENTIAL_JITTER",
    "RETRY_STRATEGIES",
    "Backoff",
    "GiveUp",
    "Refusal",
    "RetryOn",
    "RetryPolicy",
    "RetryPredicate",
    "RetryStrategy",
    "RetryTask",
    "backoff_wait",
    "retry_policy_problems",
]

Backoff: TypeAlias = Literal["fixed", "exponential"]
"""How waits between attempts grow: ``"fixed"`` (always the same) or ``"exponential"``."""

BACKOFFS: Final[tuple[Backoff, ...]] = ("fixed", "exponential")
"""The accepted values of ``backoff``."""

RetryStrategy: TypeAlias = Literal["per_task", "per_stage"]
"""``"per_task"``: retry the failing task in place; ``"per_stage"``: restart the stage."""

RETRY_STRATEGIES: Final[tuple[RetryStrategy, ...]] = ("per_task", "per_stage")
"""The accepted values of `Stage.retry`."""

DEFAULT_EXPONENTIAL_JITTER: Final = 0.5
"""The jitter of an exponential backoff that sets none: half of each wait is random."""

RetryPredicate: TypeAlias = Callable[[BaseException], object]
"""``retry_if(error) -> bool``: true when ``error`` is worth another attempt."""

RetryOn: TypeAlias = type[BaseException] | Sequence[type[BaseException]]
"""``retry_on``: one exception class or several (kept as a tuple)."""

_MAX_DOUBLINGS: Final = 64  # 2**64 times the first wait: more than any cap, still a float


@dataclass(frozen=True, slots=True)
class RetryTask:
    """Try again: call the task (or run the stage) once more after a wait.

    Attributes:
        attempt: The number of the attempt to make next, from 2.
        wait_seconds: How long to wait before it.
    """

    attempt: int
    wait_seconds: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an error is not retried (see the first table in this module's docstring).

    Attributes:
        reason: Why, in words (``"KeyError is not in retry_on"``).
        error: What ``retry_if`` raised when it raised: the item then fails with it (a
            bug in the predicate surfaces instead of hiding behind the task's error);
            None otherwise.
    """

    reason: str
    error: BaseException | None = None


def backoff_wait(
    wait_seconds: float,
    failed_attempt: int,
    *,
    backoff: Backoff = "fixed",
    max_wait_seconds: float | None = None,
    jitter: float = 0.0,
    draw: float = 0.0,
) -> float:
    """Return the seconds to wait after failed attempt ``failed_attempt`` (from 1).

    The second table of this module's docstring, as a function of plain numbers.

    Args:
        wait_seconds: The first wait (``task_wait_seconds``).
        failed_attempt: The attempt that just failed, from 1.
        backoff: ``"fixed"`` or ``"exponential"``.
        max_wait_seconds: The cap, or None for none.
        jitter: The fraction of the wait that is random, from 0 to 1.
        draw: A random number in ``[0, 1)``, drawn by the caller (0 gives the full wait).
    """
    wait = float(wait_seconds)
    if backoff == "exponential":
        wait *= 2.0 ** min(max(failed_attempt - 1, 0), _MAX_DOUBLINGS)
    if max_wait_seconds is not None and wait > max_wait_seconds:
        wait = float(max_wait_seconds)
    if jitter:
        wait *= 1.0 - jitter * draw
    return wait


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed call is tried again and how long to wait first: usable without a `Stage`.

    Args:
        attempts: Attempts in all (1 means no retry).
        wait_seconds: The wait before the first retry (the base of an exponential backoff).
        backoff: ``"fixed"`` (every wait is ``wait_seconds``) or ``"exponential"`` (each
            wait doubles).
        max_wait_seconds: No wait is longer than this; None for no cap.
        jitter: The fraction of each wait that is random, from 0 to 1; None for the
            backoff's default (0 for ``"fixed"``, 0.5 for ``"exponential"``).
        retry_on: Only these exception types are retried (None: every `Exception`); one
            class or several, kept as a tuple.
        retry_if: Only errors for which this returns true are retried (None: all).

    Raises:
        ValueError: If a field is invalid; the message lists what to change.

    Example:
        ```python
        policy = RetryPolicy(attempts=5, wait_seconds=0.5, backoff="exponential",
                             max_wait_seconds=10, retry_on=(TimeoutError, ConnectionError))
        policy.decide(attempt=1, error=TimeoutError(), draw=0.0)  # Success(RetryTask(2, 0.5))
        policy.decide(attempt=1, error=KeyError("x"))  # Failure(GiveUp(1, ...))
        ```
    """

    attempts: int = 3
    wait_seconds: float = 1.0
    backoff: Backoff = "fixed"
    max_wait_seconds: float | None = None
    jitter: float | None = None
    retry_on: RetryOn | None = None
    retry_if: RetryPredicate | None = None

    def __post_init__(self) -> None:
        retry_on: object = self.retry_on
        if isinstance(retry_on, type):  # retry_on=TimeoutError: one class
            object.__setattr__(self, "retry_on", (retry_on,))
        elif isinstance(retry_on, list | set | frozenset):
            object.__setattr__(self, "retry_on", tuple(retry_on))
        problems = retry_policy_problems(
            attempts=self.attempts,
            wait_seconds=self.wait_seconds,
            backoff=self.backoff,
            max_wait_seconds=self.max_wait_seconds,
            jitter=self.jitter,
            retry_on=self.retry_on,
            retry_if=self.retry_if,
        )
        if problems:
            raise ValueError("RetryPolicy: " + "; ".join(problems))

    @property
    def effective_jitter(self) -> float:
        """The jitter in use: ``jitter``, or the backoff's default when it is None."""
        if self.jitter is not None:
            return float(self.jitter)
        return DEFAULT_EXPONENTIAL_JITTER if self.backoff == "exponential" else 0.0

    def refusal(self, error: BaseException) -> Refusal | None:
        """Return why ``error`` is not retried, or None when it may be (attempts aside).

        Calls ``retry_if`` (a user function) when one is set; if it raises, the answer is
        a refusal carrying what it raised.
        """
        name = type(error).__name__
        if not isinstance(error, Exception):
            return Refusal(f"{name} is not retryable")
        if isinstance(error, PermanentError):
            return Refusal(f"{name} is a PermanentError: the task gave up on the item")
        retry_on = self.retry_on
        if retry_on is not None and not isinstance(error, retry_on):  # type: ignore[arg-type]
            return Refusal(f"{name} is not in retry_on")
        retry_if = self.retry_if
        if retry_if is not None:
            try:
                verdict = bool(retry_if(error))
            except Exception as raised:
                return Refusal(f"retry_if raised {type(raised).__name__} on {name}", raised)
            if not verdict:
                return Refusal(f"retry_if returned false for {name}")
        return None

    def wait(self, failed_attempt: int, draw: float = 0.0) -> float:
        """Return the seconds to wait after failed attempt ``failed_attempt`` (from 1).

        ``draw`` is a random number in ``[0, 1)`` the caller draws (0 gives the longest
        wait; it matters only with jitter).
        """
        return backoff_wait(
            self.wait_seconds,
            failed_attempt,
            backoff=self.backoff,
            max_wait_seconds=self.max_wait_seconds,
            jitter=self.effective_jitter,
            draw=draw,
        )

    def decide(
        self, *, attempt: int, error: BaseException, draw: float = 0.0
    ) -> Success[RetryTask] | Failure[GiveUp]:
        """Decide what follows failed attempt ``attempt`` (from 1) that raised ``error``.

        Returns:
            ``Success(RetryTask)`` (try again after ``wait_seconds``) or ``Failure(GiveUp)``
            (the error is not retried, or ``attempts`` are used).
        """
        refused = self.refusal(error)
        if refused is not None:
            return Failure(GiveUp(attempt, refused.reason, refused.error))
        if attempt < self.attempts:
            return Success(RetryTask(attempt + 1, self.wait(attempt, draw)))
        return Failure(GiveUp(attempt, f"{attempt} of {self.attempts} attempts used"))


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop trying: the item fails (the stage's, or the call's, attempts are over).

    Attributes:
        attempts: How many attempts were made.
        reason: Why, in words (``"3 of 3 task attempts used"``).
        error: What the item fails with when it is not the error of its last call: the
            exception a ``retry_if`` raised. None otherwise (the usual case).
    """

    attempts: int
    reason: str
    error: BaseException | None = None


def _is_number(value: object) -> bool:
    """A finite int or float: NaN and infinities would make every comparison lie."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def retry_policy_problems(
    *,
    attempts: object,
    wait_seconds: object,
    backoff: object,
    max_wait_seconds: object,
    jitter: object,
    retry_on: object,
    retry_if: object,
    attempts_name: str = "attempts",
    wait_name: str = "wait_seconds",
) -> list[str]:
    """Return every problem with a retry policy's fields, each saying what to change.

    `RetryPolicy` and `Stage` (which names two of the fields differently, hence
    ``attempts_name`` and ``wait_name``) both validate through this.
    """
    problems: list[str] = []
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        problems.append(
            f"{attempts_name} must be an integer of at least 1 (1 means no retry), got {attempts!r}"
        )
    if not _is_number(wait_seconds) or wait_seconds < 0:  # type: ignore[operator]
        problems.append(
            f"{wait_name} must be a finite number of seconds >= 0, got {wait_seconds!r}"
        )
    if backoff not in BACKOFFS:
        problems.append(f"backoff must be 'fixed' or 'exponential', got {backoff!r}")
    if max_wait_seconds is not None and (
        not _is_number(max_wait_seconds) or max_wait_seconds < 0  # type: ignore[operator]
    ):
        problems.append(
            f"max_wait_seconds must be None (no cap) or a finite number of seconds >= 0, "
            f"got {max_wait_seconds!r}"
        )
    if jitter is not None and (
        not _is_number(jitter) or not 0 <= jitter <= 1  # type: ignore[operator]
    ):
        problems.append(
            "jitter must be None (the backoff's default) or a fraction from 0 to 1 of each "
            f"wait that is random, e.g. 0.5, got {jitter!r}"
        )
    problems.extend(_retry_on_problems(retry_on))
    if retry_if is not None and not callable(retry_if):
        problems.append(
            f"retry_if must be a function of the error that returns true to retry, got {retry_if!r}"
        )
    return problems


def _retry_on_problems(retry_on: object) -> list[str]:
    if retry_on is None:
        return []
    example = "e.g. retry_on=(TimeoutError, ConnectionError)"
    if retry_on == ():
        return [
            "retry_on=() names no exception class, so no error would retry: name the "
            f"errors worth another attempt, {example}, or leave retry_on=None to retry "
            "every Exception (for no retry at all, make a single attempt)"
        ]
    if not isinstance(retry_on, tuple):
        return [
            f"retry_on must be None or a tuple of exception classes, {example}, got {retry_on!r}"
        ]
    problems = []
    for kind in retry_on:
        if not isinstance(kind, type) or not issubclass(kind, BaseException):
            problems.append(f"retry_on holds {kind!r}, which is not an exception class ({example})")
        elif not issubclass(kind, Exception):
            problems.append(
                f"retry_on holds {kind.__name__}, which is never retried (it is not an "
                "Exception): remove it"
            )
        elif issubclass(kind, PermanentError):
            problems.append(
                f"retry_on holds {kind.__name__}, a PermanentError, which is never retried: "
                "remove it"
            )
    return problems
