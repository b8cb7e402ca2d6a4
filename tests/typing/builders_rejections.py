"""Type-level tests of antflow-builders: compositions a type checker must reject.

Checked by mypy, never run. Each rejected line carries ``# type: ignore[<code>]`` and the
configuration has ``warn_unused_ignores``: if mypy stopped rejecting a line, its ignore
would be unused and the check would fail.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from antflow import FailedItem, Payload, Pipeline, PipelineResult, StageOptions


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


async def add(a: int, b: int) -> int:
    return a + b


async def a_later_stage_must_take_the_previous_output() -> None:
    start = Pipeline.create().add("Fetch", fetch)  # outputs bytes
    start.add("Count", count)  # type: ignore[arg-type]
    start.add("Shout", shout)  # type: ignore[arg-type]
    start.add("Parse", parse).add("Describe", describe)  # type: ignore[arg-type]


async def an_async_output_is_the_awaited_value_not_the_coroutine() -> None:
    async def wants_a_coroutine(c: Coroutine[Any, Any, bytes]) -> int:
        return 0

    Pipeline.create().add("Fetch", fetch).add("C", wants_a_coroutine)  # type: ignore[arg-type]


async def tasks_of_one_stage_are_checked_task_to_task() -> None:
    start = Pipeline.create().add("Fetch", fetch)
    start.add("S", parse, describe)  # type: ignore[arg-type]
    # Three or four tasks: checked at the ends (first input, last output) only.
    start.add("S", shout, count, describe)  # type: ignore[arg-type]
    Pipeline.create().add("S", fetch, shout)  # type: ignore[misc]
    Pipeline.create().add("S", describe, parse)  # type: ignore[arg-type]
    # Five tasks or more: still checked against the stage's input.
    start.add("Long", shout, shout, shout, shout, shout)  # type: ignore[arg-type]


async def items_must_fit_the_first_task() -> None:
    builder = Pipeline.create().add("Fetch", fetch)
    await builder.run([1, 2])  # type: ignore[list-item]
    await builder.run(range(3))  # type: ignore[arg-type]
    # (A dict item is accepted as any Mapping[str, Any], as the runtime accepts it, since
    # mypy cannot read dicts with metadata keys as a KeyedItem; see antflow_core.Item.)
    builder.stream([b"raw"])  # type: ignore[list-item]
    await builder.build().run([1])  # type: ignore[list-item]


async def results_have_the_last_output_type() -> None:
    results = await Pipeline.create().add("Fetch", fetch).add("Parse", parse).run(["a"])
    wrong: list[PipelineResult[str]] = results  # type: ignore[assignment]
    size: str = results[0].value  # type: ignore[assignment]
    async for streamed in Pipeline.create().add("Count", count).stream([{"a": 1}]):
        text: str = streamed.value  # type: ignore[assignment]
    del wrong, size, text


async def an_empty_builder_cannot_run() -> None:
    await Pipeline.create().run([1])  # type: ignore[attr-defined]
    Pipeline.create().build()  # type: ignore[attr-defined]


async def bad_stages_are_rejected() -> None:
    start = Pipeline.create().add("Fetch", fetch)
    start.add("NoTask")  # type: ignore[call-overload]
    Pipeline.create().add("NoTask")  # type: ignore[call-overload]
    start.add("NotCallable", 42)  # type: ignore[call-overload]
    start.add("Workers", parse, workers="many")  # type: ignore[call-overload]
    start.add("Retry", parse, retry="per_item")  # type: ignore[call-overload]
    start.add("Typo", parse, worker=3)  # type: ignore[call-overload]
    Pipeline.create().add("Unpack", add)  # type: ignore[arg-type]
    options: StageOptions = {"workers": "4"}  # type: ignore[typeddict-item]
    start.add("Parse", parse, **options)


async def callbacks_and_predicates_must_fit_the_stage() -> None:
    def on_text(payload: Payload[str]) -> None:
        pass

    def small_text(text: str) -> bool:
        return len(text) < 3

    def on_failure(item: int) -> None:
        pass

    start = Pipeline.create().add("Fetch", fetch)
    start.add("Parse", parse, on_success=on_text)  # type: ignore[arg-type]
    start.add("Parse", parse, skip_if=small_text)  # type: ignore[arg-type]
    start.add("Parse", parse, on_failure=on_failure)  # type: ignore[arg-type]

    def on_bytes(item_id: Any, result: bytes, metadata: dict[str, Any]) -> None:
        pass

    start.add("Parse", parse, on_success=on_bytes)  # type: ignore[arg-type]  # 0.10 form


async def builder_options_are_checked() -> None:
    start = Pipeline.create().add("Fetch", fetch)
    start.with_tracker(object())  # type: ignore[arg-type]
    start.collect_results("no")  # type: ignore[arg-type]
    await start.run(["a"], progress="yes")  # type: ignore[arg-type]


async def quick_items_and_tasks_must_fit() -> None:
    await Pipeline.quick([1, 2], fetch)  # type: ignore[arg-type]
    await Pipeline.quick(["a"], (fetch, shout))  # type: ignore[arg-type]
    await Pipeline.quick(["a"], (describe, fetch, parse))  # type: ignore[arg-type]
    await Pipeline.quick(["a"], fetch, retries="3")  # type: ignore[call-overload]
    await Pipeline.quick(["a"], fetch, name=1)  # type: ignore[call-overload]
    await Pipeline.quick(["a"])  # type: ignore[call-overload]
    await Pipeline.quick(["a"], 42)  # type: ignore[call-overload]
    value: str = (await Pipeline.quick(["a"], fetch))[0].value  # type: ignore[assignment]
    del value


def failed_items_are_typed() -> None:
    def on_failure(item: FailedItem) -> None:
        pass

    Pipeline.create().add("Fetch", fetch, on_failure=on_failure).add("Parse", parse)


async def a_batch_task_must_take_a_list() -> None:
    Pipeline.create().add("Shout", shout, batch_size=10)  # type: ignore[arg-type]


async def a_fan_out_flag_of_type_bool_needs_the_list_form() -> None:
    flag: bool = True
    Pipeline.create().add("Shout", shout, fan_out=flag)  # type: ignore[call-overload]


async def backoff_is_fixed_or_exponential() -> None:
    Pipeline.create().add("Fetch", fetch, backoff="linear")  # type: ignore[call-overload]
