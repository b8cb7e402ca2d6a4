"""Type-level tests of AsyncExecutor: what a type checker infers.

Checked by mypy (``python3 dev.py check`` runs ``mypy``, whose ``files`` include
``tests/``); never run. Every ``assert_type`` fails the check if an inference changes:
it is a ``reveal_type`` whose expected answer is written down. The calls a type checker
must refuse are in ``executor_rejections.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import assert_type

from antflow import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    AsyncExecutor,
    AsyncFuture,
    RateLimiter,
    RetryPolicy,
    as_completed,
    wait,
)
from antflow.executor import AsCompleted, DoneAndNotDone, MapResults, Submitter


async def fetch(url: str, *, deadline: float = 10.0) -> str:
    return url


def size(page: str) -> int:
    return len(page)


async def add(a: int, b: float) -> float:
    return a + b


async def urls() -> AsyncIterator[str]:
    yield "https://example.org"


async def submit_is_typed_by_the_function() -> None:
    async with AsyncExecutor(max_workers=20) as ex:
        assert_type(ex, AsyncExecutor)
        future = ex.submit(fetch, "https://example.org")
        assert_type(future, AsyncFuture[str])
        assert_type(ex.submit(fetch, "u", deadline=2.0), AsyncFuture[str])
        assert_type(await future, str)
        assert_type(await future.result(timeout=5), str)
        assert_type(future.exception(), BaseException | None)
        assert_type(future.done(), bool)
        assert_type(future.cancel(), bool)
        # a plain function runs in a thread; its future has its return type too
        assert_type(ex.submit(size, "page"), AsyncFuture[int])
        assert_type(ex.submit(lambda: 3), AsyncFuture[int])


async def map_yields_the_functions_return_type() -> None:
    async with AsyncExecutor() as ex:
        assert_type(ex.map(fetch, ["a", "b"]), MapResults[str])
        assert_type(await ex.map(fetch, ["a"], retries=2, timeout=30), list[str])
        async for page in ex.map(fetch, ["a"]):
            assert_type(page, str)
        assert_type(ex.map(size, ["a"]), MapResults[int])
        assert_type(ex.map(add, [1, 2], [0.5, 1.5]), MapResults[float])
        assert_type(ex.map_iter(fetch, urls()), MapResults[str])
        assert_type(ex.map_iter(size, ["a"], buffersize=4), MapResults[int])
        async for total in ex.map_iter(add, [1], urls_lengths()):
            assert_type(total, float)


async def urls_lengths() -> AsyncIterator[float]:
    yield 1.0


async def options_keep_the_types() -> None:
    async with AsyncExecutor(max_workers=4, retries=3, retry_delay=0.5) as ex:
        careful = ex.with_options(retries=5, semaphore=asyncio.Semaphore(2), rate_limit=(5, 1))
        assert_type(careful, Submitter)
        assert_type(careful.submit(fetch, "u"), AsyncFuture[str])
        assert_type(await careful.map(size, ["a"]), list[int])
    async with AsyncExecutor(max_workers=20, rate_limit=(500, 60)) as limited:
        assert_type(limited.submit(fetch, "u"), AsyncFuture[str])
        shared = RateLimiter(10, 1.0)
        assert_type(await limited.map(size, ["a"], rate_limit=shared), list[int])
    policy = RetryPolicy(attempts=4, backoff="exponential", retry_on=(TimeoutError,))
    async with AsyncExecutor(retry_policy=policy, retry_on=TimeoutError) as retrying:
        picky = retrying.with_options(
            retries=2,
            backoff="exponential",
            max_wait_seconds=10,
            jitter=0.2,
            retry_on=(TimeoutError, ConnectionError),
            retry_if=lambda error: "503" in str(error),
        )
        assert_type(picky.submit(fetch, "u"), AsyncFuture[str])
        assert_type(await retrying.map(size, ["a"], backoff="fixed"), list[int])


async def waiting_keeps_the_future_types() -> None:
    async with AsyncExecutor() as ex:
        futures = [ex.submit(fetch, u) for u in ["a", "b"]]
        assert_type(as_completed(futures, timeout=10), AsCompleted[str])
        async for done in as_completed(futures):
            assert_type(done, AsyncFuture[str])
        result = await wait(futures, timeout=1, return_when=FIRST_COMPLETED)
        assert_type(result, DoneAndNotDone[str])
        finished, pending = await wait(futures, return_when=ALL_COMPLETED)
        assert_type(finished, set[AsyncFuture[str]])
        assert_type(pending, set[AsyncFuture[str]])
        # antflow 0.10's forms: methods of the executor
        assert_type(await ex.wait(futures), DoneAndNotDone[str])
        async for done in ex.as_completed(futures):
            assert_type(done, AsyncFuture[str])
