"""Displays that fit the terminal: a crawler's 40 workers over 3 stages, with failures.

Each display is rendered into ``Console(record=True, width=W, height=H)`` as the live
display draws it; the text must keep the header, every stage and the recent errors,
and never be wider or taller than the terminal.
"""

from __future__ import annotations

import io

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
    DEGRADATION_STEPS,
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    ProgressBarDisplay,
    RichDisplay,
    plan_layout,
    share_rows,
)
from rich.console import Console

START = 1_000.0
STAGES = ("Fetch", "Parse", "Store")
WORKERS = {"Fetch": 30, "Parse": 4, "Store": 6}  # 40 workers, as in the crawler
SIZES = [(80, 24), (120, 40), (200, 60)]


def crawler() -> DashboardSnapshot:
    """12 s into a crawl of 1,000 pages: most workers busy, 9 recent failures."""
    stats = compute_pipeline_stats(
        STAGES,
        [
            StageCounts(pending=40, in_progress=26, completed=561, failed=7, retried=23),
            StageCounts(pending=12, in_progress=3, completed=545, failed=2, skipped=18),
            StageCounts(pending=3, in_progress=5, completed=533),
        ],
        fed=700,
        processed=533,
        failed=9,
    )
    states: dict[str, WorkerState] = {}
    metrics: dict[str, WorkerMetrics] = {}
    for stage, count in WORKERS.items():
        for wid in range(count):
            name = f"{stage}-W{wid}"
            if wid % 7 == 3:
                states[name] = WorkerState(name, stage, wid, WorkerStatus.IDLE)
            else:
                states[name] = WorkerState(
                    name,
                    stage,
                    wid,
                    WorkerStatus.BUSY,
                    f"https://example.com/page/{wid}",
                    stage.lower(),
                    START + 10.5,
                    f"{stage.lower()} step {wid}/10: reading the response body",
                )
            metrics[name] = WorkerMetrics(name, stage, wid, 20 + wid, wid % 2, 2.0, START + 11)
    failures = [
        FailureRecord(
            f"page-{900 + i}",
            "read timed out after 10.0 s while waiting for the server to answer",
            "TimeoutError" if i % 2 else "ConnectionError",
            "Fetch" if i % 3 else "Parse",
            3,
            START + i,
        )
        for i in range(9)
    ]
    return DashboardSnapshot(
        START + 12.0, stats, states, metrics, summarize_errors(failures, limit=20), START, STAGES
    )


DISPLAYS: dict[str, type[RichDisplay]] = {
    "progress-stages": ProgressBarDisplay,
    "compact": CompactDashboard,
    "detailed": DetailedDashboard,
    "full": FullDashboard,
}


def make(name: str, console: Console) -> RichDisplay:
    if name == "progress-stages":
        return ProgressBarDisplay(console=console, stages=True)
    return DISPLAYS[name](console=console)


def render(display: RichDisplay, console: Console, snap: DashboardSnapshot) -> list[str]:
    console.print(display.render(display.view(snap), snap))
    return [line.rstrip() for line in console.export_text().splitlines()]


def recorder(width: int, height: int) -> Console:
    return Console(record=True, width=width, height=height, file=io.StringIO(), color_system=None)


def stage_row(lines: list[str], stage: str) -> str:
    (row,) = [line for line in lines if line.split()[:1] == [stage]]
    return row


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", list(DISPLAYS))
def test_each_display_fits_the_terminal_and_keeps_header_stages_and_errors(
    name: str, width: int, height: int
) -> None:
    console = recorder(width, height)
    display = make(name, console)
    display.start(1000, STAGES)
    lines = render(display, console, crawler())
    assert len(lines) <= height, "\n".join(lines)
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    text = "\n".join(lines)
    assert "542/1,000" in text  # the header: the run's progress
    if name == "compact":
        assert "Failed 9" in text
        return
    for stage, expected in (("Fetch", "568/1,000"), ("Parse", "565/993"), ("Store", "533/991")):
        row = stage_row(lines, stage)  # a row per stage, with its bar and its count
        assert "━" in row
        assert expected in row
    if name == "progress-stages":
        assert "9 failed" in lines[0]
        return
    # the recent errors: a panel in the full dashboard, a line in the detailed one
    assert "Recent errors (9 failed)" in text
    if name == "full":
        assert "By type: ConnectionError: 5, TimeoutError: 4" in text
        (latest,) = [line for line in lines if "page-908" in line]  # the latest failure
        assert "TimeoutError" in latest or "ConnectionError" in latest


@pytest.mark.parametrize("name", ["detailed", "full"])
@pytest.mark.parametrize(("width", "height"), [(120, 40), (200, 60)])
def test_every_stages_workers_get_a_share_of_the_rows(name: str, width: int, height: int) -> None:
    console = recorder(width, height)
    display = make(name, console)
    display.start(1000, STAGES)
    lines = render(display, console, crawler())
    for stage, count in WORKERS.items():
        rows = [line for line in lines if line.startswith(f"{stage}-W")]
        more = [line for line in lines if line.startswith("… ") and f" {stage} worker" in line]
        assert rows, f"no {stage} worker shown:\n" + "\n".join(lines)
        assert len(rows) + (int(more[0].split()[1]) if more else 0) == count
        # busy workers first: the idle ones (W3, W10, ...) only once the busy ones are listed
        states = [line.split()[1] for line in rows]
        assert states == sorted(states, key=lambda state: state != "busy")


def test_the_worker_lines_taken_are_what_the_terminal_leaves() -> None:
    counts = []
    for height in (30, 40, 50, 60):
        console = recorder(120, height)
        counts.append(len(render(make("detailed", console), console, crawler())))
    assert counts == [30, 40, 50, 55]  # up to all 40 workers (55 lines), never more


def test_degradation_follows_the_documented_order() -> None:
    steps = []
    for height in range(80, 0, -1):
        plan = plan_layout(height, stages=3, workers=[30, 4, 6], errors="panel", error_rows=5)
        steps.append(plan.step)
        if plan.height <= height:
            assert (
                plan.step == 0
                or plan_layout(
                    height + 1, stages=3, workers=[30, 4, 6], errors="panel", error_rows=5
                ).step
                <= plan.step
            )
        else:
            assert plan.step == len(DEGRADATION_STEPS) - 1  # nothing fits: the smallest form
    assert steps == sorted(steps)  # less room never brings a detail back
    assert sorted(set(steps)) == [0, 1, 2, 3, 4, 5, 6]  # every step is taken in turn
    smallest = plan_layout(1, stages=3, workers=[30, 4, 6], errors="panel")
    # header line + stage header + 3 stage rows + errors line: all that is always kept
    assert smallest.height == 6
    assert (smallest.header_panel, smallest.stage_titles, smallest.worker_rows) == (
        False,
        False,
        None,
    )
    assert smallest.error_rows == 0


@pytest.mark.parametrize(
    ("height", "kept", "dropped"),
    [
        (60, ["Workers", "Recent errors (9 failed) ─", "╭─ antflow"], []),
        (24, ["Stages", "Recent errors (9 failed) ─", "╭─ antflow"], ["Workers"]),
        (15, ["Stages", "Recent errors (9 failed) ─", "antflow ━"], ["Workers", "╭─ antflow"]),
        (11, ["Recent errors (9 failed) ─"], ["Workers", "Stages"]),
        (7, ["Recent errors (9 failed): ", "Fetch "], ["Workers", "Stages", "By type"]),
    ],
)
def test_the_full_dashboard_gives_up_the_workers_first_then_shortens_the_panels(
    height: int, kept: list[str], dropped: list[str]
) -> None:
    console = recorder(100, height)
    display = make("full", console)
    display.start(1000, STAGES)
    lines = render(display, console, crawler())
    text = "\n".join(lines)
    assert len(lines) <= height, text
    for part in kept:
        assert part in text, f"{part!r} missing at height {height}:\n{text}"
    for part in dropped:
        assert part not in text, f"{part!r} still there at height {height}:\n{text}"
    for stage in STAGES:
        stage_row(lines, stage)


def test_share_rows_gives_every_stage_lines_in_turn() -> None:
    assert share_rows([30, 4, 6], 100) == [30, 4, 6]  # all fit
    assert share_rows([30, 4, 6], 9) == [2, 2, 2]  # + a "more" line each
    assert share_rows([30, 4, 6], 3) == [0, 0, 0]  # only the "more" lines
    assert share_rows([30, 4, 6], 2) is None  # not even those
    shown = share_rows([30, 4, 6], 20)
    assert shown == [9, 4, 6]  # Parse and Store complete (no "more" line), Fetch goes on
    assert shown is not None
    assert sum(shown) + sum(1 for s, c in zip(shown, [30, 4, 6], strict=True) if s < c) == 20


def test_resizing_the_terminal_reflows_the_same_display() -> None:
    console = recorder(200, 60)
    display = make("full", console)
    display.start(1000, STAGES)
    snap = crawler()
    frame = display.render(display.view(snap), snap)  # one renderable, drawn twice
    console.print(frame)
    wide = console.export_text(clear=True).splitlines()
    console.size = (80, 24)  # what a resize of the terminal does to rich's console
    console.print(frame)
    narrow = console.export_text().splitlines()
    assert any(line.startswith("Fetch-W0") for line in wide)
    assert len(wide) <= 60
    assert max(map(len, wide)) > 80
    assert not any(line.startswith("Fetch-W0") for line in narrow)
    assert len(narrow) <= 24
    assert max(map(len, narrow)) <= 80
    assert "Recent errors (9 failed)" in "\n".join(narrow)
