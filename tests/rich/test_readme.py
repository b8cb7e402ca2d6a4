"""The runnable examples of packages/antflow-rich/README.md run, and do what the text says."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from antflow_core.model import (
    DashboardSnapshot,
    FailureRecord,
    StageCounts,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
    compute_pipeline_stats,
    summarize_errors,
)
from antflow_rich import (
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    ProgressBarDisplay,
    ProgressView,
    RichDisplay,
    progress_line,
)
from rich.console import Console

PACKAGE = Path(__file__).resolve().parents[2] / "packages" / "antflow-rich"
README = PACKAGE / "README.md"
CHANGELOG = PACKAGE / "CHANGELOG.md"


def runnable_blocks() -> dict[str, str]:
    """The README's python blocks that run on their own, keyed by their first class or def."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    runnable = [b for b in blocks if "asyncio.run(main())" in b]
    named = {}
    for block in runnable:
        match = re.search(r"^class (\w+)", block, re.MULTILINE)
        named[match.group(1) if match else "usage"] = block
    return named


BLOCKS = runnable_blocks()


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "TTY_COMPATIBLE"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_readme_has_the_four_runnable_examples() -> None:
    assert set(BLOCKS) == {"usage", "Milestones", "StagesOnly", "Percent"}


def test_a_0_10_dashboard_runs_as_custom_dashboard() -> None:
    done = run(BLOCKS["Percent"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2] == "40/40"  # the final snapshot, rendered
    assert lines[-1] == "40 results, 0 failed"
    assert all(re.fullmatch(r"\d+/40", line) for line in lines[:-1])
    assert done.stderr == ""


def test_usage_example_shows_progress_and_its_summary() -> None:
    done = run(BLOCKS["usage"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "100 results\n"
    summary = done.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"antflow: 100 items in [\d.]+s \([\d.,]+ items/s\): 100 succeeded, 0 failed", summary
    )


def test_a_display_without_rich_gets_start_updates_and_finish() -> None:
    done = run(BLOCKS["Milestones"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "40 items through Work"
    assert lines[-1] == "done: 40 ok, 0 failed"
    assert done.stderr == ""


def test_a_rich_display_subclass_only_writes_render() -> None:
    done = run(BLOCKS["StagesOnly"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "50 results\n"
    assert re.fullmatch(
        r"two stages: 50 items in [\d.]+s \([\d.,]+ items/s\): 50 succeeded, 0 failed\n",
        done.stderr,
    )


# ------------------------------------------------------------ the README's captures

START = 1_700_000_000.0
NOW = START + 12.4
STAGES = ("Fetch", "Parse", "Save")


def readme_snapshot() -> DashboardSnapshot:
    """The moment the README shows: 542 of 1,000 pages ended after 12.4 s."""
    stats = compute_pipeline_stats(
        STAGES,
        [
            StageCounts(pending=40, in_progress=4, completed=561, failed=7, retried=23),
            StageCounts(pending=12, in_progress=2, completed=545, failed=2, skipped=18),
            StageCounts(pending=3, in_progress=2, completed=533, retried=1),
        ],
        fed=615,
        processed=533,
        failed=9,
    )
    busy = {
        "Fetch-W0": ("page-604", "fetch", "GET https://example.com/604 (2.1 kB)", 0.31),
        "Fetch-W1": ("page-605", "fetch", "retry 2/3 after timeout", 1.82),
        "Fetch-W2": ("page-607", "fetch", None, 0.05),
        "Fetch-W3": ("page-608", "fetch", None, 0.02),
        "Parse-W0": ("page-590", "parse", "tokenizing 18 kB", 0.12),
        "Save-W1": ("page-571", "save", "batch insert 3/4", 0.4),
    }
    done = {
        "Fetch-W0": (141, 2), "Fetch-W1": (139, 3), "Fetch-W2": (143, 1), "Fetch-W3": (145, 1),
        "Parse-W0": (282, 1), "Parse-W1": (263, 1), "Save-W0": (270, 0), "Save-W1": (263, 0),
    }  # fmt: skip
    mean = {"Fetch": 0.081, "Parse": 0.021, "Save": 0.044}
    states: dict[str, WorkerState] = {}
    metrics: dict[str, WorkerMetrics] = {}
    for name, (ok, failed) in done.items():
        stage, wid = name.split("-W")[0], int(name.split("-W")[1])
        if name in busy:
            item, task, status, held = busy[name]
            states[name] = WorkerState(
                name, stage, wid, WorkerStatus.BUSY, item, task, NOW - held, status
            )
        else:
            states[name] = WorkerState(name, stage, wid, WorkerStatus.IDLE)
        metrics[name] = WorkerMetrics(
            name, stage, wid, ok, failed, mean[stage] * (ok + failed), NOW - 0.1
        )
    url = "https://example.com/"
    failures = [
        ("page-13", f"{url}13: 503 Service Unavailable", "ConnectionError", "Fetch", 3, 1.2),
        ("page-88", f"{url}88: 404 Not Found", "HTTPError", "Fetch", 1, 3.0),
        ("page-137", f"{url}137: 503 Service Unavailable", "ConnectionError", "Fetch", 3, 4.4),
        ("page-201", "no <title> in document", "ValueError", "Parse", 1, 5.9),
        ("page-271", f"{url}271: 503 Service Unavailable", "ConnectionError", "Fetch", 3, 7.5),
        ("page-355", f"{url}355: read timed out", "TimeoutError", "Fetch", 3, 8.8),
        ("page-402", "no <title> in document", "ValueError", "Parse", 1, 9.9),
        ("page-490", f"{url}490: 503 Service Unavailable", "ConnectionError", "Fetch", 3, 11.1),
        ("page-577", f"{url}577: read timed out", "TimeoutError", "Fetch", 3, 12.0),
    ]
    records = [FailureRecord(i, m, t, s, a, START + at) for i, m, t, s, a, at in failures]
    return DashboardSnapshot(
        NOW, stats, states, metrics, summarize_errors(records, limit=20), START, STAGES
    )


def capture(display_type: type[RichDisplay], total: int | None = 1000) -> str:
    console = Console(record=True, width=100, height=40, file=io.StringIO(), color_system=None)
    display = display_type(console=console)
    display.start(total, STAGES)
    snap = readme_snapshot()
    console.print(display.render(display.view(snap), snap))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def text_blocks(path: Path) -> list[str]:
    blocks = re.findall(r"```text\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    return [textwrap.dedent(block).rstrip("\n") for block in blocks]


@pytest.mark.parametrize(
    ("display_type", "total"),
    [
        (ProgressBarDisplay, 1000),
        (ProgressBarDisplay, None),
        (CompactDashboard, 1000),
        (DetailedDashboard, 1000),
        (FullDashboard, 1000),
    ],
)
def test_the_readme_shows_what_each_display_draws(
    display_type: type[RichDisplay], total: int | None
) -> None:
    assert capture(display_type, total) in text_blocks(README)


@pytest.mark.parametrize(
    "display_type", [ProgressBarDisplay, CompactDashboard, DetailedDashboard, FullDashboard]
)
def test_the_changelog_shows_what_each_display_draws(display_type: type[RichDisplay]) -> None:
    assert capture(display_type) in text_blocks(CHANGELOG)


def test_the_readme_shows_the_plain_lines_printed_outside_a_terminal() -> None:
    snap = readme_snapshot()
    (plain,) = [block for block in text_blocks(README) if block.startswith("antflow: 542/")]
    assert plain.splitlines()[:2] == [
        progress_line(ProgressView.from_snapshot(snap, 1000)),
        progress_line(ProgressView.from_snapshot(snap, None)),
    ]
