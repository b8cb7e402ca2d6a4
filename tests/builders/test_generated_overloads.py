"""The generated modules of typed overloads are exactly what the generator writes."""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

import antflow_builders
from antflow_builders import StageKeywords, StageOptions

PACKAGE = pathlib.Path(antflow_builders.__file__).resolve().parents[2]
GENERATOR = PACKAGE / "tools" / "generate_overloads.py"
GENERATED = PACKAGE / "src" / "antflow_builders" / "_generated"


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_overloads", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator


def read_generated(name: str) -> str:
    return (GENERATED / name).read_text(encoding="utf-8")


def test_only_generated_code_is_in_the_generated_folder() -> None:
    # Generated code lives apart from hand-written code (DESIGN.md rule 9): every file of
    # the folder is written by the generator, and no hand-written module holds overloads.
    assert {path.name for path in GENERATED.glob("*.py")} == {
        pathlib.Path(name).name for name in load_generator().FILES
    }
    for path in GENERATED.parent.glob("*.py"):
        assert "@overload" not in path.read_text(encoding="utf-8"), path


def test_the_generated_modules_are_up_to_date() -> None:
    stale = load_generator().stale_files()
    assert stale == [], (
        f"run `python {GENERATOR.relative_to(PACKAGE.parents[1])}` to regenerate {stale}"
    )


def test_each_block_holds_its_overloads() -> None:
    builder = read_generated("empty_builder_add.py") + read_generated("builder_add.py")
    pipeline = read_generated("pipeline_quick.py")
    # The one-task diagnostic overload, one task (2 mixes), two tasks chained (4), three
    # and four tasks checked at the ends (2 + 2), one task with skip_if (2) and with
    # unpack_args (2), one task of a fan-out stage (3: async, async generator, plain) and
    # of a batch stage (2), three untyped fallbacks and two for fan-out and batch stages, a
    # list of tasks, + the implementation: few, since mypy prints them all when a call
    # matches none.
    assert builder.count("    def add(\n") == 2 * (1 + 2 + 4 + 4 + 2 + 2 + 3 + 2 + 3 + 2 + 1 + 1)
    # One task (2), a tuple in the same shapes (2 + 4 + 4), a list (1), + the implementation.
    assert pipeline.count("    def quick(\n") == 2 + 10 + 1 + 1


def test_the_overloads_take_exactly_the_stage_keywords() -> None:
    # The options that do not depend on the stage's types are one TypedDict, StageKeywords;
    # StageOptions (for options kept in a variable) adds on_failure, typed per stage.
    generated = read_generated("empty_builder_add.py") + read_generated("builder_add.py")
    assert generated.count("**options: Unpack[StageKeywords]") == 2 * (
        1 + 2 + 4 + 4 + 2 + 2 + 3 + 2 + 3 + 2 + 1
    )
    assert set(StageOptions.__annotations__) == set(StageKeywords.__annotations__) | {"on_failure"}
