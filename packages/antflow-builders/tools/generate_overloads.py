"""Write the typed overloads of ``add()`` and ``Pipeline.quick()`` into the sources.

Python's type system cannot say "the result type of this function, awaited if it is a
coroutine", so every mix of ``async def`` and plain functions in a stage is one
overload. They are generated here, between marker comments, instead of being written
by hand:

* ``EmptyPipelineBuilder.add`` and ``PipelineBuilder.add`` (``builder.py``): stages of 1
  to `MAX_TASKS` tasks in every async/plain mix, each with and without ``skip_if``, and
  with ``unpack_args`` False or True; then one fallback for longer stages, and one for a
  list of tasks (antflow 0.10's ``add(name, [task, ...])``).
* ``Pipeline.quick`` (``pipeline.py``): one task, a tuple of 1 to `MAX_TASKS` tasks in
  every mix, and a list of tasks (unchecked).

Within one arity the mixes are listed with ``async`` before ``plain`` at every position
(lexicographic order), so an ``async def`` task is always read as returning what its
coroutine returns, never as returning the coroutine.

Usage (from the repository root)::

    python packages/antflow-builders/tools/generate_overloads.py          # rewrite
    python packages/antflow-builders/tools/generate_overloads.py --check  # exit 1 if stale

``tests/builders/test_generated_overloads.py`` runs the check, so the sources cannot
drift from this generator.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "antflow_builders"
MAX_TASKS = 4
"""The longest stage whose tasks are checked one to the next."""

INDENT = "    "
# The options that do not depend on the stage's types, spelled out in every overload
# (mypy checks these much faster than ``**options: Unpack[StageOptions]``). Their defaults
# are `Stage`'s, applied by the implementation; an overload only says "has a default".
STAGE_OPTIONS = [
    "workers: int = ...",
    "retry: RetryStrategy = ...",
    "task_attempts: int = ...",
    "stage_attempts: int = ...",
    "task_wait_seconds: float = ...",
    "task_concurrency_limits: Mapping[str, int] | None = ...",
    "on_failure: OnFailure | None = ...",
    "queue_capacity: int | None = ...",
    "task_timeout: float | None = ...",
    "retries: int = ...",
]
QUICK_OPTIONS = [
    "name: str = ...",
    "task_wait_seconds: float = ...",
    "task_timeout: float | None = ...",
    "on_failure: OnFailure | None = ...",
    "dashboard: str | ProgressDisplay | None = ...",
    "refresh_interval: float | None = ...",
]
UNPACK_TRUE = "unpack_args: Literal[True]"
UNPACK_FALSE = "unpack_args: Literal[False] = False"
NO_SKIP = "skip_if: None = None"


def _task_type(param: str, result: str, kind: str) -> str:
    """The type of one task: ``kind`` "a" for async (awaited result), "p" for plain."""
    returned = f"Awaitable[{result}]" if kind == "a" else result
    return f"Callable[{param}, {returned}]"


def _kinds(count: int) -> Iterator[tuple[str, ...]]:
    # "a" < "p": at every position the async reading comes first.
    return itertools.product("ap", repeat=count)


def _task_types(first_input: str, kinds: tuple[str, ...], *, unpack: bool) -> list[str]:
    """Types of the tasks of one overload: task i maps _T{i} to _T{i+1}."""
    types = []
    for index, kind in enumerate(kinds):
        first = "..." if unpack else f"[{first_input}]"
        param = first if index == 0 else f"[_T{index}]"
        types.append(_task_type(param, f"_T{index + 1}", kind))
    return types


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


def add_overloads(*, empty: bool) -> str:
    """The overloads of ``add()`` on the empty builder (``empty``) or on `PipelineBuilder`."""
    stage_input = "_T0" if empty else "OutT"
    overloads: list[str] = []
    for unpack in (False, True):
        for skip in (False, True):
            for count in range(1, MAX_TASKS + 1):
                for kinds in _kinds(count):
                    tasks = _task_types(stage_input, kinds, unpack=unpack)
                    last = f"_T{count}"
                    # With unpack_args the first stage takes anything (its input is Any);
                    # after a stage it takes the previous output, whatever the arguments.
                    raw = "Any" if unpack and empty else stage_input
                    pipeline_input = raw if empty else "InT"
                    output = f"{raw} | {last}" if skip else last
                    params = ["self", "name: str"]
                    params += [f"{n}: {t}" for n, t in zip(_task_names(count), tasks, strict=True)]
                    params += ["/", "*"]
                    params.append(UNPACK_TRUE if unpack else UNPACK_FALSE)
                    params.append(f"skip_if: Callable[[{raw}], object]" if skip else NO_SKIP)
                    params.append(f"on_success: OnSuccess[{last}] | None = None")
                    params.append(f"on_skip: OnSkip[{raw}] | None = None")
                    params.extend(STAGE_OPTIONS)
                    overloads.append(
                        _overload("add", params, f"PipelineBuilder[{pipeline_input}, {output}]")
                    )
    # Longer stages: the first task is checked against the input, the output is Any.
    for unpack in (False, True):
        first = "Callable[..., object]" if unpack else f"Callable[[{stage_input}], object]"
        raw = "Any" if unpack and empty else stage_input
        params = ["self", "name: str", f"task: {first}"]
        params += [f"task{i}: Callable[[Any], object]" for i in range(2, MAX_TASKS + 2)]
        params += [
            "/",
            "*more_tasks: Callable[[Any], object]",
            UNPACK_TRUE if unpack else UNPACK_FALSE,
            f"skip_if: Callable[[{raw}], object] | None = None",
            "on_success: OnSuccess[Any] | None = None",
            f"on_skip: OnSkip[{raw}] | None = None",
            *STAGE_OPTIONS,
        ]
        pipeline_input = raw if empty else "InT"
        overloads.append(_overload("add", params, f"PipelineBuilder[{pipeline_input}, Any]"))
    # A list of tasks, as antflow 0.10 took them: not checked, the output is Any.
    params = [
        "self",
        "name: str",
        "tasks: list[Callable[..., Any]]",
        "/",
        "*",
        "unpack_args: bool = False",
        "skip_if: Callable[[Any], object] | None = None",
        "on_success: OnSuccess[Any] | None = None",
        "on_skip: OnSkip[Any] | None = None",
        *STAGE_OPTIONS,
    ]
    pipeline_input = "Any" if empty else "InT"
    overloads.append(_overload("add", params, f"PipelineBuilder[{pipeline_input}, Any]"))
    return "\n\n".join(overloads)


def quick_overloads() -> str:
    """The overloads of ``Pipeline.quick()``."""
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
        task = _task_type("[_T0]", "_T1", kind)
        params = ["cls", "items: Items[_T0]", f"task_or_tasks: {task}", *tail]
        overloads.append(_overload("quick", params, returns("_T1"), classmethod=True))
    for count in range(1, MAX_TASKS + 1):
        for kinds in _kinds(count):
            tasks = ", ".join(_task_types("_T0", kinds, unpack=False))
            params = ["cls", "items: Items[_T0]", f"task_or_tasks: tuple[{tasks}]", *tail]
            overloads.append(_overload("quick", params, returns(f"_T{count}"), classmethod=True))
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


BLOCKS: dict[str, dict[str, Callable[[], str]]] = {
    "builder.py": {
        "EmptyPipelineBuilder.add": lambda: add_overloads(empty=True),
        "PipelineBuilder.add": lambda: add_overloads(empty=False),
    },
    "pipeline.py": {"Pipeline.quick": quick_overloads},
}


def _begin(label: str) -> str:
    return f"{INDENT}# BEGIN GENERATED {label} overloads (tools/generate_overloads.py)"


def _end(label: str) -> str:
    return f"{INDENT}# END GENERATED {label} overloads"


def render(text: str, blocks: dict[str, str]) -> str:
    """Return ``text`` with each marked block replaced by its generated overloads."""
    for label, body in blocks.items():
        begin, end = _begin(label), _end(label)
        start = text.index(begin) + len(begin)
        stop = text.index(end, start)
        text = f"{text[:start]}\n{_wrap_long_lines(body)}\n\n{text[stop:]}"
    return text


def stale_files() -> list[Path]:
    """Return the source files whose generated blocks differ from this generator's output."""
    stale = []
    for filename, makers in BLOCKS.items():
        path = SRC / filename
        text = path.read_text(encoding="utf-8")
        if render(text, {label: make() for label, make in makers.items()}) != text:
            stale.append(path)
    return stale


def main() -> int:
    """Rewrite the generated blocks, or with ``--check`` report stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    args = parser.parse_args()
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale generated overloads: {path}", file=sys.stderr)
        return 1 if stale else 0
    for filename, makers in BLOCKS.items():
        path = SRC / filename
        text = path.read_text(encoding="utf-8")
        path.write_text(render(text, {k: make() for k, make in makers.items()}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
