"""``Pipeline.quick()``: one call, one stage, the results."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from antflow import (
    DashboardSnapshot,
    FailedItem,
    KeyedItem,
    Pipeline,
    Stage,
    TaskTimeoutError,
)
from antflow_builders import QUICK_STAGE_NAME


async def fetch(x: int) -> str:
    await asyncio.sleep(0)
    return f"data_{x}"


async def process(text: str) -> str:
    return text.upper()


def measure(text: str) -> int:
    return len(text)


class StartRecorder:
    """A `ProgressDisplay` that records ``start`` and ``finish``."""

    def __init__(self) -> None:
        self.started: list[tuple[int | None, tuple[str, ...]]] = []
        self.finished = 0

    @property
    def refresh_interval(self) -> float:
        return 3600.0

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        self.started.append((total, tuple(stage_names)))

    def update(self, snapshot: DashboardSnapshot) -> None:
        raise AssertionError("no refresh within a test")

    def finish(self, snapshot: DashboardSnapshot) -> None:
        self.finished += 1


async def test_one_task_gives_the_results_of_a_one_stage_pipeline() -> None:
    expected = await Pipeline(stages=[Stage("Fetch", workers=5, tasks=[fetch])]).run(range(20))
    assert await Pipeline.quick(range(20), fetch, workers=5) == expected
    assert [r.value for r in expected] == [f"data_{i}" for i in range(20)]


@pytest.mark.parametrize("container", [list, tuple])
async def test_several_tasks_run_in_order_in_one_stage(container: type) -> None:
    expected = await Pipeline(stages=[Stage("S", tasks=[fetch, process, measure])]).run(range(5))
    results = await Pipeline.quick(range(5), container([fetch, process, measure]), workers=10)
    assert results == expected
    assert [r.value for r in results] == [6] * 5


async def test_several_tasks_are_one_stage_named_quick() -> None:
    failures: list[FailedItem] = []

    async def reject_odd(text: str) -> str:
        if text.endswith(("1", "3")):
            raise ValueError(f"odd: {text}")
        return text

    display = StartRecorder()
    results = await Pipeline.quick(
        range(4),
        [fetch, reject_odd],
        retries=0,
        progress=display,
        on_failure=failures.append,
    )
    assert display.started == [(4, (QUICK_STAGE_NAME,))]
    assert [r.value for r in results] == ["data_0", "data_2"]
    assert sorted((f.id, f.stage, f.attempts) for f in failures) == [
        (1, "Quick", 1),
        (3, "Quick", 1),
    ]


def flaky(failures_before_success: int) -> tuple[Counter[int], Any]:
    """A task that fails its first ``failures_before_success`` calls for each item."""
    calls: Counter[int] = Counter()

    async def task(x: int) -> int:
        calls[x] += 1
        if calls[x] <= failures_before_success:
            raise ConnectionError(f"call {calls[x]} for {x}")
        return x

    return calls, task


@pytest.mark.parametrize(("retries", "calls_per_item"), [(0, 1), (1, 1), (2, 2), (3, 3), (5, 3)])
async def test_retries_counts_the_attempts_as_in_0_10(retries: int, calls_per_item: int) -> None:
    calls, task = flaky(failures_before_success=2)  # succeeds on its third call
    failures: list[FailedItem] = []
    results = await Pipeline.quick(
        range(3), task, retries=retries, task_wait_seconds=0, on_failure=failures.append
    )
    assert dict(calls) == {0: calls_per_item, 1: calls_per_item, 2: calls_per_item}
    if retries >= 3:
        assert [r.value for r in results] == [0, 1, 2]
        assert failures == []
    else:
        assert results == []
        assert [(f.id, f.attempts) for f in failures] == [(i, calls_per_item) for i in range(3)]


async def test_the_default_is_three_attempts() -> None:
    calls, task = flaky(failures_before_success=10)
    failures: list[FailedItem] = []
    assert await Pipeline.quick([7], task, task_wait_seconds=0, on_failure=failures.append) == []
    assert calls[7] == 3
    assert [(f.value, f.attempts, f.error_type) for f in failures] == [(7, 3, "ConnectionError")]


async def test_quick_is_the_stage_one_would_write_by_hand() -> None:
    calls, task = flaky(failures_before_success=1)
    manual = await Pipeline(
        stages=[Stage("Quick", workers=5, tasks=[task], task_attempts=3, task_wait_seconds=0)]
    ).run(range(6))
    calls.clear()
    assert await Pipeline.quick(range(6), task, task_wait_seconds=0) == manual


async def test_workers_bounds_how_many_items_run_at_once() -> None:
    running = 0
    peak = 0
    three_running = asyncio.Event()

    async def hold(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three_running.set()
        await three_running.wait()
        await asyncio.sleep(0)  # let every worker that could start do so
        running -= 1
        return x

    results = await Pipeline.quick(range(12), hold, workers=3)
    assert len(results) == 12
    assert peak == 3


async def test_name_and_task_timeout_reach_the_stage() -> None:
    never = asyncio.Event()

    async def stuck(x: int) -> int:
        await never.wait()
        return x

    failures: list[FailedItem] = []
    results = await Pipeline.quick(
        [1], stuck, retries=0, name="Stuck", task_timeout=0.01, on_failure=failures.append
    )
    assert results == []
    [failed] = failures
    assert (failed.stage, type(failed.error)) == ("Stuck", TaskTimeoutError)


async def test_keyed_items_and_async_iterables_are_accepted() -> None:
    async def users() -> AsyncIterator[KeyedItem[str]]:
        for name in ("alice", "bob"):
            yield {"id": f"user_{name}", "value": name}

    results = await Pipeline.quick(users(), process)
    assert [(r.id, r.value) for r in results] == [("user_alice", "ALICE"), ("user_bob", "BOB")]


async def test_dashboard_and_refresh_interval_reach_the_run() -> None:
    display = StartRecorder()
    await Pipeline.quick(range(2), fetch, dashboard=display, refresh_interval=1.0)
    assert display.started == [(2, ("Quick",))]
    assert display.finished == 1


def test_quick_returns_a_coroutine_that_asyncio_run_accepts() -> None:
    results = asyncio.run(Pipeline.quick(range(3), fetch))
    assert [r.value for r in results] == ["data_0", "data_1", "data_2"]


async def test_quick_takes_the_retry_policy_options() -> None:
    calls: dict[str, int] = {}

    async def lookup(key: str) -> str:
        calls[key] = calls.get(key, 0) + 1
        if key == "missing":
            raise KeyError(key)
        if calls[key] < 3:
            raise TimeoutError("slow")
        return key

    pipeline_results = await Pipeline.quick(
        ["missing", "slow"],
        lookup,
        retries=3,
        task_wait_seconds=0,
        retry_on=TimeoutError,
        backoff="exponential",
        max_wait_seconds=0,
    )
    assert [r.value for r in pipeline_results] == ["slow"]
    assert calls == {"missing": 1, "slow": 3}
