"""The example of the package README runs as written and exports what it says.

It sets OpenTelemetry's global tracer provider, so it runs in a process of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "packages" / "antflow-otel" / "README.md"


def test_the_readme_example_prints_the_spans_of_three_items(tmp_path: Path) -> None:
    [block] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    out = subprocess.run(
        [sys.executable, "-c", block],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert out[0] == "3 completed"
    assert sorted(out[1:]) == sorted(
        ["antflow.item", "antflow.stage Fetch", "antflow.task fetch"] * 3
    )
