"""How ``Pipeline.create`` and ``Pipeline.quick`` reach ``from antflow import Pipeline``.

The core declares both on ``antflow_core.Pipeline`` only to raise an error that says what
to do; ``antflow_builders.Pipeline`` subclasses it with the real ones, and the umbrella
exports that subclass. The core never imports this package.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import antflow
import antflow_builders
import antflow_core
import pytest
from antflow_core import ExtensionNotInstalledError


async def double(x: int) -> int:
    return 2 * x


def test_the_umbrella_pipeline_is_the_builder_enabled_subclass_of_the_core_one() -> None:
    assert antflow.Pipeline is antflow_builders.Pipeline
    assert issubclass(antflow.Pipeline, antflow_core.Pipeline)
    for method in ("create", "quick"):  # the subclass (or a generated base of it) overrides both
        assert getattr(antflow.Pipeline, method).__func__ is not (
            getattr(antflow_core.Pipeline, method).__func__
        )
    assert isinstance(antflow.Pipeline.create(), antflow.EmptyPipelineBuilder)


async def test_the_umbrella_pipeline_still_runs_manual_stages_as_the_core_does() -> None:
    stages = [antflow.Stage("Double", workers=2, tasks=[double])]
    expected = await antflow_core.Pipeline(stages=stages).run(range(5))
    assert await antflow.Pipeline(stages=stages).run(range(5)) == expected


@pytest.mark.parametrize("method", ["create", "quick"])
def test_on_the_core_class_they_raise_and_say_which_pipeline_to_import(method: str) -> None:
    core_method: Any = getattr(antflow_core.Pipeline, method)
    with pytest.raises(ExtensionNotInstalledError) as caught:
        core_method()
    message = str(caught.value)
    assert f"Pipeline.{method}() is not available on antflow_core.Pipeline" in message
    assert "import Pipeline from antflow" in message
    assert isinstance(caught.value, ImportError)


@pytest.mark.parametrize("method", ["create", "quick"])
def test_with_only_the_core_installed_the_error_names_the_package_to_install(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes antflow_builders unfindable, as on a core-only install.
    monkeypatch.setitem(sys.modules, "antflow_builders", None)
    core_method: Any = getattr(antflow_core.Pipeline, method)
    with pytest.raises(ExtensionNotInstalledError) as caught:
        core_method([1, 2], double)
    message = str(caught.value)
    assert f"Pipeline.{method}() comes from the antflow-builders package" in message
    assert "pip install antflow-builders" in message


def test_the_core_never_imports_the_builders() -> None:
    code = (
        "import sys, antflow_core, antflow_core.runtime\n"
        "antflow_core.Pipeline\n"
        "print('antflow_builders' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
