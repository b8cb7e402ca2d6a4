"""The workspace agrees with itself: what a new package, a release or a tool bump must keep.

Nothing lists the packages but their own directories (``tools/workspace.py`` reads them);
the few places that cannot read them are checked here, each failure saying what to
write where. CONTRIBUTING.md ("Adding a package") walks through the same list.
"""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
import tomllib

import pytest
import release
import vendor_mermaid
import workspace

ROOT = workspace.ROOT
PACKAGES = workspace.packages()
PYPROJECT = workspace.root_pyproject()
MKDOCS = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def mkdocs_value(key: str) -> str:
    match = re.search(rf"^{key}:\s*(\S+)\s*$", MKDOCS, re.MULTILINE)
    assert match is not None, f"mkdocs.yml has no {key}"
    return match[1]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_package_has_the_licence_readme_changelog_and_typing_marker(
    package: workspace.Package,
) -> None:
    where = f"packages/{package.name}"
    assert (package.directory / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes(), (
        f"{where}/LICENSE must be a copy of the root LICENSE"
    )
    assert package.project.get("license") == "MIT"
    assert package.project.get("license-files") == ["LICENSE"]
    assert (package.directory / "README.md").is_file()
    assert (package.directory / "src" / package.import_root / "py.typed").is_file()
    assert package.version_file == package.directory / "src" / package.import_root / "__init__.py"


def test_the_workspace_is_consistent_for_a_release() -> None:
    # versions, [Unreleased] sections, changelogs newest first, inter-package ranges
    assert release.check_workspace() == []


def test_mypy_checks_every_package_from_its_src_directory() -> None:
    mypy_path: list[str] = PYPROJECT["tool"]["mypy"]["mypy_path"]
    sources = [f"packages/{p.name}/src" for p in PACKAGES]
    missing = [s for s in sources if s not in mypy_path]
    stale = [p for p in mypy_path if p.startswith("packages/") and p not in sources]
    assert (missing, stale) == ([], []), (
        f"[tool.mypy] mypy_path in pyproject.toml: add {missing}, remove {stale}"
    )


def test_every_package_has_an_api_reference_page() -> None:
    assert "paths: [packages/*/src]" in MKDOCS  # mkdocstrings finds every package itself
    pages = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "reference").glob("*.md")
    )
    for package in PACKAGES:
        assert re.search(rf"^::: {package.import_root}\b", pages, re.MULTILINE), (
            f"no page of docs/reference/ documents {package.import_root}: add one with "
            f"'::: {package.import_root}' and list it in mkdocs.yml's nav"
        )


def test_the_site_and_every_package_point_at_the_same_home() -> None:
    settings = workspace.settings()
    assert mkdocs_value("site_url") == settings["documentation"]
    assert mkdocs_value("repo_url") == settings["repository"]
    assert settings["documentation"].endswith("/")
    for package in PACKAGES:
        assert package.project["urls"] == workspace.project_urls(package), package.name


def test_the_classifiers_python_requirement_and_hatch_matrix_agree() -> None:
    pythons = workspace.supported_pythons()  # raises if two packages disagree
    assert pythons == sorted(pythons, key=workspace.release_tuple)
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in pythons
    for package in PACKAGES:
        assert package.project["requires-python"] == f">={pythons[0]}", package.name
    assert PYPROJECT["project"]["requires-python"] == f">={pythons[0]}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == pythons[0]
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + pythons[0].replace(".", "")
    (matrix,) = PYPROJECT["tool"]["hatch"]["envs"]["hatch-test"]["matrix"]
    assert sorted(matrix["python"], key=workspace.release_tuple) == pythons


def test_every_dependency_has_one_lower_bound_the_lowest_run_can_install() -> None:
    # lowest_constraints raises for a requirement without a lower bound, or for one
    # distribution given two different lower bounds
    # (the lowest run installs the packages' dependencies and the test group together)
    pins = workspace.lowest_constraints(
        [*workspace.external_requirements(), *workspace.dependency_group("test")]
    )
    assert "tenacity==8.3" in pins
    for group in ("dev", "docs", "release", "hatch"):
        workspace.lowest_constraints(workspace.dependency_group(group))


def test_ruff_is_one_version_everywhere() -> None:
    lint = [r for r in workspace.dependency_group("lint") if r.startswith("ruff")]
    assert len(lint) == 1
    assert lint[0].startswith("ruff==")
    (ruff,) = lint
    hatch_fmt = PYPROJECT["tool"]["hatch"]["envs"]["hatch-static-analysis"]
    assert hatch_fmt["dependencies"] == [ruff]
    assert hatch_fmt["config-path"] == "none"  # the project's ruff settings, not hatch's
    assert ruff in workspace.dependency_group("docs")  # mkdocstrings formats signatures
    pre_commit = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert re.findall(r'"(ruff==[^"]+)"', pre_commit) == [ruff, ruff]
    assert [r for r in workspace.dependency_group("lint") if r.startswith("mypy==")]


def test_hatch_environments_install_the_workspace_and_the_same_groups() -> None:
    envs = PYPROJECT["tool"]["hatch"]["envs"]
    assert PYPROJECT["tool"]["hatch"]["requires-hatch"] == ">=1.16.5"
    assert workspace.dependency_group("hatch") == ["hatch>=1.16.5"]
    for name, group in (("default", "dev"), ("hatch-test", "test")):
        assert envs[name]["workspace"]["members"] == ["packages/*"], name
        assert envs[name]["dependency-groups"] == [group], name
    assert envs["hatch-test"]["dependencies"] == []  # not hatch's own pytest and plugins


def test_primary_only_packages_are_workspace_packages() -> None:
    unknown = set(workspace.primary_only()) - workspace.workspace_names()
    assert unknown == set(), f"[tool.antflow] primary-only names no package: {unknown}"


def test_the_site_serves_mermaid_from_itself_and_the_repository_does_not_hold_it() -> None:
    vendored = ROOT / "docs" / "assets" / "vendor" / "mermaid"
    assert vendored == vendor_mermaid.DESTINATION
    assert "  - assets/vendor/mermaid/mermaid.min.js" in MKDOCS
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(vendored / "mermaid.min.js")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "docs/assets/vendor/ must be ignored: mermaid is not ours"
    if vendored.joinpath("mermaid.min.js").exists():  # fetched by dev.py check's docs step
        digest = hashlib.sha256((vendored / "mermaid.min.js").read_bytes()).hexdigest()
        assert digest == vendor_mermaid.FILE_SHA256, "rewrite it with tools/vendor_mermaid.py"
        licence = (vendored / "LICENSE").read_text(encoding="utf-8")
        assert licence.startswith("The MIT License")
    assert "font: false" in MKDOCS  # no font service either


def test_the_packages_are_in_dependency_order() -> None:
    order = [p.name for p in PACKAGES]
    for index, package in enumerate(PACKAGES):
        needs = {r.name for r in package.requirements} & workspace.workspace_names()
        assert needs <= set(order[:index]), (package.name, needs)
    assert order[0] == "antflow-core"
    assert workspace.workspace_closure("antflow")[-1].name == "antflow"


def test_the_dev_group_is_every_other_group_but_hatch() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = data["dependency-groups"]["dev"]
    assert dev == [{"include-group": g} for g in ("test", "lint", "docs", "release")]


# The import name of each dependency whose distribution name says otherwise.
IMPORT_NAMES = {"opentelemetry-api": "opentelemetry", "typing-extensions": "typing_extensions"}


def imported_roots(package: workspace.Package) -> set[str]:
    """The top-level modules ``package``'s own code imports (absolute imports only)."""
    roots: set[str] = set()
    for path in (package.directory / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_module_a_package_imports_is_the_standard_library_or_a_dependency(
    package: workspace.Package,
) -> None:
    declared = {
        IMPORT_NAMES.get(r.name, r.name.replace("-", "_"))
        for r in (*package.requirements, *package.optional_requirements)
    }
    own = {package.import_root}
    # _typeshed exists only for type checkers (imported under TYPE_CHECKING).
    undeclared = imported_roots(package) - own - declared - set(sys.stdlib_module_names)
    assert undeclared - {"_typeshed"} == set(), (
        f"packages/{package.name} imports {sorted(undeclared)}: add them to its "
        "[project] dependencies"
    )
