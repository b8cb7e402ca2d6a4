"""Run the antflow demo or every check, from a fresh clone, with only python3 and pip.

Usage:
    python3 dev.py demo      # run examples/quickstart.py
    python3 dev.py check     # ruff, mypy --strict, pyright strict, tests, strict docs build
    python3 dev.py bench     # the benchmark suite (bench/run_all.py)

More (CONTRIBUTING.md tells when to use them):
    python3 dev.py test --python 3.13 [pytest args]  # the tests on another Python
    python3 dev.py test --lowest [pytest args]       # ... at the lowest allowed dependencies
    python3 dev.py build     # every wheel and sdist into dist/, then twine check --strict
    python3 dev.py hatch     # hatch fmt --check and hatch test, as a contributor runs them
    python3 dev.py ci        # all of the above in one run, with a summary (.ci/run)

The first call creates ``.venv`` and installs every package of ``packages/`` in editable
mode, plus (for ``check``) the ``dev`` dependency group of the root ``pyproject.toml``.
Later calls reuse it and reinstall only when a ``pyproject.toml`` or a version changed.
The other runs get their own virtualenvs under ``.venvs/``. Pass ``--no-install`` to use
the current interpreter as it is (``hatch run check`` does).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

import workspace  # noqa: E402  (tools/ is put on the path just above)

VENV = ROOT / ".venv"
VENVS = ROOT / ".venvs"
PIP_QUIET = ["--quiet", "--disable-pip-version-check"]
# mkdocs-material's banner about its successor is not a warning about these docs.
QUIET_ENV = {"NO_MKDOCS_2_WARNING": "1"}


def _bin(venv_dir: Path, name: str) -> Path:
    return (
        venv_dir
        / ("Scripts" if os.name == "nt" else "bin")
        / (f"{name}.exe" if os.name == "nt" else name)
    )


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode())
    watched = [ROOT / "pyproject.toml"]
    for package in workspace.packages():
        watched += [package.directory / "pyproject.toml", package.version_file]
    for path in watched:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_env(
    venv_dir: Path,
    *,
    base_python: str,
    packages: Sequence[workspace.Package],
    requirements: Sequence[str],
    constraints: Sequence[str] = (),
    label: str,
) -> Path:
    """Create or refresh a virtualenv with ``packages`` (editable) and ``requirements``.

    Reinstalls only when the workspace's pyproject files, the versions, the requested
    requirements or constraints, or the base interpreter changed. Returns its python.
    """
    python = _bin(venv_dir, "python")
    stamp = venv_dir / f".antflow-{label.split()[0]}.stamp"
    wanted = _fingerprint(
        base_python, *(p.name for p in packages), *requirements, "--", *constraints
    )
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists() or (stamp.exists() and stamp.read_text() != wanted and constraints):
        print(f"dev.py: creating {venv_dir.relative_to(ROOT)} ({label})", flush=True)
        subprocess.run([base_python, "-m", "venv", "--clear", str(venv_dir)], check=True)
    args = [str(python), "-m", "pip", "install", *PIP_QUIET]
    env = dict(os.environ)
    if constraints:
        constraints_file = venv_dir / "constraints.txt"
        constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
        env["PIP_CONSTRAINT"] = str(constraints_file)
    for package in packages:
        args += ["-e", str(package.directory.relative_to(ROOT))]
    args += requirements
    print(f"dev.py: installing into {venv_dir.relative_to(ROOT)} ({label})", flush=True)
    subprocess.run(args, cwd=ROOT, check=True, env=env)
    stamp.write_text(wanted)
    return python


def primary_env(profile: str) -> Path:
    """The ``.venv`` of ``demo`` (the packages) or ``check`` (plus the dev group)."""
    return ensure_env(
        VENV,
        base_python=sys.executable,
        packages=workspace.packages(),
        requirements=workspace.dependency_group("dev") if profile == "check" else [],
        label=profile,
    )


def _run(
    python: str | Path, title: str, args: list[str], env: dict[str, str] | None = None
) -> bool:
    print(f"\n=== {title}: {' '.join(args)}", flush=True)
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    result = subprocess.run([str(python), *args], cwd=ROOT, check=False, env=full_env)
    ok = result.returncode == 0
    print(f"=== {title}: {'ok' if ok else f'FAILED (exit {result.returncode})'}", flush=True)
    return ok


def demo(python: str | Path) -> int:
    """Run the quick-start demo."""
    return subprocess.run([str(python), "examples/quickstart.py"], cwd=ROOT, check=False).returncode


def check(python: str | Path) -> int:
    """Run every check; exit non-zero if any failed (all run, so one run shows everything)."""
    steps: list[tuple[str, list[str]]] = [
        ("ruff lint", ["-m", "ruff", "check", "."]),
        ("ruff format", ["-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", ["-m", "mypy"]),
        # The files [tool.basedpyright] includes, as a downstream user's strict checker.
        ("pyright strict", ["-m", "basedpyright", "--pythonpath", str(python)]),
        ("pytest", ["-m", "pytest", "-q"]),
    ]
    if (ROOT / "mkdocs.yml").exists():
        # mermaid is fetched (and checked) into the ignored docs/assets/vendor/, not committed.
        steps.append(("docs assets", ["tools/vendor_mermaid.py", "--if-missing"]))
        steps.append(("docs", ["-m", "mkdocs", "build", "--strict", "--site-dir", "site"]))
    results = [(title, _run(python, title, args)) for title, args in steps]
    print("\n=== summary")
    for title, ok in results:
        print(f"  {'ok    ' if ok else 'FAILED'} {title}")
    return 0 if all(ok for _, ok in results) else 1


def bench(python: str | Path, extra: list[str]) -> int:
    """Run the benchmark suite."""
    cmd = [str(python), "bench/run_all.py", *extra]
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


# ----------------------------------------------------------- the other runs


class Skipped(Exception):
    """A run that cannot happen on this machine (its Python is not installed)."""


def _secondary_selection() -> tuple[list[workspace.Package], list[str]]:
    """The packages a test-only run installs, and the pytest arguments it runs with.

    Both leave out the primary-only packages (``[tool.antflow] primary-only``): they are
    not installed, their ``tests/<name>/`` and the tests marked ``primary_only`` not run.
    """
    heavy = set(workspace.primary_only())
    chosen = [p for p in workspace.packages() if p.name not in heavy]
    args = ["-m", "not primary_only"]
    for name in sorted(heavy):
        args += ["--ignore", f"tests/{name.removeprefix('antflow-')}"]
    return chosen, args


def test_run(version: str | None, *, lowest: bool, pytest_args: list[str]) -> int:
    """The test suite (no lint, no docs) on another Python, or at the lowest dependencies.

    Raises:
        Skipped: If the Python asked for is not installed.
    """
    pythons = workspace.supported_pythons()
    version = version or (pythons[0] if lowest else f"{sys.version_info[0]}.{sys.version_info[1]}")
    base = workspace.find_python(version)
    if base is None:
        looked = ", ".join(str(p) for p in workspace.interpreter_candidates(version))
        raise Skipped(f"Python {version} is not installed (looked for: {looked})")
    chosen, selection = _secondary_selection()
    requirements = workspace.dependency_group("test")
    constraints: list[str] = []
    env: dict[str, str] = {}
    name = f"py{version}"
    if lowest:
        name = f"lowest-py{version}"
        internal = workspace.workspace_names()
        external = [r for p in chosen for r in p.requirements if r.name not in internal]
        constraints = workspace.lowest_constraints([*external, *requirements])
    venv_dir = VENVS / name
    python = ensure_env(
        venv_dir,
        base_python=str(base),
        packages=chosen,
        requirements=requirements,
        constraints=constraints,
        label=f"tests on Python {version}" + (", lowest dependencies" if lowest else ""),
    )
    if lowest:
        # The tests that pip-install the packages into fresh virtualenvs get the same pins.
        env["PIP_CONSTRAINT"] = str(venv_dir / "constraints.txt")
        print("dev.py: lowest allowed versions:\n  " + "\n  ".join(constraints), flush=True)
    versions = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    wanted = {c.split("==")[0] for c in constraints}
    if wanted:
        installed = [v for v in versions if workspace.normalize(v.split("==")[0]) in wanted]
        print("dev.py: installed:", " ".join(sorted(installed)), flush=True)
    title = f"pytest (Python {version}{', lowest dependencies' if lowest else ''})"
    ok = _run(python, title, ["-m", "pytest", "-q", *selection, *pytest_args], env=env)
    return 0 if ok else 1


def build(python: str | Path) -> int:
    """Build every package's sdist and wheel into ``dist/`` and run ``twine check --strict``."""
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    ok = True
    for package in workspace.packages():
        where = str(package.directory.relative_to(ROOT))
        ok &= _run(
            python, f"build {package.name}", ["-m", "build", "--quiet", "--outdir", "dist", where]
        )
    files = sorted(str(p.relative_to(ROOT)) for p in dist.glob("*"))
    expected = 2 * len(workspace.packages())
    if len(files) != expected:
        print(f"dev.py: expected {expected} files in dist/, found {files}", flush=True)
        ok = False
    ok &= _run(python, "twine check --strict", ["-m", "twine", "check", "--strict", *files])
    return 0 if ok else 1


def hatch() -> int:
    """Run ``hatch fmt --check`` and ``hatch test`` (a quick part of the suite) with hatch.

    Hatch comes from the ``hatch`` dependency group, in ``.venvs/hatch``; its own
    environments live in ``.venvs/hatch-data``, so nothing is written outside the clone.
    """
    tool = ensure_env(
        VENVS / "hatch",
        base_python=sys.executable,
        packages=[],
        requirements=workspace.dependency_group("hatch"),
        label="hatch",
    )
    hatch_bin = _bin(tool.parent.parent, "hatch")
    env = {"HATCH_DATA_DIR": str(VENVS / "hatch-data")}
    quick = ["tests/core/test_model_stage.py", "tests/builders/test_validation.py"]
    steps = [
        ("hatch fmt --check", ["fmt", "--check"]),
        ("hatch test (collect every test)", ["test", "--", "--collect-only", "-q"]),
        ("hatch test (two modules)", ["test", *quick]),
    ]
    ok = True
    for title, args in steps:
        print(f"\n=== {title}: hatch {' '.join(args)}", flush=True)
        result = subprocess.run(
            [str(hatch_bin), *args], cwd=ROOT, check=False, env={**os.environ, **env}
        )
        step_ok = result.returncode == 0
        print(f"=== {title}: {'ok' if step_ok else f'FAILED (exit {result.returncode})'}")
        ok &= step_ok
    return 0 if ok else 1


@dataclass
class Outcome:
    """How one run of ``ci`` ended."""

    title: str
    status: str  # "ok", "FAILED" or "SKIPPED"
    seconds: float
    note: str = ""


def ci() -> int:
    """Run the whole CI and print one summary at the end.

    The primary check, the tests on every other supported Python, at the lowest
    dependencies, the build with twine check, and hatch.
    """
    primary = f"{sys.version_info[0]}.{sys.version_info[1]}"
    outcomes: list[Outcome] = []

    def step(title: str, job: Callable[[], int]) -> None:
        started = time.monotonic()
        print(f"\n##### {title}", flush=True)
        try:
            code = job()
            status, note = ("ok", "") if code == 0 else ("FAILED", f"exit {code}")
        except Skipped as why:
            status, note = "SKIPPED", str(why)
            print(f"\n!!!!! SKIPPED: {title}: {why}", flush=True)
        except (subprocess.CalledProcessError, OSError, ValueError) as error:
            status, note = "FAILED", str(error)
            print(f"\n!!!!! FAILED: {title}: {error}", flush=True)
        outcomes.append(Outcome(title, status, time.monotonic() - started, note))

    step(f"check on Python {primary} (primary)", lambda: check(primary_env("check")))
    for version in workspace.supported_pythons():
        if version != primary:
            step(
                f"tests on Python {version}",
                functools.partial(test_run, version, lowest=False, pytest_args=[]),
            )
    oldest = workspace.supported_pythons()[0]
    step(
        f"tests at the lowest dependencies (Python {oldest})",
        lambda: test_run(oldest, lowest=True, pytest_args=[]),
    )
    step("build every sdist and wheel, twine check --strict", lambda: build(primary_env("check")))
    step("hatch fmt --check, hatch test", hatch)
    print("\n##### CI summary", flush=True)
    for outcome in outcomes:
        minutes, seconds = divmod(round(outcome.seconds), 60)
        print(f"  {outcome.status:<8} {minutes:2d}m{seconds:02d}s  {outcome.title}")
        if outcome.note and outcome.status != "ok":
            print(f"           {outcome.note}")
    total = round(sum(o.seconds for o in outcomes))
    print(f"  total    {total // 60:2d}m{total % 60:02d}s", flush=True)
    return 1 if any(o.status == "FAILED" for o in outcomes) else 0


def main() -> int:
    """Parse the command line and run the chosen job."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("job", choices=["demo", "check", "bench", "test", "build", "hatch", "ci"])
    parser.add_argument(
        "--no-install", action="store_true", help="use the current interpreter as it is"
    )
    parser.add_argument("--python", help="test: the Python version to test on, e.g. 3.13")
    parser.add_argument(
        "--lowest", action="store_true", help="test: at the lowest allowed dependencies"
    )
    args, extra = parser.parse_known_args()
    if args.job == "ci":
        return ci()
    if args.job == "hatch":
        return hatch()
    if args.job == "test":
        try:
            return test_run(args.python, lowest=args.lowest, pytest_args=extra)
        except Skipped as why:
            print(f"dev.py: SKIPPED: {why}", file=sys.stderr)
            return 2
    python: str | Path = (
        sys.executable
        if args.no_install
        else primary_env("demo" if args.job == "demo" else "check")
    )
    if args.job == "demo":
        return demo(python)
    if args.job == "bench":
        return bench(python, extra)
    if args.job == "build":
        return build(python)
    return check(python)


if __name__ == "__main__":
    sys.exit(main())
