"""User code that misbehaves never kills a worker, stalls the pipeline or loses an item."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from antflow_core import (
    FailedItem,
    ItemFinished,
    Pipeline,
    Stage,
    StatusEvent,
    TaskEvent,
    TaskReturnedCoroutineError,
    TaskTimeoutError,
)


async def identity(x: Any) -> Any:
    return x


class CustomBaseError(BaseException):
    """A BaseException that is neither Exception nor cancellation."""


@pytest.mark.parametrize(
    "error", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), CustomBaseError("odd")]
)
async def test_a_task_raising_a_base_exception_fails_only_its_item(error: BaseException) -> None:
    calls = 0

    async def raiser(x: int) -> int:
        nonlocal calls
        if x == 1:
            calls += 1
            raise error
        return x

    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[raiser], task_attempts=3, task_wait_seconds=0)]
    )
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == [0, 2, 3]
    [failed] = pipeline.failures
    assert failed.error is error
    assert (failed.id, failed.attempts) == (1, 1)
    assert calls == 1  # not retried: only Exceptions are


async def test_a_cancelled_error_raised_by_user_code_is_a_failure_not_a_shutdown() -> None:
    async def confused(x: int) -> int:
        if x == 0:
            raise asyncio.CancelledError("raised by the task, not by antflow")
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=1, tasks=[confused], task_wait_seconds=0)])
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [1, 2]
    assert isinstance(pipeline.failures[0].error, asyncio.CancelledError)
    assert not pipeline.is_closed


async def test_a_task_that_returns_an_unawaited_coroutine_fails_with_a_clear_error(
    recwarn: pytest.WarningsRecorder,
) -> None:
    async def fetch(x: int) -> int:
        return x

    async def forgot_await(x: int) -> Any:
        return fetch(x)  # missing await

    pipeline = Pipeline(
        stages=[Stage("Fetch", tasks=[forgot_await], task_attempts=2, task_wait_seconds=0)]
    )
    assert await pipeline.run([1]) == []
    [failed] = pipeline.failures
    assert isinstance(failed.error, TaskReturnedCoroutineError)
    assert isinstance(failed.error, TypeError)
    assert "task 'forgot_await' of stage 'Fetch' returned the coroutine" in str(failed.error)
    assert "add `await`" in str(failed.error)
    assert failed.attempts == 2
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


async def test_a_skip_if_that_raises_fails_that_item_at_that_stage() -> None:
    def broken_predicate(x: int) -> bool:
        if x == 2:
            raise KeyError("missing field")
        return False

    pipeline = Pipeline(
        stages=[
            Stage("Check", workers=2, tasks=[identity], skip_if=broken_predicate),
            Stage("Next", tasks=[identity]),
        ]
    )
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == [0, 1, 3]
    [failed] = pipeline.failures
    assert (failed.id, failed.stage, type(failed.error)) == (2, "Check", KeyError)


async def test_a_task_that_never_returns_is_cut_off_by_task_timeout() -> None:
    forever = asyncio.Event()

    async def hangs(x: int) -> int:
        if x == 0:
            await forever.wait()
        return x

    pipeline = Pipeline(
        stages=[
            Stage(
                "S",
                workers=1,
                tasks=[hangs],
                task_attempts=2,
                task_wait_seconds=0,
                task_timeout=0.02,
            )
        ]
    )
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [1, 2]
    assert isinstance(pipeline.failures[0].error, TaskTimeoutError)


async def test_a_stage_callback_that_hangs_is_abandoned_after_callback_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forever = asyncio.Event()
    finished: list[int] = []

    async def hangs(payload: Any) -> None:
        if payload.id == 0:
            await forever.wait()
        finished.append(payload.id)

    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[identity], on_success=hangs)],
        callback_timeout=0.02,
    )
    results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]
    assert finished == [1, 2]
    assert "on_success callback of stage 'S' took longer than callback_timeout=0.02s" in caplog.text


class HangingObserver:
    """An observer whose coroutine for one item never finishes, and that raises for another."""

    def __init__(self) -> None:
        self.forever = asyncio.Event()
        self.finished: list[Any] = []

    async def _hang(self) -> None:
        await self.forever.wait()

    def on_status_event(self, event: StatusEvent) -> Any:
        if event.item_id == 0 and event.status == "in_progress":
            return self._hang()
        if event.item_id == 1 and event.status == "completed":
            raise RuntimeError("observer bug")
        return None

    def on_task_event(self, event: TaskEvent) -> None:
        return None

    def on_item_finished(self, event: ItemFinished) -> None:
        self.finished.append(event.item_id)


async def test_a_tracker_that_hangs_or_raises_never_stalls_or_loses_items(
    caplog: pytest.LogCaptureFixture,
) -> None:
    observer = HangingObserver()
    pipeline = Pipeline(
        stages=[Stage("S", workers=1, tasks=[identity])],
        status_tracker=observer,
        callback_timeout=0.02,
    )
    with caplog.at_level(logging.ERROR, logger="antflow"):
        results = await pipeline.run(range(3))
    assert [r.value for r in results] == [0, 1, 2]
    assert sorted(observer.finished) == [0, 1, 2]
    assert "took longer than callback_timeout=0.02s" in caplog.text
    assert "status tracker raised" in caplog.text


async def test_an_on_failure_callback_that_raises_still_leaves_the_failure_recorded() -> None:
    def explode(item: FailedItem) -> None:
        raise RuntimeError("alerting is down")

    async def fails(x: int) -> int:
        raise ValueError("bad item")

    pipeline = Pipeline(stages=[Stage("S", tasks=[fails], task_attempts=1, on_failure=explode)])
    await pipeline.run([1, 2])
    assert [f.id for f in pipeline.failures] == [0, 1]
    assert pipeline.get_stats().items_failed == 2


def test_callback_timeout_is_validated() -> None:
    with pytest.raises(ValueError, match="callback_timeout must be None"):
        Pipeline(stages=[Stage("S", tasks=[identity])], callback_timeout=0)
