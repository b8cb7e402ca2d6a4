"""Type-level tests of antflow-core alone: what a checker infers for the Stage form.

Checked by mypy --strict (the main run) and by basedpyright in strict mode (``python3
dev.py check``); never run. Every ``assert_type`` fails the check if an inference
changes. What the checkers must reject is in ``tests/typing/expectations/``, checked by
``tests/checkers/test_type_expectations.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, assert_type

from antflow_core import (
    FailedItem,
    ItemOutcome,
    KeyedItem,
    Payload,
    Pipeline,
    PipelineResult,
    Stage,
)
from antflow_core.model import prepare_payload
from returns.result import Failure, Success


async def parse(line: str) -> int:
    return len(line)


def score(n: int) -> float:
    return n / 2


def label(x: float) -> str:
    return f"{x:.1f}"


async def stages_are_typed_by_their_tasks() -> None:
    assert_type(Stage("Parse", tasks=[parse]), Stage[str, int])  # async: the awaited value
    assert_type(Stage("Score", workers=4, tasks=[score]), Stage[int, float])

    # skip_if: a skipped item leaves unchanged, so the output is input | output. (mypy
    # cannot infer a lambda here beside a list of tasks: the stage is then Stage[Any, Any].)
    def negative(n: int) -> bool:
        return n < 0

    assert_type(Stage("Score", tasks=[score], skip_if=negative), Stage[int, int | float])
    # Tasks of different types in one list, or unpack_args: Any.
    assert_type(Stage("Both", tasks=[parse, score]), Stage[Any, Any])
    assert_type(Stage("Unpacked", tasks=[score], unpack_args=True), Stage[Any, Any])


async def a_pipeline_of_one_stage_is_inferred() -> None:
    pipeline = Pipeline(stages=[Stage("Parse", tasks=[parse])])
    assert_type(pipeline, Pipeline[str, int])
    results = await pipeline.run(["a", "bb"])
    assert_type(results, list[PipelineResult[int]])
    assert_type(results[0].value, int)
    assert_type(pipeline.results, list[PipelineResult[int]])
    async for streamed in pipeline.stream(["a"]):
        assert_type(streamed.value, int)
    async with Pipeline(stages=[Stage("Parse", tasks=[parse])]) as running:
        assert_type(running, Pipeline[str, int])
        await running.feed(["a", {"id": "k", "value": "b"}])


async def chained_stages_in_a_tuple_are_inferred() -> None:
    parse_stage = Stage("Parse", tasks=[parse])
    score_stage = Stage("Score", tasks=[score])
    chained = Pipeline(stages=(parse_stage, score_stage))
    assert_type(chained, Pipeline[str, float])
    three = Pipeline(stages=(parse_stage, score_stage, Stage("Label", tasks=[label])))
    assert_type(three, Pipeline[str, str])
    assert_type(await three.run(["a"]), list[PipelineResult[str]])


async def a_list_of_stages_of_different_types_is_annotated() -> None:
    stages = [Stage("Parse", tasks=[parse]), Stage("Score", tasks=[score])]
    assert_type(Pipeline(stages=stages), Pipeline[Any, Any])  # the checker cannot follow a list
    annotated: Pipeline[str, float] = Pipeline(stages=stages)
    assert_type(await annotated.run(["a"]), list[PipelineResult[float]])
    applied = Pipeline[str, float](stages=stages)
    assert_type(applied, Pipeline[str, float])


async def items_are_values_or_keyed_dicts_sync_or_async() -> None:
    pipeline = Pipeline(stages=[Stage("Parse", tasks=[parse])])
    keyed: list[KeyedItem[str]] = [{"id": "home", "value": "a"}, {"value": "b"}]
    await pipeline.run(keyed)
    await pipeline.run([{"id": 3, "value": "a.txt", "bucket": "logs"}])  # metadata keys

    async def lines() -> AsyncIterator[str]:
        yield "a"

    await pipeline.run(lines())
    await pipeline.feed_async(lines())


async def outcomes_and_failures_are_typed() -> None:
    pipeline = Pipeline(stages=[Stage("Parse", tasks=[parse])])
    await pipeline.run(["a"])
    assert_type(pipeline.outcomes, list[ItemOutcome[int]])
    for outcome in pipeline.outcomes:
        match outcome:  # exhaustive: an outcome is a Success or a Failure
            case Success(result):
                assert_type(result, PipelineResult[int])
            case Failure(failed):
                assert_type(failed, FailedItem[Any])
    async for ended in pipeline.stream_outcomes(["b"]):
        assert_type(ended, ItemOutcome[int])
    assert_type(pipeline.failures, list[FailedItem[Any]])
    assert_type(pipeline.unfinished_items, list[Payload[Any]])


def stage_callbacks_see_the_stage_types() -> None:
    def on_failure(failed: FailedItem[str]) -> None:
        assert_type(failed.value, str)  # what the failing stage received

    def on_success(payload: Payload[int]) -> None:
        assert_type(payload.value, int)

    assert_type(
        Stage("Parse", tasks=[parse], on_failure=on_failure, on_success=on_success),
        Stage[str, int],
    )


def payloads_are_typed_through() -> None:
    assert_type(prepare_payload("http://a", 0), Payload[str])
    keyed: KeyedItem[int] = {"id": "n", "value": 4}
    assert_type(prepare_payload(keyed, 1), Payload[int])
    assert_type(prepare_payload(4, 2).with_value("four"), Payload[str])
