"""Which errors are retried (retry_on, retry_if, PermanentError) and how long retries wait.

A crawler must not retry a 404 three times while a 503 deserves another try; a client of
a rate-limited API expects waits that grow, stay under a cap, and are jittered. The
decisions are the model's (`RetryPolicy`), checked here without an event loop; the
pipeline's behaviour is checked on both retry strategies, with its retry sleep replaced
by a recording one (a controlled clock: nothing really waits) and a seeded jitter draw.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from typing import Any

import pytest
from antflow_core import Pipeline, Stage
from antflow_core.errors import PermanentError, StageValidationError
from antflow_core.model import (
    GiveUp,
    RequeueItem,
    RetryPolicy,
    RetryTask,
    backoff_wait,
    decide_retry,
    decide_stage_failure,
)
from antflow_tracker import StatusTracker
from returns.result import Failure, Success

STRATEGIES = ["per_task", "per_stage"]


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def retryable_status(exc: BaseException) -> bool:
    return isinstance(exc, HTTPError) and exc.status >= 500


class RecordingPipeline(Pipeline):
    """Waits on a controlled clock: retry sleeps are recorded and return at once."""

    def __init__(self, *args: Any, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits: list[float] = []
        self.rng = random.Random(seed)

    async def _backoff_sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def _jitter_draw(self) -> float:
        return self.rng.random()


def strategy_options(strategy: str, attempts: int) -> dict[str, Any]:
    if strategy == "per_task":
        return {"retry": "per_task", "task_attempts": attempts}
    return {"retry": "per_stage", "stage_attempts": attempts}


# ------------------------------------------------------------------ which errors retry


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_404_fails_after_one_attempt_while_a_503_is_retried(strategy: str) -> None:
    calls: Counter[str] = Counter()

    async def fetch(url: str) -> str:
        calls[url] += 1
        if url == "/missing":
            raise HTTPError(404)
        if url == "/busy" and calls[url] < 3:
            raise HTTPError(503)
        return f"page {url}"

    stage = Stage(
        "Fetch",
        workers=2,
        tasks=[fetch],
        retry_if=retryable_status,
        task_wait_seconds=0,
        **strategy_options(strategy, 3),
    )
    pipeline = Pipeline([stage])
    async with asyncio.timeout(5):
        results = await pipeline.run(["/missing", "/busy", "/ok"])

    assert [r.value for r in results] == ["page /busy", "page /ok"]
    assert calls == {"/missing": 1, "/busy": 3, "/ok": 1}
    [failed] = pipeline.failures
    assert (failed.value, failed.attempts, failed.error_message) == ("/missing", 1, "HTTP 404")
    assert isinstance(failed.error, HTTPError)  # its real error, not a wrapper
    assert pipeline.get_stats().stage_stats["Fetch"].retried_items == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_retry_on_retries_only_the_listed_exception_types(strategy: str) -> None:
    calls: Counter[int] = Counter()

    async def call(n: int) -> int:
        calls[n] += 1
        if n == 0:
            raise KeyError("no such record")  # a bug or bad input: retrying cannot help
        if n == 1 and calls[n] == 1:
            raise TimeoutError("slow")
        if n == 2:
            raise ConnectionError("down")  # retried until the attempts are used
        return n

    stage = Stage(
        "Call",
        tasks=[call],
        retry_on=(TimeoutError, ConnectionError),
        task_wait_seconds=0,
        **strategy_options(strategy, 3),
    )
    pipeline = Pipeline([stage])
    async with asyncio.timeout(5):
        results = await pipeline.run(range(4))

    assert [r.value for r in results] == [1, 3]
    assert calls == {0: 1, 1: 2, 2: 3, 3: 1}
    failures = {f.id: (f.error_type, f.attempts) for f in pipeline.failures}
    assert failures == {0: ("KeyError", 1), 2: ("ConnectionError", 3)}


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_permanent_error_gives_up_at_once_whatever_the_retry_settings(
    strategy: str,
) -> None:
    calls: Counter[int] = Counter()

    async def fetch(n: int) -> int:
        calls[n] += 1
        if n == 1:
            raise PermanentError("gone for good") from HTTPError(410)
        return n

    tracker = StatusTracker()
    stage = Stage(
        "Fetch",
        tasks=[fetch],
        retry_if=lambda exc: True,  # even a predicate that retries everything
        task_wait_seconds=0,
        **strategy_options(strategy, 5),
    )
    pipeline = Pipeline([stage], status_tracker=tracker)
    async with asyncio.timeout(5):
        await pipeline.run(range(3))

    assert calls[1] == 1
    [failed] = pipeline.failures
    assert (failed.id, failed.attempts, failed.error_type) == (1, 1, "PermanentError")
    assert isinstance(failed.error.__cause__, HTTPError)
    assert [e.status for e in tracker.get_history(1)] == ["queued", "in_progress", "failed"]


async def test_a_retry_if_that_raises_fails_the_item_with_its_own_error() -> None:
    def broken(exc: Any) -> bool:
        return bool(exc.status >= 500)  # not every error has a status

    async def task(n: int) -> int:
        raise ValueError("plain error")

    pipeline = Pipeline([Stage("S", tasks=[task], retry_if=broken, task_wait_seconds=0)])
    async with asyncio.timeout(5):
        await pipeline.run([7])
    [failed] = pipeline.failures
    assert failed.error_type == "AttributeError"  # the predicate's bug shows
    assert failed.attempts == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_retry_if_is_asked_once_per_failed_call(strategy: str) -> None:
    asked: list[str] = []

    def worth_it(exc: BaseException) -> bool:
        asked.append(str(exc))
        return True

    async def task(n: int) -> int:
        raise ConnectionError(f"call {len(asked) + 1}")

    stage = Stage(
        "S", tasks=[task], retry_if=worth_it, task_wait_seconds=0, **strategy_options(strategy, 3)
    )
    async with asyncio.timeout(5):
        await Pipeline([stage]).run([0])
    assert asked == ["call 1", "call 2", "call 3"]


def test_the_model_refuses_what_the_table_refuses() -> None:
    policy = RetryPolicy(attempts=3, wait_seconds=0, retry_on=OSError, retry_if=retryable_status)
    assert policy.retry_on == (OSError,)
    assert policy.refusal(SystemExit(1)) is not None
    assert policy.refusal(PermanentError("no")) is not None
    assert policy.refusal(HTTPError(503)) is not None  # not an OSError
    policy = RetryPolicy(attempts=3, wait_seconds=0, retry_if=retryable_status)
    assert policy.refusal(HTTPError(503)) is None
    refused = policy.refusal(HTTPError(404))
    assert refused is not None
    assert refused.reason == "retry_if returned false for HTTPError"
    assert policy.decide(attempt=1, error=HTTPError(503)) == Success(RetryTask(2, 0.0))
    assert policy.decide(attempt=3, error=HTTPError(503)) == Failure(
        GiveUp(3, "3 of 3 attempts used")
    )


def test_decide_retry_reads_the_stages_policy_for_both_strategies() -> None:
    async def task(x: int) -> int:
        return x

    per_task = Stage("T", tasks=[task], retry_on=TimeoutError, task_wait_seconds=2)
    assert decide_retry(per_task, task_attempt=1, stage_attempt=1, error=TimeoutError()) == (
        Success(RetryTask(2, 2.0))
    )
    refused = decide_retry(per_task, task_attempt=1, stage_attempt=1, error=KeyError("k"))
    assert refused == Failure(GiveUp(1, "KeyError is not in retry_on"))
    per_stage = Stage("S", tasks=[task], retry="per_stage", retry_on=TimeoutError)
    decision = decide_stage_failure(
        per_stage, task_attempts=1, stage_attempt=1, error=TimeoutError()
    )
    assert decision == Success(RequeueItem(2, 1.0))
    decision = decide_stage_failure(per_stage, task_attempts=1, stage_attempt=1, error=KeyError())
    assert isinstance(decision, Failure)
    assert decision.failure().attempts == 1


# ----------------------------------------------------------------------------- backoff


def test_exponential_waits_grow_and_stay_under_the_cap_with_any_draw() -> None:
    policy = RetryPolicy(
        attempts=12, wait_seconds=0.5, backoff="exponential", max_wait_seconds=20.0
    )
    assert policy.effective_jitter == 0.5
    # No jitter (a draw of 0): the first wait, doubled each time, then the cap.
    assert [policy.wait(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 20, 20]
    for seed in range(20):
        rng = random.Random(seed)
        waits = [policy.wait(n, rng.random()) for n in range(1, 12)]
        assert all(0 < w <= 20.0 for w in waits), waits
        assert_grow_until_the_cap(policy, waits)
        assert waits[0] <= 0.5
        assert waits[-1] >= 10.0


def assert_grow_until_the_cap(policy: RetryPolicy, waits: list[float]) -> None:
    """With a jitter of 0.5 the shortest next wait is the longest previous one, until the cap."""
    cap = policy.max_wait_seconds
    for n in range(1, len(waits)):
        if cap is None or policy.wait(n + 1) < cap:
            assert waits[n] >= waits[n - 1], (n, waits)


def test_fixed_waits_keep_task_wait_seconds_and_jitter_is_a_fraction_of_the_wait() -> None:
    assert [backoff_wait(1.5, n) for n in (1, 2, 5)] == [1.5, 1.5, 1.5]
    assert backoff_wait(2.0, 1, jitter=0.25, draw=0.5) == 2.0 * (1 - 0.25 * 0.5)
    assert backoff_wait(2.0, 1, jitter=1.0, draw=0.999) == pytest.approx(0.002)
    assert backoff_wait(1.0, 10_000, backoff="exponential", max_wait_seconds=60) == 60.0
    assert backoff_wait(1.0, 10_000, backoff="exponential") > 1e18  # no overflow
    assert RetryPolicy().effective_jitter == 0.0


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_pipeline_waits_what_the_policy_says_on_a_controlled_clock(strategy: str) -> None:
    async def flaky(n: int) -> int:
        raise ConnectionError("rate limited")

    stage = Stage(
        "Call",
        tasks=[flaky],
        backoff="exponential",
        task_wait_seconds=1.0,
        max_wait_seconds=10.0,
        jitter=0.5,
        **strategy_options(strategy, 7),
    )
    pipeline = RecordingPipeline([stage], seed=42)
    async with asyncio.timeout(5):
        await pipeline.run([0])

    rng = random.Random(42)  # the same draws, in the same order
    expected = [stage.retry_policy.wait(n, rng.random()) for n in range(1, 7)]
    assert pipeline.waits == expected
    assert all(w <= 10.0 for w in pipeline.waits)
    assert_grow_until_the_cap(stage.retry_policy, pipeline.waits)
    assert pipeline.waits[-1] > pipeline.waits[0] * 4
    assert pipeline.failures[0].attempts == 7


async def test_retries_wait_task_wait_seconds_by_default() -> None:
    calls: Counter[int] = Counter()

    async def flaky(n: int) -> int:
        calls[n] += 1
        if calls[n] < 3:
            raise TimeoutError("slow")
        return n

    pipeline = RecordingPipeline([Stage("S", tasks=[flaky], task_wait_seconds=0.25)])
    async with asyncio.timeout(5):
        assert [r.value for r in await pipeline.run([5])] == [5]
    assert pipeline.waits == [0.25, 0.25]


# -------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_on": "TimeoutError"}, "retry_on must be None or a tuple of exception classes"),
        ({"retry_on": ()}, "retry_on=() names no exception class, so no error would retry"),
        ({"retry_on": []}, "retry_on=() names no exception class, so no error would retry"),
        ({"retry_on": (TimeoutError, 3)}, "retry_on holds 3, which is not an exception class"),
        ({"retry_on": (KeyboardInterrupt,)}, "KeyboardInterrupt, which is never retried"),
        ({"retry_on": (PermanentError,)}, "a PermanentError, which is never retried"),
        ({"retry_if": True}, "retry_if must be a function of the error"),
        ({"backoff": "linear"}, "backoff must be 'fixed' or 'exponential'"),
        ({"max_wait_seconds": -1}, "max_wait_seconds must be None (no cap)"),
        ({"max_wait_seconds": math.inf}, "max_wait_seconds must be None (no cap) or a finite"),
        ({"jitter": math.nan}, "jitter must be None (the backoff's default) or a fraction"),
        ({"jitter": 1.5}, "jitter must be None (the backoff's default) or a fraction"),
    ],
)
def test_bad_retry_options_are_refused_with_what_to_change(
    options: dict[str, Any], message: str
) -> None:
    async def task(x: int) -> int:
        return x

    with pytest.raises(StageValidationError, match="Stage 'S'") as raised:
        Stage("S", tasks=[task], **options)
    assert message in str(raised.value)
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**options)


def test_a_policy_is_a_frozen_value_a_stage_builds_from_its_fields() -> None:
    async def task(x: int) -> int:
        return x

    stage = Stage(
        "S",
        tasks=[task],
        retry="per_stage",
        stage_attempts=4,
        task_wait_seconds=0.1,
        backoff="exponential",
        retry_on=[TimeoutError],  # a list is accepted and kept as a tuple
    )
    assert stage.retry_on == (TimeoutError,)
    assert stage.retry_policy == RetryPolicy(
        attempts=4, wait_seconds=0.1, backoff="exponential", retry_on=(TimeoutError,)
    )
    assert stage == Stage(
        "S",
        tasks=[task],
        retry="per_stage",
        stage_attempts=4,
        task_wait_seconds=0.1,
        backoff="exponential",
        retry_on=TimeoutError,
    )
