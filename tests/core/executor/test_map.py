"""map() and map_iter(): input order, errors in turn, timeout from the call, bounded streams."""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any

import pytest
from antflow_core.runtime.executor import AsyncExecutor, MapResults

from .conftest import VirtualTime


async def _sleep_then_return(seconds: float, value: Any) -> Any:
    await asyncio.sleep(seconds)
    return value


def test_results_come_in_input_order_whatever_order_the_calls_end_in(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=5) as executor:
            taken: list[tuple[str, float]] = []
            async for value in executor.map(_sleep_then_return, [5, 1, 4, 2, 3], "abcde"):
                taken.append((value, loop.time()))
            # the first result is the slowest: every result comes when the first is ready
            assert taken == [("a", 5), ("b", 5), ("c", 5), ("d", 5), ("e", 5)]
            assert await executor.map(_sleep_then_return, [3, 1, 2], [30, 10, 20]) == [30, 10, 20]

    virtual_time(main)


async def test_await_gives_a_list_and_the_iterables_are_zipped_to_the_shortest() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    async with AsyncExecutor(max_workers=3) as executor:
        results = executor.map(add, [1, 2, 3, 4], (10, 20, 30))
        assert isinstance(results, MapResults)
        assert await results == [11, 22, 33]
        assert [r async for r in executor.map(add, range(3), range(3))] == [0, 2, 4]
        assert await executor.map(add, [], [1]) == []


async def test_map_reads_its_iterables_at_once_and_starts_every_call() -> None:
    pulled: list[int] = []
    started: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(6):
            pulled.append(n)
            yield n

    async def record(n: int) -> int:
        started.append(n)
        return n

    async with AsyncExecutor(max_workers=2) as executor:
        results = executor.map(record, numbers())
        assert pulled == list(range(6))  # before anything was taken
        assert await results == list(range(6))
    assert sorted(started) == list(range(6))


async def test_a_failed_call_raises_when_its_turn_comes_and_the_rest_are_cancelled() -> None:
    cancelled: list[int] = []
    hold = asyncio.Event()

    async def work(x: int) -> int:
        if x == 2:
            raise ValueError("item 2 is broken")
        if x >= 3:
            try:
                await hold.wait()
            except asyncio.CancelledError:
                cancelled.append(x)
                raise
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=5) as executor:
        results = executor.map(work, range(6))
        assert [await anext(results), await anext(results)] == [0, 1]
        with pytest.raises(ValueError, match="item 2 is broken"):
            await anext(results)
        for _ in range(3):
            await asyncio.sleep(0)
        assert sorted(cancelled) == [3, 4, 5]
        with pytest.raises(StopAsyncIteration):
            await anext(results)


def test_the_timeout_of_map_is_counted_from_the_call(virtual_time: VirtualTime[Any]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with AsyncExecutor(max_workers=3) as executor:
            calls = executor.map(_sleep_then_return, [1, 2, 10], ["a", "b", "c"], timeout=5)
            assert await anext(calls) == "a"
            assert loop.time() == pytest.approx(1)
            await asyncio.sleep(2)  # the consumer is slow: t=3
            assert await anext(calls) == "b"
            with pytest.raises(TimeoutError, match=r"map\(timeout=5\): result 3 was not ready"):
                await anext(calls)
            assert loop.time() == pytest.approx(5)  # 5 s after map(), not 5 s after the step
            with pytest.raises(StopAsyncIteration):
                await anext(calls)

    virtual_time(main)


def test_a_timed_out_map_cancels_the_calls_not_yet_read(virtual_time: VirtualTime[Any]) -> None:
    async def main() -> None:
        ended: list[str] = []

        async def slow(x: str) -> str:
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                ended.append(f"{x} cancelled")
                raise
            return x

        async with AsyncExecutor(max_workers=2) as executor:
            with pytest.raises(TimeoutError):
                await executor.map(slow, "wxyz", timeout=1)
            await asyncio.sleep(0)
        assert sorted(ended) == ["w cancelled", "x cancelled"]  # y and z never started
        assert asyncio.get_running_loop().time() == pytest.approx(1)

    virtual_time(main)


async def test_map_refuses_async_iterables_and_names_map_iter() -> None:
    async def agen() -> AsyncGenerator[int, None]:
        yield 1

    async def echo(x: int) -> int:
        return x

    async with AsyncExecutor() as executor:
        source = agen()
        with pytest.raises(TypeError, match=r"for an async iterable use map_iter\(fn, aiterable\)"):
            executor.map(echo, source)  # type: ignore[call-overload]
        await source.aclose()
        with pytest.raises(TypeError, match="needs at least one iterable"):
            executor.map(echo)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match=r"map\(\) takes iterables of .* got 5 of type int"):
            executor.map(echo, 5)  # type: ignore[call-overload]


async def test_leaving_a_map_early_cancels_the_calls_nobody_will_read() -> None:
    cancelled: list[int] = []
    started: list[int] = []
    hold = asyncio.Event()
    three_held = asyncio.Event()

    async def work(x: int) -> int:
        if x == 0:
            return x
        started.append(x)
        if len(started) % 3 == 0:
            three_held.set()
        try:
            await hold.wait()
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=4) as executor:
        async for first in executor.map(work, range(4)):
            assert first == 0
            break
        gc.collect()  # the map iterator is gone: as concurrent.futures, it cancels the rest
        for _ in range(3):
            await asyncio.sleep(0)
        assert sorted(cancelled) == [1, 2, 3]
        three_held.clear()
        closing = executor.map(work, range(4, 7))
        await three_held.wait()
        await closing.aclose()
        for _ in range(3):
            await asyncio.sleep(0)
        assert sorted(cancelled) == [1, 2, 3, 4, 5, 6]


# ------------------------------------------------------------------ map_iter
async def test_map_iter_keeps_at_most_buffersize_calls_ahead_of_an_endless_input() -> None:
    pulled = 0
    started = 0
    most_ahead = 0
    taken = 0

    def endless() -> Iterator[int]:
        nonlocal pulled
        for n in itertools.count():
            pulled += 1
            yield n

    async def square(n: int) -> int:
        nonlocal started, most_ahead
        started += 1
        most_ahead = max(most_ahead, started - taken)
        await asyncio.sleep(0)
        return n * n

    async with asyncio.timeout(5), AsyncExecutor(max_workers=4) as executor:
        stream = executor.map_iter(square, endless(), buffersize=6)
        assert pulled == 0  # nothing starts before the iteration does
        async for value in stream:
            assert value == taken * taken
            taken += 1
            assert pulled - taken <= 6
            if taken == 200:
                break
        await stream.aclose()
    assert most_ahead <= 6
    assert pulled <= 206


async def test_map_iter_reads_an_async_iterable_lazily_with_a_default_window() -> None:
    pulled: list[int] = []

    async def pages() -> AsyncIterator[str]:
        for n in range(30):
            pulled.append(n)
            yield f"page-{n}"

    async def length(text: str) -> int:
        return len(text)

    async with asyncio.timeout(5), AsyncExecutor(max_workers=3) as executor:
        taken = 0
        async for size in executor.map_iter(length, pages()):
            assert size == len(f"page-{taken}")
            taken += 1
            assert len(pulled) - taken <= 6  # twice max_workers
        assert taken == 30


async def test_map_iter_zips_plain_and_async_iterables() -> None:
    async def numbers() -> AsyncIterator[int]:
        for n in range(5):
            yield n

    async def label(name: str, n: int) -> str:
        return f"{name}{n}"

    async with AsyncExecutor() as executor:
        assert await executor.map_iter(label, "abc", numbers(), buffersize=1) == ["a0", "b1", "c2"]


async def test_an_input_that_fails_ends_the_stream_after_the_calls_already_started() -> None:
    def source() -> Iterator[int]:
        yield from range(4)
        raise OSError("the file was truncated")

    async def double(n: int) -> int:
        return 2 * n

    async with AsyncExecutor() as executor:
        stream = executor.map_iter(double, source(), buffersize=3)
        assert [await anext(stream) for _ in range(4)] == [0, 2, 4, 6]
        with pytest.raises(OSError, match="truncated"):
            await anext(stream)


async def test_a_closed_map_iter_yields_nothing_more() -> None:
    async def numbers() -> AsyncIterator[int]:
        for n in range(5):
            yield n

    async def echo(x: int) -> int:
        return x

    async with asyncio.timeout(5), AsyncExecutor() as executor:
        unread = executor.map_iter(echo, numbers())
        await unread.aclose()  # before its first step
        assert [x async for x in unread] == []
        started = executor.map_iter(echo, numbers(), buffersize=2)
        assert await anext(started) == 0
        await started.aclose()
        assert [x async for x in started] == []


async def test_map_iter_checks_its_buffersize() -> None:
    async def echo(x: int) -> int:
        return x

    async with AsyncExecutor() as executor:
        for bad in (0, -1, 2.5, True):
            with pytest.raises(ValueError, match="buffersize must be None"):
                executor.map_iter(echo, [1], buffersize=bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="takes iterables or async iterables"):
            executor.map_iter(echo, 5)  # type: ignore[call-overload]


def test_map_iter_yields_a_ready_result_while_its_input_waits_for_more(
    virtual_time: VirtualTime[Any],
) -> None:
    # A work queue whose next job depends on the last result: holding a ready result back
    # until the window fills would wait forever.
    async def main() -> None:
        jobs: asyncio.Queue[int] = asyncio.Queue()

        stopped = asyncio.Event()

        async def job_queue() -> AsyncIterator[int]:
            try:
                while True:
                    yield await jobs.get()
            finally:
                stopped.set()

        async def double(n: int) -> int:
            return 2 * n

        results: list[int] = []
        async with asyncio.timeout(60), AsyncExecutor(max_workers=2) as executor:
            jobs.put_nowait(1)
            async for result in executor.map_iter(double, job_queue(), buffersize=4):
                results.append(result)
                if len(results) == 4:
                    break
                jobs.put_nowait(result)
            gc.collect()
            await stopped.wait()  # the dropped map stopped its read of the queue
        assert results == [2, 4, 8, 16]
        assert asyncio.get_running_loop().time() == 0  # no result waited for the timeout

    virtual_time(main)


def test_the_timeout_of_map_iter_bounds_the_wait_for_its_input(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()

        async def one_then_nothing() -> AsyncIterator[int]:
            try:
                yield 1
                await asyncio.Event().wait()  # an input that never comes
                yield 2
            finally:
                closed.set()

        async def double(n: int) -> int:
            return 2 * n

        async with asyncio.timeout(60), AsyncExecutor(max_workers=2) as executor:
            stream = executor.map_iter(double, one_then_nothing(), timeout=5)
            assert await anext(stream) == 2
            with pytest.raises(TimeoutError, match=r"\(timeout=5\): result 2 was not ready"):
                await anext(stream)
            assert loop.time() == pytest.approx(5)
            await closed.wait()  # the read that timed out was stopped
            with pytest.raises(StopAsyncIteration):
                await anext(stream)

    virtual_time(main)
