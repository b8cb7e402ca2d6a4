"""tools/workspace.py and tools/release.py read what they must and say what is wrong."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
import release
import workspace
from workspace import Requirement


def test_a_requirement_is_read_into_name_extras_specifiers_and_marker() -> None:
    r = Requirement.parse("Typing_Extensions[a, b] >=4.12 ,!=4.13.0; python_version < '3.13'")
    assert (r.name, r.extras, r.marker) == (
        "typing-extensions",
        ("a", "b"),
        "python_version < '3.13'",
    )
    assert r.specifiers == ((">=", "4.12"), ("!=", "4.13.0"))
    assert r.lower_bound == "4.12"
    assert [r.admits(v) for v in ("4.11", "4.12.0", "4.13.0", "4.13.1")] == [
        False,
        True,
        False,
        True,
    ]
    assert Requirement.parse("antflow-core>=0.1.0,<0.2").admits("0.1.9")
    assert not Requirement.parse("antflow-core>=0.1.0,<0.2").admits("0.2.0")
    assert Requirement.parse("ruff").lower_bound is None
    with pytest.raises(ValueError, match="name>=version"):
        Requirement.parse("pkg @ https://example.com/pkg.whl")


def test_the_lowest_constraints_pin_each_floor_and_refuse_what_cannot_be_proven() -> None:
    pins = workspace.lowest_constraints(
        ["mkdocstrings[python]>=0.26", "uvloop>=0.19; sys_platform != 'win32'", "rich>=12.3"]
    )
    assert pins == ["mkdocstrings==0.26", "rich==12.3", "uvloop==0.19; sys_platform != 'win32'"]
    with pytest.raises(ValueError, match="no lower bound"):
        workspace.lowest_constraints(["rich"])
    with pytest.raises(ValueError, match="two lower bounds"):
        workspace.lowest_constraints(["returns>=0.18", "returns>=0.22"])


def test_the_interpreter_of_a_supported_python_is_found_without_shims() -> None:
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = workspace.find_python(version)
    assert found is not None
    assert workspace.python_version_of(found) == version
    assert workspace.find_python("3.1") is None  # absent: None, for the caller to skip loudly


CHANGELOG = """# Changelog of x

## [Unreleased]

### Added
- something new

## [0.2.0] - 2026-12-01

### Changed
- something

## [0.1.0] - 2026-11-23
"""


def fake_package(tmp_path: Path, changelog: str, version: str, *requires: str) -> workspace.Package:
    (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    init = tmp_path / "__init__.py"
    init.write_text(f'__version__ = "{version}"\n', encoding="utf-8")
    core = workspace.package("antflow-core")
    return dataclasses.replace(
        core,
        name="antflow-x",
        directory=tmp_path,
        version_file=init,
        requirements=tuple(map(Requirement.parse, requires)),
    )


def test_a_consistent_package_has_no_problem(tmp_path: Path) -> None:
    core = workspace.package("antflow-core").version
    package = fake_package(tmp_path, CHANGELOG, "0.2.0", f"antflow-core>={core}")
    assert release.check_package(package) == []
    sections = release.changelog_sections(CHANGELOG)
    assert [(s.name, s.date, s.has_entries) for s in sections] == [
        ("Unreleased", None, True),
        ("0.2.0", "2026-12-01", True),
        ("0.1.0", "2026-11-23", False),
    ]


@pytest.mark.parametrize(
    ("changelog", "version", "requires", "problem"),
    [
        (CHANGELOG.replace("## [Unreleased]\n", ""), "0.2.0", (), "must be '## [Unreleased]'"),
        (CHANGELOG, "0.1.5", (), "older than the newest release"),
        (CHANGELOG.replace("2026-12-01", "soon"), "0.2.0", (), "must read '## [X.Y.Z] - YYYY"),
        (CHANGELOG, "0.2.0", ("antflow-core>=9.0,<10",), "does not admit antflow-core"),
        (CHANGELOG, "0.2", (), ""),  # a short version is fine
        (CHANGELOG, "0.3.0rc1", (), "not a plain release version"),
    ],
)
def test_each_inconsistency_is_named(
    tmp_path: Path, changelog: str, version: str, requires: tuple[str, ...], problem: str
) -> None:
    problems = release.check_package(fake_package(tmp_path, changelog, version, *requires))
    if problem:
        assert len(problems) == 1, problems
        assert problem in problems[0]
    else:
        assert problems == [], problems


def test_a_release_tag_is_checked_against_the_version_and_changelog() -> None:
    core = workspace.package("antflow-core")
    assert "is not a release tag" in release.check_release("antflow-core-0.2.0")[0]
    assert "no package 'antflow-nope'" in release.check_release("antflow-nope-v1.0.0")[0]
    ahead = ".".join(str(n + 1) for n in workspace.release_tuple(core.version))
    problems = release.check_release(f"antflow-core-v{ahead}")
    assert any(f"is at {core.version}, not {ahead}" in p for p in problems)
    assert any(f"no '## [{ahead}] - YYYY-MM-DD' section" in p for p in problems)
