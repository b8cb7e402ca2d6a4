"""Run the antflow demo or every check, from a fresh clone, with only python3 and pip.

Usage:
    python3 dev.py demo      # run examples/quickstart.py
    python3 dev.py check     # tests, mypy --strict, pyright strict, ruff, docs build
    python3 dev.py bench     # the benchmark suite (bench/run_all.py)

The first call creates ``.venv`` and installs every package of ``packages/`` in editable
mode, plus (for ``check``) the ``dev`` dependency group of the root ``pyproject.toml``.
Later calls reuse it and reinstall only when a ``pyproject.toml`` changed. Pass
``--no-install`` to use the current interpreter as it is (``hatch run check`` does).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# Install order: dependencies first, the umbrella last.
PACKAGE_ORDER = [
    "antflow-core",
    "antflow-tracker",
    "antflow-builders",
    "antflow-rich",
    "antflow-otel",
    "antflow-ray",
    "antflow",
]


def _packages() -> list[Path]:
    present = {p.parent.name: p.parent for p in (ROOT / "packages").glob("*/pyproject.toml")}
    ordered = [present.pop(name) for name in PACKAGE_ORDER if name in present]
    return ordered + sorted(present.values())


def _dev_requirements() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    group: list[str] = data["dependency-groups"]["dev"]
    return group


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint(profile: str) -> str:
    digest = hashlib.sha256(profile.encode())
    for path in [*sorted(ROOT.glob("packages/*/pyproject.toml")), ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _ensure_env(profile: str) -> Path:
    """Create or refresh .venv for ``profile`` ("demo" or "check"); return its python."""
    python = _venv_python()
    stamp = VENV / f".antflow-{profile}.stamp"
    wanted = _fingerprint(profile)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        print(f"dev.py: creating {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    args = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for package in _packages():
        args += ["-e", str(package.relative_to(ROOT))]
    if profile == "check":
        args += _dev_requirements()
    print(f"dev.py: installing the workspace packages ({profile})", flush=True)
    subprocess.run(args, cwd=ROOT, check=True)
    stamp.write_text(wanted)
    return python


def _run(python: str, title: str, args: list[str]) -> bool:
    print(f"\n=== {title}: {' '.join(args)}", flush=True)
    # NO_MKDOCS_2_WARNING: mkdocs-material's banner about its successor is not a warning
    # about these docs.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([python, *args], cwd=ROOT, check=False, env=env)
    ok = result.returncode == 0
    print(f"=== {title}: {'ok' if ok else f'FAILED (exit {result.returncode})'}", flush=True)
    return ok


def demo(python: str) -> int:
    """Run the quick-start demo."""
    return subprocess.run([python, "examples/quickstart.py"], cwd=ROOT, check=False).returncode


def check(python: str) -> int:
    """Run every check; exit non-zero if any failed (all run, so one run shows everything)."""
    steps: list[tuple[str, list[str]]] = [
        ("ruff lint", ["-m", "ruff", "check", "."]),
        ("ruff format", ["-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", ["-m", "mypy"]),
        # The files [tool.basedpyright] includes, as a downstream user's strict checker.
        ("pyright strict", ["-m", "basedpyright", "--pythonpath", python]),
        ("pytest", ["-m", "pytest", "-q"]),
    ]
    if (ROOT / "mkdocs.yml").exists():
        steps.append(("docs", ["-m", "mkdocs", "build", "--strict", "--site-dir", "site"]))
    results = [(title, _run(python, title, args)) for title, args in steps]
    print("\n=== summary")
    for title, ok in results:
        print(f"  {'ok    ' if ok else 'FAILED'} {title}")
    failed = [title for title, ok in results if not ok]
    return 1 if failed else 0


def bench(python: str, extra: list[str]) -> int:
    """Run the benchmark suite."""
    cmd = [python, "bench/run_all.py", *extra]
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def main() -> int:
    """Parse the command line and run the chosen job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=["demo", "check", "bench"])
    parser.add_argument(
        "--no-install", action="store_true", help="use the current interpreter as it is"
    )
    args, extra = parser.parse_known_args()
    if args.no_install:
        python = sys.executable
    else:
        python = str(_ensure_env("demo" if args.job == "demo" else "check"))
    if args.job == "demo":
        return demo(python)
    if args.job == "bench":
        return bench(python, extra)
    return check(python)


if __name__ == "__main__":
    sys.exit(main())
