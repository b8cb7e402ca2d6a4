"""What the workspace holds, read from its files: the one place tools ask.

Every distribution is a directory ``packages/<name>/`` with a ``pyproject.toml``; nothing
else lists them. From those files this module derives what ``dev.py``, ``.ci/run``,
``tools/release.py`` and the tests need:

* the packages in dependency order (a package after every workspace package it needs),
  each with its import root and the file that holds its version (``__version__``);
* the dependency groups of the root ``pyproject.toml`` (PEP 735, ``include-group``
  resolved);
* the lowest allowed version of every direct dependency, as pip constraints, for the
  lowest-dependencies run;
* the Python versions the packages' classifiers promise, and where their interpreters are;
* the project's URLs, written once in the root ``pyproject.toml`` (``[tool.antflow]``).

Standard library only: ``python3 dev.py`` runs it before any virtualenv exists.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES_DIR = ROOT / "packages"

_NAME = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*")
_EXTRAS = re.compile(r"^\[(?P<extras>[^\]]*)\]\s*")
_SPECIFIER = re.compile(r"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*(?P<version>[^,;\s]+)\s*$")
_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (?P<version>3\.\d+)$")
_VERSION_LINE = re.compile(r'^__version__\s*=\s*"(?P<version>[^"]+)"\s*$', re.MULTILINE)


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name (``Typing_Extensions`` → ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirement:
    """One PEP 508 requirement string, split into the parts the tools read.

    Attributes:
        text: The string as written.
        name: The distribution name, normalized.
        extras: The extras asked for (``mkdocstrings[python]`` → ``("python",)``).
        specifiers: ``(operator, version)`` pairs (``>=8.3,!=8.4.0`` → two pairs).
        marker: The environment marker after ``;``, or ``""``.
    """

    text: str
    name: str
    extras: tuple[str, ...]
    specifiers: tuple[tuple[str, str], ...]
    marker: str

    @classmethod
    def parse(cls, text: str) -> Requirement:
        """Parse a requirement of the simple forms this project writes.

        Raises:
            ValueError: For a URL requirement or a specifier that is not ``op version``.
        """
        requirement, _, marker = text.partition(";")
        match = _NAME.match(requirement)
        if match is None or "@" in requirement:
            raise ValueError(f"cannot read the requirement {text!r}: write it as name>=version")
        rest = requirement[match.end() :]
        extras: tuple[str, ...] = ()
        extras_match = _EXTRAS.match(rest)
        if extras_match is not None:
            extras = tuple(e.strip() for e in extras_match["extras"].split(",") if e.strip())
            rest = rest[extras_match.end() :]
        specifiers: list[tuple[str, str]] = []
        for part in filter(None, (p.strip() for p in rest.split(","))):
            spec = _SPECIFIER.match(part)
            if spec is None:
                raise ValueError(f"cannot read {part!r} in the requirement {text!r}")
            specifiers.append((spec["op"], spec["version"]))
        return cls(text, normalize(match["name"]), extras, tuple(specifiers), marker.strip())

    @property
    def lower_bound(self) -> str | None:
        """The lowest version the requirement allows (``>=``, ``~=`` or ``==``), if it says."""
        for op, version in self.specifiers:
            if op in {">=", "~=", "==", "==="}:
                return version
        return None

    def admits(self, version: str) -> bool:
        """Whether ``version`` (a plain release such as ``0.2.0``) satisfies every specifier."""
        return all(_compare(version, op, bound) for op, bound in self.specifiers)


def release_tuple(version: str) -> tuple[int, ...]:
    """``"0.10.2"`` → ``(0, 10, 2)``.

    Raises:
        ValueError: For a version that is not a plain release (``1.0rc1``, ``1.0.post1``).
    """
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ValueError(f"{version!r} is not a plain release version such as 0.2.0")
    return tuple(int(part) for part in version.split("."))


def version_key(version: str) -> tuple[int, ...]:
    """A key that orders release versions, ``0.2`` and ``0.2.0`` alike."""
    parts = list(release_tuple(version))
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _compare(version: str, op: str, bound: str) -> bool:
    if op == "!=" and bound.endswith(".*"):
        return not (version + ".").startswith(bound[:-1])
    v, b = _padded(release_tuple(version), release_tuple(bound))
    if op == "~=":
        prefix = release_tuple(bound)[:-1]
        return v >= b and release_tuple(version)[: len(prefix)] == prefix
    checks = {
        ">=": v >= b,
        ">": v > b,
        "<=": v <= b,
        "<": v < b,
        "==": v == b,
        "===": version == bound,
        "!=": v != b,
    }
    return checks[op]


@dataclass(frozen=True)
class Package:
    """One distribution of ``packages/``.

    Attributes:
        name: The distribution name (``antflow-core``), also its directory's name.
        directory: ``packages/<name>``.
        import_root: The top-level module it ships (``antflow_core``).
        version_file: The module whose ``__version__`` is the package's version.
        requirements: Its ``[project] dependencies``.
        optional_requirements: The requirements of its extras (``antflow[otel]``).
        classifiers: Its trove classifiers.
        project: The whole ``[project]`` table.
    """

    name: str
    directory: Path
    import_root: str
    version_file: Path
    requirements: tuple[Requirement, ...]
    optional_requirements: tuple[Requirement, ...]
    classifiers: tuple[str, ...]
    project: dict[str, Any]

    @property
    def version(self) -> str:
        """The version written in ``__version__`` (the package's only version source).

        Raises:
            ValueError: If the file holds no ``__version__ = "..."`` line.
        """
        match = _VERSION_LINE.search(self.version_file.read_text(encoding="utf-8"))
        if match is None:
            raise ValueError(f'{self.version_file}: no line __version__ = "..."')
        return match["version"]

    @property
    def tag_prefix(self) -> str:
        """The prefix of this package's release tags: ``antflow-core-v`` (+ ``0.2.0``)."""
        return f"{self.name}-v"


def _read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _load_package(pyproject: Path) -> Package:
    data = _read_toml(pyproject)
    project: dict[str, Any] = data["project"]
    directory = pyproject.parent
    wheel = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    wheel_packages: list[str] = wheel.get("wheel", {}).get("packages", [])
    if len(wheel_packages) != 1:
        raise ValueError(
            f"{pyproject}: [tool.hatch.build.targets.wheel] packages must name the one "
            'import root, e.g. packages = ["src/antflow_core"]'
        )
    source = directory / wheel_packages[0]
    version_path = data.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    version_file = directory / version_path if version_path else source / "__init__.py"
    return Package(
        name=normalize(project["name"]),
        directory=directory,
        import_root=source.name,
        version_file=version_file,
        requirements=tuple(Requirement.parse(r) for r in project.get("dependencies", [])),
        optional_requirements=tuple(
            Requirement.parse(r)
            for extra in project.get("optional-dependencies", {}).values()
            for r in extra
        ),
        classifiers=tuple(project.get("classifiers", [])),
        project=project,
    )


@cache
def packages() -> tuple[Package, ...]:
    """Every package of ``packages/``, each after the workspace packages it depends on.

    Raises:
        ValueError: If the workspace packages depend on each other in a cycle.
    """
    found = {
        package.name: package
        for package in map(_load_package, sorted(PACKAGES_DIR.glob("*/pyproject.toml")))
    }
    ordered: list[Package] = []
    placed: set[str] = set()
    while len(ordered) < len(found):
        ready = [
            package
            for name, package in sorted(found.items())
            if name not in placed
            and all(r.name in placed for r in package.requirements if r.name in found)
        ]
        if not ready:
            stuck = sorted(set(found) - placed)
            raise ValueError(f"the workspace packages depend on each other in a cycle: {stuck}")
        ordered.extend(ready)
        placed.update(p.name for p in ready)
    return tuple(ordered)


def package(name: str) -> Package:
    """The package called ``name``.

    Raises:
        KeyError: If no directory of ``packages/`` holds it.
    """
    for candidate in packages():
        if candidate.name == normalize(name):
            return candidate
    known = ", ".join(p.name for p in packages())
    raise KeyError(f"no package {name!r} in packages/ (there are: {known})")


def workspace_names() -> set[str]:
    """The distribution names of the workspace packages."""
    return {p.name for p in packages()}


def external_requirements() -> list[Requirement]:
    """The direct dependencies of every package that are not workspace packages."""
    internal = workspace_names()
    return [r for p in packages() for r in p.requirements if r.name not in internal]


def workspace_closure(name: str) -> list[Package]:
    """``name`` and every workspace package it needs, directly or not, in install order."""
    wanted = {normalize(name)}
    for candidate in reversed(packages()):
        if candidate.name in wanted:
            wanted.update(r.name for r in candidate.requirements if r.name in workspace_names())
    return [p for p in packages() if p.name in wanted]


# ------------------------------------------------------------- the root pyproject


@cache
def root_pyproject() -> dict[str, Any]:
    """The root ``pyproject.toml`` (the unpublished workspace project)."""
    return _read_toml(ROOT / "pyproject.toml")


def settings() -> dict[str, Any]:
    """The ``[tool.antflow]`` table of the root ``pyproject.toml``."""
    table: dict[str, Any] = root_pyproject().get("tool", {}).get("antflow", {})
    return table


def dependency_group(name: str) -> list[str]:
    """The requirements of a dependency group, with its ``include-group`` entries resolved.

    Raises:
        KeyError: If the root ``pyproject.toml`` has no such group.
    """
    groups: dict[str, list[Any]] = root_pyproject().get("dependency-groups", {})

    def resolve(group: str, seen: tuple[str, ...]) -> list[str]:
        if group not in groups:
            raise KeyError(f"no dependency group {group!r} in pyproject.toml")
        if group in seen:
            raise ValueError(f"dependency groups include each other: {[*seen, group]}")
        out: list[str] = []
        for entry in groups[group]:
            if isinstance(entry, str):
                out.append(entry)
            else:
                out.extend(resolve(entry["include-group"], (*seen, group)))
        return out

    return list(dict.fromkeys(resolve(name, ())))


def lowest_constraints(requirements: Iterable[str | Requirement]) -> list[str]:
    """Pip constraints pinning each requirement to the lowest version it allows.

    Extras are dropped (pip refuses them in constraints); markers are kept.

    Raises:
        ValueError: If a requirement has no lower bound, or two requirements of the same
            distribution give it different lower bounds (then only one could be proven).
    """
    pins: dict[tuple[str, str], str] = {}
    for item in requirements:
        requirement = item if isinstance(item, Requirement) else Requirement.parse(item)
        bound = requirement.lower_bound
        if bound is None:
            raise ValueError(
                f"{requirement.text!r} has no lower bound: write the oldest version that "
                "works, e.g. name>=1.2, and let the lowest-dependencies run prove it"
            )
        key = (requirement.name, requirement.marker)
        if pins.setdefault(key, bound) != bound:
            raise ValueError(
                f"{requirement.name} has two lower bounds ({pins[key]} and {bound}): "
                "give every package the same one"
            )
    return [
        f"{name}=={bound}" + (f"; {marker}" if marker else "")
        for (name, marker), bound in sorted(pins.items())
    ]


def primary_only() -> list[str]:
    """Packages whose tests run only in the primary run (``[tool.antflow] primary-only``)."""
    names: list[str] = settings().get("primary-only", [])
    return [normalize(n) for n in names]


def project_urls(package: Package) -> dict[str, str]:
    """The ``[project.urls]`` a package must have, built from ``[tool.antflow]``."""
    repository = settings()["repository"].rstrip("/")
    documentation = settings()["documentation"]
    where = f"{repository}/blob/main/packages/{package.name}"
    return {
        "Homepage": documentation,
        "Documentation": documentation,
        "Source": f"{repository}/tree/main/packages/{package.name}",
        "Changelog": f"{where}/CHANGELOG.md",
        "Issues": f"{repository}/issues",
    }


# ------------------------------------------------------------------- Pythons


def supported_pythons() -> list[str]:
    """The Python versions the packages' classifiers name (``["3.11", "3.12", "3.13"]``).

    Raises:
        ValueError: If two packages name different versions.
    """
    seen: dict[tuple[str, ...], list[str]] = {}
    for p in packages():
        versions = tuple(
            sorted(
                (m["version"] for c in p.classifiers if (m := _CLASSIFIER.match(c))),
                key=release_tuple,
            )
        )
        seen.setdefault(versions, []).append(p.name)
    if len(seen) != 1:
        raise ValueError(f"the packages' classifiers name different Pythons: {seen}")
    (versions,) = seen
    return list(versions)


def python_version_of(interpreter: str | Path) -> str | None:
    """``"3.12"`` for an interpreter that runs and reports it, else None."""
    try:
        out = subprocess.run(
            [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def interpreter_candidates(version: str) -> list[Path]:
    """Where a ``python<version>`` may be, best first, without needing pyenv's shims.

    ``ANTFLOW_PYTHON_<major>_<minor>`` (an explicit path) first; then the interpreters of
    pyenv's versions directory (``$PYENV_ROOT`` or ``~/.pyenv``), newest patch first; then
    ``python<version>`` on ``PATH``, shims last; then the usual system directories.
    """
    found: list[Path] = []
    explicit = os.environ.get(f"ANTFLOW_PYTHON_{version.replace('.', '_')}")
    if explicit:
        found.append(Path(explicit))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    pattern = str(pyenv_root / "versions" / f"{version}.*" / "bin" / f"python{version}")
    by_patch = sorted(
        glob.glob(pattern),
        key=lambda p: [
            int(x) if x.isdigit() else -1 for x in re.split(r"[.]", Path(p).parents[1].name)
        ],
        reverse=True,
    )
    found.extend(Path(p) for p in by_patch)
    on_path = [
        Path(p)
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and (p := shutil.which(f"python{version}", path=d))
    ]
    found.extend(sorted(on_path, key=lambda p: "shims" in p.parts))
    found.extend(Path(d) / f"python{version}" for d in ("/usr/local/bin", "/usr/bin"))
    return list(dict.fromkeys(found))


def find_python(version: str) -> Path | None:
    """An interpreter of Python ``version`` that runs, or None when none is installed."""
    for candidate in interpreter_candidates(version):
        if candidate.exists() and python_version_of(candidate) == version:
            return candidate
    return None
