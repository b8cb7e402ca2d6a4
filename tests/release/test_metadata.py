"""What a user gets from the package index: each sdist and wheel, built as a release is.

Every package of ``packages/`` is built once per session with hatchling (the build
backend its ``pyproject.toml`` names), into a temporary directory. Its core metadata must
carry the MIT licence expression and the licence file itself, the project URLs built from
``[tool.antflow]``, and the version its ``__version__`` says, the only place a version is
written. The tests read the versions from the sources, never a literal.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
import workspace

ROOT = workspace.ROOT
LICENSE = (ROOT / "LICENSE").read_text(encoding="utf-8")
PACKAGES = workspace.packages()
BUILD = """
import sys
import hatchling.build as backend
out = sys.argv[1]
print(backend.build_wheel(out))
print(backend.build_sdist(out))
"""


class Built:
    """The wheel and sdist of one package: their files, and what their metadata says."""

    def __init__(self, package: workspace.Package, out: Path) -> None:
        run = subprocess.run(
            [sys.executable, "-c", BUILD, str(out)],
            cwd=package.directory,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        wheel_name, sdist_name = run.stdout.split()[-2:]
        with zipfile.ZipFile(out / wheel_name) as wheel:
            self.wheel = {name: wheel.read(name) for name in wheel.namelist()}
        root = sdist_name.removesuffix(".tar.gz") + "/"
        with tarfile.open(out / sdist_name) as sdist:
            self.sdist = {
                member.name.removeprefix(root): extracted.read()
                for member in sdist.getmembers()
                if (extracted := sdist.extractfile(member)) is not None
            }
        (metadata_name,) = [n for n in self.wheel if n.endswith(".dist-info/METADATA")]
        self.dist_info = metadata_name.removesuffix("METADATA")
        self.metadata = Parser().parsestr(self.wheel[metadata_name].decode())
        self.sdist_metadata = Parser().parsestr(self.sdist["PKG-INFO"].decode())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    return {p.name: Built(p, tmp_path_factory.mktemp(p.name)) for p in PACKAGES}


def urls(metadata: Message) -> dict[str, str]:
    return dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_built_version_is_the_one_dunder_version_says(
    package: workspace.Package, built: dict[str, Built]
) -> None:
    # the installed module's __version__ (a primary-only package is not installed in the
    # other runs: there its source's)
    installed = importlib.util.find_spec(package.import_root) is not None
    module_version = (
        importlib.import_module(package.import_root).__version__ if installed else package.version
    )
    assert built[package.name].metadata["Version"] == module_version == package.version
    assert built[package.name].sdist_metadata["Version"] == module_version
    assert "version" in package.project.get("dynamic", []), (
        f"packages/{package.name}/pyproject.toml writes a version of its own: remove it and "
        'add dynamic = ["version"] (hatch reads __version__)'
    )


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_sdist_and_wheel_carries_the_mit_licence(
    package: workspace.Package, built: dict[str, Built]
) -> None:
    dist = built[package.name]
    for metadata in (dist.metadata, dist.sdist_metadata):
        assert metadata["License-Expression"] == "MIT"
        assert metadata.get_all("License-File") == ["LICENSE"]
    assert dist.wheel[f"{dist.dist_info}licenses/LICENSE"].decode() == LICENSE
    assert dist.sdist["LICENSE"].decode() == LICENSE
    assert LICENSE.startswith("MIT License\n\nCopyright (c) ")
    assert "the antflow authors" in LICENSE.splitlines()[2]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_package_names_its_home_docs_source_changelog_and_issues(
    package: workspace.Package, built: dict[str, Built]
) -> None:
    expected = workspace.project_urls(package)
    toml = "\n".join(f'{key} = "{value}"' for key, value in expected.items())
    message = f"write in packages/{package.name}/pyproject.toml:\n[project.urls]\n{toml}"
    assert urls(built[package.name].metadata) == expected, message
    assert urls(built[package.name].sdist_metadata) == expected, message


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_long_description_is_the_readme_and_the_python_versions_agree(
    package: workspace.Package, built: dict[str, Built]
) -> None:
    metadata = built[package.name].metadata
    readme = (package.directory / "README.md").read_text(encoding="utf-8")
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == readme
    oldest = workspace.supported_pythons()[0]
    assert metadata["Requires-Python"] == f">={oldest}"
    assert built[package.name].sdist["CHANGELOG.md"].startswith(b"# Changelog")
    assert f"{package.import_root}/py.typed" in built[package.name].wheel
