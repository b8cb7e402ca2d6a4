"""The decisions of single calls, tested without an event loop (antflow_core.model.calls)."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from antflow_core.errors import PermanentError
from antflow_core.model import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    WAIT_TABLE,
    Backoff,
    GiveUp,
    RetryPolicy,
    RetryTask,
    ReturnWhen,
    Stage,
    call_retry_policy,
    decide_retry,
    default_buffersize,
    map_window,
    option_keywords,
    parse_return_when,
    validate_max_workers,
    wait_is_over,
)
from antflow_core.model.calls import NO_RETRY
from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Success


async def _task(x: int) -> int:
    return x


def test_retries_and_retry_delay_are_a_policys_attempts_and_wait() -> None:
    policy = call_retry_policy({"retries": 2, "retry_delay": 0.5})
    assert policy == RetryPolicy(attempts=3, wait_seconds=0.5)
    error = ConnectionError("reset")
    assert policy.decide(attempt=1, error=error) == Success(RetryTask(2, 0.5))
    assert policy.decide(attempt=2, error=error) == Success(RetryTask(3, 0.5))
    assert policy.decide(attempt=3, error=error) == Failure(GiveUp(3, "3 of 3 attempts used"))


def test_no_retry_options_is_one_attempt() -> None:
    assert call_retry_policy({}) is NO_RETRY
    assert call_retry_policy({"semaphore": None}) is NO_RETRY
    assert NO_RETRY.attempts == 1
    assert call_retry_policy({"retries": 0, "retry_delay": 7}).attempts == 1
    assert isinstance(NO_RETRY.decide(attempt=1, error=ValueError()), Failure)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(1), asyncio.CancelledError()])
def test_an_error_that_is_not_an_exception_is_never_retried(error: BaseException) -> None:
    decision = call_retry_policy({"retries": 5}).decide(attempt=1, error=error)
    assert decision == Failure(GiveUp(1, f"{type(error).__name__} is not retryable"))


def test_the_policy_options_are_the_retry_policys_fields() -> None:
    def transient(error: BaseException) -> bool:
        return "503" in str(error)

    policy = call_retry_policy(
        {
            "retries": 4,
            "retry_delay": 0.5,
            "backoff": "exponential",
            "max_wait_seconds": 3,
            "jitter": 0,
            "retry_on": OSError,  # one class becomes a tuple, as in RetryPolicy
            "retry_if": transient,
        }
    )
    assert policy == RetryPolicy(
        attempts=5,
        wait_seconds=0.5,
        backoff="exponential",
        max_wait_seconds=3,
        jitter=0,
        retry_on=(OSError,),
        retry_if=transient,
    )
    assert [policy.wait(n) for n in range(1, 5)] == [0.5, 1.0, 2.0, 3.0]
    assert isinstance(policy.decide(attempt=1, error=OSError("503")), Success)
    assert isinstance(policy.decide(attempt=1, error=OSError("404")), Failure)
    assert isinstance(policy.decide(attempt=1, error=KeyError("503")), Failure)
    assert isinstance(policy.decide(attempt=1, error=PermanentError("503")), Failure)


def test_a_retry_policy_is_the_start_and_named_options_replace_its_fields() -> None:
    base = RetryPolicy(attempts=3, wait_seconds=2, backoff="exponential", retry_on=(OSError,))
    assert call_retry_policy({"retry_policy": base}) is base
    assert call_retry_policy({"retry_policy": None, "retries": 1}) == RetryPolicy(
        attempts=2, wait_seconds=1.0
    )
    changed = call_retry_policy({"retry_policy": base, "retries": 5, "jitter": 0.1})
    assert changed == RetryPolicy(
        attempts=6, wait_seconds=2, backoff="exponential", jitter=0.1, retry_on=(OSError,)
    )


@given(
    retries=st.integers(min_value=0, max_value=6),
    delay=st.sampled_from([0.0, 0.25, 1.0, 3.0]),
    backoff=st.sampled_from(["fixed", "exponential"]),
    cap=st.sampled_from([None, 0.5, 4.0]),
    jitter=st.sampled_from([None, 0.0, 0.3, 1.0]),
    retry_on=st.sampled_from([None, (ValueError,), (KeyError, OSError)]),
    attempt=st.integers(min_value=1, max_value=8),
    error=st.sampled_from(
        [ValueError("x"), OSError("y"), PermanentError("z"), KeyboardInterrupt()]
    ),
    draw=st.floats(min_value=0.0, max_value=0.999),
)
def test_a_call_decides_as_a_per_task_stage_with_the_same_numbers(
    retries: int,
    delay: float,
    backoff: Backoff,
    cap: float | None,
    jitter: float | None,
    retry_on: tuple[type[BaseException], ...] | None,
    attempt: int,
    error: BaseException,
    draw: float,
) -> None:
    """The executor's retries are the stage's per-task retries: one policy, one decision."""
    stage = Stage(
        "S",
        tasks=[_task],
        task_attempts=retries + 1,
        task_wait_seconds=delay,
        backoff=backoff,
        max_wait_seconds=cap,
        jitter=jitter,
        retry_on=retry_on,
    )
    by_stage = decide_retry(stage, task_attempt=attempt, stage_attempt=1, error=error, draw=draw)
    policy = call_retry_policy(
        {
            "retries": retries,
            "retry_delay": delay,
            "backoff": backoff,
            "max_wait_seconds": cap,
            "jitter": jitter,
            "retry_on": retry_on,
        }
    )
    by_call = policy.decide(attempt=attempt, error=error, draw=draw)
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
        ({"retries": 1, "backoff": "linear"}, "backoff must be 'fixed' or 'exponential'"),
        ({"retries": 1, "jitter": 2}, "jitter must be None"),
        ({"retries": 1, "max_wait_seconds": -1}, "max_wait_seconds must be None"),
        ({"retries": 1, "retry_on": "OSError"}, "retry_on must be None or a tuple"),
        ({"retries": 1, "retry_on": (PermanentError,)}, "a PermanentError, which is never"),
        ({"retries": 1, "retry_if": 3}, "retry_if must be a function"),
    ],
)
def test_bad_retry_options_say_what_to_pass(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call_retry_policy(options)


def test_a_retry_policy_option_must_be_a_retry_policy() -> None:
    with pytest.raises(TypeError, match=r"retry_policy must be a RetryPolicy, e\.g\."):
        call_retry_policy({"retry_policy": {"attempts": 3}})


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
