"""The examples of the package README run as written and print what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "packages" / "antflow-tracker" / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_readme_has_its_examples() -> None:
    assert len(python_blocks()) == 2


@pytest.mark.usefixtures("instant_retry_waits")
def test_the_quick_example_prints_counts_errors_and_a_history(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exec(compile(python_blocks()[0], str(README), "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line for line in lines if line.startswith("Item ")) == [
        f"Item {i} failed at Fetch: item {i} refused" for i in (13, 23, 3)
    ]
    assert "27 completed, 3 failed" in lines
    assert "{'ConnectionError': 3}" in lines
    assert [line.split()[-1] for line in lines[-4:]] == [
        "queued",
        "in_progress",
        "retrying",
        "failed",
    ]


def test_the_bounded_tracker_example_builds_a_bounded_tracker() -> None:
    namespace: dict[str, object] = {}
    exec(python_blocks()[1], namespace)
    tracker = namespace["tracker"]
    assert repr(tracker) == "<StatusTracker items=0 events=0 history=1 keep_finished=False>"
