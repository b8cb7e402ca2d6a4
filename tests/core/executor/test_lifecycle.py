"""shutdown(), the async with block, and structured concurrency: nothing is left running."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from antflow_core import AntFlowError, ExecutorShutdownError
from antflow_core.runtime.executor import AsyncExecutor, AsyncFuture

from .conftest import VirtualTime


def _antflow_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("antflow:") and not t.done()]


def test_the_end_of_the_block_waits_for_every_call_submitted(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        async def late(x: int) -> int:
            await asyncio.sleep(x)
            return x

        async with AsyncExecutor(max_workers=2) as executor:
            futures = [executor.submit(late, s) for s in (4, 2, 3)]
            assert {t.get_name() for t in _antflow_tasks()} == {
                "antflow:AsyncExecutor-W0",
                "antflow:AsyncExecutor-W1",
            }
        assert all(f.done() for f in futures)
        assert [await f for f in futures] == [4, 2, 3]
        assert asyncio.get_running_loop().time() == pytest.approx(5)  # 4 | 2 then 3
        assert _antflow_tasks() == []

    virtual_time(main)


async def test_submit_and_the_maps_after_shutdown_raise_a_clear_error() -> None:
    async def echo(x: int) -> int:
        return x

    async with AsyncExecutor() as executor:
        assert await executor.submit(echo, 1) == 1
    for attempt in (
        lambda: executor.submit(echo, 2),
        lambda: executor.map(echo, [3]),
        lambda: executor.map_iter(echo, [4]),
        lambda: executor.with_options(retries=1).submit(echo, 5),
    ):
        with pytest.raises(ExecutorShutdownError, match="this AsyncExecutor was shut down") as e:
            attempt()
        assert "create a new AsyncExecutor" in str(e.value)
        assert isinstance(e.value, RuntimeError)
        assert isinstance(e.value, AntFlowError)
    await executor.shutdown()  # again: harmless


async def test_shutdown_with_cancel_futures_cancels_only_the_calls_not_started() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def hold(x: int) -> int:
        started.set()
        await release.wait()
        return x

    async with asyncio.timeout(5):
        executor = AsyncExecutor(max_workers=1)
        running = executor.submit(hold, 1)
        pending = [executor.submit(hold, n) for n in (2, 3)]
        await started.wait()
        await executor.shutdown(wait=False, cancel_futures=True)
        assert all(f.cancelled() for f in pending)
        assert running.running()
        assert not running.cancelled()
        release.set()
        await executor.shutdown(wait=True)
        assert await running == 1
        assert _antflow_tasks() == []


async def test_shutdown_without_wait_lets_the_queued_calls_finish() -> None:
    results: list[int] = []

    async def record(x: int) -> None:
        await asyncio.sleep(0)
        results.append(x)

    async with asyncio.timeout(5):
        executor = AsyncExecutor(max_workers=2)
        futures = [executor.submit(record, n) for n in range(6)]
        await executor.shutdown(wait=False)
        assert not all(f.done() for f in futures)
        for future in futures:
            await future
        assert sorted(results) == list(range(6))
        await executor.shutdown()
        assert _antflow_tasks() == []


async def test_a_block_that_raises_cancels_every_call_and_leaves_nothing_running() -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    async def hold(name: str) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    futures: list[AsyncFuture[None]] = []

    async def block() -> None:
        async with AsyncExecutor(max_workers=1) as executor:
            futures.append(executor.submit(hold, "running"))
            futures.append(executor.submit(hold, "pending"))
            await started.wait()
            raise KeyError("boom")

    async with asyncio.timeout(5):
        with pytest.raises(KeyError, match="boom"):
            await block()
        running, pending = futures
        assert running.cancelled()
        assert pending.cancelled()
        assert cancelled == ["running"]
        assert _antflow_tasks() == []


def test_a_timeout_around_the_block_cancels_the_calls_and_raises_timeout_error(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        async def forever() -> None:
            await asyncio.Event().wait()

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3), AsyncExecutor() as executor:
                future = executor.submit(forever)
                # the block's end waits for the call; the timeout cuts that wait
        assert future.cancelled()
        assert asyncio.get_running_loop().time() == pytest.approx(3)
        assert _antflow_tasks() == []

    virtual_time(main)


async def test_cancelling_the_task_waiting_at_the_end_of_the_block_stops_everything() -> None:
    started = asyncio.Event()
    exiting = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    async def owner() -> None:
        async with AsyncExecutor() as executor:
            executor.submit(forever)
            queued = [executor.submit(forever) for _ in range(8)]
            await started.wait()
            exiting.set()
        raise AssertionError(f"not reached: {queued}")

    async with asyncio.timeout(5):
        task = asyncio.create_task(owner())
        await exiting.wait()
        await asyncio.sleep(0)  # the owner now waits in the block's end
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _antflow_tasks() == []


async def test_shutdown_wait_from_inside_a_call_is_refused_and_without_wait_it_works() -> None:
    async with asyncio.timeout(5):
        executor = AsyncExecutor()

        async def stop(wait: bool) -> str:
            await executor.shutdown(wait=wait)
            return "stopped"

        with pytest.raises(RuntimeError, match=r"use shutdown\(wait=False\) there"):
            await executor.submit(stop, True)
        assert await executor.submit(stop, False) == "stopped"
        await executor.shutdown()
        assert _antflow_tasks() == []


def test_an_executor_made_outside_the_loop_binds_to_the_loop_of_its_first_call() -> None:
    executor = AsyncExecutor(max_workers=3)  # 0.10's examples build it at module level

    async def double(x: int) -> int:
        return 2 * x

    async def use() -> list[int]:
        results = await executor.map(double, [1, 2])
        await executor.shutdown()
        return results

    assert asyncio.run(use()) == [2, 4]

    other = AsyncExecutor()

    async def first() -> None:
        await other.submit(double, 1)

    async def second() -> None:
        try:
            other.submit(double, 2)
        finally:
            await other.shutdown(wait=False)

    asyncio.run(first())
    with pytest.raises(RuntimeError, match="belongs to another event loop"):
        asyncio.run(second())


def test_submit_without_a_running_loop_says_to_call_it_from_a_coroutine() -> None:
    async def double(x: int) -> int:
        return 2 * x

    with pytest.raises(RuntimeError, match="needs a running asyncio event loop"):
        AsyncExecutor().submit(double, 1)


async def test_a_worker_that_crashes_is_reported_by_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in the executor itself (simulated here) surfaces instead of passing silently."""
    from antflow_core.runtime.executor import worker

    def broken_settle(*args: object) -> None:
        raise LookupError("a bug in the executor")

    monkeypatch.setattr(worker, "_settle_failure", broken_settle)

    async def fails() -> None:
        raise ValueError("the call's own error")

    async with asyncio.timeout(5):
        executor = AsyncExecutor(max_workers=1)
        executor.submit(fails)
        with pytest.raises(RuntimeError, match="worker crashed") as caught:
            await executor.shutdown()
    assert isinstance(caught.value.__cause__, LookupError)
    assert _antflow_tasks() == []
