"""Where antflow 0.11 deliberately differs from 0.10, the 0.10 way fails with an error
that says what to change (each case is a section of docs/migrating.md)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from antflow.exceptions import PipelineError, StageValidationError
from antflow.pipeline import Pipeline, Stage
from antflow.tracker import StatusTracker
from antflow.types import FailedItem, FailureRecord


async def work(x: int) -> int:
    if x < 0:
        raise ValueError("negative")
    return x


def test_a_stage_is_immutable_and_the_error_says_to_use_replace() -> None:
    stage = Stage(name="Work", workers=2, tasks=[work])
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"dataclasses\.replace"):
        stage.workers = 10  # type: ignore[misc]
    assert dataclasses.replace(stage, workers=10).workers == 10  # the one-line change


async def test_result_metadata_is_read_only_and_the_error_says_to_copy_it() -> None:
    [result] = await Pipeline(stages=[Stage("Work", 1, [work])]).run(
        [{"id": 1, "value": 1, "tag": "a"}]
    )
    with pytest.raises(TypeError, match=r"dict\(result\.metadata\)"):
        result.metadata["tag"] = "b"  # type: ignore[index]
    metadata = dict(result.metadata)  # the one-line change
    metadata["tag"] = "b"
    assert metadata == {"tag": "b"}


async def test_join_without_start_says_to_start_instead_of_waiting_forever() -> None:
    pipeline = Pipeline(stages=[Stage("Work", 1, [work])])
    await pipeline.feed([1, 2])
    with pytest.raises(PipelineError, match=r"call `await pipeline.start\(\)` first"):
        await pipeline.join()
    await pipeline.start()
    await pipeline.join()
    assert len(pipeline.results) == 2


def test_a_callback_that_fits_neither_form_is_refused_at_construction() -> None:
    def on_success(item_id: Any, result: Any) -> None:  # 0.10 would fail at each call
        pass

    with pytest.raises(StageValidationError, match=r"on_success\(item_id, result, metadata\)"):
        Stage("Work", 1, [work], on_success=on_success)


async def test_failed_item_names_a_failed_item_and_failure_record_the_summary_record() -> None:
    failures: list[FailedItem] = []
    tracker = StatusTracker()
    pipeline = Pipeline(
        stages=[Stage("Work", 1, [work], task_attempts=1, on_failure=failures.append)],
        status_tracker=tracker,
    )
    await pipeline.run([-1])
    [record] = tracker.get_error_summary().failed_items
    assert isinstance(record, FailureRecord)  # was FailedItem in 0.10: the one-line change
    assert (record.item_id, record.error, record.error_type) == (0, "negative", "ValueError")
    [failed] = failures
    assert isinstance(failed, FailedItem)  # the item with its value and exception
    assert (failed.item_id, failed.value, type(failed.error)) == (0, -1, ValueError)


async def test_a_second_run_at_once_is_refused_and_says_to_use_another_pipeline() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(x: int) -> int:
        started.set()
        await release.wait()
        return x

    pipeline = Pipeline(stages=[Stage("Work", 1, [slow])])
    first = asyncio.create_task(pipeline.run([1]))
    async with asyncio.timeout(5):
        await started.wait()
        with pytest.raises(PipelineError, match="use another Pipeline"):
            await pipeline.run([2])
        release.set()
        assert [r.value for r in await first] == [1]  # the first run is not disturbed
        other = Pipeline(stages=[Stage("Work", 1, [slow])])  # the one-line change
        assert [r.value for r in await other.run([2])] == [2]
