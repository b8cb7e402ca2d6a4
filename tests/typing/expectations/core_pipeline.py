"""What mypy reveals for antflow-core alone: the Stage form, feeding, outcomes, failures.

Not checked by the main mypy run: ``tests/checkers/test_type_expectations.py`` runs mypy
on this directory and compares each mark at the end of a line (``R`` for a revealed type,
``E[code]`` for an error code and a part of its message) with what mypy says there.
"""

from __future__ import annotations

from typing import Any, reveal_type

from antflow_core import FailedItem, Pipeline, Stage


async def parse(line: str) -> int:
    return len(line)


def score(n: int) -> float:
    return n / 2


async def main() -> None:
    # Stage is typed by its tasks; a list of one stage types the pipeline.
    reveal_type(Stage("Parse", tasks=[parse]))  # R: antflow_core.model.stage.Stage[str, int]
    one = Pipeline(stages=[Stage("Parse", tasks=[parse])])
    reveal_type(one)  # R: antflow_core.runtime.pipeline.Pipeline[str, int]
    reveal_type(await one.run(["a"]))  # R: list[antflow_core.model.results.PipelineResult[int]]

    # Stages that chain, in a tuple: inferred end to end.
    parse_stage, score_stage = Stage("Parse", tasks=[parse]), Stage("Score", tasks=[score])
    chained = Pipeline(stages=(parse_stage, score_stage))
    reveal_type(chained)  # R: antflow_core.runtime.pipeline.Pipeline[str, float]
    # Stages that do not chain, in a tuple: not inferred (the list is checked at run time).
    reveal_type(Pipeline(stages=(score_stage, parse_stage)))  # R: antflow_core.runtime.pipeline.Pipeline[Any, Any]

    # Stages of different types in a list: the checker cannot follow them; annotate.
    listed = Pipeline(stages=[parse_stage, score_stage])
    reveal_type(listed)  # R: antflow_core.runtime.pipeline.Pipeline[Any, Any]
    annotated: Pipeline[str, float] = Pipeline(stages=[parse_stage, score_stage])
    reveal_type(annotated.results)  # R: list[antflow_core.model.results.PipelineResult[float]]

    # Untyped tasks: everything stays Any, as before the types existed.
    untyped: Any = lambda x: x  # noqa: E731
    loose = Pipeline(stages=[Stage("Loose", tasks=[untyped])])
    reveal_type(loose)  # R: antflow_core.runtime.pipeline.Pipeline[Any, Any]
    await loose.feed([1, "two", {"id": 3, "value": 3.0, "tag": "t"}])

    # Outcomes and failures.
    reveal_type(one.outcomes)  # R: list[returns.result.Success[antflow_core.model.results.PipelineResult[int]] | returns.result.Failure[antflow_core.model.results.FailedItem[Any]]]
    reveal_type(one.failures)  # R: list[antflow_core.model.results.FailedItem[Any]]

    def on_failure(failed: FailedItem[str]) -> None:
        reveal_type(failed.value)  # R: str

    Stage("Parse", tasks=[parse], on_failure=on_failure)


async def feeding_checks_the_items() -> None:
    pipeline = Pipeline(stages=[Stage("Score", tasks=[score])])  # takes int
    await pipeline.feed(["a"])  # E[list-item]: List item 0 has incompatible type "str"; expected "int | KeyedItem[int] | Mapping[str, Any]"
    await pipeline.run(["a"])  # E[list-item]: List item 0 has incompatible type "str"
    await pipeline.feed([{"id": "a", "value": 1}, 2])
    await pipeline.feed(range(3))
    results: list[str] = await pipeline.run([1])  # E[assignment]: Incompatible types in assignment
    del results
