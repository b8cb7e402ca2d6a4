"""submit() and AsyncFuture: results, states, cancelling a call, callbacks, plain functions."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from typing import Any

import pytest
from antflow_core import TaskReturnedCoroutineError
from antflow_core.runtime.executor import AsyncExecutor, AsyncFuture

from .conftest import VirtualTime


class Gate:
    """A call that says when it started and waits to be let through."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False

    async def hold(self, value: Any) -> Any:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return value


async def test_submit_returns_a_future_of_the_call_and_its_states_follow_the_call() -> None:
    gate = Gate()
    async with asyncio.timeout(5), AsyncExecutor(max_workers=2) as executor:
        future = executor.submit(gate.hold, "page")
        assert isinstance(future, AsyncFuture)
        assert (future.done(), future.running(), future.cancelled()) == (False, False, False)
        await gate.started.wait()
        assert future.running()
        assert not future.done()
        gate.release.set()
        assert await future == "page"
        assert await future.result() == "page"
        assert (future.done(), future.running(), future.cancelled()) == (True, False, False)
        assert future.exception() is None
        assert repr(future) == "<AsyncFuture finished>"


async def test_keyword_arguments_go_to_the_function() -> None:
    async def greet(name: str, *, punctuation: str = ".") -> str:
        return f"hello {name}{punctuation}"

    async with AsyncExecutor() as executor:
        assert await executor.submit(greet, "ada", punctuation="!") == "hello ada!"


async def test_a_call_that_raises_fails_its_future_with_that_exception() -> None:
    error = LookupError("no such page")

    async def broken() -> None:
        raise error

    async with AsyncExecutor() as executor:
        future = executor.submit(broken)
        with pytest.raises(LookupError) as caught:
            await future.result()
        assert caught.value is error
        assert future.exception() is error
        assert not future.cancelled()
        assert repr(future) == "<AsyncFuture failed>"


async def test_exception_before_the_end_says_to_wait_first() -> None:
    gate = Gate()
    async with asyncio.timeout(5), AsyncExecutor() as executor:
        future = executor.submit(gate.hold, 1)
        with pytest.raises(asyncio.InvalidStateError, match="has not ended yet: await the future"):
            future.exception()
        gate.release.set()


def test_result_with_a_timeout_gives_up_waiting_but_the_call_goes_on(
    virtual_time: VirtualTime[Any],
) -> None:
    async def main() -> None:
        async def slow() -> str:
            await asyncio.sleep(10)
            return "late"

        loop = asyncio.get_running_loop()
        async with AsyncExecutor() as executor:
            future = executor.submit(slow)
            with pytest.raises(TimeoutError, match=r"slow\(\) did not end within 2 seconds"):
                await future.result(timeout=2)
            assert loop.time() == pytest.approx(2)
            assert not future.done()
            assert not future.cancelled()
            assert await future.result(timeout=8.5) == "late"
            assert loop.time() == pytest.approx(10)
            with pytest.raises(TimeoutError):
                await executor.submit(slow).result(timeout=0)

    virtual_time(main)


async def test_waiting_that_is_cancelled_does_not_cancel_the_call() -> None:
    gate = Gate()
    async with asyncio.timeout(5), AsyncExecutor() as executor:
        future = executor.submit(gate.hold, "kept")
        waiter = asyncio.create_task(future.result())
        direct = asyncio.create_task(asyncio.wait_for(future, timeout=None))
        await gate.started.wait()
        waiter.cancel()
        direct.cancel()
        await asyncio.gather(waiter, direct, return_exceptions=True)
        assert not future.cancelled()
        gate.release.set()
        assert await future == "kept"


async def test_cancel_a_pending_call_and_it_never_runs() -> None:
    gate = Gate()
    ran: list[int] = []

    async def record(x: int) -> int:
        ran.append(x)
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        first = executor.submit(gate.hold, 0)
        second = executor.submit(record, 1)
        third = executor.submit(record, 2)
        await gate.started.wait()
        assert second.cancel() is True
        assert second.cancelled()
        assert second.done()
        assert not second.running()
        assert repr(second) == "<AsyncFuture cancelled>"
        gate.release.set()
        assert await first == 0
        assert await third == 2
        with pytest.raises(asyncio.CancelledError):
            await second.result()
        with pytest.raises(asyncio.CancelledError):
            second.exception()
    assert ran == [2]
    assert first.cancel() is False  # a call that ended cannot be cancelled


async def test_cancel_a_running_call_stops_it_and_its_worker_goes_on() -> None:
    gate = Gate()

    async def cancellations_left() -> int:
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(gate.hold, "never")
        await gate.started.wait()
        assert future.cancel() is True
        assert future.cancelled()  # at once, not when the call has unwound
        assert await executor.submit(cancellations_left) == 0  # the same worker, clean
        assert gate.cancelled
        assert len(executor._workers) == 1


async def test_a_cancelled_call_that_ignores_the_cancellation_is_still_cancelled() -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def stubborn() -> str:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallows it, returns anyway
            await asyncio.Event().wait()
        finished.append("returned")
        return "ignored"

    async def cancellations_left() -> int:
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(stubborn)
        await started.wait()
        future.cancel()
        assert await executor.submit(cancellations_left) == 0
        assert future.cancelled()
        assert finished == ["returned"]


@pytest.mark.parametrize("ending", ["returns", "raises"])
async def test_a_call_that_cancels_its_own_future_leaves_its_worker_working(ending: str) -> None:
    # The first mirror to answer cancels every mirror's call, its own included, and ends
    # without awaiting again: the cancel request must not hit the worker later on.
    futures: list[AsyncFuture[str]] = []
    answered = asyncio.Event()

    async def mirror(name: str) -> str:
        answered.set()
        for future in futures:
            future.cancel()
        if ending == "raises":
            raise ConnectionError(name)
        return name

    async def fine(x: int) -> int:
        await asyncio.sleep(0)
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        futures.extend(executor.submit(mirror, name) for name in ("a", "b"))
        await answered.wait()
        assert all(future.cancelled() for future in futures)
        assert await executor.submit(fine, 1) == 1  # the worker is idle in between
        assert await executor.submit(fine, 2) == 2
        assert len(executor._workers) == 1


async def test_a_worker_survives_a_call_that_raises_cancelled_error_of_its_own() -> None:
    async def gives_up() -> None:
        raise asyncio.CancelledError("the function's own")

    async def fine(x: int) -> int:
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        futures = [executor.submit(gives_up) for _ in range(3)]
        after = executor.submit(fine, 7)
        assert await after == 7
        for future in futures:
            assert future.done()
            assert not future.cancelled()
            error = future.exception()
            assert isinstance(error, asyncio.CancelledError)
            assert str(error) == "the function's own"
        assert len(executor._workers) == 1


async def test_add_done_callback_gets_the_future_once_it_is_done() -> None:
    gate = Gate()
    seen: list[tuple[str, AsyncFuture[Any]]] = []
    async with asyncio.timeout(5), AsyncExecutor() as executor:
        future = executor.submit(gate.hold, 5)
        future.add_done_callback(lambda f: seen.append(("first", f)))
        future.add_done_callback(lambda f: seen.append(("second", f)))
        await gate.started.wait()
        await asyncio.sleep(0)
        assert seen == []
        gate.release.set()
        await future
        await asyncio.sleep(0)
        assert seen == [("first", future), ("second", future)]
        future.add_done_callback(lambda f: seen.append(("late", f)))  # already done: soon
        await asyncio.sleep(0)
        assert seen[-1] == ("late", future)
        cancelled = executor.submit(gate.hold, 6)
        cancelled.add_done_callback(lambda f: seen.append(("cancelled", f)))
        cancelled.cancel()
        await asyncio.sleep(0)
        assert seen[-1] == ("cancelled", cancelled)


async def test_at_most_max_workers_calls_run_at_once_in_submission_order() -> None:
    running = 0
    most = 0
    order: list[int] = []
    release = asyncio.Event()
    three_started = asyncio.Event()

    async def work(x: int) -> int:
        nonlocal running, most
        order.append(x)
        running += 1
        most = max(most, running)
        if running == 3:
            three_started.set()
        await release.wait()
        running -= 1
        return x

    async with asyncio.timeout(5), AsyncExecutor(max_workers=3) as executor:
        futures = [executor.submit(work, i) for i in range(10)]
        await three_started.wait()
        assert order == [0, 1, 2]
        release.set()
        assert [await f for f in futures] == list(range(10))
    assert most == 3
    assert order == list(range(10))


async def test_a_plain_function_runs_in_a_thread_with_the_callers_context() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    request_id.set("r-42")

    def blocking(x: int) -> tuple[int, str, bool]:
        return x * 2, request_id.get(), threading.current_thread() is threading.main_thread()

    async with asyncio.timeout(5), AsyncExecutor(max_workers=2) as executor:
        assert await executor.submit(blocking, 21) == (42, "r-42", False)
        assert await executor.map(blocking, [1, 2]) == [(2, "r-42", False), (4, "r-42", False)]
        threads = executor._threads
        assert threads is not None
    assert executor._threads is None  # shut down with the executor


async def test_cancelling_a_plain_call_drops_its_result_and_frees_its_worker() -> None:
    in_thread = threading.Event()
    let_go = threading.Event()
    ended = threading.Event()

    def blocking() -> str:
        in_thread.set()
        let_go.wait(timeout=5)
        ended.set()
        return "dropped"

    def fine() -> str:
        return "next"

    async with asyncio.timeout(5), AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(blocking)
        await asyncio.to_thread(in_thread.wait, 5)
        assert future.cancel()
        # the worker did not wait for the thread, and the next plain call got a thread at
        # once, though the abandoned one still holds its own
        assert await executor.submit(fine) == "next"
        assert future.cancelled()
        assert not ended.is_set()
        let_go.set()
        # a thread cannot be stopped: it runs to its end, and its result is dropped
        assert await asyncio.to_thread(ended.wait, 5)
    assert future.cancelled()


async def test_a_plain_function_that_returns_an_awaitable_is_awaited() -> None:
    async def fetch(x: int) -> int:
        return x + 1

    async with AsyncExecutor() as executor:
        assert await executor.submit(lambda: fetch(1)) == 2


async def test_a_missing_await_is_reported_not_returned() -> None:
    async def inner() -> int:
        return 1

    async def forgot() -> Any:
        return inner()  # a coroutine, not its value

    async with AsyncExecutor() as executor:
        with pytest.raises(TaskReturnedCoroutineError, match=r"forgot\(\) returned the coroutine"):
            await executor.submit(forgot)


async def test_stop_iteration_from_a_plain_function_becomes_a_runtime_error() -> None:
    def empty() -> int:
        return next(iter([]))

    async with AsyncExecutor() as executor:
        with pytest.raises(RuntimeError, match="raised StopIteration") as caught:
            await executor.submit(empty)
    assert isinstance(caught.value.__cause__, StopIteration)


async def test_submitting_something_that_is_not_callable_says_what_to_pass() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match=r"pass the function itself, e.g. submit\(fetch, url\)"):
            executor.submit("fetch")  # type: ignore[call-overload]
