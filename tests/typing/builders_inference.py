"""Type-level tests of antflow-builders: what a type checker infers.

Checked by mypy (``python3 dev.py check`` runs ``mypy``, whose ``files`` include
``tests/``); never run. Every ``assert_type`` fails the check if an inference changes.
The rejected compositions are in ``builders_rejections.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, assert_type

import antflow
from antflow import (
    EmptyPipelineBuilder,
    FailedItem,
    KeyedItem,
    Payload,
    Pipeline,
    PipelineBuilder,
    PipelineResult,
    Stage,
    StageOptions,
    StatusEvent,
)

# ----------------------------------------------------------------- tasks used below


async def fetch(url: str) -> bytes:
    return url.encode()


def parse(raw: bytes) -> dict[str, int]:
    return {"size": len(raw)}


async def count(fields: dict[str, int]) -> int:
    return len(fields)


def describe(n: int) -> str:
    return f"{n} fields"


async def shout(text: str) -> str:
    return text.upper()


def later(n: int) -> Awaitable[float]:
    """A plain function that returns an awaitable: the core awaits it too."""

    async def value() -> float:
        return n / 2

    return value()


async def add(a: int, b: int) -> int:
    return a + b


class Loader:
    """Bound methods are tasks too (the guide's ETL example)."""

    async def extract(self, item_id: int) -> dict[str, str]:
        return {"id": str(item_id)}

    async def load(self, data: dict[str, str]) -> bool:
        return bool(data)


class Observer:
    def on_status_event(self, event: StatusEvent) -> None:
        pass

    def on_task_event(self, event: antflow.TaskEvent) -> None:
        pass

    def on_item_finished(self, event: antflow.ItemFinished) -> None:
        pass


# ---------------------------------------------------------- the fluent builder: types


async def stage_outputs_follow_the_last_task() -> None:
    empty = Pipeline.create()
    assert_type(empty, EmptyPipelineBuilder)

    # The first add() fixes the input type: what the first task takes.
    first = empty.add("Fetch", fetch, workers=10)
    assert_type(first, PipelineBuilder[str, bytes])
    assert_type(Pipeline.create().add("Parse", parse), PipelineBuilder[bytes, dict[str, int]])

    # Each add() takes the previous output and moves the output type on.
    second = first.add("Parse", parse, workers=2)
    assert_type(second, PipelineBuilder[str, dict[str, int]])
    third = second.add("Count", count).add("Describe", describe)
    assert_type(third, PipelineBuilder[str, str])

    results = await third.run(["https://example.com"])
    assert_type(results, list[PipelineResult[str]])
    assert_type(results[0].value, str)


async def several_tasks_are_checked_task_to_task() -> None:
    start = Pipeline.create().add("Fetch", fetch)
    # async then plain, plain then async, and longer mixes: each output is what the
    # task returns, awaited for async tasks.
    assert_type(start.add("S", parse, count), PipelineBuilder[str, int])
    assert_type(start.add("S", parse, count, describe), PipelineBuilder[str, str])
    assert_type(start.add("S", parse, count, describe, shout), PipelineBuilder[str, str])
    assert_type(
        Pipeline.create().add("S", fetch, parse, count, describe),
        PipelineBuilder[str, str],
    )
    assert_type(Pipeline.create().add("S", shout, shout), PipelineBuilder[str, str])
    assert_type(Pipeline.create().add("S", describe, fetch), PipelineBuilder[int, bytes])
    # A plain function returning an awaitable is awaited by the core, and typed so.
    assert_type(Pipeline.create().add("Half", later), PipelineBuilder[int, float])
    # Lambdas and bound methods.
    assert_type(start.add("Size", lambda raw: len(raw)), PipelineBuilder[str, int])
    loader = Loader()
    assert_type(
        Pipeline.create().add("Extract", loader.extract).add("Load", loader.load),
        PipelineBuilder[int, bool],
    )


async def stages_of_five_or_more_tasks_are_typed_any() -> None:
    start = Pipeline.create().add("Fetch", fetch)
    long = start.add("Long", parse, count, describe, shout, fetch)
    assert_type(long, PipelineBuilder[str, Any])
    assert_type(
        Pipeline.create().add("L", shout, shout, shout, shout, shout, shout),
        PipelineBuilder[str, Any],
    )


async def skip_if_adds_the_input_type_to_the_output() -> None:
    def is_small(raw: bytes) -> bool:
        return len(raw) < 10

    start = Pipeline.create().add("Fetch", fetch)
    # A skipped item leaves the stage unchanged: the output is input | output.
    skipping = start.add("Parse", parse, skip_if=is_small)
    assert_type(skipping, PipelineBuilder[str, bytes | dict[str, int]])
    assert_type(
        Pipeline.create().add("Maybe", fetch, skip_if=lambda url: url == ""),
        PipelineBuilder[str, str | bytes],
    )


async def unpack_args_stages_take_any_input() -> None:
    first = Pipeline.create().add("Add", add, unpack_args=True)
    assert_type(first, PipelineBuilder[Any, int])
    later_stage = Pipeline.create().add("Fetch", fetch).add("Add", add, unpack_args=True)
    assert_type(later_stage, PipelineBuilder[str, int])
    assert_type(first.add("Describe", describe), PipelineBuilder[Any, str])


async def options_and_callbacks_are_typed() -> None:
    def on_parsed(payload: Payload[dict[str, int]]) -> None:
        pass

    async def on_failure(item: FailedItem) -> None:
        pass

    builder = (
        Pipeline.create()
        .add(
            "Fetch",
            fetch,
            workers=10,
            retry="per_stage",
            task_attempts=5,
            stage_attempts=2,
            task_wait_seconds=0.5,
            task_concurrency_limits={"fetch": 2},
            on_failure=on_failure,
            queue_capacity=0,
            task_timeout=3.0,
        )
        .add("Parse", parse, on_success=on_parsed)
    )
    assert_type(builder, PipelineBuilder[str, dict[str, int]])
    # Options kept in a variable: StageOptions.
    options: StageOptions = {"workers": 4, "task_attempts": 2}
    assert_type(builder.add("Count", count, **options), PipelineBuilder[str, int])


async def callbacks_in_antflow_0_10_form_are_typed() -> None:
    def on_parsed(item_id: Any, result: dict[str, int], metadata: dict[str, Any]) -> None:
        pass

    async def on_failure(item_id: Any, error: Exception, metadata: dict[str, Any]) -> None:
        pass

    def on_skip(item_id: Any, value: bytes, metadata: dict[str, Any]) -> None:
        pass

    builder = (
        Pipeline.create()
        .add("Fetch", fetch, on_failure=on_failure, retries=2)
        .add("Parse", parse, on_success=on_parsed, skip_if=lambda raw: not raw, on_skip=on_skip)
    )
    assert_type(builder, PipelineBuilder[str, bytes | dict[str, int]])
    tasks: list[Callable[..., Any]] = [fetch, parse]
    assert_type(Pipeline.create().add("Both", tasks), PipelineBuilder[Any, Any])
    assert_type(
        await Pipeline.quick(["a"], fetch, 5, 3, on_failure=on_failure),
        list[PipelineResult[bytes]],
    )


async def builder_options_keep_the_types() -> None:
    builder = Pipeline.create().add("Fetch", fetch)
    assert_type(builder.with_tracker(Observer()), PipelineBuilder[str, bytes])
    assert_type(builder.with_tracker(None).collect_results(False), PipelineBuilder[str, bytes])
    assert_type(Pipeline.create().with_tracker(Observer()), EmptyPipelineBuilder)
    assert_type(Pipeline.create().collect_results(False), EmptyPipelineBuilder)
    assert_type(builder.stages, tuple[Stage, ...])


async def run_stream_and_build_are_typed() -> None:
    builder = Pipeline.create().add("Fetch", fetch).add("Parse", parse)
    # Items are values of the input type, or KeyedItem dicts giving their own ids.
    keyed: list[KeyedItem[str]] = [{"id": "home", "value": "https://example.com"}]
    assert_type(await builder.run(keyed), list[PipelineResult[dict[str, int]]])
    assert_type(
        await builder.run(["a", "b"], progress=False, dashboard=None, refresh_interval=None),
        list[PipelineResult[dict[str, int]]],
    )

    async def urls() -> AsyncIterator[str]:
        yield "https://example.com"

    assert_type(await builder.run(urls()), list[PipelineResult[dict[str, int]]])

    assert_type(builder.stream(["a"]), AsyncIterator[PipelineResult[dict[str, int]]])
    async for result in builder.stream(["a"]):
        assert_type(result.value, dict[str, int])

    pipeline = builder.build()
    assert_type(pipeline, Pipeline[str, dict[str, int]])
    assert_type(await pipeline.run(["a"]), list[PipelineResult[dict[str, int]]])
    assert_type(pipeline.results, list[PipelineResult[dict[str, int]]])
    async for streamed in pipeline.stream(["a"]):
        assert_type(streamed, PipelineResult[dict[str, int]])
    async with builder.build() as running:
        assert_type(running, Pipeline[str, dict[str, int]])


async def manual_pipelines_infer_their_types_from_the_stages() -> None:
    manual = Pipeline(stages=[Stage("Fetch", workers=3, tasks=[fetch])])
    assert_type(manual, Pipeline[str, bytes])
    assert_type(await manual.run(["a"]), list[PipelineResult[bytes]])
    # Stages of different types in a list: the checker cannot follow them.
    mixed = Pipeline(stages=[Stage("Fetch", tasks=[fetch]), Stage("Parse", tasks=[parse])])
    assert_type(mixed, Pipeline[Any, Any])
    annotated: Pipeline = mixed  # a bare annotation means Pipeline[Any, Any]
    assert_type(annotated, Pipeline[Any, Any])


# ------------------------------------------------------------------ Pipeline.quick()


async def quick_is_typed_by_its_tasks() -> None:
    assert_type(await Pipeline.quick(["a"], fetch), list[PipelineResult[bytes]])
    assert_type(
        await Pipeline.quick([b"x"], parse, workers=2), list[PipelineResult[dict[str, int]]]
    )
    assert_type(await Pipeline.quick(range(3), describe, 5, 0, False), list[PipelineResult[str]])
    # A tuple of tasks is checked task to task.
    assert_type(await Pipeline.quick(["a"], (fetch, parse)), list[PipelineResult[dict[str, int]]])
    assert_type(await Pipeline.quick(["a"], (fetch, parse, count)), list[PipelineResult[int]])
    assert_type(
        await Pipeline.quick(["a"], (fetch, parse, count, describe), workers=10),
        list[PipelineResult[str]],
    )
    # A list, as the guide writes it, is not: its results are Any.
    assert_type(await Pipeline.quick(["a"], [fetch, parse], workers=10), list[PipelineResult[Any]])
    keyed: list[KeyedItem[int]] = [{"id": "n", "value": 4}]
    assert_type(await Pipeline.quick(keyed, describe), list[PipelineResult[str]])
    assert_type(
        await Pipeline.quick(
            range(3),
            describe,
            retries=0,
            progress=False,
            name="Describe",
            task_wait_seconds=0.0,
            task_timeout=1.0,
            dashboard=None,
            refresh_interval=None,
        ),
        list[PipelineResult[str]],
    )


def quick_returns_a_coroutine() -> None:
    pending = assert_type(
        Pipeline.quick(["a"], fetch), Coroutine[Any, Any, list[PipelineResult[bytes]]]
    )
    pending.close()


# ------------------------------------------------------------ fan-out and batch stages


async def links(page: str) -> list[str]:
    return [page + "/a", page + "/b"]


def rows(path: str) -> list[int]:
    return [len(path)]


async def lines(path: str) -> AsyncIterator[bytes]:
    yield path.encode()


async def crawl(page: bytes) -> AsyncIterator[bytes | antflow.Child[str]]:
    yield antflow.Child(page.decode(), stage="Fetch")  # sent back: not the next input
    yield page


async def embed(texts: list[str]) -> list[float]:
    return [float(len(t)) for t in texts]


def insert(values: list[float]) -> tuple[bool, ...]:
    return tuple(True for _ in values)


async def a_fan_out_stage_outputs_its_elements() -> None:
    assert_type(Pipeline.create().add("Links", links, fan_out=True), PipelineBuilder[str, str])
    assert_type(Pipeline.create().add("Rows", rows, fan_out=True), PipelineBuilder[str, int])
    assert_type(Pipeline.create().add("Lines", lines, fan_out=True), PipelineBuilder[str, bytes])
    # A fan-out stage of several tasks is typed Any (few overloads: short error messages).
    assert_type(Pipeline.create().add("S", shout, links, fan_out=True), PipelineBuilder[Any, Any])
    # Children sent to another stage with Child are not the next stage's input.
    crawler = Pipeline.create().add("Fetch", fetch).add("Parse", crawl, fan_out=True)
    assert_type(crawler, PipelineBuilder[str, bytes])
    # Without fan_out the iterable itself is the output, as before.
    assert_type(Pipeline.create().add("Links", links), PipelineBuilder[str, list[str]])
    # A flag only known at run time: tasks given as a list take it, typed Any.
    flag: bool = True
    assert_type(Pipeline.create().add("Links", [links], fan_out=flag), PipelineBuilder[Any, Any])


async def a_batch_stage_is_typed_per_item() -> None:
    batched = Pipeline.create().add("Embed", embed, batch_size=32, batch_timeout=0.5)
    assert_type(batched, PipelineBuilder[str, float])
    assert_type(batched.add("Insert", insert, batch_size=100), PipelineBuilder[str, bool])
    # A batch stage of several tasks checks its first task's list, and is typed Any.
    assert_type(
        Pipeline.create().add("Both", embed, insert, batch_size=8), PipelineBuilder[str, Any]
    )
    results = await batched.run(["a", "bc"])
    assert_type(results, list[PipelineResult[float]])


async def retry_options_pass_through_add_and_quick() -> None:
    builder = Pipeline.create().add(
        "Fetch",
        fetch,
        retry_on=(TimeoutError, ConnectionError),
        retry_if=lambda exc: not isinstance(exc, KeyError),
        backoff="exponential",
        max_wait_seconds=30.0,
        jitter=0.5,
    )
    assert_type(builder, PipelineBuilder[str, bytes])
    options: StageOptions = {"retry_on": TimeoutError, "backoff": "exponential"}
    assert_type(Pipeline.create().add("Fetch", fetch, **options), PipelineBuilder[str, bytes])
    assert_type(
        await Pipeline.quick(["a"], fetch, retry_on=TimeoutError, backoff="exponential"),
        list[PipelineResult[bytes]],
    )
