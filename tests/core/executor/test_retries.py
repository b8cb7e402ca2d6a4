"""Retries of executor calls (the model's decide_call_retry), options, limits, 0.10's keywords."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from antflow_core.runtime.executor import AsyncExecutor

from .conftest import VirtualTime


class Flaky:
    """Fails ``failures`` times, then returns its argument; records when each attempt began."""

    def __init__(self, failures: int, error: type[BaseException] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.attempts: list[float] = []
        self.errors: list[BaseException] = []

    async def __call__(self, value: Any) -> Any:
        self.attempts.append(asyncio.get_running_loop().time())
        if len(self.attempts) <= self.failures:
            error = self.error(f"attempt {len(self.attempts)} failed")
            self.errors.append(error)
            raise error
        return value


def test_a_call_is_retried_after_its_delay_until_it_succeeds(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        flaky = Flaky(failures=2)
        async with AsyncExecutor() as executor:
            future = executor.with_options(retries=3, retry_delay=1.5).submit(flaky, "ok")
            assert await future == "ok"
        assert flaky.attempts == pytest.approx([0.0, 1.5, 3.0])

    virtual_time(main)


def test_after_the_last_attempt_the_functions_own_exception_is_raised(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        flaky = Flaky(failures=10)
        async with AsyncExecutor() as executor:
            future = executor.with_options(retries=2, retry_delay=1).submit(flaky, "never")
            with pytest.raises(ConnectionError, match="attempt 3 failed") as caught:
                await future
        assert len(flaky.attempts) == 3
        assert caught.value is flaky.errors[-1]
        assert future.exception() is flaky.errors[-1]

    virtual_time(main)


async def test_an_error_that_is_not_an_exception_is_not_retried() -> None:
    class Abort(BaseException):
        pass

    flaky = Flaky(failures=1, error=Abort)
    async with AsyncExecutor(retries=5, retry_delay=0) as executor:
        with pytest.raises(Abort):
            await executor.submit(flaky, 1)
    assert len(flaky.attempts) == 1


async def test_no_retry_by_default() -> None:
    flaky = Flaky(failures=1)
    async with AsyncExecutor() as executor:
        with pytest.raises(ConnectionError):
            await executor.submit(flaky, 1)
    assert len(flaky.attempts) == 1


async def test_executor_options_are_the_default_and_with_options_or_map_override_them() -> None:
    async with AsyncExecutor(retries=2, retry_delay=0) as executor:
        assert await executor.submit(Flaky(failures=2), "executor") == "executor"
        with pytest.raises(ConnectionError):
            await executor.with_options(retries=0).submit(Flaky(failures=1), "none")
        flaky = Flaky(failures=4)
        assert await executor.map(flaky, ["map"], retries=4) == ["map"]
        assert len(flaky.attempts) == 5
        # with_options keeps what it does not say: retry_delay=0 still applies.
        careful = executor.with_options(retries=3)
        assert await careful.submit(Flaky(failures=3), "kept") == "kept"
        assert await careful.with_options(retries=1).map_iter(Flaky(failures=1), ["n"]) == ["n"]


async def test_a_map_retries_each_call_on_its_own() -> None:
    failed: set[int] = set()

    async def once_each(x: int) -> int:
        if x not in failed:
            failed.add(x)
            raise ConnectionError(x)
        return x * 10

    async with AsyncExecutor(max_workers=3) as executor:
        assert await executor.map(once_each, range(6), retries=1, retry_delay=0) == [
            0,
            10,
            20,
            30,
            40,
            50,
        ]


async def test_a_plain_function_is_retried_in_its_threads() -> None:
    attempts: list[bool] = []

    def blocking(x: int) -> int:
        attempts.append(threading.current_thread() is threading.main_thread())
        if len(attempts) < 3:
            raise OSError("busy")
        return x

    async with AsyncExecutor(retries=2, retry_delay=0) as executor:
        assert await executor.submit(blocking, 9) == 9
    assert attempts == [False, False, False]


def test_cancelling_a_call_between_attempts_stops_its_retries(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        flaky = Flaky(failures=10)
        async with AsyncExecutor(max_workers=1) as executor:
            future = executor.with_options(retries=5, retry_delay=10).submit(flaky, 1)
            await asyncio.sleep(4)  # the first attempt failed; the retry waits until t=10
            assert future.running()
            assert future.cancel()
            after = executor.submit(Flaky(failures=0), "next")
            assert await after == "next"
            assert asyncio.get_running_loop().time() == pytest.approx(4)
        assert len(flaky.attempts) == 1

    virtual_time(main)


async def test_a_semaphore_limits_calls_across_executors_and_is_held_per_attempt() -> None:
    limit = asyncio.Semaphore(2)
    running = 0
    most = 0
    gate = asyncio.Event()
    two_in = asyncio.Event()

    async def work(x: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 2:
            two_in.set()
        await gate.wait()
        running -= 1
        return x

    async with (
        asyncio.timeout(5),
        AsyncExecutor(max_workers=5, semaphore=limit) as first,
        AsyncExecutor(max_workers=5) as second,
    ):
        futures = [first.submit(work, i) for i in range(5)]
        futures += [second.with_options(semaphore=limit).submit(work, i) for i in range(5, 10)]
        await two_in.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        assert running == 2
        gate.set()
        assert [await f for f in futures] == list(range(10))
    assert most == 2


async def test_bad_options_are_refused_where_they_are_given() -> None:
    with pytest.raises(ValueError, match="retries must be an integer >= 0"):
        AsyncExecutor(retries=-1)
    with pytest.raises(ValueError, match="max_workers must be an integer of at least 1"):
        AsyncExecutor(max_workers=0)
    options: dict[str, Any] = {"retrys": 2}
    with pytest.raises(
        TypeError,
        match="unknown call option 'retrys': the options are rate_limit, retries, retry_delay",
    ):
        AsyncExecutor(**options)
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match="unknown call option"):
            executor.with_options(**options)
        with pytest.raises(ValueError, match="retry_delay must be a number of seconds >= 0"):
            executor.map(Flaky(0), [1], retries=1, retry_delay=-1)
        with pytest.raises(TypeError, match=r"semaphore must be an asyncio\.Semaphore"):
            executor.with_options(semaphore=3)  # type: ignore[arg-type]


async def test_0_10s_submit_keywords_are_options_unless_the_function_takes_them() -> None:
    limit = asyncio.Semaphore(1)

    async def fetch(url: str) -> str:
        return url

    async def download(url: str, retries: int) -> str:
        return f"{url} with {retries} retries of its own"

    flaky = Flaky(failures=2)
    async with AsyncExecutor() as executor:
        submit: Any = executor.submit  # 0.10's untyped form
        assert await submit(flaky, "x", retries=2, retry_delay=0) == "x"
        assert len(flaky.attempts) == 3
        assert await submit(fetch, "y", semaphore=limit) == "y"
        assert await submit(download, "z", retries=4) == "z with 4 retries of its own"
        with pytest.raises(ValueError, match="retries must be an integer"):
            submit(fetch, "w", retries=-2)
