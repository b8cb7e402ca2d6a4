"""A fresh virtualenv with the five distributions installed as a user installs them.

Created once per test session: an empty virtualenv (no pip, no setuptools, nothing from
the workspace's ``.venv``), into which the workspace's pip installs the five package
directories, non-editable, with build isolation: each is built into a wheel by hatchling
and installed with its dependencies from the package index. What ends up in it is what
``pip install packages/antflow-core ... packages/antflow`` gives a user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = ["antflow-core", "antflow-tracker", "antflow-builders", "antflow-rich", "antflow"]

RunScript = Callable[[str, Path], "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def umbrella_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a virtualenv where the five packages were pip-installed."""
    env_dir = tmp_path_factory.mktemp("umbrella") / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
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
