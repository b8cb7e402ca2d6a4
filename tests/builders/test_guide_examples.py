"""The guide's "Creating Pipelines (Three Approaches)" examples, as written.

``progress=True`` needs antflow-rich, which ``pip install antflow`` brings; these tests
run the examples literally with it. The same runs with a custom display are in
``test_fluent_builder.py`` and ``test_quick.py``.
"""

from __future__ import annotations

import asyncio

import pytest
from antflow import Pipeline, PipelineResult, Stage

items = list(range(20))


async def fetch_task(x: int) -> str:
    await asyncio.sleep(0)
    return f"data_{x}"


async def process_task(x: str) -> str:
    return x.upper()


fetch = fetch_task
process = process_task


async def manual_two_stages() -> list[PipelineResult[str]]:
    stage1 = Stage(name="Fetch", workers=10, tasks=[fetch_task])
    stage2 = Stage(name="Process", workers=5, tasks=[process_task])

    pipeline = Pipeline(stages=[stage1, stage2])
    return await pipeline.run(items)


async def test_guide_fluent_builder_example(capsys: pytest.CaptureFixture[str]) -> None:
    results = await (
        Pipeline.create()
        .add("Fetch", fetch_task, workers=10)
        .add("Process", process_task, workers=5)
        .run(items, progress=True)
    )
    assert results == await manual_two_stages()
    assert [r.value for r in results] == [f"DATA_{i}" for i in range(20)]
    assert capsys.readouterr().err, "the progress display wrote to stderr"


async def test_guide_quick_single_task_example(capsys: pytest.CaptureFixture[str]) -> None:
    results = await Pipeline.quick(items, fetch_task, workers=5, progress=True)
    manual = await Pipeline(stages=[Stage("Fetch", workers=5, tasks=[fetch_task])]).run(items)
    assert results == manual
    assert capsys.readouterr().err, "the progress display wrote to stderr"


async def test_guide_quick_multiple_tasks_in_one_stage_example() -> None:
    results = await Pipeline.quick(items, [fetch, process], workers=10)
    manual = await Pipeline(stages=[Stage("S", workers=10, tasks=[fetch, process])]).run(items)
    assert results == manual
    assert results == await manual_two_stages()  # one stage of two tasks, or two stages


async def test_the_three_approaches_give_the_same_results() -> None:
    fluent = await Pipeline.create().add("Fetch", fetch_task, workers=10).run(items)
    manual = await Pipeline(stages=[Stage(name="Fetch", workers=10, tasks=[fetch_task])]).run(items)
    quick = await Pipeline.quick(items, fetch_task, workers=10)
    assert fluent == manual == quick
