"""Check that the workspace, or one release of one package, is consistent.

Usage (from the repository root; RELEASING.md is the whole procedure)::

    python3 tools/release.py check                     # the workspace as it is (a test runs it)
    python3 tools/release.py check antflow-core-v0.2.0 # before pushing that tag

The workspace check, always true on ``main``:

* each package's version (its ``__version__``, the only place it is written) is a plain
  release such as ``0.2.0``;
* each ``CHANGELOG.md`` opens with the section of what is not released yet, headed
  ``## [Unreleased]`` (or ``## [X.Y.Z] - Unreleased`` when ``X.Y.Z`` is the current
  version, being prepared), then one ``## [X.Y.Z] - YYYY-MM-DD`` section per release,
  newest first; the current version is either the newest of them or newer than all;
* every dependency of a package on another workspace package (extras included) admits
  that package's current version (``antflow-core>=0.1.0,<0.2`` while antflow-core is
  0.1.x).

The release check adds, for the tag ``<distribution>-v<version>``: the distribution
exists and its version is that version; its changelog has a dated section for it with at
least one entry; every workspace package it depends on is at a released version (one
with a dated section), so the index can serve what it requires; and the tag does not
already name another commit.

Standard library only, like ``tools/workspace.py``.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import workspace

HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?:\s+-\s+(?P<date>\S+))?\s*$", re.MULTILINE)
TAG = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*?)-v(?P<version>\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class Section:
    """One ``## [...]`` section of a changelog."""

    name: str  # "Unreleased" or a version
    date: str | None
    body: str

    @property
    def unreleased(self) -> bool:
        """``## [Unreleased]``, or ``## [X.Y.Z] - Unreleased`` (a version being prepared)."""
        return self.name == "Unreleased" or self.date == "Unreleased"

    @property
    def has_entries(self) -> bool:
        """Whether the section lists at least one change (a ``-`` bullet)."""
        return any(line.lstrip().startswith("- ") for line in self.body.splitlines())


def changelog_sections(text: str) -> list[Section]:
    """The ``## [...]`` sections of a changelog, in file order."""
    matches = list(HEADING.finditer(text))
    sections = []
    for match, after in zip(matches, [*matches[1:], None], strict=True):
        end = after.start() if after is not None else len(text)
        sections.append(Section(match["name"], match["date"], text[match.end() : end]))
    return sections


def _shown(path: Path) -> str:
    """A path as the messages show it: relative to the repository when inside it."""
    return (
        str(path.relative_to(workspace.ROOT)) if path.is_relative_to(workspace.ROOT) else str(path)
    )


def _changelog(package: workspace.Package) -> Path:
    return package.directory / "CHANGELOG.md"


def released_versions(package: workspace.Package) -> dict[str, Section]:
    """The dated sections of a package's changelog, by version."""
    text = _changelog(package).read_text(encoding="utf-8")
    return {s.name: s for s in changelog_sections(text) if not s.unreleased}


def check_package(package: workspace.Package) -> list[str]:
    """What is inconsistent about one package (empty when nothing is)."""
    problems: list[str] = []
    where = _shown(package.directory)
    try:
        version = package.version
        current = workspace.version_key(version)
    except ValueError as error:
        return [f"{where}: {error}"]
    path = _changelog(package)
    if not path.exists():
        return [f"{where}: no CHANGELOG.md (start it with an '## [Unreleased]' section)"]
    sections = changelog_sections(path.read_text(encoding="utf-8"))
    first = sections[0] if sections else None
    if first is None or not first.unreleased:
        problems.append(
            f"{where}/CHANGELOG.md: the first section must be '## [Unreleased]' "
            "(changes not released yet go there)"
        )
    elif first.name != "Unreleased" and first.name != version:
        problems.append(
            f"{where}/CHANGELOG.md: '## [{first.name}] - Unreleased' names another version "
            f"than {version}: write '## [Unreleased]' or '## [{version}] - Unreleased'"
        )
    released: list[tuple[int, ...]] = []
    for section in sections[1:]:
        if section.unreleased:
            problems.append(f"{where}/CHANGELOG.md: a second unreleased section")
            continue
        try:
            released.append(workspace.version_key(section.name))
            datetime.date.fromisoformat(section.date or "")
        except ValueError:
            problems.append(
                f"{where}/CHANGELOG.md: the heading '## [{section.name}]' must read "
                "'## [X.Y.Z] - YYYY-MM-DD'"
            )
    if released != sorted(released, reverse=True):
        problems.append(f"{where}/CHANGELOG.md: the released sections are not newest first")
    if released and current < max(released):
        problems.append(
            f"{where}: version {version} is older than the newest release in CHANGELOG.md "
            f"({'.'.join(map(str, max(released)))})"
        )
    problems += check_internal_ranges(package)
    return problems


def check_internal_ranges(package: workspace.Package) -> list[str]:
    """Each dependency on a workspace package admits that package's current version."""
    problems = []
    for requirement in (*package.requirements, *package.optional_requirements):
        if requirement.name not in workspace.workspace_names():
            continue
        dependency = workspace.package(requirement.name)
        if requirement.lower_bound is None or not requirement.admits(dependency.version):
            problems.append(
                f"{package.name} requires {requirement.text!r}, which does not admit "
                f"{dependency.name} {dependency.version} (the workspace's version): "
                f"change the range in packages/{package.name}/pyproject.toml and release "
                f"{package.name} too (RELEASING.md, 'When a change crosses packages')"
            )
    return problems


def check_workspace() -> list[str]:
    """Every problem of every package."""
    return [problem for package in workspace.packages() for problem in check_package(package)]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=workspace.ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def check_release(tag: str) -> list[str]:
    """What stands in the way of releasing ``tag`` (``antflow-core-v0.2.0``) from here."""
    match = TAG.match(tag)
    if match is None:
        return [
            f"{tag!r} is not a release tag: write <distribution>-v<version>, e.g. "
            "antflow-core-v0.2.0"
        ]
    try:
        package = workspace.package(match["name"])
    except KeyError as error:
        return [str(error.args[0])]
    version = match["version"]
    problems = check_package(package)
    if package.version != version:
        problems.append(
            f"{package.name} is at {package.version}, not {version}: set __version__ in "
            f"{_shown(package.version_file)}"
        )
    section = released_versions(package).get(version)
    if section is None:
        problems.append(
            f"packages/{package.name}/CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' "
            "section: date its unreleased section (rename '## [Unreleased]' or "
            f"'## [{version}] - Unreleased' to it) and open a new, empty '## [Unreleased]'"
        )
    elif not section.has_entries:
        problems.append(f"packages/{package.name}/CHANGELOG.md: [{version}] lists no change")
    for requirement in (*package.requirements, *package.optional_requirements):
        if requirement.name in workspace.workspace_names():
            dependency = workspace.package(requirement.name)
            if dependency.version not in released_versions(dependency):
                problems.append(
                    f"{package.name} depends on {dependency.name} {dependency.version}, which "
                    f"is not released: release {dependency.name}-v{dependency.version} first"
                )
    tagged = _git("rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}")
    head = _git("rev-parse", "HEAD")
    if tagged and head and tagged != head:
        problems.append(f"the tag {tag} already exists on another commit ({tagged[:12]})")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run ``check`` on the workspace or on one tag; print the problems."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=["check"])
    parser.add_argument("tag", nargs="?", help="e.g. antflow-core-v0.2.0")
    args = parser.parse_args(argv)
    problems = check_release(args.tag) if args.tag else check_workspace()
    for problem in problems:
        print(f"- {problem}")
    what = f"the release {args.tag}" if args.tag else "the workspace"
    if problems:
        print(f"{what}: {len(problems)} problem(s)")
        return 1
    print(f"{what}: consistent")
    if not args.tag:  # the packages in release order, each with its next tag
        for package in workspace.packages():
            tag = f"{package.tag_prefix}{package.version}"
            print(f"  {package.name:<18} {package.version:<8} tag {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
