"""The checks a `Stage` passes at construction, each problem said with what to change.

Theory of operation
-------------------
`stage_problems` reads every field of a built stage and returns a list of problems,
each one sentence that names the field, what it got and what to write instead; an
empty list means the stage is valid. `Stage` calls it once, after normalizing its
fields (lists to tuples, dicts to read-only mappings, ``(calls, period)`` pairs to
`RateLimit` with `as_rate_limit`), and raises one `StageValidationError` listing them
all (`format_problems`), so every mistake in a stage shows at once, where it was
written. A custom runtime may call `stage_problems` on stages it gets from elsewhere.

The checks of retry waits, of a stage's shape (fan-out, batches, pull) and of rate
limits are the model's own (`retry_policy_problems`, `shape_problems`,
`rate_limit_problems`); this module gathers them with the stage's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from antflow_core.model.batches import shape_problems
from antflow_core.model.callables import callback_form, is_async_generator_callable, task_name
from antflow_core.model.limits import RateLimit, rate_limit_problems
from antflow_core.model.retries import RETRY_STRATEGIES, retry_policy_problems

if TYPE_CHECKING:
    from antflow_core.model.stage import Stage

__all__ = ["CALLBACKS", "as_rate_limit", "format_problems", "stage_problems"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    """A finite int or float: NaN and infinities would make every comparison lie."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def format_problems(stage: Stage, problems: Sequence[str]) -> str:
    """The message of the `StageValidationError` for ``stage``'s ``problems`` (one or a list)."""
    label = f"Stage {stage.name!r}" if isinstance(stage.name, str) else "Stage"
    if len(problems) == 1:
        return f"{label}: {problems[0]}"
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{label} has {len(problems)} problems:\n{lines}"


def stage_problems(stage: Stage) -> list[str]:
    """Return every problem with ``stage``'s fields, each saying what to change; empty when valid.

    `Stage` calls this at construction; a custom runtime may call it to validate
    stages it receives from elsewhere.
    """
    problems: list[str] = []
    if not isinstance(stage.name, str) or not stage.name.strip():
        problems.append(f"name must be a non-empty string, got {stage.name!r}")
    if not _is_int(stage.workers) or stage.workers < 1:
        problems.append(f"workers must be an integer of at least 1, got {stage.workers!r}")
    if not isinstance(stage.tasks, tuple):
        problems.append(
            f"tasks must be a list of functions, got {type(stage.tasks).__name__}: "
            "pass tasks=[my_task]"
        )
    elif not stage.tasks:
        problems.append("has no tasks: pass tasks=[my_task] with at least one function")
    else:
        for index, task in enumerate(stage.tasks):
            if not callable(task):
                problems.append(
                    f"tasks[{index}] is {task!r} of type {type(task).__name__}, which is not "
                    "callable: pass the function itself, e.g. tasks=[fetch], not tasks=[fetch()]"
                )
            elif is_async_generator_callable(task) and not (
                stage.fan_out is True and index == len(stage.tasks) - 1
            ):
                problems.append(
                    f"tasks[{index}] {task_name(task)!r} is an async generator function (an "
                    "`async def` with `yield`): a task returns its result instead of yielding "
                    "it; collect what it yields (`return [x async for x in ...]`) or replace "
                    "`yield` with `return`, or make it the last task of a fan_out=True "
                    "stage, whose yielded values each travel on as their own item"
                )
    if stage.retry not in RETRY_STRATEGIES:
        problems.append(
            f"unknown retry strategy {stage.retry!r}: use retry='per_task' or retry='per_stage'"
        )
    for attr in ("task_attempts", "stage_attempts"):
        value = getattr(stage, attr)
        if not _is_int(value) or value < 1:
            problems.append(
                f"{attr} must be an integer of at least 1 (1 means no retry), got {value!r}"
            )
    problems.extend(
        retry_policy_problems(
            attempts=1,  # task_attempts and stage_attempts are checked above
            wait_seconds=stage.task_wait_seconds,
            backoff=stage.backoff,
            max_wait_seconds=stage.max_wait_seconds,
            jitter=stage.jitter,
            retry_on=stage.retry_on,
            retry_if=stage.retry_if,
            wait_name="task_wait_seconds",
        )
    )
    problems.extend(
        shape_problems(
            fan_out=stage.fan_out,
            batch_size=stage.batch_size,
            batch_timeout=stage.batch_timeout,
            unpack_args=stage.unpack_args,
            pull=stage.pull,
        )
    )
    if stage.queue_capacity is not None and (
        not _is_int(stage.queue_capacity) or stage.queue_capacity < 0
    ):
        problems.append(
            f"queue_capacity must be None (default: workers * 10), 0 (unbounded) or a positive "
            f"integer, got {stage.queue_capacity!r}"
        )
    if stage.task_timeout is not None and (
        not _is_number(stage.task_timeout) or stage.task_timeout <= 0
    ):
        problems.append(
            "task_timeout must be None (no limit) or a finite number of seconds > 0, "
            f"got {stage.task_timeout!r}"
        )
    for attr in ("on_success", "on_failure", "on_skip", "skip_if"):
        value = getattr(stage, attr)
        if value is not None and not callable(value):
            problems.append(f"{attr} must be a function or None, got {value!r}")
        elif value is not None and is_async_generator_callable(value):
            problems.append(
                f"{attr} {task_name(value)!r} is an async generator function (an `async def` "
                "with `yield`), which runs nothing when called: use a function without `yield`"
            )
        elif attr in CALLBACKS and value is not None and callback_form(value) is None:
            problems.append(
                f"{attr}={_callable_name(value)} cannot be called with the arguments it gets: "
                f"write it as {attr}({CALLBACKS[attr]}) (antflow 0.10's form) or "
                f"{attr}({_SINGLE_ARGUMENT[attr]})"
            )
    unpack: object = stage.unpack_args
    if not isinstance(unpack, bool):
        problems.append(f"unpack_args must be True or False, got {unpack!r}")
    problems.extend(_limit_problems(stage))
    problems.extend(_flow_problems(stage))
    return problems


CALLBACKS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "on_success": "item_id, result, metadata",
        "on_failure": "item_id, error, metadata",
        "on_skip": "item_id, value, metadata",
    }
)
"""The stage callbacks whose form is read (`callback_form`), with their 0.10 arguments."""
_SINGLE_ARGUMENT: Final[Mapping[str, str]] = MappingProxyType(
    {"on_success": "payload", "on_failure": "failed_item", "on_skip": "payload"}
)


def _callable_name(callback: Callable[..., Any]) -> str:
    name = getattr(callback, "__qualname__", None)
    return name if isinstance(name, str) else repr(callback)


def _limit_problems(stage: Stage) -> list[str]:
    limits: object = stage.task_concurrency_limits
    if limits is None:
        return []
    if not isinstance(limits, Mapping):
        return [
            "task_concurrency_limits must be a dict of task name to limit, "
            f"e.g. {{'upload': 2}}, got {limits!r}"
        ]
    known = (
        [task_name(t) for t in stage.tasks if callable(t)] if isinstance(stage.tasks, tuple) else []
    )
    problems: list[str] = []
    for name, limit in limits.items():
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            problems.append(
                f"task_concurrency_limits names {name!r}, which is not a task of this stage; "
                f"its tasks are: {listed}"
            )
        if not _is_int(limit) or limit < 1:
            problems.append(
                f"task_concurrency_limits[{name!r}] must be an integer of at least 1, got {limit!r}"
            )
    return problems


def as_rate_limit(value: object) -> object:
    """A valid ``(calls, period)`` pair as a `RateLimit`; anything else unchanged."""
    if isinstance(value, tuple) and len(value) == 2 and not rate_limit_problems(value[0], value[1]):
        return RateLimit(value[0], value[1])
    return value


def _flow_problems(stage: Stage) -> list[str]:
    """The problems of the flow-control options: rates, call concurrency, pull."""
    problems: list[str] = []
    if stage.call_rate is not None:
        calls_wrong, period_wrong = (
            bool(rate_limit_problems(stage.call_rate, 1.0)),
            bool(rate_limit_problems(1, stage.call_rate_period)),
        )
        if calls_wrong:
            problems.append(
                "call_rate must be None (no rate limit) or an integer of at least 1 (the most "
                f"task calls that may start per call_rate_period), got {stage.call_rate!r}"
            )
        if period_wrong:
            problems.append(
                "call_rate_period must be a finite number of seconds > 0 (1.0 for 'per "
                f"second', 60 for 'per minute'), got {stage.call_rate_period!r}"
            )
    elif stage.call_rate_period != 1.0:
        problems.append(
            f"call_rate_period={stage.call_rate_period!r} has no effect without call_rate: "
            "set call_rate=N as well (N calls per call_rate_period seconds), or remove it"
        )
    concurrency = stage.call_concurrency
    if concurrency is not None and (not _is_int(concurrency) or concurrency < 1):
        problems.append(
            "call_concurrency must be None (no limit) or an integer of at least 1 (the most "
            f"task calls of the stage at once), got {concurrency!r}"
        )
    pull: object = stage.pull
    if not isinstance(pull, bool):
        problems.append(f"pull must be True or False, got {pull!r}")
    elif pull and stage.queue_capacity is not None:
        problems.append(
            f"a pull stage has no queue, so queue_capacity={stage.queue_capacity!r} cannot "
            "apply: remove queue_capacity, or remove pull=True to give the stage a queue"
        )
    rates: object = stage.task_rate_limits
    if rates is None:
        return problems
    if not isinstance(rates, Mapping):
        problems.append(
            "task_rate_limits must be a dict of task name to RateLimit or (calls, "
            f"period_seconds), e.g. {{'upload': (10, 1.0)}}, got {rates!r}"
        )
        return problems
    known = (
        [task_name(t) for t in stage.tasks if callable(t)] if isinstance(stage.tasks, tuple) else []
    )
    for name, limit in rates.items():
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            problems.append(
                f"task_rate_limits names {name!r}, which is not a task of this stage; "
                f"its tasks are: {listed}"
            )
        if isinstance(limit, RateLimit):
            continue
        if isinstance(limit, tuple) and len(limit) == 2:
            problems.extend(
                rate_limit_problems(limit[0], limit[1], what=f"task_rate_limits[{name!r}]")
            )
        else:
            problems.append(
                f"task_rate_limits[{name!r}] must be a RateLimit or a (calls, period_seconds) "
                f"pair, e.g. (10, 1.0) for 10 calls per second, got {limit!r}"
            )
    return problems
