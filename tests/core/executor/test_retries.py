"""Retries of executor calls (a RetryPolicy, as a stage's), options, limits, 0.10's keywords."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from antflow_core.errors import PermanentError
from antflow_core.model import RetryPolicy
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
        match=(
            "unknown call option 'retrys': the options are backoff, jitter, max_wait_seconds, "
            "rate_limit, retries, retry_delay, retry_if, retry_on, retry_policy, semaphore"
        ),
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


class HTTPError(Exception):
    """A response's error, with its status (a 404 is worth no retry, a 503 is)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class NotFound(HTTPError):
    def __init__(self, note: str = "") -> None:
        super().__init__(404)


class Unavailable(HTTPError):
    def __init__(self, note: str = "") -> None:
        super().__init__(503)


async def test_an_error_not_in_retry_on_fails_after_one_attempt_a_listed_one_retries() -> None:
    gone = Flaky(failures=1, error=NotFound)
    busy = Flaky(failures=2, error=Unavailable)
    async with AsyncExecutor(retries=3, retry_delay=0, retry_on=(Unavailable, TimeoutError)) as ex:
        with pytest.raises(NotFound, match="HTTP 404"):
            await ex.submit(gone, "page")
        assert await ex.submit(busy, "page") == "page"
        # map takes the option too, and one class is enough
        flaky = Flaky(failures=1, error=TimeoutError)
        assert await ex.map(flaky, ["m"], retry_on=TimeoutError) == ["m"]
        with pytest.raises(Unavailable):
            await ex.map(Flaky(failures=1, error=Unavailable), ["m"], retry_on=TimeoutError)
    assert len(gone.attempts) == 1
    assert len(busy.attempts) == 3
    assert len(flaky.attempts) == 2


async def test_retry_if_decides_on_the_error_and_a_failing_predicate_fails_the_call() -> None:
    def transient(error: BaseException) -> bool:
        return isinstance(error, HTTPError) and error.status >= 500

    def broken(error: BaseException) -> bool:
        raise LookupError("a bug in the predicate")

    gone = Flaky(failures=1, error=NotFound)
    busy = Flaky(failures=1, error=Unavailable)
    async with AsyncExecutor(retries=2, retry_delay=0, retry_if=transient) as executor:
        with pytest.raises(NotFound):
            await executor.submit(gone, 1)
        assert await executor.submit(busy, 2) == 2
        with pytest.raises(LookupError, match="a bug in the predicate") as caught:
            await executor.with_options(retry_if=broken).submit(Flaky(failures=1), 3)
    assert len(gone.attempts) == 1
    assert len(busy.attempts) == 2
    assert isinstance(caught.value.__cause__, ConnectionError)  # the call's error is kept


async def test_a_permanent_error_gives_up_at_once_whatever_the_retries() -> None:
    class Gone(PermanentError):
        pass

    flaky = Flaky(failures=5, error=Gone)
    plain_attempts: list[int] = []

    def blocking(x: int) -> int:
        plain_attempts.append(x)
        raise PermanentError(f"{x}: not found")

    async with AsyncExecutor(retries=10, retry_delay=0) as executor:
        with pytest.raises(Gone):
            await executor.submit(flaky, 1)
        with pytest.raises(PermanentError, match="7: not found"):
            await executor.submit(blocking, 7)
    assert len(flaky.attempts) == 1
    assert plain_attempts == [7]


def test_exponential_waits_double_up_to_their_cap_on_a_controlled_clock(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        flaky = Flaky(failures=5)
        async with AsyncExecutor(
            retries=5, retry_delay=1.0, backoff="exponential", jitter=0, max_wait_seconds=5
        ) as executor:
            assert await executor.submit(flaky, "ok") == "ok"
        # waits 1, 2, 4, then capped at 5, 5
        assert flaky.attempts == pytest.approx([0.0, 1.0, 3.0, 7.0, 12.0, 17.0])

    virtual_time(main)


class DrawnExecutor(AsyncExecutor):
    """An executor whose jitter draws are fixed and whose waits are recorded (the hooks)."""

    waits: list[float]

    def _jitter_draw(self) -> float:
        return 0.5

    async def _backoff_sleep(self, seconds: float) -> None:
        DrawnExecutor.waits.append(seconds)
        await asyncio.sleep(0)


async def test_jitter_takes_the_executors_draw_and_waits_in_its_sleep_hook() -> None:
    DrawnExecutor.waits = []
    flaky = Flaky(failures=3)
    policy = RetryPolicy(attempts=4, wait_seconds=2.0, backoff="exponential")  # jitter 0.5
    async with asyncio.timeout(5), DrawnExecutor(retry_policy=policy) as executor:
        assert await executor.submit(flaky, "ok") == "ok"
    # each wait w becomes w * (1 - 0.5 * 0.5)
    assert DrawnExecutor.waits == pytest.approx([1.5, 3.0, 6.0])


async def test_a_retry_policy_is_the_start_named_options_replace_its_fields() -> None:
    policy = RetryPolicy(attempts=2, wait_seconds=0, retry_on=(ConnectionError,))
    async with AsyncExecutor(retry_policy=policy) as executor:
        assert await executor.submit(Flaky(failures=1), "policy") == "policy"
        with pytest.raises(ConnectionError):
            await executor.submit(Flaky(failures=2), "two failures")
        # retries= replaces the policy's attempts and keeps its retry_on
        assert await executor.with_options(retries=3).submit(Flaky(failures=3), "more") == "more"
        with pytest.raises(KeyError):
            await executor.with_options(retries=3).submit(Flaky(failures=1, error=KeyError), 1)
    # a retry_policy given later replaces the executor's named retry options too
    async with AsyncExecutor(retries=5, retry_delay=0, retry_on=KeyError) as executor:
        fresh = executor.with_options(retry_policy=RetryPolicy(attempts=2, wait_seconds=0))
        assert await fresh.submit(Flaky(failures=1), "fresh") == "fresh"
        with pytest.raises(ConnectionError):
            await fresh.submit(Flaky(failures=2), "only two attempts")


async def test_the_new_retry_options_are_not_taken_from_a_0_10_submits_keywords() -> None:
    async def fetch(url: str, **kwargs: Any) -> str:
        return f"{url} {sorted(kwargs)}"

    async with AsyncExecutor() as executor:
        submit: Any = executor.submit
        assert await submit(fetch, "u", backoff="x") == "u ['backoff']"
