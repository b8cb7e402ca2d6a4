"""`pip install antflow-core` alone, in an empty virtualenv, gives a working Pipeline.

Features of other packages (displays, the builders, telemetry) fail with an error that
names the package to install, and nothing optional (rich, opentelemetry) is imported.
"""

from __future__ import annotations

import subprocess
import textwrap
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import importlib.util
    import sys

    NAMES = ("rich", "antflow", "antflow_tracker", "antflow_builders", "antflow_rich",
             "antflow_otel", "opentelemetry")

    from antflow_core import ExtensionNotInstalledError, Pipeline, Stage

    async def double(x):
        await asyncio.sleep(0)
        if x == 3:
            raise ValueError("three")
        return x * 2

    async def main():
        pipeline = Pipeline(stages=[Stage("Double", workers=2, tasks=[double],
                                          task_attempts=2, task_wait_seconds=0)])
        results = await pipeline.run(range(5))
        print("results", [r.value for r in results])
        print("failed", [f.id for f in pipeline.failures])
        try:
            await Pipeline(stages=[Stage("S", tasks=[double])]).run([1], progress=True)
        except ExtensionNotInstalledError as error:
            print("progress:", error)
        try:
            Pipeline.create()
        except ExtensionNotInstalledError as error:
            print("create:", error)
        try:
            Pipeline(stages=[Stage("S", tasks=[double])], telemetry=True)
        except ExtensionNotInstalledError as error:
            print("telemetry:", error)

    for name in NAMES:
        print(name, "installed" if importlib.util.find_spec(name) else "absent")
    asyncio.run(main())
    print("imported:", sorted({m.split(".")[0] for m in sys.modules} & set(NAMES)))

    # The conformance kit ships in antflow-core and needs neither pytest nor hypothesis.
    for name in ("pytest", "hypothesis"):
        print(name, "installed" if importlib.util.find_spec(name) else "absent")
    from antflow_core.testing import check_runtime_async, pipeline_driver

    report = asyncio.run(check_runtime_async(pipeline_driver(), count=10))
    print("kit:", report.scenarios, "scenarios passed")
    """
)


def test_the_core_installs_and_runs_alone(tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT / "packages" / "antflow-core"),
        ],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [str(python), "-c", SCRIPT], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert "results [0, 2, 4, 8]" in out
    assert "failed [3]" in out
    names = ("rich", "antflow", "antflow_tracker", "antflow_builders", "antflow_rich")
    for name in (*names, "antflow_otel", "opentelemetry"):
        assert f"{name} absent" in out
    assert "progress: progress displays come from the antflow-rich package" in out
    assert "pip install antflow-rich" in out
    assert "create: Pipeline.create() comes from the antflow-builders package" in out
    assert "telemetry: telemetry=True comes from the antflow-otel package" in out
    assert "pip install antflow-otel (or pip install antflow[otel])" in out
    assert "imported: []" in out  # nothing optional was imported, opentelemetry above all
    assert "pytest absent" in out
    assert "hypothesis absent" in out
    assert "kit: 10 scenarios passed" in out
