"""The typed overloads in the sources are exactly what the generator writes."""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

import antflow_builders
from antflow_builders import StageOptions

PACKAGE = pathlib.Path(antflow_builders.__file__).resolve().parents[2]
GENERATOR = PACKAGE / "tools" / "generate_overloads.py"


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_overloads", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator


def test_the_generated_overload_blocks_are_up_to_date() -> None:
    stale = load_generator().stale_files()
    assert stale == [], (
        f"run `python {GENERATOR.relative_to(PACKAGE.parents[1])}` to regenerate {stale}"
    )


def test_each_block_holds_its_overloads() -> None:
    builder = (PACKAGE / "src" / "antflow_builders" / "builder.py").read_text(encoding="utf-8")
    pipeline = (PACKAGE / "src" / "antflow_builders" / "pipeline.py").read_text(encoding="utf-8")
    # 4 tasks in every async/plain mix (2 + 4 + 8 + 16), x skip_if x unpack_args, + 2 longer,
    # + a list of tasks (antflow 0.10's form), + the implementation.
    assert builder.count("    def add(\n") == 2 * (30 * 4 + 2 + 1 + 1)
    # One task (2), a tuple of 1-4 tasks (30), a list (1), + the implementation.
    assert pipeline.count("    def quick(\n") == 2 + 30 + 1 + 1


def test_the_overloads_spell_out_exactly_the_stage_options() -> None:
    spelled = {}
    for param in load_generator().STAGE_OPTIONS:
        name, annotation = param.removesuffix(" = ...").split(": ", 1)
        spelled[name] = annotation
    declared = {
        name: getattr(annotation, "__forward_arg__", annotation)
        for name, annotation in StageOptions.__annotations__.items()
    }
    assert spelled == declared
