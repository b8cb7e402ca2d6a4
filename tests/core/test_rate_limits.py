"""Rate limits and call concurrency: the model's window arithmetic and the runtime's limiters.

Timing is shown on a virtual clock (``virtual_time.py``): the event loop's time jumps to
the next timer, so "at most 3 calls per second" is checked exactly, over virtual
minutes, in milliseconds, with no real sleep.
"""

from __future__ import annotations

import asyncio
import bisect
import importlib.util
import math
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from antflow_core import (
    ConcurrencyLimiter,
    Pipeline,
    RateLimit,
    RateLimiter,
    Stage,
    StageValidationError,
    call_rate_has_capacity,
    concurrency_limit,
    rate_limit,
)
from antflow_core.model import call_delay, plan_pipeline, rate_limited_starts
from hypothesis import given, settings
from hypothesis import strategies as st


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


virtual_time = load("antflow_virtual_time", Path(__file__).with_name("virtual_time.py"))
run_virtual: Callable[[Any], Any] = virtual_time.run


def most_in_any_window(starts: Sequence[float], period: float) -> int:
    """The most starts in any half-open window [t, t + period) (a window starting at a start)."""
    ordered = sorted(starts)
    return max(
        (bisect.bisect_left(ordered, s + period) - i for i, s in enumerate(ordered)), default=0
    )


def now() -> float:
    return asyncio.get_running_loop().time()


# ---------------------------------------------------------------------------- the model


def test_a_call_starts_at_once_while_the_window_has_room() -> None:
    limit = RateLimit(3, 1.0)
    assert call_delay([], 5.0, limit) == 0.0
    assert call_delay([4.5, 4.9], 5.0, limit) == 0.0


def test_a_full_window_waits_until_its_oldest_start_leaves_it() -> None:
    limit = RateLimit(3, 1.0)
    assert call_delay([4.2, 4.5, 4.9], 5.0, limit) == pytest.approx(0.2)
    # the window is half-open: a start exactly one period ago no longer counts
    assert call_delay([4.0, 4.5, 4.9], 5.0, limit) == 0.0
    # only the last `calls` starts matter; older ones may be left in
    assert call_delay([1.0, 2.0, 4.2, 4.5, 4.9], 5.0, limit) == pytest.approx(0.2)
    assert limit.horizon(5.0) == 4.0


def test_the_schedule_of_a_burst_is_calls_per_period() -> None:
    starts = rate_limited_starts([0.0] * 7, RateLimit(3, 2.0))
    assert starts == [0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 4.0]


@settings(max_examples=200, deadline=None)
@given(
    calls=st.integers(1, 5),
    period=st.floats(0.01, 10.0),
    gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=40),
)
def test_no_window_of_the_schedule_holds_more_than_calls_and_no_start_waits_needlessly(
    calls: int, period: float, gaps: list[float]
) -> None:
    limit = RateLimit(calls, period)
    requests = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    starts = rate_limited_starts(requests, limit)
    assert most_in_any_window(starts, period) <= calls
    for k, (asked, at) in enumerate(zip(requests, starts, strict=True)):
        assert at >= asked
        if k:
            assert at >= starts[k - 1]  # first come, first served
        # it started when asked, when the one before it started, or the moment the
        # oldest of the last `calls` starts left the window: never later
        reasons = [asked] + ([starts[k - 1]] if k else [])
        if k >= calls:
            reasons.append(starts[k - calls] + period)
        assert min(abs(at - r) for r in reasons) < 1e-9


def test_rate_limit_refuses_what_cannot_be_a_limit() -> None:
    for calls, period in [(0, 1.0), (2.5, 1.0), (True, 1.0), (1, 0), (1, -1.0), (1, math.nan)]:
        with pytest.raises(ValueError, match=r"calls must be|period must be"):
            RateLimit(calls, period)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not go back in time"):
        rate_limited_starts([1.0, 0.5], RateLimit(1, 1.0))


async def upload(x: Any) -> Any:
    return x


async def check(x: Any) -> Any:
    return x


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"call_rate": 0}, "call_rate must be None (no rate limit) or an integer of at least 1"),
        ({"call_rate": 2.5}, "call_rate must be None"),
        ({"call_rate": 3, "call_rate_period": 0}, "call_rate_period must be a finite number"),
        ({"call_rate": 3, "call_rate_period": math.inf}, "call_rate_period must be a finite"),
        ({"call_rate_period": 60}, "call_rate_period=60 has no effect without call_rate"),
        ({"task_rate_limits": {"uplaod": (2, 1.0)}}, "names 'uplaod', which is not a task"),
        ({"task_rate_limits": {"upload": 2}}, "must be a RateLimit or a (calls, period"),
        ({"task_rate_limits": {"upload": (2, math.nan)}}, "task_rate_limits['upload']: per"),
        ({"task_rate_limits": [("upload", 2)]}, "task_rate_limits must be a dict"),
        ({"call_concurrency": 0}, "call_concurrency must be None"),
        ({"call_concurrency": 1.5}, "call_concurrency must be None"),
        ({"pull": "yes"}, "pull must be True or False"),
        ({"pull": True, "queue_capacity": 5}, "a pull stage has no queue"),
    ],
)
def test_every_flow_control_option_is_checked_at_construction(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(StageValidationError, match=re.escape(message)):
        Stage("Send", workers=4, tasks=[upload, check], **options)


def test_valid_limits_are_normalized_and_compiled_into_the_plan() -> None:
    stage = Stage(
        "Send",
        workers=4,
        tasks=[upload, check],
        call_rate=500,
        call_rate_period=60,
        task_rate_limits={"upload": (10, 1.0), "check": RateLimit(2)},
        call_concurrency=3,
    )
    assert stage.task_rate_limits == {"upload": RateLimit(10, 1.0), "check": RateLimit(2, 1.0)}
    assert stage.call_rate_limit == RateLimit(500, 60.0)
    pull = Stage("Poll", workers=7, tasks=[check], pull=True)
    first = Stage("First", tasks=[upload])
    plan = plan_pipeline([first, stage, pull])
    sent, polled = plan.stages[1], plan.stages[2]
    assert sent.call_rate == RateLimit(500, 60.0)
    assert sent.task_rates == (RateLimit(10, 1.0), RateLimit(2, 1.0))
    assert sent.call_concurrency == 3
    assert sent.limits_calls
    assert not plan.stages[0].limits_calls
    assert polled.pull
    assert polled.capacity == 7


def test_the_first_stage_cannot_be_a_pull_stage() -> None:
    with pytest.raises(StageValidationError, match="'Poll' is the first stage and a pull stage"):
        Pipeline([Stage("Poll", tasks=[check], pull=True)])


# ------------------------------------------------------------- the runtime, on the clock


def test_n_calls_per_window_are_never_exceeded_at_any_instant_across_workers() -> None:
    calls, period = 3, 1.0

    async def main() -> list[float]:
        starts: list[float] = []
        rng = random.Random(7)

        async def call_api(x: int) -> int:
            starts.append(now())
            await asyncio.sleep(rng.uniform(0.0, 2.5))  # calls overlap windows
            return x

        stage = Stage("Api", workers=8, tasks=[call_api], call_rate=calls, call_rate_period=period)
        async with asyncio.timeout(600):
            results = await Pipeline([stage]).run(range(40))
        assert len(results) == 40
        return starts

    starts = run_virtual(main())
    assert len(starts) == 40
    assert most_in_any_window(starts, period) == calls
    # and no call waited longer than the limit requires: 8 workers always wait, so the
    # k-th call starts in window k // 3
    for k, at in enumerate(sorted(starts)):
        assert math.floor(at + 1e-3) == k // calls


def test_the_runtime_grants_exactly_the_models_schedule() -> None:
    limit = RateLimit(4, 0.5)

    async def main() -> tuple[list[float], list[float]]:
        limiter = RateLimiter.of(limit)
        asked: list[float] = []
        granted: list[float] = []
        rng = random.Random(3)

        async def caller(delay: float) -> None:
            await asyncio.sleep(delay)
            asked.append(now())
            await limiter.acquire()
            granted.append(now())

        await asyncio.gather(*(caller(rng.uniform(0, 2.0)) for _ in range(30)))
        return asked, granted

    asked, granted = run_virtual(main())
    expected = rate_limited_starts(sorted(asked), limit)
    assert granted == pytest.approx(expected, abs=1e-5)


def test_a_task_rate_and_the_stage_rate_both_hold_and_retries_count() -> None:
    async def main() -> tuple[list[float], list[float]]:
        uploads: list[float] = []
        every: list[float] = []
        failed: set[int] = set()

        async def upload(x: int) -> int:
            every.append(now())
            uploads.append(now())
            if x % 3 == 0 and x not in failed:
                failed.add(x)
                raise ConnectionError("retry me")
            return x

        async def check(x: int) -> int:
            every.append(now())
            return x

        stage = Stage(
            "Send",
            workers=6,
            tasks=[upload, check],
            call_rate=5,
            call_rate_period=1.0,
            task_rate_limits={"upload": (2, 1.0)},
            task_wait_seconds=0,
        )
        pipeline = Pipeline([stage])
        async with asyncio.timeout(600):
            results = await pipeline.run(range(12))
        assert len(results) == 12
        assert pipeline.get_stats().stage_stats["Send"].retried_items == 4
        return uploads, every

    uploads, every = run_virtual(main())
    assert len(uploads) == 16  # 12 items, 4 retried: every call counts
    assert most_in_any_window(uploads, 1.0) == 2
    assert most_in_any_window(every, 1.0) <= 5


def test_two_stages_share_one_named_budget() -> None:
    async def main() -> list[tuple[str, float]]:
        starts: list[tuple[str, float]] = []

        def caller(stage: str) -> Callable[[int], Any]:
            async def call(x: int) -> int:
                async with rate_limit("api", 4, 1.0):
                    starts.append((stage, now()))
                return x

            return call

        pipeline = Pipeline(
            [
                Stage("Search", workers=5, tasks=[caller("Search")]),
                Stage("Fetch", workers=5, tasks=[caller("Fetch")]),
            ]
        )
        async with asyncio.timeout(600):
            assert len(await pipeline.run(range(20))) == 20
        return starts

    starts = run_virtual(main())
    assert len(starts) == 40
    both = [at for _, at in starts]
    assert most_in_any_window(both, 1.0) == 4  # one budget for both stages
    assert {stage for stage, _ in starts} == {"Search", "Fetch"}
    assert max(both) == pytest.approx(9.0, abs=1e-3)  # 40 calls at 4 per second


def test_call_rate_has_capacity_says_whether_a_call_would_start_now() -> None:
    async def main() -> list[bool]:
        seen: list[bool] = []

        async def ask(x: int) -> int:
            seen.append(call_rate_has_capacity("api"))
            async with rate_limit("api", 2, 1.0):
                pass
            seen.append(call_rate_has_capacity("api"))
            if x == 1:
                await asyncio.sleep(1.0)  # the window empties
                seen.append(call_rate_has_capacity("api"))
            return x

        await Pipeline([Stage("Ask", workers=1, tasks=[ask])]).run([0, 1])
        return seen

    assert run_virtual(main()) == [True, True, True, False, True]


def test_named_limits_are_refused_outside_a_pipeline_and_when_their_numbers_disagree() -> None:
    with pytest.raises(RuntimeError, match=r"outside of one.*RateLimiter\(calls, period\)"):
        rate_limit("api", 2)
    with pytest.raises(RuntimeError, match="outside of one"):
        concurrency_limit("db", 2)
    with pytest.raises(RuntimeError, match="outside of one"):
        call_rate_has_capacity("api")

    async def main() -> None:
        async def first(x: int) -> int:
            async with rate_limit("api", 10, 1.0):
                return x

        async def second(x: int) -> int:
            async with rate_limit("api", 20, 1.0):
                return x

        pipeline = Pipeline([Stage("A", tasks=[first]), Stage("B", tasks=[second])])
        await pipeline.run([1])
        [failure] = pipeline.failures
        assert isinstance(failure.error, ValueError)
        assert "rate limit 'api' is 10 calls per 1s in this pipeline" in failure.error_message
        assert "this call asks for 20 calls per 1s" in failure.error_message

    run_virtual(main())


async def test_a_named_concurrency_limit_holds_across_two_stages() -> None:
    running = 0
    most = 0

    async def save(x: int) -> int:
        nonlocal running, most
        async with concurrency_limit("db", 2):
            running += 1
            most = max(most, running)
            for _ in range(3):
                await asyncio.sleep(0)  # let every other worker try to enter
            running -= 1
        return x

    pipeline = Pipeline([Stage("A", workers=6, tasks=[save]), Stage("B", workers=6, tasks=[save])])
    async with asyncio.timeout(10):
        assert len(await pipeline.run(range(30))) == 30
    assert most == 2


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_call_concurrency_caps_calls_across_the_stages_workers(kind: str) -> None:
    import threading

    lock = threading.Lock()
    running = 0
    most = 0
    release = threading.Event()

    def enter() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)

    def leave() -> None:
        nonlocal running
        with lock:
            running -= 1

    async def async_task(x: int) -> int:
        enter()
        for _ in range(3):
            await asyncio.sleep(0)
        leave()
        return x

    def sync_task(x: int) -> int:
        enter()
        release.wait(0.01)  # a short blocking call (times out quickly: never set)
        leave()
        return x

    task = async_task if kind == "async" else sync_task
    stage = Stage("Limited", workers=8, tasks=[task], call_concurrency=3)
    async with asyncio.timeout(20):
        assert len(await Pipeline([stage]).run(range(24))) == 24
    assert 1 <= most <= 3


def test_shutdown_while_calls_wait_at_the_limiter_lists_them_unfinished() -> None:
    async def main() -> None:
        started: list[int] = []
        third = asyncio.Event()

        async def call_api(x: int) -> int:
            started.append(x)
            if len(started) == 2:
                third.set()
            return x

        stage = Stage("Api", workers=4, tasks=[call_api], call_rate=2, call_rate_period=60)
        pipeline = Pipeline([stage, Stage("Out", tasks=[check])])
        await pipeline.start()
        await pipeline.feed(range(6))
        await third.wait()
        await asyncio.sleep(1.0)  # the other workers wait at the limiter for 59 s
        await pipeline.shutdown()
        stats = pipeline.get_stats()
        assert len(started) == 2
        assert stats.items_processed == 2
        assert sorted(p.id for p in pipeline.unfinished_items) == [2, 3, 4, 5]
        assert stats.items_unfinished == 4
        assert stats.items_in_flight == 0
        leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("antflow:")]
        assert not leftover

    run_virtual(main())


def test_a_cancelled_caller_gives_its_turn_to_the_next() -> None:
    async def main() -> list[tuple[str, float]]:
        limiter = RateLimiter(1, 1.0)
        order: list[tuple[str, float]] = []

        async def call(name: str) -> None:
            async with limiter:
                order.append((name, now()))

        await call("a")
        b = asyncio.create_task(call("b"))  # first in line, waits for t=1
        c = asyncio.create_task(call("c"))
        d = asyncio.create_task(call("d"))
        await asyncio.sleep(0.5)
        b.cancel()
        c.cancel()
        await asyncio.gather(b, c, d, return_exceptions=True)
        return order

    order = run_virtual(main())
    assert [name for name, _ in order] == ["a", "d"]
    assert order[1][1] == pytest.approx(1.0, abs=1e-3)


def test_limiters_work_on_their_own_and_refuse_bad_numbers() -> None:
    with pytest.raises(ValueError, match="calls must be an integer"):
        RateLimiter(0, 1.0)
    with pytest.raises(ValueError, match="a concurrency limit must be an integer of at least 1"):
        ConcurrencyLimiter(0)
    limiter = RateLimiter(2, 1.0, name="api")
    assert limiter.has_capacity()  # no loop needed to ask before any call
    assert "RateLimiter 'api' 2 calls per 1s" in repr(limiter)

    async def main() -> list[float]:
        starts = []
        for index in range(5):
            async with limiter:
                starts.append(now())
            if index == 1:
                assert not limiter.has_capacity()  # two calls in this second already
        return starts

    assert run_virtual(main()) == pytest.approx([0, 0, 1, 1, 2], abs=1e-3)


def test_an_injected_clock_and_sleep_drive_a_limiter() -> None:
    clock = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(2, 10.0, clock=lambda: clock[0], sleep=sleep)

    async def main() -> None:
        for _ in range(5):
            await limiter.acquire()

    asyncio.run(main())
    assert slept == [10.0, 10.0]
    assert clock[0] == 120.0
