"""Write the modules of typed overloads of ``add()`` and ``Pipeline.quick()``.

Python's type system cannot say "the result type of this function, awaited if it is a
coroutine", so every mix of ``async def`` and plain functions in a stage is one
overload. They are generated here instead of being written by hand, into their own
modules under ``src/antflow_builders/_generated/`` (`FILES`), apart from the
hand-written code: each holds one class with one method's overloads and its
implementation, whose signature and docstring (what the API reference shows) are in
``overload_templates.py`` and whose body hands the call to hand-written code
(``_Builder._added``, ``quick.run_quick``). The public classes subclass them:

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overload_templates import (  # this folder, put on the path just above
    ADD_IMPORTS,
    ADD_TYPES,
    BUILDER_ADD_IMPL,
    EMPTY_ADD_IMPL,
    HEADER,
    PACKAGE_DOC,
    QUICK_IMPL,
    QUICK_IMPORTS,
)

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
# user sees (``builder.py``, ``pipeline.py``) subclass them. Their fixed text (headers,
# imports, the implementations' signatures and docstrings, which the API reference shows)
# is in ``overload_templates.py``.

GENERATED = "_generated"
"""The folder (under ``src/antflow_builders``) of the generated modules."""


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
