"""AsyncExecutor, used the way an antflow 0.10 program uses it.

Each test is written as a 0.10 program is: ``from antflow import AsyncExecutor`` (or
``antflow.executor``), ``await future.result()``, ``map()`` iterated with ``async for``
or awaited for a list, ``map_iter()``, the executor's own ``as_completed()`` and
``wait()``, and ``submit(..., semaphore=...)``. No type annotations are needed by such a
program; the ones here only keep the test suite under mypy --strict.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from antflow import AsyncExecutor


async def process_data(x: Any) -> Any:
    await asyncio.sleep(0)
    return x * 2


async def square(x: Any) -> Any:
    return x * x


async def add(x: Any, y: Any) -> Any:
    return x + y


async def test_submit_then_await_result() -> None:
    async with AsyncExecutor(max_workers=3) as executor:
        future = executor.submit(process_data, 42)
        result = await future.result()
        assert result == 84
        assert future.done()
        assert future.exception() is None


async def test_map_iterated_in_input_order_and_over_several_iterables() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        results = []
        async for result in executor.map(square, range(10)):
            results.append(result)
        assert results == [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]

        sums = []
        async for result in executor.map(add, [1, 2, 3], [4, 5, 6]):
            sums.append(result)
        assert sums == [5, 7, 9]


async def test_map_awaited_for_a_list_and_map_iter_streamed() -> None:
    async with AsyncExecutor(max_workers=5) as executor:
        results = await executor.map(square, range(5))
        assert results == [0, 1, 4, 9, 16]
        streamed = []
        async for res in executor.map_iter(process_data, range(5)):
            streamed.append(res)
        assert streamed == [0, 2, 4, 6, 8]


async def test_the_executors_as_completed_and_wait() -> None:
    from antflow.executor import FIRST_COMPLETED

    async def fetch_url(url: Any) -> Any:
        await asyncio.sleep(0)
        return f"Content from {url}"

    async with AsyncExecutor(max_workers=5) as executor:
        urls = [f"http://example.com/page{i}" for i in range(10)]
        futures = [executor.submit(fetch_url, url) for url in urls]
        contents = []
        async for future in executor.as_completed(futures):
            contents.append(await future.result())
        assert sorted(contents) == sorted(f"Content from {url}" for url in urls)

        more = [executor.submit(fetch_url, url) for url in urls]
        done, pending = await executor.wait(more, return_when=FIRST_COMPLETED)
        assert len(done) >= 1
        assert len(done) + len(pending) == 10
        done, pending = await executor.wait(more)
        assert (len(done), len(pending)) == (10, 0)


async def test_a_shared_semaphore_passed_to_submit_limits_those_calls() -> None:
    api_limit = asyncio.Semaphore(5)
    active = 0
    most = 0

    async def process_api(i: Any) -> Any:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= 1
        return i

    async with AsyncExecutor(max_workers=100) as executor:
        # 0.10's form; typed code writes executor.with_options(semaphore=api_limit).submit
        futures = [
            executor.submit(process_api, i, semaphore=api_limit)  # type: ignore[call-arg]
            for i in range(50)
        ]
        results = await asyncio.gather(*[f.result() for f in futures])
    assert list(results) == list(range(50))
    assert most == 5


async def test_an_executor_built_before_use_and_shut_down_by_hand() -> None:
    from antflow.executor import AsyncExecutor as ExecutorFromTheModule

    executor = ExecutorFromTheModule(max_workers=5)
    try:
        future = executor.submit(process_data, 21)
        assert await future.result(timeout=5) == 42
    finally:
        await executor.shutdown(wait=True)
    assert ExecutorFromTheModule is AsyncExecutor


# ------------------------------------------------------- differences from 0.10
async def test_an_async_future_comes_from_submit_and_building_one_says_so() -> None:
    from antflow.executor import AsyncFuture

    with pytest.raises(TypeError, match=r"made by AsyncExecutor\.submit\(\)"):
        AsyncFuture(0)
    async with AsyncExecutor() as executor:
        future = executor.submit(process_data, 1)
        assert isinstance(future, AsyncFuture)
        assert not hasattr(future, "set_result")
        assert await future.result() == 2


async def test_exception_asked_too_early_says_to_wait_first() -> None:
    release = asyncio.Event()

    async def slow() -> Any:
        await release.wait()
        raise ValueError("late")

    async with asyncio.timeout(5), AsyncExecutor() as executor:
        future = executor.submit(slow)
        with pytest.raises(asyncio.InvalidStateError, match="await the future"):
            future.exception()
        release.set()
        with pytest.raises(ValueError, match="late"):
            await future.result()
        assert isinstance(future.exception(), ValueError)


async def test_a_block_that_raises_cancels_its_calls() -> None:
    started = asyncio.Event()
    futures: list[Any] = []

    async def forever() -> Any:
        started.set()
        await asyncio.Event().wait()

    async def program() -> None:
        async with AsyncExecutor(max_workers=2) as executor:
            futures.extend(executor.submit(forever) for _ in range(4))
            await started.wait()
            raise RuntimeError("the program failed")

    async with asyncio.timeout(5):
        with pytest.raises(RuntimeError, match="the program failed"):
            await program()
    assert all(f.cancelled() for f in futures)
