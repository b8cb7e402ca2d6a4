"""The decisions of single calls, tested without an event loop (antflow_core.model.calls)."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from antflow_core.model import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    WAIT_TABLE,
    CallPolicy,
    GiveUp,
    RetryTask,
    ReturnWhen,
    Stage,
    call_policy,
    decide_call_retry,
    decide_retry,
    default_buffersize,
    map_window,
    option_keywords,
    parse_return_when,
    validate_max_workers,
    wait_is_over,
)
from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Success


async def _task(x: int) -> int:
    return x


def test_a_call_retries_while_attempts_are_left_then_gives_up() -> None:
    policy = call_policy(retries=2, retry_delay=0.5)
    assert policy == CallPolicy(attempts=3, wait_seconds=0.5)
    assert policy.retries == 2
    error = ConnectionError("reset")
    assert decide_call_retry(policy, attempt=1, error=error) == Success(RetryTask(2, 0.5))
    assert decide_call_retry(policy, attempt=2, error=error) == Success(RetryTask(3, 0.5))
    assert decide_call_retry(policy, attempt=3, error=error) == Failure(
        GiveUp(3, "3 of 3 attempts used")
    )


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(1), asyncio.CancelledError()])
def test_an_error_that_is_not_an_exception_is_never_retried(error: BaseException) -> None:
    decision = decide_call_retry(call_policy(retries=5), attempt=1, error=error)
    assert decision == Failure(GiveUp(1, f"{type(error).__name__} is not retryable"))


def test_no_retries_is_one_attempt_whatever_the_delay() -> None:
    assert call_policy() == call_policy(retries=0, retry_delay=7) == CallPolicy(attempts=1)
    decision = decide_call_retry(call_policy(), attempt=1, error=ValueError())
    assert isinstance(decision, Failure)


@given(
    retries=st.integers(min_value=0, max_value=6),
    delay=st.sampled_from([0.0, 0.25, 1.0, 3.0]),
    attempt=st.integers(min_value=1, max_value=8),
    retryable=st.booleans(),
)
def test_a_call_decides_as_a_per_task_stage_with_the_same_numbers(
    retries: int, delay: float, attempt: int, retryable: bool
) -> None:
    """The executor's retries are the stage's per-task retries: same table, same numbers."""
    error: BaseException = ValueError("x") if retryable else KeyboardInterrupt()
    stage = Stage("S", tasks=[_task], task_attempts=retries + 1, task_wait_seconds=delay)
    by_stage = decide_retry(stage, task_attempt=attempt, stage_attempt=1, error=error)
    by_call = decide_call_retry(
        call_policy(retries=retries, retry_delay=delay), attempt=attempt, error=error
    )
    assert type(by_call) is type(by_stage)
    if isinstance(by_stage, Success):
        assert by_call == by_stage
    else:
        assert by_call.failure().attempts == by_stage.failure().attempts


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries must be an integer >= 0"),
        ({"retries": 2.0}, "retries must be an integer >= 0"),
        ({"retries": True}, "retries must be an integer >= 0"),
        ({"retries": 1, "retry_delay": -0.1}, "retry_delay must be a number of seconds >= 0"),
        ({"retries": 1, "retry_delay": float("nan")}, "retry_delay must be a number of seconds"),
        ({"retries": 1, "retry_delay": float("inf")}, "retry_delay must be a number of seconds"),
        ({"retries": 1, "retry_delay": "1"}, "retry_delay must be a number of seconds"),
    ],
)
def test_bad_retry_options_say_what_to_pass(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call_policy(**options)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4", None])
def test_max_workers_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="max_workers must be an integer of at least 1"):
        validate_max_workers(bad)
    assert validate_max_workers(12) == 12


# ------------------------------------------------------------------ waiting
@pytest.mark.parametrize(
    ("when", "total", "done", "failed", "over"),
    [
        (FIRST_COMPLETED, 3, 0, 0, False),
        (FIRST_COMPLETED, 3, 1, 0, True),
        (FIRST_COMPLETED, 0, 0, 0, True),
        (FIRST_EXCEPTION, 3, 2, 0, False),
        (FIRST_EXCEPTION, 3, 1, 1, True),
        (FIRST_EXCEPTION, 3, 3, 0, True),
        (ALL_COMPLETED, 3, 2, 1, False),
        (ALL_COMPLETED, 3, 3, 0, True),
        (ALL_COMPLETED, 0, 0, 0, True),
    ],
)
def test_the_wait_table(when: ReturnWhen, total: int, done: int, failed: int, over: bool) -> None:
    assert wait_is_over(when, total=total, done=done, failed=failed) is over


def test_the_wait_table_covers_every_return_when() -> None:
    assert set(WAIT_TABLE) == set(ReturnWhen)


def test_return_when_accepts_the_constants_of_concurrent_futures_and_asyncio() -> None:
    assert parse_return_when(concurrent.futures.FIRST_EXCEPTION) is FIRST_EXCEPTION
    assert parse_return_when(asyncio.FIRST_COMPLETED) is FIRST_COMPLETED
    assert parse_return_when("ALL_COMPLETED") is ALL_COMPLETED
    assert ALL_COMPLETED == concurrent.futures.ALL_COMPLETED
    with pytest.raises(ValueError, match="return_when must be one of FIRST_COMPLETED, "):
        parse_return_when("first")
    with pytest.raises(ValueError, match="got 1"):
        parse_return_when(1)


# ------------------------------------------------------ streams and 0.10's keywords
def test_a_stream_keeps_twice_the_workers_ahead_unless_told() -> None:
    assert default_buffersize(20) == 40
    assert map_window(None, 20) == 40
    assert map_window(3, 20) == 3
    for bad in (0, -1, 1.5, True, "8"):
        with pytest.raises(ValueError, match="buffersize must be None"):
            map_window(bad, 20)


OPTIONS = ("retries", "retry_delay", "semaphore")


def test_0_10_keywords_are_options_unless_the_function_takes_them() -> None:
    async def fetch(url: str) -> str:
        return url

    async def download(url: str, retries: int = 0) -> str:
        return url

    async def anything(url: str, **kwargs: object) -> str:
        return url

    def positional(url: str, retries: int, /) -> str:
        return url

    keywords = ["retries", "semaphore", "timeout"]
    assert option_keywords(fetch, keywords, OPTIONS) == {"retries", "semaphore"}
    assert option_keywords(download, keywords, OPTIONS) == {"semaphore"}
    assert option_keywords(anything, keywords, OPTIONS) == set()
    assert option_keywords(positional, keywords, OPTIONS) == {"retries", "semaphore"}
    assert option_keywords(fetch, ["timeout"], OPTIONS) == set()
    assert option_keywords(len, ["retries"], OPTIONS) == {"retries"}  # builtin: readable
    assert option_keywords(type.__call__, ["retries"], OPTIONS) == set()  # *args, **kwargs
