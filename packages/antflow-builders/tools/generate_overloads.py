"""Write the modules of typed overloads of ``add()`` and ``Pipeline.quick()``.

Python's type system cannot say "the result type of this function, awaited if it is a
coroutine", so every mix of ``async def`` and plain functions in a stage is one
overload. They are generated here instead of being written by hand, into their own
modules under ``src/antflow_builders/_generated/`` (`FILES`), apart from the hand-written
code: each holds one class with one method's overloads and its implementation, whose
signature and docstring (what the API reference shows) are written here and whose body
hands the call to hand-written code (``_Builder._added``, ``quick.run_quick``). The
public classes subclass them:

* ``EmptyPipelineBuilder.add`` and ``PipelineBuilder.add`` (``builder_add.py``,
  ``empty_builder_add.py``, under ``builder.py``'s classes): stages of 1
  to `CHAINED_TASKS` tasks in every async/plain mix, checked task to task; stages of up to
  `ENDS_TASKS` tasks checked at their ends (first input, last output); one task with
  ``skip_if`` and with ``unpack_args``; one task of a fan-out stage (``fan_out=True``:
  an async function returning an iterable, an async generator or a plain function
  returning an iterable, whose stage outputs the type of the elements, `Child` left out)
  and of a batch stage (``batch_size=n``: a function of a list returning a sequence,
  typed per item); untyped fallbacks for what no typed shape takes (longer stages,
  several tasks with ``skip_if`` or ``unpack_args``, fan-out and batch stages of several
  tasks or with ``skip_if``); and a list of tasks (antflow 0.10's ``add(name, [task,
  ...])``).
* ``Pipeline.quick`` (``pipeline_quick.py``, under ``pipeline.py``'s ``Pipeline``): one
  task, a tuple of tasks in the same shapes, and a list of tasks (unchecked).

Within one arity the mixes are listed with ``async`` before ``plain`` at every position
(lexicographic order), so an ``async def`` task is always read as returning what its
coroutine returns, never as returning the coroutine.

The overloads are few on purpose. When a call matches none, mypy reports the first
overload whose shape fits, or, when none fits (a string given for a task), prints every
overload: with 124 of them that was 126 lines and 110 KB for one mistake. The type
variables are named for what they stand for (``StageInput``, ``Task1Output``...), since
mypy's messages name them.

Usage (from the repository root)::

    python packages/antflow-builders/tools/generate_overloads.py          # rewrite
    python packages/antflow-builders/tools/generate_overloads.py --check  # exit 1 if stale

``tests/builders/test_generated_overloads.py`` runs the check, so the generated modules
cannot drift from this generator.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "antflow_builders"
CHAINED_TASKS = 2
"""Stages of up to this many tasks are checked task to task, in every async/plain mix."""
ENDS_TASKS = 4
"""Stages of more tasks, up to this many, are checked at their ends: the first task
against the stage's input, the last task's output as the stage's output."""

INDENT = "    "
# Error messages print every overload of a call that matches none of them, so there are
# few of them and they are short: the options that do not depend on the stage's types
# are one ``**options`` TypedDict, and each stage shape is one overload per async/plain
# mix only where a mix changes the types.
OPTIONS = "**options: Unpack[StageKeywords]"
QUICK_OPTIONS = [
    "name: str = ...",
    "task_wait_seconds: float = ...",
    "task_timeout: float | None = ...",
    "on_failure: OnFailure[Any] | None = ...",
    "call_rate: int | None = ...",
    "call_rate_period: float = ...",
    "call_concurrency: int | None = ...",
    "dashboard: str | ProgressDisplay | None = ...",
    "refresh_interval: float | None = ...",
    "retry_on: RetryOn | None = ...",
    "retry_if: RetryPredicate | None = ...",
    "backoff: Backoff = ...",
    "max_wait_seconds: float | None = ...",
    "jitter: float | None = ...",
]


def _out(index: int) -> str:
    """The type variable of task ``index``'s output; its name shows in mypy's messages."""
    return f"Task{index}Output"


def _task_type(param: str, result: str, kind: str) -> str:
    """The type of one task: ``kind`` "a" for async (awaited result), "p" for plain."""
    if kind == "a":
        return f"Callable[{param}, Awaitable[{result}]]"
    return f"Callable[{param}, {result}]"


def _kinds(count: int) -> Iterator[tuple[str, ...]]:
    # "a" < "p": at every position the async reading comes first.
    return itertools.product("ap", repeat=count)


def _chained(first_input: str, kinds: tuple[str, ...], *, unpack: bool = False) -> list[str]:
    """Types of the tasks of one overload: task i maps task i-1's output to its own."""
    types = []
    for index, kind in enumerate(kinds, start=1):
        first = "..." if unpack else f"[{first_input}]"
        param = first if index == 1 else f"[{_out(index - 1)}]"
        types.append(_task_type(param, _out(index), kind))
    return types


def _fan_out_task(param: str, element: str, kind: str) -> str:
    """The type of a fan-out stage's task, of elements ``element``.

    ``kind`` "a" returns an awaitable of an iterable, "g" is an async generator (it
    returns an async iterable), "p" returns an iterable. An element may be a `Child` sent
    to another stage: it is not the next stage's input.
    """
    returned = {
        "a": f"Awaitable[Iterable[{element} | Child[Any]]]",
        "g": f"AsyncIterable[{element} | Child[Any]]",
        "p": f"Iterable[{element} | Child[Any]]",
    }[kind]
    return f"Callable[{param}, {returned}]"


def _batch_task(param: str, result: str, kind: str) -> str:
    """A batch stage's task: takes a list, returns a sequence of as many results."""
    returned = f"Awaitable[Sequence[{result}]]" if kind == "a" else f"Sequence[{result}]"
    return f"Callable[[list[{param}]], {returned}]"


def _ends(first_input: str, count: int, kind: str) -> list[str]:
    """Types of a longer stage's tasks: checked at the ends, Any in between."""
    middle = ["Callable[[Any], object]"] * (count - 2)
    return [
        f"Callable[[{first_input}], object]",
        *middle,
        _task_type("[Any]", _out(count), kind),
    ]


def _overload(name: str, params: list[str], returns: str, *, classmethod: bool = False) -> str:
    lines = [f"{INDENT}@overload"]
    if classmethod:
        lines.append(f"{INDENT}@classmethod")
    lines.append(f"{INDENT}def {name}(")
    lines.extend(f"{INDENT * 2}{p}," for p in params)
    lines.append(f"{INDENT}) -> {returns}: ...")
    return "\n".join(lines)


def _task_names(count: int) -> list[str]:
    return ["task"] + [f"task{i}" for i in range(2, count + 1)]


def _shapes() -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """The typed stage shapes: ("chained" | "ends", task count, async/plain kinds)."""
    for count in range(1, CHAINED_TASKS + 1):
        for kinds in _kinds(count):
            yield "chained", count, kinds
    for count in range(CHAINED_TASKS + 1, ENDS_TASKS + 1):
        for kind in "ap":
            yield "ends", count, (kind,)


def add_overloads(*, empty: bool) -> str:
    """The overloads of ``add()`` on the empty builder (``empty``) or on `PipelineBuilder`.

    In order: typed stages of one task in every mix (no option changes the types), of
    two tasks chained, of three and four checked at their ends; one task with
    ``skip_if`` (its output is input | output) and with ``unpack_args`` (any input);
    then untyped fallbacks that no typed shape covers (five tasks or more, several tasks
    with ``skip_if`` or ``unpack_args``), and a list (or any sequence) of tasks.
    """
    stage_input = "StageInput" if empty else "OutT"
    pipeline_input = "StageInput" if empty else "InT"

    def builder(output: str, *, first: str = pipeline_input) -> str:
        return f"PipelineBuilder[{first}, {output}]"

    def callbacks(skipped: str, last: str, *, skip: str = "skip_if: None = None") -> list[str]:
        return [
            skip,
            f"on_success: OnSuccess[{last}] | None = None",
            f"on_skip: OnSkip[{skipped}] | None = None",
            f"on_failure: OnFailure[{skipped}] | None = None",
            OPTIONS,
        ]

    overloads: list[str] = []
    # First, for a stage of one task, an overload that no task matches (no function
    # returns a `TaskOutput`) but that mypy reports a wrong task against, since it is the
    # first of its shape: "expected Callable[[bytes], TaskOutput]", whether the task is
    # async or plain. Without it the first was the async reading, and a plain function
    # read as "expected Callable[[bytes], Awaitable[Never]]". (A task whose return type
    # is Any matches it, and gets the Any output it would get anyway.)
    params = ["self", "name: str", f"task: Callable[[{stage_input}], TaskOutput]", "/", "*"]
    params += ["unpack_args: Literal[False] = False", *callbacks(stage_input, "Any")]
    overloads.append(_overload("add", params, builder("Any")))
    for shape, count, kinds in _shapes():
        tasks = (
            _chained(stage_input, kinds)
            if shape == "chained"
            else _ends(stage_input, count, kinds[0])
        )
        last = _out(count)
        params = ["self", "name: str"]
        params += [f"{n}: {t}" for n, t in zip(_task_names(count), tasks, strict=True)]
        params += ["/", "*", "unpack_args: Literal[False] = False"]
        params += callbacks(stage_input, last)
        overloads.append(_overload("add", params, builder(last)))
    # One task with skip_if: a skipped item leaves unchanged, so input | output.
    for kind in "ap":
        task = _chained(stage_input, (kind,))[0]
        params = ["self", "name: str", f"task: {task}", "/", "*"]
        params.append("unpack_args: Literal[False] = False")
        params += callbacks(
            stage_input, _out(1), skip=f"skip_if: Callable[[{stage_input}], object]"
        )
        overloads.append(_overload("add", params, builder(f"{stage_input} | {_out(1)}")))
    # One task with unpack_args: called with the value unpacked, so any input.
    raw = "Any" if empty else stage_input
    unpacked_input = "Any" if empty else "InT"
    for kind in "ap":
        task = _chained(stage_input, (kind,), unpack=True)[0]
        params = ["self", "name: str", f"task: {task}", "/", "*", "unpack_args: Literal[True]"]
        params += callbacks(raw, _out(1))
        overloads.append(_overload("add", params, builder(_out(1), first=unpacked_input)))
    # One task of a fan-out stage: its output is the type of the elements.
    fan_out = "fan_out: Literal[True]"
    for kind in "agp":
        task = _fan_out_task(f"[{stage_input}]", _out(1), kind)
        params = ["self", "name: str", f"task: {task}", "/", "*"]
        params += ["unpack_args: Literal[False] = False", fan_out]
        params += callbacks(stage_input, _out(1))
        overloads.append(_overload("add", params, builder(_out(1))))
    # One task of a batch stage: a list in, a sequence out, typed per item.
    batch = "batch_size: int"
    for kind in "ap":
        task = _batch_task(stage_input, _out(1), kind)
        params = ["self", "name: str", f"task: {task}", "/", "*", batch]
        params += callbacks(stage_input, _out(1))
        overloads.append(_overload("add", params, builder(_out(1))))
    # Untyped fallbacks, each for calls that no typed shape above takes.
    longest = ENDS_TASKS + 1
    params = ["self", "name: str", f"task: Callable[[{stage_input}], object]"]
    params += [f"task{i}: Callable[[Any], object]" for i in range(2, longest + 1)]
    params += ["/", "*more_tasks: Callable[[Any], object]"]
    params += ["unpack_args: Literal[False] = False"]
    params += callbacks(
        stage_input, "Any", skip=f"skip_if: Callable[[{stage_input}], object] | None = None"
    )
    overloads.append(_overload("add", params, builder("Any")))
    several = ["task2: Callable[[Any], object]", "/", "*more_tasks: Callable[[Any], object]"]
    params = ["self", "name: str", f"task: Callable[[{stage_input}], object]", *several]
    params += ["unpack_args: Literal[False] = False"]
    params += callbacks(stage_input, "Any", skip=f"skip_if: Callable[[{stage_input}], object]")
    overloads.append(_overload("add", params, builder("Any")))
    params = ["self", "name: str", "task: Callable[..., object]", *several]
    params += ["unpack_args: Literal[True]"]
    params += callbacks(raw, "Any", skip=f"skip_if: Callable[[{raw}], object] | None = None")
    overloads.append(_overload("add", params, builder("Any", first=unpacked_input)))
    # Fan-out and batch stages of several tasks, or with skip_if or unpack_args: Any.
    maybe_skip = f"skip_if: Callable[[{raw}], object] | None = None"
    params = ["self", "name: str", "task: Callable[..., object]", "/"]
    params += ["*more_tasks: Callable[[Any], object]", "unpack_args: bool = False", fan_out]
    params += callbacks(raw, "Any", skip=maybe_skip)
    overloads.append(_overload("add", params, builder("Any", first=unpacked_input)))
    params = ["self", "name: str", f"task: Callable[[list[{stage_input}]], object]", "/"]
    params += ["*more_tasks: Callable[[list[Any]], object]", batch]
    params += callbacks(
        stage_input, "Any", skip=f"skip_if: Callable[[{stage_input}], object] | None = None"
    )
    overloads.append(_overload("add", params, builder("Any")))
    # A list of tasks, as antflow 0.10 took them (or a tuple): not checked, output Any.
    # A sequence, so that a string given for a task is reported against this one overload.
    params = ["self", "name: str", "tasks: Sequence[Callable[..., Any]]", "/", "*"]
    params += ["unpack_args: bool = False", "fan_out: bool = False"]
    params += ["batch_size: int | None = None"]
    params += callbacks("Any", "Any", skip="skip_if: Callable[[Any], object] | None = None")
    overloads.append(_overload("add", params, builder("Any", first="Any" if empty else "InT")))
    return "\n\n".join(overloads)


def quick_overloads() -> str:
    """The overloads of ``Pipeline.quick()``: one task, a tuple, a list (unchecked)."""
    tail = [
        "/",
        "workers: int = 5",
        "retries: int = 3",
        "progress: bool | ProgressDisplay = False",
        "*",
        *QUICK_OPTIONS,
    ]
    overloads: list[str] = []

    def returns(value: str) -> str:
        return f"Coroutine[Any, Any, list[PipelineResult[{value}]]]"

    for kind in "ap":
        task = _chained("StageInput", (kind,))[0]
        params = ["cls", "items: Items[StageInput]", f"task_or_tasks: {task}", *tail]
        overloads.append(_overload("quick", params, returns(_out(1)), classmethod=True))
    for shape, count, kinds in _shapes():
        tasks = ", ".join(
            _chained("StageInput", kinds)
            if shape == "chained"
            else _ends("StageInput", count, kinds[0])
        )
        params = ["cls", "items: Items[StageInput]", f"task_or_tasks: tuple[{tasks}]", *tail]
        overloads.append(_overload("quick", params, returns(_out(count)), classmethod=True))
    # A list, not any sequence: a tuple whose tasks do not chain must not fall back here.
    params = ["cls", "items: Items[Any]", "task_or_tasks: list[Callable[..., Any]]", *tail]
    overloads.append(_overload("quick", params, returns("Any"), classmethod=True))
    return "\n\n".join(overloads)


def _wrap_long_lines(block: str) -> str:
    """Split a parameter line longer than 100 columns the way ruff format does."""
    out: list[str] = []
    for line in block.splitlines():
        if len(line) <= 100 or not line.startswith(INDENT * 2) or ": " not in line:
            out.append(line)
            continue
        name, annotation = line.strip().rstrip(",").split(": ", 1)
        head, sep, rest = annotation.partition("[")
        if not sep or not rest.endswith("]"):
            out.append(line)
            continue
        out.append(f"{INDENT * 2}{name}: {head}[")
        out.extend(f"{INDENT * 3}{part}," for part in _split_top_level(rest[:-1]))
        out.append(f"{INDENT * 2}],")
    return "\n".join(out)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += char in "[("
        depth -= char in "])"
        current += char
    parts.append(current.strip())
    return parts


# ------------------------------------------------------------- the generated modules
# Each is a class holding one method's overloads and its implementation, which hands the
# call to hand-written code (``_Builder._added``, ``quick.run_quick``); the classes the
# user sees (``builder.py``, ``pipeline.py``) subclass them. The implementations'
# signatures and docstrings, which the API reference shows, are written here.

GENERATED = "_generated"
"""The folder (under ``src/antflow_builders``) of the generated modules."""

HEADER = '''\
"""Generated (do not edit): {summary}.

{job}

Written by ``packages/antflow-builders/tools/generate_overloads.py``, whose docstring says
which overloads there are and why: change them there and run it. A test fails while this
file differs from what the generator writes.
"""

from __future__ import annotations
'''

EMPTY_ADD_IMPL = '''\
    def add(
        self,
        name: str,
        /,
        *tasks: TaskFunc | Sequence[TaskFunc],
        unpack_args: bool = False,
        skip_if: SkipPredicate | None = None,
        on_success: SuccessCallback | None = None,
        **options: Any,
    ) -> PipelineBuilder[Any, Any]:
        """Add the first stage: ``name``, its tasks in order, and any `Stage` option.

        Same as `PipelineBuilder.add`; the first task's parameter type becomes the
        pipeline's input type.

        Raises:
            StageValidationError: If the stage is invalid (no task, a task that is not
                callable, workers < 1, ...); the message says what to change.
        """
        return self._added(name, tasks, unpack_args, skip_if, on_success, options)
'''

BUILDER_ADD_IMPL = '''\
    def add(
        self,
        name: str,
        /,
        *tasks: TaskFunc | Sequence[TaskFunc],
        unpack_args: bool = False,
        skip_if: SkipPredicate | None = None,
        on_success: SuccessCallback | None = None,
        **options: Any,
    ) -> PipelineBuilder[Any, Any]:
        """Return a builder with one more stage: ``name``, its tasks in order, its options.

        The first task must take the previous stage's output; each next task takes the
        one before's output (``async def`` tasks: what the coroutine returns).

        Args:
            name: The stage's name, unique in the pipeline.
            *tasks: One or more functions run in order on each item, ``async def`` or
                plain (plain functions run in a worker thread); a single list of functions
                is accepted too, as antflow 0.10 took it (its stage is typed ``Any``).
            unpack_args: Call the first task with ``*value`` (tuple) or ``**value``
                (mapping). Such a stage is typed as taking any input.
            skip_if: Predicate on the stage's input; when true the item passes the stage
                unchanged, so the stage's output type becomes ``input | output``.
            on_success: Called when an item completes the stage, as ``on_success(item_id,
                result, metadata)`` or ``on_success(payload)``; may be ``async``.
            **options: Any other `Stage` option, with the `Stage` default when left out
                except ``workers``: ``workers`` (5, as in antflow 0.10), ``retry``
                (``"per_task"``), ``task_attempts`` (3) or ``retries`` (the same: the
                attempts per task), ``stage_attempts`` (3), ``task_wait_seconds`` (1.0),
                ``task_concurrency_limits``, ``on_failure``, ``on_skip``, ``queue_capacity``,
                ``task_timeout``, ``retry_on``, ``retry_if``, ``backoff``,
                ``max_wait_seconds``, ``jitter``, ``batch_timeout`` (see `StageOptions`),
                and ``fan_out`` and ``batch_size``, which change the stage's types (see
                this module's docstring).

        Returns:
            A new builder; this one is unchanged.

        Raises:
            StageValidationError: If the stage is invalid (no task, a task that is not
                callable, workers < 1, ...) or its name is already taken; the message says
                what to change.
        """
        return self._added(name, tasks, unpack_args, skip_if, on_success, options)
'''

QUICK_IMPL = '''\
    @classmethod
    def quick(
        cls,
        items: Items[Any],
        task_or_tasks: TaskFunc | Sequence[TaskFunc],
        /,
        workers: int = 5,
        retries: int = 3,
        progress: bool | ProgressDisplay = False,
        *,
        name: str = QUICK_STAGE_NAME,
        task_wait_seconds: float = 1.0,
        task_timeout: float | None = None,
        on_failure: OnFailure | None = None,
        call_rate: int | None = None,
        call_rate_period: float = 1.0,
        call_concurrency: int | None = None,
        dashboard: str | ProgressDisplay | None = None,
        refresh_interval: float | None = None,
        retry_on: RetryOn | None = None,
        retry_if: RetryPredicate | None = None,
        backoff: Backoff = "fixed",
        max_wait_seconds: float | None = None,
        jitter: float | None = None,
    ) -> Coroutine[Any, Any, list[PipelineResult[Any]]]:
        """Run ``items`` through one stage of ``task_or_tasks`` and return the results.

        One task gives a stage of that task; a list (or tuple) gives one stage running
        those tasks in order on each item, as ``Stage(tasks=[...])`` does. The stage is
        validated by this call; awaiting what it returns runs the pipeline::

            results = await Pipeline.quick(items, process, workers=5, progress=True)
            results = await Pipeline.quick(items, [fetch, process], workers=10)

        Args:
            items: Values for the first task, or `KeyedItem` dicts, in an iterable or an
                async iterable.
            task_or_tasks: A function, or a list or tuple of functions run in order. A tuple
                of up to 4 is type-checked task to task; a list is not (its results are
                ``Any``).
            workers: How many items are processed at once (default 5).
            retries: How many attempts a task gets, as in antflow 0.10 (default 3: a
                failing task is called at most 3 times). ``retries=r`` is the stage option
                ``task_attempts=r``; 1 (or 0) means a single attempt, no retry.
            progress: True for a live progress bar (needs antflow-rich), or your own
                `ProgressDisplay`.
            name: The stage's name (default ``"Quick"``).
            task_wait_seconds: Seconds to wait before each retry (default 1.0).
            task_timeout: Seconds one task call may take (default: no limit).
            on_failure: Called for each item that fails for good, as
                ``on_failure(item_id, error, metadata)`` or ``on_failure(failed_item)``;
                those items are not in the returned list.
            call_rate: At most this many task calls start per ``call_rate_period``
                seconds, across the workers (default: no rate limit).
            call_rate_period: The window of ``call_rate``, in seconds (default 1.0).
            call_concurrency: At most this many task calls at once (default: ``workers``).
            dashboard: ``"compact"``, ``"detailed"``, ``"full"`` or a `ProgressDisplay`.
            refresh_interval: Seconds between display refreshes.
            retry_on: Retry only these exception types (default: every `Exception`).
            retry_if: Retry only errors for which this returns true.
            backoff: ``"fixed"`` (default) or ``"exponential"`` waits between attempts.
            max_wait_seconds: The longest wait between two attempts (default: no cap).
            jitter: The fraction of each wait that is random (default: the backoff's).

        A stage that fans out or batches needs ``Pipeline.create().add(...)`` (or a
        `Stage`): ``quick()`` takes neither ``fan_out`` nor ``batch_size``.

        Returns:
            An awaitable of the results, in input order.

        Raises:
            StageValidationError: At the call, if there is no task, a task is not
                callable, ``workers`` < 1 or ``retries`` < 0; the message says what to
                change.
        """
        return run_quick(
            cls,
            items,
            task_or_tasks,
            workers=workers,
            retries=retries,
            progress=progress,
            name=name,
            task_wait_seconds=task_wait_seconds,
            task_timeout=task_timeout,
            on_failure=on_failure,
            call_rate=call_rate,
            call_rate_period=call_rate_period,
            call_concurrency=call_concurrency,
            dashboard=dashboard,
            refresh_interval=refresh_interval,
            retry_on=retry_on,
            retry_if=retry_if,
            backoff=backoff,
            max_wait_seconds=max_wait_seconds,
            jitter=jitter,
        )
'''

ADD_IMPORTS = """
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, {generic}Literal, overload

from antflow_core.model import Child, SkipPredicate, SuccessCallback, TaskFunc
from typing_extensions import Unpack

from antflow_builders._builder_base import _Builder
from antflow_builders._types import (
{types})

if TYPE_CHECKING:
    from antflow_builders.builder import PipelineBuilder

__all__ = ["{name}"]
"""

ADD_TYPES = [
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "StageKeywords",
    "Task1Output",
    "Task2Output",
    "Task3Output",
    "Task4Output",
    "TaskOutput",
]

QUICK_IMPORTS = """
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, overload

from antflow_core import PipelineResult, ProgressDisplay
from antflow_core.model import Backoff, RetryOn, RetryPredicate, TaskFunc
from antflow_core.runtime import Pipeline as _CorePipeline

from antflow_builders._types import (
    InT,
    Items,
    OnFailure,
    OutT,
    StageInput,
    Task1Output,
    Task2Output,
    Task3Output,
    Task4Output,
)
from antflow_builders.quick import QUICK_STAGE_NAME, run_quick

__all__ = ["QuickPipeline"]
"""


def _module(*, summary: str, job: str, imports: str, head: str, overloads: str, impl: str) -> str:
    """One generated module: header, imports, a class of the overloads and implementation."""
    return (
        HEADER.format(summary=summary, job=textwrap.fill(job, width=92))
        + imports
        + f"\n\n{head}\n\n"
        + _wrap_long_lines(overloads)
        + f"\n\n{impl}"
    )


def _add_module(*, empty: bool) -> str:
    name = "EmptyBuilderAdd" if empty else "PipelineBuilderAdd"
    types = sorted([*ADD_TYPES, "StageInput"] if empty else [*ADD_TYPES, "InT", "OutT"])
    imports = ADD_IMPORTS.format(
        generic="" if empty else "Generic, ",
        types="".join(f"    {t},\n" for t in types),
        name=name,
    )
    if empty:
        head = (
            f"class {name}(_Builder):\n"
            f'{INDENT}"""`EmptyPipelineBuilder`\'s ``add()``: its typed overloads and its '
            'implementation."""\n\n'
            f"{INDENT}__slots__ = ()"
        )
    else:
        head = (
            f"class {name}(_Builder, Generic[InT, OutT]):\n"
            f'{INDENT}"""`PipelineBuilder`\'s ``add()``: its typed overloads and its '
            'implementation."""\n\n'
            f"{INDENT}__slots__ = ()"
        )
    builder = "EmptyPipelineBuilder" if empty else "PipelineBuilder"
    return _module(
        summary=f"``{builder}.add()``, its typed overloads and implementation",
        job=(
            f"``{builder}`` (``builder.py``) subclasses ``{name}``; the implementation "
            "hands the call to ``_Builder._added``."
        ),
        imports=imports,
        head=head,
        overloads=add_overloads(empty=empty),
        impl=EMPTY_ADD_IMPL if empty else BUILDER_ADD_IMPL,
    )


def _quick_module() -> str:
    head = (
        "class QuickPipeline(_CorePipeline[InT, OutT]):\n"
        f'{INDENT}"""The core `Pipeline` with a typed ``quick()``; `antflow_builders.Pipeline` '
        'subclasses it."""'
    )
    return _module(
        summary="``Pipeline.quick()``, its typed overloads and implementation",
        job=(
            "``Pipeline`` (``pipeline.py``) subclasses ``QuickPipeline``; the implementation "
            "hands the call to ``quick.run_quick``."
        ),
        imports=QUICK_IMPORTS,
        head=head,
        overloads=quick_overloads(),
        impl=QUICK_IMPL,
    )


PACKAGE_DOC = '''\
"""Code written by ``tools/generate_overloads.py``: the typed overloads. Do not edit.

Each module holds one class: the overloads of one method (``add()`` of either builder,
``Pipeline.quick()``) and its implementation, which hands the call to hand-written code.
The public classes subclass these; the hand-written code lives outside this folder.
"""
'''

FILES: dict[str, Callable[[], str]] = {
    f"{GENERATED}/__init__.py": lambda: PACKAGE_DOC,
    f"{GENERATED}/empty_builder_add.py": lambda: _add_module(empty=True),
    f"{GENERATED}/builder_add.py": lambda: _add_module(empty=False),
    f"{GENERATED}/pipeline_quick.py": _quick_module,
}
"""Each generated file, under ``src/antflow_builders``, and what writes its text."""


def stale_files() -> list[Path]:
    """Return the generated files that differ from (or are missing from) this output."""
    stale = []
    for filename, make in FILES.items():
        path = SRC / filename
        if not path.exists() or path.read_text(encoding="utf-8") != make():
            stale.append(path)
    return stale


def main() -> int:
    """Rewrite the generated modules, or with ``--check`` report stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args()
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale generated overloads: {path}", file=sys.stderr)
        return 1 if stale else 0
    for filename, make in FILES.items():
        path = SRC / filename
        path.parent.mkdir(exist_ok=True)
        path.write_text(make(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
