"""Stage: every parameter of the guide, and validation that says what to change (no event loop)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest
from antflow_core.errors import StageValidationError
from antflow_core.model import (
    CallbackForm,
    FailedItem,
    Stage,
    call_with_failure,
    call_with_payload,
    callback_form,
    default_queue_capacity,
    effective_queue_capacity,
    is_async_callable,
    prepare_payload,
    stage_problems,
    task_name,
    validate_stages,
)


async def fetch(x: Any) -> Any:
    return x


async def upload(x: Any) -> Any:
    return x


def parse(x: Any) -> Any:
    return x


def test_the_name_may_be_positional_and_every_guide_parameter_is_accepted() -> None:
    def on_success(payload: Any) -> None: ...
    async def on_failure(failed: Any) -> None: ...

    stage = Stage(
        "Upload",
        workers=50,
        tasks=[upload, fetch],
        retry="per_stage",
        task_attempts=4,
        stage_attempts=2,
        task_wait_seconds=0.5,
        task_concurrency_limits={"upload": 2},
        unpack_args=True,
        on_success=on_success,
        on_failure=on_failure,
        skip_if=lambda v: v is None,
        queue_capacity=1,
        task_timeout=30,
    )
    assert stage.name == "Upload"
    assert stage.tasks == (upload, fetch)
    assert stage.task_names == ("upload", "fetch")
    assert stage.task_concurrency_limits == {"upload": 2}
    assert (stage.retry, stage.task_attempts, stage.stage_attempts) == ("per_stage", 4, 2)
    assert stage.capacity == 1


def test_defaults_follow_the_api_page() -> None:
    stage = Stage(name="Fetch", workers=5, tasks=[fetch])
    assert stage.retry == "per_task"
    assert (stage.task_attempts, stage.stage_attempts, stage.task_wait_seconds) == (3, 3, 1.0)
    assert stage.unpack_args is False
    assert stage.task_concurrency_limits is None
    assert stage.queue_capacity is None
    assert stage.capacity == 50


def test_workers_default_to_one_so_the_guides_etl_example_builds() -> None:
    stage = Stage(name="ETL", tasks=[fetch], task_concurrency_limits={"fetch": 5})
    assert stage.workers == 1


@pytest.mark.parametrize(("workers", "expected"), [(1, 10), (5, 50), (50, 500)])
def test_default_queue_capacity_is_ten_per_worker(workers: int, expected: int) -> None:
    assert default_queue_capacity(workers) == expected
    assert effective_queue_capacity(Stage("S", workers=workers, tasks=[fetch])) == expected


def test_queue_capacity_zero_means_unbounded_and_an_explicit_value_wins() -> None:
    assert Stage("S", workers=2, tasks=[fetch], queue_capacity=0).capacity == 0
    assert Stage("S", workers=2, tasks=[fetch], queue_capacity=1000).capacity == 1000
    assert default_queue_capacity(0) == 1


def test_a_stage_is_frozen() -> None:
    stage = Stage("S", tasks=[fetch])
    with pytest.raises(AttributeError):
        stage.workers = 3  # type: ignore[misc]


def test_tasks_given_as_a_single_function_or_any_iterable_are_normalised() -> None:
    assert Stage("S", tasks=fetch).tasks == (fetch,)  # type: ignore[call-overload]
    generated = (t for t in [fetch, upload])
    assert Stage("S", tasks=generated).tasks == (fetch, upload)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"workers": 0}, "workers must be an integer of at least 1, got 0"),
        ({"workers": -2}, "workers must be an integer of at least 1, got -2"),
        ({"workers": 2.5}, "workers must be an integer of at least 1, got 2.5"),
        ({"workers": True}, "workers must be an integer of at least 1, got True"),
        ({"tasks": []}, "has no tasks: pass tasks=[my_task]"),
        ({"tasks": [fetch, "upload"]}, "tasks[1] is 'upload' of type str, which is not callable"),
        ({"tasks": [42]}, "pass the function itself, e.g. tasks=[fetch], not tasks=[fetch()]"),
        ({"tasks": "fetch"}, "tasks must be a list of functions, got str"),
        ({"retry": "per_item"}, "unknown retry strategy 'per_item': use retry='per_task' or"),
        ({"task_attempts": 0}, "task_attempts must be an integer of at least 1"),
        ({"stage_attempts": 0}, "stage_attempts must be an integer of at least 1"),
        ({"task_wait_seconds": -1}, "task_wait_seconds must be a finite number of seconds >= 0"),
        ({"queue_capacity": -1}, "queue_capacity must be None (default: workers * 10), 0"),
        ({"task_timeout": 0}, "task_timeout must be None (no limit) or a finite number of seconds"),
        ({"on_success": "log"}, "on_success must be a function or None, got 'log'"),
        ({"on_failure": 1}, "on_failure must be a function or None"),
        ({"skip_if": True}, "skip_if must be a function or None"),
        ({"unpack_args": "yes"}, "unpack_args must be True or False, got 'yes'"),
        (
            {"task_concurrency_limits": {"uplod": 2}},
            "task_concurrency_limits names 'uplod', which is not a task of this stage; "
            "its tasks are: 'fetch'",
        ),
        ({"task_concurrency_limits": {"fetch": 0}}, "task_concurrency_limits['fetch'] must be"),
        ({"task_concurrency_limits": [("fetch", 1)]}, "must be a dict of task name to limit"),
        ({"name": ""}, "name must be a non-empty string"),
    ],
)
def test_each_invalid_argument_raises_a_message_that_says_what_to_change(
    kwargs: dict[str, Any], expected: str
) -> None:
    arguments: dict[str, Any] = {"name": "Fetch", "workers": 2, "tasks": [fetch], **kwargs}
    with pytest.raises(StageValidationError) as caught:
        Stage(**arguments)
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_several_problems_are_listed_together() -> None:
    with pytest.raises(StageValidationError) as caught:
        Stage("Fetch", workers=0, tasks=[], retry="sometimes")  # type: ignore[call-overload]
    message = str(caught.value)
    assert message.startswith("Stage 'Fetch' has 3 problems:")
    assert "workers must be" in message
    assert "has no tasks" in message
    assert "unknown retry strategy" in message


def test_stage_problems_is_empty_for_a_valid_stage() -> None:
    assert stage_problems(Stage("S", tasks=[fetch])) == []


def test_validate_stages_rejects_empty_duplicates_and_strangers() -> None:
    with pytest.raises(StageValidationError, match="at least one stage"):
        validate_stages([])
    with pytest.raises(StageValidationError, match="two stages are named 'A'"):
        validate_stages([Stage("A", tasks=[fetch]), Stage("A", tasks=[upload])])
    with pytest.raises(StageValidationError, match=r"stages\[1\] is 'B' of type str"):
        validate_stages([Stage("A", tasks=[fetch]), "B"])
    with pytest.raises(
        StageValidationError, match=r"got the single Stage .A.: pass stages=\[stage\]"
    ):
        validate_stages(Stage("A", tasks=[fetch]))
    stages = [Stage("A", tasks=[fetch]), Stage("B", tasks=[upload])]
    assert validate_stages(stages) == tuple(stages)


class Uploader:
    async def upload(self, x: Any) -> Any:
        return x

    async def __call__(self, x: Any) -> Any:
        return x


class SyncCallable:
    def __call__(self, x: Any) -> Any:
        return x


def test_task_names_are_what_task_concurrency_limits_refer_to() -> None:
    assert task_name(fetch) == "fetch"
    assert task_name(Uploader().upload) == "upload"
    assert task_name(functools.partial(upload, 1)) == "upload"
    assert task_name(Uploader()) == "Uploader"
    assert task_name(lambda x: x) == "<lambda>"


def test_async_callables_are_recognised_and_plain_ones_are_not() -> None:
    assert is_async_callable(fetch)
    assert is_async_callable(Uploader().upload)
    assert is_async_callable(functools.partial(fetch))
    assert is_async_callable(Uploader())
    assert not is_async_callable(parse)
    assert not is_async_callable(SyncCallable())
    assert not is_async_callable(lambda x: x)


# ------------------------------------------------------------------ callback forms


def three(item_id: Any, value: Any, metadata: Any) -> None: ...
def one(payload: Any) -> None: ...
def one_with_keyword_option(payload: Any, *, verbose: bool = False) -> None: ...
def two_required(a: Any, b: Any) -> None: ...
def two_then_optional(a: Any, b: Any, c: Any = None) -> None: ...
def one_then_rest(item_id: Any, *rest: Any) -> None: ...
def one_then_two_optional(payload: Any, a: Any = None, b: Any = None) -> None: ...
def any_arguments(*args: Any, **kwargs: Any) -> None: ...
def four_required(a: Any, b: Any, c: Any, d: Any) -> None: ...
def needs_a_keyword(payload: Any, *, mode: str) -> None: ...
def none() -> None: ...


class Handler:
    def on_success(self, item_id: Any, result: Any, metadata: Any) -> None: ...
    def on_failure(self, failed: Any) -> None: ...
    async def __call__(self, item_id: Any, result: Any, metadata: Any) -> None: ...


THREE, ONE = CallbackForm.THREE_ARGUMENTS, CallbackForm.ONE_ARGUMENT
FORMS: list[tuple[Any, CallbackForm | None]] = [
    (three, THREE),
    (one, ONE),
    (one_with_keyword_option, ONE),
    (two_required, None),
    (two_then_optional, THREE),
    (one_then_rest, THREE),  # can take three: 0.10's form wins
    (one_then_two_optional, THREE),
    (any_arguments, THREE),
    (four_required, None),
    (needs_a_keyword, None),
    (none, None),
    (Handler().on_success, THREE),  # bound methods: self does not count
    (Handler().on_failure, ONE),
    (Handler(), THREE),  # a callable object: its __call__
    (functools.partial(three, 1), None),  # two left
    (functools.partial(three, 1, 2), ONE),
    ([].append, ONE),
    (print, THREE),  # *args
    (lambda payload: None, ONE),
    (lambda item_id, result, metadata: None, THREE),
]


@pytest.mark.parametrize(("callback", "form"), FORMS)
def test_callback_form_follows_its_rule(callback: Any, form: CallbackForm | None) -> None:
    assert callback_form(callback) is form


def test_a_stage_decides_each_callback_form_once_at_construction() -> None:
    stage = Stage("S", tasks=[fetch], on_success=three, on_failure=one, on_skip=any_arguments)
    assert (stage.on_success_form, stage.on_failure_form, stage.on_skip_form) == (
        THREE,
        ONE,
        THREE,
    )
    assert Stage("S", tasks=[fetch]).on_success_form is None


@pytest.mark.parametrize("attr", ["on_success", "on_failure", "on_skip"])
def test_a_callback_that_fits_no_form_is_rejected_with_both_forms_named(attr: str) -> None:
    options: dict[str, Any] = {attr: two_required}
    with pytest.raises(StageValidationError) as caught:
        Stage("S", tasks=[fetch], **options)
    message = str(caught.value)
    assert f"{attr}=two_required cannot be called" in message
    assert f"{attr}(item_id, " in message
    assert "(antflow 0.10's form)" in message


def test_the_decided_forms_call_a_callback_with_the_right_arguments() -> None:
    seen: list[Any] = []
    payload = prepare_payload({"id": "a", "value": 2, "source": "s3"}, 0)
    call_with_payload(lambda *args: seen.append(args), THREE)(payload)
    call_with_payload(seen.append, ONE)(payload)
    failed = FailedItem("a", 2, ValueError("x"), "S", 3, 0, payload.metadata)
    call_with_failure(lambda *args: seen.append(args), THREE)(failed)
    assert seen == [("a", 2, {"source": "s3"}), payload, ("a", failed.error, {"source": "s3"})]
    assert type(seen[0][2]) is dict  # a fresh dict the callback may change


def test_a_stage_cannot_be_changed_and_the_error_says_how_to_get_a_changed_copy() -> None:
    stage = Stage("S", workers=2, tasks=[fetch])
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"dataclasses\.replace\(stage"):
        stage.workers = 10  # type: ignore[misc]
    assert dataclasses.replace(stage, workers=10).workers == 10
