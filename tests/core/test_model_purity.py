"""The model is pure: importing it pulls in no asyncio and no I/O, and its code imports none."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import antflow_core.model

FORBIDDEN = {
    "asyncio",
    "concurrent",
    "datetime",
    "io",
    "os",
    "random",
    "secrets",
    "selectors",
    "socket",
    "subprocess",
    "tenacity",
    "threading",
    "time",
    "uuid",
}
MODEL_DIR = pathlib.Path(antflow_core.model.__file__).parent


def test_importing_the_model_does_not_import_asyncio_or_io_modules() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import antflow_core.model\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    roots = {name.split(".")[0] for name in loaded}
    assert not roots & {"asyncio", "socket", "selectors", "threading", "tenacity", "subprocess"}
    assert "antflow_core.runtime" not in loaded


def _imported_roots(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("antflow_core.runtime"):
                roots.add("antflow_core.runtime")
    return roots


def test_no_model_module_imports_io_clock_randomness_or_the_runtime() -> None:
    files = sorted(MODEL_DIR.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        bad = _imported_roots(path) & (FORBIDDEN | {"antflow_core.runtime"})
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_purity_check_would_catch_an_asyncio_import(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncio\nfrom time import monotonic\n")
    assert _imported_roots(bad) & FORBIDDEN == {"asyncio", "time"}
