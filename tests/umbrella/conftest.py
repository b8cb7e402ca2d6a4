"""A fresh virtualenv with the five distributions installed as a user installs them.

Created once per test session: an empty virtualenv (no setuptools, nothing from the
workspace's ``.venv``, no pip unless the test environment has none), into which pip
installs the umbrella's package directory and those of the packages it depends on,
non-editable, with build isolation: each is built into a wheel by hatchling and
installed with its dependencies from the package index. What ends up in it is what
``pip install packages/antflow-core ... packages/antflow`` gives a user.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
import workspace

ROOT = Path(__file__).resolve().parents[2]
# The umbrella and every workspace package it depends on, read from their pyproject files.
DISTRIBUTIONS = [package.name for package in workspace.workspace_closure("antflow")]

RunScript = Callable[[str, Path], "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def umbrella_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtualenv where the five packages were pip-installed."""
    env_dir = tmp_path_factory.mktemp("umbrella") / "venv"
    # The test environment's pip installs into the new one; an environment without pip
    # (hatch's, which installs with uv) gives the new one a pip of its own instead.
    own_pip = importlib.util.find_spec("pip") is None
    venv.EnvBuilder(with_pip=own_pip, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = (
        [str(python), "-m", "pip"]
        if own_pip
        else [sys.executable, "-m", "pip", "--python", str(python)]
    )
    install = subprocess.run(
        [
            *pip,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *(str(ROOT / "packages" / name) for name in DISTRIBUTIONS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python


@pytest.fixture(scope="session")
def run_in_umbrella(umbrella_python: Path) -> RunScript:
    """A function that runs a script with the umbrella virtualenv, from a given directory."""

    def run(code: str, directory: Path) -> subprocess.CompletedProcess[str]:
        script = directory / "script.py"
        script.write_text(code, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
        env["PYTHONIOENCODING"] = "utf-8"
        return subprocess.run(
            [str(umbrella_python), str(script)],
            cwd=directory,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=60,
            check=False,
        )

    return run
