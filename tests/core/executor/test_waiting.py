"""as_completed() and wait(), with concurrent.futures' semantics (virtual clock for time)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import pytest
from antflow_core.runtime.executor import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AsyncExecutor,
    AsyncFuture,
    as_completed,
    wait,
)

from .conftest import VirtualTime


async def _after(seconds: float, value: Any) -> Any:
    await asyncio.sleep(seconds)
    return value


async def _fail_after(seconds: float, message: str) -> None:
    await asyncio.sleep(seconds)
    raise ValueError(message)


def test_as_completed_yields_those_already_done_first_then_in_order_of_ending(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=5) as executor:
            early = executor.submit(_after, 0, "early")
            await early
            slow = executor.submit(_after, 3, "slow")
            fast = executor.submit(_after, 1, "fast")
            failing = executor.submit(_fail_after, 2, "broken")
            seen = []
            async for future in as_completed([slow, fast, early, failing, fast]):
                outcome = await future if future.exception() is None else "raised"
                seen.append((outcome, loop.time()))
            assert seen == [("early", 0), ("fast", 1), ("raised", 2), ("slow", 3)]

    virtual_time(main)


def test_the_timeout_of_as_completed_is_counted_across_the_iteration(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        hold = asyncio.Event()
        async with AsyncExecutor(max_workers=3) as executor:
            first = executor.submit(_after, 1, "first")
            second = executor.submit(_after, 3, "second")
            stuck = executor.submit(hold.wait)
            iterator = as_completed([first, second, stuck], timeout=2.5)
            assert await anext(iterator) is first
            await asyncio.sleep(1)  # t=2: a per-step timeout would now wait until t=4.5
            with pytest.raises(TimeoutError, match=r"2 \(of 3\) futures unfinished"):
                await anext(iterator)
            assert loop.time() == pytest.approx(2.5)
            # giving up waiting cancels nothing: the calls go on
            assert not second.done()
            assert not stuck.done()
            assert await second == "second"
            hold.set()
            assert await stuck is True

    virtual_time(main)


async def test_as_completed_of_nothing_ends_at_once_and_refuses_what_is_not_a_future() -> None:
    nothing: list[AsyncFuture[int]] = []
    assert [f async for f in as_completed(nothing)] == []
    with pytest.raises(TypeError, match=r"for asyncio tasks use asyncio.as_completed\(\)"):
        as_completed(["a task"])  # type: ignore[arg-type]
    async with AsyncExecutor() as executor:
        future = executor.submit(_after, 0, 1)
        with pytest.raises(TypeError, match=r"takes a collection of futures: pass \[future\]"):
            as_completed(future)  # type: ignore[arg-type]
        await future


def test_wait_first_completed_returns_as_soon_as_one_is_done(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=3) as executor:
            slow = executor.submit(_after, 5, "slow")
            fast = executor.submit(_after, 2, "fast")
            failing = executor.submit(_fail_after, 3, "broken")
            done, not_done = await wait([slow, fast, failing], return_when=FIRST_COMPLETED)
            assert (done, not_done) == ({fast}, {slow, failing})
            assert loop.time() == pytest.approx(2)
            with pytest.raises(ValueError, match="broken"):
                await failing

    virtual_time(main)


def test_wait_first_exception_returns_when_one_raises(virtual_time: VirtualTime[Any]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=3) as executor:
            fine = executor.submit(_after, 1, "fine")
            failing = executor.submit(_fail_after, 3, "broken")
            slow = executor.submit(_after, 9, "slow")
            result = await wait([fine, failing, slow], return_when=FIRST_EXCEPTION)
            assert result.done == {fine, failing}
            assert result.not_done == {slow}
            assert loop.time() == pytest.approx(3)
            assert isinstance(failing.exception(), ValueError)

    virtual_time(main)


def test_wait_first_exception_without_one_waits_for_all_and_cancelled_is_no_exception(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=3) as executor:
            one = executor.submit(_after, 1, 1)
            two = executor.submit(_after, 4, 2)
            dropped = executor.submit(_after, 8, 3)
            dropped.cancel()
            done, not_done = await wait(
                [one, two, dropped], return_when=concurrent.futures.FIRST_EXCEPTION
            )
            assert (done, not_done) == ({one, two, dropped}, set())
            assert loop.time() == pytest.approx(4)

    virtual_time(main)


def test_wait_all_completed_is_the_default_and_a_cancelled_future_is_done(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=2) as executor:
            futures = [executor.submit(_after, s, s) for s in (3, 1, 2)]
            futures[2].cancel()
            done, not_done = await wait(futures)
            assert (done, not_done) == (set(futures), set())
            assert loop.time() == pytest.approx(3)
            already, none = await wait(futures, return_when=ALL_COMPLETED)
            assert (already, none) == (set(futures), set())
            assert loop.time() == pytest.approx(3)  # satisfied at the call: no wait

    virtual_time(main)


def test_wait_with_a_timeout_returns_where_things_stand_and_cancels_nothing(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=2) as executor:
            quick = executor.submit(_after, 1, "quick")
            slow = executor.submit(_after, 10, "slow")
            done, not_done = await wait([quick, slow], timeout=4)
            assert (done, not_done) == ({quick}, {slow})
            assert loop.time() == pytest.approx(4)
            assert not slow.cancelled()
            assert await slow == "slow"

    virtual_time(main)


async def test_wait_checks_return_when() -> None:
    with pytest.raises(ValueError, match="return_when must be one of"):
        await wait([], return_when="FIRST")
    assert await wait([]) == (set(), set())
