"""Bad input to ``add()`` and ``Pipeline.quick()`` fails at the call, as manual stages do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from antflow import Pipeline, Stage, StageValidationError


async def fetch(x: int) -> str:
    return f"data_{x}"


async def process(text: str) -> str:
    return text.upper()


def manual_error(make: Callable[[], object]) -> str:
    with pytest.raises(StageValidationError) as caught:
        make()
    return str(caught.value)


def empty() -> Any:
    """The empty builder, typed Any so the calls below can be wrong on purpose."""
    return Pipeline.create()


def one_stage() -> Any:
    return Pipeline.create().add("Fetch", fetch)


@pytest.mark.parametrize("start", [empty, one_stage], ids=["first add", "later add"])
def test_add_without_a_task_fails_at_the_add_call(start: Callable[[], Any]) -> None:
    builder = start()
    with pytest.raises(StageValidationError) as caught:
        builder.add("Process")
    assert str(caught.value) == (
        "Stage 'Process': has no tasks: pass at least one function after the name, "
        "e.g. .add('Process', my_task)"
    )


@pytest.mark.parametrize("start", [empty, one_stage], ids=["first add", "later add"])
@pytest.mark.parametrize(
    ("args", "options"),
    [
        pytest.param((process, "not a task"), {}, id="non-callable task"),
        pytest.param((len("called"),), {}, id="a value instead of a function"),
        pytest.param((process,), {"workers": 0}, id="workers 0"),
        pytest.param((process,), {"workers": -3}, id="negative workers"),
        pytest.param((process,), {"workers": 2.5}, id="fractional workers"),
        pytest.param((process,), {"retry": "per_sage"}, id="unknown retry"),
        pytest.param((process,), {"task_attempts": 0}, id="no attempts"),
        pytest.param((process,), {"task_concurrency_limits": {"upload": 2}}, id="unknown limit"),
        pytest.param(
            (process,), {"workers": 0, "queue_capacity": -1}, id="several problems at once"
        ),
    ],
)
def test_add_raises_the_manual_stage_error_at_the_add_call(
    start: Callable[[], Any], args: tuple[Any, ...], options: dict[str, Any]
) -> None:
    expected = manual_error(lambda: Stage("Process", tasks=list(args), **options))
    builder = start()
    with pytest.raises(StageValidationError) as caught:
        builder.add("Process", *args, **options)
    assert str(caught.value) == expected


def test_a_duplicate_stage_name_fails_at_the_add_call_as_in_a_manual_pipeline() -> None:
    expected = manual_error(
        lambda: Pipeline(stages=[Stage("Fetch", tasks=[fetch]), Stage("Fetch", tasks=[fetch])])
    )
    builder = Pipeline.create().add("Fetch", fetch).add("Process", process)
    with pytest.raises(StageValidationError) as caught:
        builder.add("Fetch", process)
    assert str(caught.value) == expected
    assert "two stages are named 'Fetch'" in expected


def test_a_failed_add_leaves_the_builder_usable() -> None:
    builder: Any = Pipeline.create().add("Fetch", fetch)
    with pytest.raises(StageValidationError):
        builder.add("Process", process, workers=0)
    assert [s.name for s in builder.add("Process", process).stages] == ["Fetch", "Process"]


def test_an_invalid_name_is_reported_by_add() -> None:
    expected = manual_error(lambda: Stage("  ", tasks=[fetch]))
    with pytest.raises(StageValidationError) as caught:
        Pipeline.create().add("  ", fetch)
    assert str(caught.value) == expected


# ------------------------------------------------------------------------- quick()


def quick(*args: Any, **kwargs: Any) -> Any:
    """``Pipeline.quick`` without its overloads, so wrong calls type-check."""
    method: Any = Pipeline.quick
    return method(*args, **kwargs)


@pytest.mark.parametrize("tasks", [[], ()], ids=["empty list", "empty tuple"])
def test_quick_with_no_task_fails_at_the_call(tasks: object) -> None:
    with pytest.raises(StageValidationError, match="needs at least one task") as caught:
        quick(range(3), tasks)  # raises before any coroutine exists: nothing to await
    assert "Pipeline.quick(items, [fetch, process])" in str(caught.value)


def test_quick_with_something_that_is_not_a_task_says_what_to_pass() -> None:
    with pytest.raises(StageValidationError, match="takes a function or a list of functions"):
        quick(range(3), "process")


@pytest.mark.parametrize(
    ("tasks", "options", "manual"),
    [
        pytest.param([fetch, 42], {}, {"tasks": [fetch, 42]}, id="non-callable in the list"),
        pytest.param(fetch, {"workers": 0}, {"tasks": [fetch], "workers": 0}, id="workers 0"),
        pytest.param(fetch, {"name": ""}, {"tasks": [fetch], "name": ""}, id="empty name"),
    ],
)
def test_quick_raises_the_manual_stage_error_at_the_call(
    tasks: Any, options: dict[str, Any], manual: dict[str, Any]
) -> None:
    manual = {"name": "Quick", **manual}
    expected = manual_error(lambda: Stage(**manual))
    with pytest.raises(StageValidationError) as caught:
        quick(range(3), tasks, **options)
    assert str(caught.value) == expected


@pytest.mark.parametrize("retries", [-1, 1.5, True, "3"])
def test_quick_rejects_retries_that_are_not_a_count(retries: object) -> None:
    with pytest.raises(StageValidationError, match=r"retries must be an integer of at least 0"):
        quick(range(3), fetch, retries=retries)
