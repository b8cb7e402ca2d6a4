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
