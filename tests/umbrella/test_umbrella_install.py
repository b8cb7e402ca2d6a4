"""``pip install antflow`` gives one cheap import of the whole API, as the seeds use it.

Every check runs in the session's fresh virtualenv (see ``conftest.py``), where the five
distributions were pip-installed from the workspace, not in the development ``.venv``.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import workspace

RunScript = Callable[[str, Path], subprocess.CompletedProcess[str]]  # the fixture's type

# The dependencies of the antflow distributions: importing antflow may import these and
# the standard library, nothing else (above all not rich, which only a display needs).
ALLOWED_THIRD_PARTY = {
    "antflow",
    "antflow_builders",
    "antflow_core",
    "antflow_tracker",
    "returns",
    "tenacity",
    "typing_extensions",
}


# Public names of the packages that ``antflow`` does not re-export, and why. The test
# fails when one of them becomes exported (remove it from here), when a package gains a
# public name that is neither exported nor listed (export it, or list it with a reason),
# and when a name listed here is public in no package any more.
NOT_REEXPORTED: dict[str, str] = {}


WHAT_IMPORT_LOADS = """
import json, sys
before = set(sys.modules)
import antflow
loaded = set(sys.modules) - before
print(json.dumps(sorted({m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names))))
"""


def test_import_antflow_loads_only_its_dependencies_and_never_rich(
    run_in_umbrella: RunScript, tmp_path: Path
) -> None:
    run = run_in_umbrella(WHAT_IMPORT_LOADS, tmp_path)
    assert run.returncode == 0, run.stderr
    imported = set(json.loads(run.stdout))
    assert "rich" not in imported
    assert "antflow_rich" not in imported
    assert imported <= ALLOWED_THIRD_PARTY, imported - ALLOWED_THIRD_PARTY
    assert {"antflow", "antflow_core", "antflow_builders", "antflow_tracker"} <= imported


def test_a_display_imports_rich_only_when_asked_for(
    run_in_umbrella: RunScript, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import asyncio, sys
        from antflow import Pipeline, Stage

        async def double(x):
            return 2 * x

        async def main():
            pipeline = Pipeline(stages=[Stage("Double", workers=2, tasks=[double])])
            plain = await pipeline.run(range(5))
            print("rich after a plain run:", "rich" in sys.modules)
            shown = await pipeline.run(range(5), progress=True)
            print("rich after progress=True:", "rich" in sys.modules)
            print("results:", [r.value for r in plain], [r.value for r in shown])

        asyncio.run(main())
        """
    )
    run = run_in_umbrella(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "rich after a plain run: False",
        "rich after progress=True: True",
        "results: [0, 2, 4, 6, 8] [0, 2, 4, 6, 8]",
    ]
    assert "5 items in" in run.stderr  # the progress display's summary line


def test_antflow_rich_names_load_rich_on_first_use(
    run_in_umbrella: RunScript, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import sys
        import antflow
        print("rich after import antflow:", "rich" in sys.modules)
        from antflow import FullDashboard
        print("rich after FullDashboard:", "rich" in sys.modules)
        import antflow_rich
        print("same object:", FullDashboard is antflow_rich.FullDashboard)
        """
    )
    run = run_in_umbrella(code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "rich after import antflow: False",
        "rich after FullDashboard: True",
        "same object: True",
    ]


def test_every_exported_name_is_the_object_its_package_defines(
    run_in_umbrella: RunScript, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import importlib, json
        import antflow

        packages = ["antflow_core", "antflow_tracker", "antflow_builders", "antflow_rich"]
        modules = {name: importlib.import_module(name) for name in packages}
        origin, mismatched = {}, []
        for name in antflow.__all__:
            value = getattr(antflow, name)  # AttributeError if __all__ lies
            if name == "__version__":
                continue
            homes = [p for p, m in modules.items() if name in getattr(m, "__all__", ())]
            origin[name] = homes
            if homes and all(getattr(modules[p], name) is not value for p in homes):
                mismatched.append(name)
        public = {p: sorted(n for n in m.__all__ if n != "__version__") for p, m in modules.items()}
        print(json.dumps({
            "all": antflow.__all__,
            "origin": origin,
            "mismatched": mismatched,
            "public": public,
            "pipeline_is_core_subclass": issubclass(
                antflow.Pipeline, modules["antflow_core"].Pipeline
            ),
            "pipeline_is_builders": antflow.Pipeline is modules["antflow_builders"].Pipeline,
            "version": antflow.__version__,
            "unique": len(set(antflow.__all__)) == len(antflow.__all__),
        }))
        """
    )
    run = run_in_umbrella(code, tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["mismatched"] == []
    assert report["unique"], "antflow.__all__ lists a name twice"  # ruff (RUF022) keeps it sorted
    orphans = [name for name, homes in report["origin"].items() if not homes]
    assert orphans == [], f"exported by antflow but public in no package: {orphans}"
    assert report["pipeline_is_builders"]
    assert report["pipeline_is_core_subclass"]
    # the workspace's version, the successor of the published antflow 0.10.0
    assert report["version"] == workspace.package("antflow").version
    assert workspace.version_key(report["version"]) > (0, 10)

    exported = set(report["all"])
    missing = []
    stale = []
    for package, names in report["public"].items():
        for name in names:
            key = name if package == "antflow_rich" else f"{package}.{name}"
            listed = key in NOT_REEXPORTED
            if name in exported and listed:
                stale.append(key)
            elif name not in exported and not listed:
                missing.append(key)
    assert missing == [], f"public names antflow does not re-export: {missing}"
    public_keys = {
        name if package == "antflow_rich" else f"{package}.{name}"
        for package, names in report["public"].items()
        for name in names
    }
    unknown = sorted(set(NOT_REEXPORTED) - public_keys)
    assert unknown == [], f"NOT_REEXPORTED lists names no package has: {unknown}"
    assert stale == [], f"now re-exported, remove from NOT_REEXPORTED: {stale}"


def test_the_installed_distributions_are_typed_and_wired(
    run_in_umbrella: RunScript, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import json
        import re
        from importlib import metadata, resources

        roots = ["antflow", "antflow_core", "antflow_tracker", "antflow_builders", "antflow_rich"]
        print(json.dumps({
            "typed": {r: resources.files(r).joinpath("py.typed").is_file() for r in roots},
            "requires": sorted(r.split(">")[0].split("<")[0].strip()
                               for r in metadata.requires("antflow") or [] if ";" not in r),
            "extras": sorted(r.split(">")[0].split("<")[0].strip() + " in "
                             + re.search(r"extra\\s*==\\s*.(\\w+).", r).group(1)
                             for r in metadata.requires("antflow") or [] if ";" in r),
            "displays": sorted(ep.name for ep in metadata.entry_points(group="antflow.displays")),
            "versions": {d: metadata.version(d) for d in [
                "antflow", "antflow-core", "antflow-tracker", "antflow-builders", "antflow-rich"
            ]},
        }))
        """
    )
    run = run_in_umbrella(code, tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert all(report["typed"].values()), report["typed"]
    assert report["requires"] == [
        "antflow-builders",
        "antflow-core",
        "antflow-rich",
        "antflow-tracker",
    ]
    # pip install antflow[otel] adds the OpenTelemetry observer and antflow[ray] RayPipeline;
    # plain antflow installs neither.
    assert report["extras"] == ["antflow-otel in otel", "antflow-ray in ray"]
    assert report["displays"] == ["compact", "detailed", "full", "progress"]
    # each distribution at its own version, the one its __version__ says
    assert report["versions"] == {d: workspace.package(d).version for d in report["versions"]}
