"""Rate limits on executor calls (the flow-control limiters), on a virtual clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from antflow_core.model import RateLimit
from antflow_core.runtime import RateLimiter, call_rate_has_capacity, rate_limit
from antflow_core.runtime.executor import AsyncExecutor

from .conftest import VirtualTime


def most_in_any_window(starts: list[float], period: float) -> int:
    """The largest number of starts in one half-open window ``(t - period, t]``."""
    return max(sum(1 for s in starts if end - period < s <= end) for end in starts)


class Recorder:
    """A call that records when it started (on the loop's clock)."""

    def __init__(self) -> None:
        self.starts: list[float] = []

    async def __call__(self, x: int) -> int:
        self.starts.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.01)
        return x


def test_rate_limit_caps_the_starts_in_any_window_across_workers(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        call = Recorder()
        async with AsyncExecutor(max_workers=20, rate_limit=(5, 1.0)) as executor:
            assert await executor.map(call, range(20)) == list(range(20))
        assert most_in_any_window(call.starts, 1.0) == 5
        assert call.starts == pytest.approx([0.0] * 5 + [1.0] * 5 + [2.0] * 5 + [3.0] * 5)

    virtual_time(main)


def test_with_options_and_map_keep_the_executors_budget_unless_they_give_their_own(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        call = Recorder()
        own = Recorder()
        async with AsyncExecutor(max_workers=20, rate_limit=(2, 1.0)) as executor:
            futures = [executor.submit(call, n) for n in range(3)]
            futures += [executor.with_options(retries=1).submit(call, n) for n in range(3)]
            results = executor.map(call, range(2), retry_delay=0)
            separate = executor.map(own, range(4), rate_limit=RateLimit(4, 1.0))
            assert [await f for f in futures] == [0, 1, 2, 0, 1, 2]
            assert await results == [0, 1]
            assert await separate == [0, 1, 2, 3]
        assert most_in_any_window(call.starts, 1.0) == 2  # 8 calls, one budget: 4 windows
        assert max(call.starts) == pytest.approx(3.0)
        assert own.starts == pytest.approx([0.0] * 4)  # a budget of its own

    virtual_time(main)


def test_every_attempt_counts_as_a_start(virtual_time: VirtualTime[Any]) -> None:
    async def main() -> None:
        starts: list[float] = []

        async def flaky(x: int) -> int:
            starts.append(asyncio.get_running_loop().time())
            if len(starts) == 1:
                raise ConnectionError("first attempt fails")
            return x

        async with AsyncExecutor(rate_limit=(1, 2.0), retries=1, retry_delay=0) as executor:
            assert await executor.map(flaky, [7, 8]) == [7, 8]
        assert starts == pytest.approx([0.0, 2.0, 4.0])  # the retry waited for its turn

    virtual_time(main)


def test_a_rate_limiter_object_is_one_budget_across_executors(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        api = RateLimiter(3, 1.0, name="api")
        call = Recorder()
        async with (
            AsyncExecutor(max_workers=5, rate_limit=api) as first,
            AsyncExecutor(max_workers=5) as second,
        ):
            one = first.map(call, range(6))
            two = second.with_options(rate_limit=api).map(call, range(6))
            assert await one == list(range(6))
            assert await two == list(range(6))
        assert most_in_any_window(call.starts, 1.0) == 3
        assert len(call.starts) == 12

    virtual_time(main)


def test_named_limits_work_inside_executor_calls(virtual_time: VirtualTime[Any]) -> None:
    async def main() -> None:
        starts: list[float] = []
        capacity: list[bool] = []

        async def ask(n: int) -> int:
            capacity.append(call_rate_has_capacity("llm"))
            async with rate_limit("llm", 2, 1.0):  # shared by every call of the executor
                starts.append(asyncio.get_running_loop().time())
            return n

        async with AsyncExecutor(max_workers=6) as executor:
            assert await executor.map(ask, range(6)) == list(range(6))
        assert starts == pytest.approx([0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
        assert capacity[:3] == [True, True, False]

    virtual_time(main)


async def test_an_executor_inside_a_pipeline_task_shares_the_pipelines_named_limits() -> None:
    from antflow_core import Pipeline, Stage

    seen: list[object] = []

    async def inner(n: int) -> int:
        seen.append(rate_limit("shared", 100, 1.0))
        return n

    async def task(n: int) -> int:
        seen.append(rate_limit("shared", 100, 1.0))
        async with AsyncExecutor(max_workers=2) as executor:
            return sum(await executor.map(inner, range(n)))

    pipeline = Pipeline([Stage("S", workers=1, tasks=[task])])
    async with asyncio.timeout(5):
        assert [r.value for r in await pipeline.run([3])] == [3]
    assert len(seen) == 4
    assert all(limiter is seen[0] for limiter in seen)


async def test_a_bad_rate_limit_says_what_to_pass() -> None:
    bad: Any = 500
    with pytest.raises(TypeError, match=r"rate_limit must be a \(calls, period_seconds\) pair"):
        AsyncExecutor(rate_limit=bad)
    with pytest.raises(ValueError, match="rate_limit: calls must be an integer of at least 1"):
        AsyncExecutor(rate_limit=(0, 60))
    with pytest.raises(ValueError, match="rate_limit: period must be a finite number"):
        AsyncExecutor(rate_limit=(10, -1))
