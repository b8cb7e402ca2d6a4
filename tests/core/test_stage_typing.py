"""The typed signatures of Stage and Pipeline stay in step with what they accept at run time.

`Stage`'s typed ``__init__`` overloads exist only for type checkers (in an ``if
TYPE_CHECKING:`` block; at run time the dataclass's own ``__init__`` is used), so nothing
but this test notices when a field is added to the dataclass and not to them: the new
option would be refused by every type checker. Likewise every ``Pipeline.__init__``
overload takes the implementation's parameters. Being generic changes nothing at run time.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from types import ModuleType
from typing import Any

import antflow_core.model.stage as stage_module
import antflow_core.runtime.pipeline as pipeline_module
from antflow_core import Pipeline, Stage


def overload_parameters(module: ModuleType, class_name: str) -> list[list[str]]:
    """The parameter names (without self) of each ``__init__`` overload in ``class_name``."""
    tree = ast.parse(inspect.getsource(module))
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    found = []
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            decorators = [d.id for d in node.decorator_list if isinstance(d, ast.Name)]
            if "overload" in decorators:
                arguments = node.args
                names = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
                names += [a.arg for a in arguments.kwonlyargs]
                found.append(names[1:])
    return found


def test_each_typed_stage_signature_takes_every_field_in_order() -> None:
    fields = [f.name for f in dataclasses.fields(Stage) if f.init]
    overloads = overload_parameters(stage_module, "Stage")
    assert len(overloads) == 5
    for names in overloads:
        assert names == fields, "update Stage's TYPE_CHECKING overloads to the dataclass fields"


def test_each_typed_pipeline_signature_takes_the_implementations_parameters() -> None:
    implementation = list(inspect.signature(Pipeline.__init__).parameters)[1:]
    overloads = overload_parameters(pipeline_module, "Pipeline")
    assert len(overloads) == 5
    for names in overloads:
        assert names == implementation


async def fetch(x: str) -> int:
    return len(x)


def test_a_stage_is_the_same_object_with_or_without_type_arguments() -> None:
    plain = Stage("Fetch", workers=2, tasks=[fetch])
    typed = Stage[str, int]("Fetch", workers=2, tasks=[fetch])
    assert type(typed) is Stage
    assert typed == plain
    assert not hasattr(typed, "__dict__")  # still slotted: no per-instance dict
    assert dataclasses.replace(typed, workers=3).workers == 3


async def test_a_typed_pipeline_runs_as_an_untyped_one() -> None:
    typed: Pipeline[str, int] = Pipeline[str, int](stages=[Stage("Fetch", tasks=[fetch])])
    untyped: Pipeline[Any, Any] = Pipeline(stages=[Stage("Fetch", tasks=[fetch])])
    assert type(typed) is type(untyped) is Pipeline
    assert [r.value for r in await typed.run(["ab", "c"])] == [2, 1]
    assert [r.value for r in await untyped.run(["ab", {"id": "k", "value": "xyz"}])] == [2, 3]
