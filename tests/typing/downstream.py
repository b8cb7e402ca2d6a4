"""A downstream program using the public API of every antflow package, typed strictly.

Checked by mypy --strict (the main run) and by basedpyright in strict mode (``python3
dev.py check``), never run: both checkers must accept it with no error, no ``Any`` left
unknown and no ignore comment. It is what a user with a strict type checker writes.
"""

from __future__ import annotations

import asyncio
from typing import Any, assert_type

import antflow
import antflow_builders
import antflow_core
import antflow_otel
import antflow_rich
import antflow_tracker
from antflow_core.model import (
    GiveUp,
    RequeueItem,
    RetryTask,
    decide_retry,
    plan_pipeline,
    prepare_payload,
)
from returns.result import Failure, Success


async def fetch(url: str) -> bytes:
    await asyncio.sleep(0)
    return url.encode()


def parse(raw: bytes) -> dict[str, int]:
    return {"size": len(raw)}


async def core_only() -> None:
    """antflow-core: stages, the asyncio runtime, outcomes, the model."""
    stages = (
        antflow_core.Stage("Fetch", tasks=[fetch]),
        antflow_core.Stage("Parse", tasks=[parse]),
    )
    pipeline = antflow_core.Pipeline(stages=stages, collect_results=True)
    assert_type(pipeline, antflow_core.Pipeline[str, dict[str, int]])
    results = await pipeline.run(["a", {"id": "b", "value": "b"}])
    sizes: list[int] = [r.value["size"] for r in results]
    for outcome in pipeline.outcomes:
        match outcome:
            case Success(result):
                sizes.append(result.value["size"])
            case Failure(failed):
                print(failed.id, failed.stage, failed.error_type, failed.attempts)
    stats: antflow_core.PipelineStats = pipeline.get_stats()
    print(sizes, stats.items_processed, pipeline.get_worker_names())
    plan = plan_pipeline(stages)
    payload = prepare_payload("x", 0)
    assert_type(payload.value, str)
    match decide_retry(plan.stages[0].stage, task_attempt=1, stage_attempt=1, error=OSError()):
        case Success(RetryTask(attempt=attempt) | RequeueItem(attempt=attempt)):
            print("again, attempt", attempt)
        case Failure(GiveUp(attempts=attempts)):
            print("gave up after", attempts)


async def with_a_tracker() -> None:
    """antflow-tracker: a StatusTracker with callbacks, then its queries."""
    seen: list[antflow_core.StatusEvent] = []

    def on_failure(failed: antflow_core.FailedItem) -> None:
        print(failed.value)

    tracker = antflow_tracker.StatusTracker(seen.append, on_failure=on_failure)
    pipeline = antflow_core.Pipeline(
        stages=[antflow_core.Stage("Fetch", tasks=[fetch])], status_tracker=tracker
    )
    await pipeline.run(["a"])
    status = tracker.get_status(0)
    if status is not None:
        print(status.status, status.stage)
    counts: dict[str, int] = tracker.get_stats()
    print(counts, tracker.get_error_summary().total_failed)


async def with_the_builders() -> None:
    """antflow-builders: the fluent builder and Pipeline.quick()."""
    options: antflow_builders.StageOptions = {"workers": 2, "task_attempts": 2}
    builder = antflow_builders.Pipeline.create().add("Fetch", fetch, **options).add("Parse", parse)
    assert_type(builder, antflow_builders.PipelineBuilder[str, dict[str, int]])
    results = await builder.run(["a"])
    assert_type(results[0].value, dict[str, int])
    quick = await antflow_builders.Pipeline.quick(["a"], fetch, workers=2)
    assert_type(quick, list[antflow_core.PipelineResult[bytes]])
    async for streamed in builder.stream(["b"]):
        print(streamed.value["size"])


async def with_the_umbrella() -> None:
    """antflow: the names the seeds import, a display from antflow-rich, telemetry."""
    display = antflow_rich.ProgressBarDisplay(refresh_interval=1.0, summary=False)
    telemetry = antflow_otel.TelemetryObserver(pipeline_name="downstream", task_spans=False)
    pipeline = antflow.Pipeline(
        stages=[antflow.Stage("Fetch", workers=2, tasks=[fetch])], telemetry=telemetry
    )
    assert_type(pipeline, antflow.Pipeline[str, bytes])
    results = await pipeline.run(["a"], progress=display)
    tracker = antflow.StatusTracker()
    built = antflow.Pipeline.create().add("Fetch", fetch).with_tracker(tracker).build()
    assert_type(built, antflow.Pipeline[str, bytes])
    more = await built.run(["b"])
    values: list[bytes] = [r.value for r in [*results, *more]]
    unknown: Any = values
    print(unknown)
