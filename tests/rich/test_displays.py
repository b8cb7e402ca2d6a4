"""What each display draws, and how it behaves in a terminal and outside one.

Snapshots here are built by hand, so every number on screen is known; the displays are
driven by calling start/update/finish directly, as the core's DisplayDriver does.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence

import pytest
from antflow_core.model import (
    DashboardSnapshot,
    FailureRecord,
    ProgressDisplay,
    StageCounts,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
    compute_pipeline_stats,
    summarize_errors,
)
from antflow_core.runtime import load_display_factory
from antflow_rich import (
    CompactDashboard,
    DetailedDashboard,
    FullDashboard,
    PlainTable,
    ProgressBarDisplay,
    ProgressView,
    RichDisplay,
    errors_panel,
    worker_table,
)
from rich.console import Console, RenderableType
from rich.text import Text

START = 1_000.0
STAGES = ("Fetch", "Save")


def snapshot(
    *,
    elapsed: float = 10.0,
    processed: int = 497,
    failed: int = 3,
    fed: int = 512,
    busy: Sequence[tuple[str, object, str, str | None, float]] = (),
    workers: int = 2,
    failures: Sequence[FailureRecord] = (),
) -> DashboardSnapshot:
    """A two-stage pipeline ``elapsed`` seconds after it started at ``START``.

    ``busy`` lists (worker, item id, task, task status, busy since) for busy workers.
    """
    now = START + elapsed
    stats = compute_pipeline_stats(
        STAGES,
        [
            StageCounts(pending=7, in_progress=2, completed=505, failed=3, retried=4),
            StageCounts(pending=1, in_progress=1, completed=497, skipped=2),
        ],
        fed=fed,
        processed=processed,
        failed=failed,
    )
    states: dict[str, WorkerState] = {}
    metrics: dict[str, WorkerMetrics] = {}
    busy_by_name = {b[0]: b for b in busy}
    for stage in STAGES:
        for wid in range(workers):
            name = f"{stage}-W{wid}"
            if name in busy_by_name:
                _, item, task, status, since = busy_by_name[name]
                states[name] = WorkerState(
                    name, stage, wid, WorkerStatus.BUSY, item, task, since, status
                )
            else:
                states[name] = WorkerState(name, stage, wid, WorkerStatus.IDLE)
            metrics[name] = WorkerMetrics(name, stage, wid, 250 + wid, wid, 2.5, now - 1)
    return DashboardSnapshot(
        timestamp=now,
        stats=stats,
        worker_states=states,
        worker_metrics=metrics,
        error_summary=summarize_errors(failures, limit=20),
        started_at=START,
        stage_names=STAGES,
    )


FAILURES = [
    FailureRecord(17, "host 17 unreachable", "ConnectionError", "Fetch", 3, START + 4.0),
    FailureRecord(42, "bad payload", "ValueError", "Save", 1, START + 8.5),
    FailureRecord("user-99", "timed out after 5s", "TimeoutError", "Fetch", 3, START + 9.0),
]

BUSY = [
    ("Fetch-W0", "page-12", "fetch", "polling batch 3/10", START + 7.5),
    ("Save-W1", 11, "save", None, START + 9.75),
]


def recorder(width: int = 120) -> Console:
    """A console that records what is printed and is not a terminal."""
    return Console(record=True, width=width, file=io.StringIO(), color_system=None)


def terminal(width: int = 120) -> tuple[Console, io.StringIO]:
    """A console that believes it writes to a terminal, and the raw bytes it wrote."""
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, height=50), out


def draw(display: RichDisplay, snap: DashboardSnapshot, total: int | None = 1000) -> str:
    """Render one frame of ``display`` for ``snap`` and return its text."""
    console = recorder()
    display.start(total, snap.stage_names)
    console.print(display.render(display.view(snap), snap))
    return console.export_text()


def strip_ansi(raw: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)


def lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# ------------------------------------------------------------------- each display


def test_progress_bar_shows_done_total_percent_rate_eta_and_failures() -> None:
    text = draw(ProgressBarDisplay(console=recorder()), snapshot())
    (line,) = text.strip().splitlines()
    assert line.startswith("antflow ━")
    assert "500/1,000  50%" in line
    assert "50.0 items/s" in line  # 500 ended in 10 s
    assert "ETA 10.0s" in line  # 500 left at 50/s
    assert "3 failed" in line


def test_progress_bar_with_an_unknown_total_shows_items_done_and_elapsed_time() -> None:
    text = draw(ProgressBarDisplay(console=recorder()), snapshot(elapsed=4.0), total=None)
    assert "500 done" in text
    assert "elapsed 4.0s" in text
    assert "125.0 items/s" in text
    assert "ETA" not in text
    assert "%" not in text


def test_compact_dashboard_is_one_panel_of_progress_rate_eta_and_counts() -> None:
    text = draw(CompactDashboard(console=recorder(), description="crawl"), snapshot())
    assert text.splitlines()[0].startswith("╭─ crawl ─")
    assert "500/1,000 50%" in text
    assert "Rate 50.0 items/s · ETA 10.0s · Elapsed 10.0s" in text
    assert "Succeeded 497 · Failed 3 · In flight 12 · Fed 512 · Retries 4" in text
    assert "Stages" not in text
    assert "Workers" not in text


def test_compact_dashboard_counts_unfinished_items_only_when_there_are_some() -> None:
    snap = snapshot()
    stats = compute_pipeline_stats(
        STAGES, [StageCounts(), StageCounts()], fed=512, processed=497, failed=3, unfinished=12
    )
    stopped = DashboardSnapshot(snap.timestamp, stats, {}, {}, snap.error_summary, START, STAGES)
    assert "Unfinished 12" in draw(CompactDashboard(console=recorder()), stopped)
    assert "Unfinished" not in draw(CompactDashboard(console=recorder()), snap)


def test_detailed_dashboard_adds_a_row_per_stage_and_per_worker() -> None:
    text = draw(DetailedDashboard(console=recorder()), snapshot(busy=BUSY))
    assert "Succeeded 497" in text  # the compact panel is still there
    header = lines_with(text, "Queued")[0]
    assert re.findall(r"\w+", header) == [
        "Stage", "Progress", "Done", "Queued", "Active", "Failed", "Skipped", "Retries"
    ]  # fmt: skip
    # Done: completed + failed + skipped at the stage, of the items expected to reach it
    # (1,000 at Fetch; 997 at Save, the 3 that failed at Fetch never get there);
    # Active: items held, of the stage's workers
    (fetch,) = [line for line in lines_with(text, "Fetch") if "Fetch-W" not in line]
    assert re.findall(r"[\w/,]+", fetch) == ["Fetch", "508/1,000", "7", "2/2", "3", "0", "4"]
    assert "━" in fetch  # its bar
    (save,) = [line for line in lines_with(text, "Save") if "Save-W" not in line]
    assert re.findall(r"[\w/,]+", save) == ["Save", "499/997", "1", "1/2", "0", "2", "0"]
    workers = {line.split()[0]: line for line in lines_with(text, "-W")}
    assert set(workers) == {"Fetch-W0", "Fetch-W1", "Save-W0", "Save-W1"}
    # worker, state, done, failed, mean time (2.5 s over 251 items)
    assert re.findall(r"[\w.-]+", workers["Fetch-W1"]) == ["Fetch-W1", "idle", "251", "1", "10ms"]
    assert re.findall(r"[\w.-]+", workers["Fetch-W0"])[:2] == ["Fetch-W0", "busy"]
    # the detailed dashboard does not say what the busy workers are doing
    assert "polling batch" not in text
    assert "Recent errors" not in text


def test_full_dashboard_shows_each_busy_workers_item_task_and_published_status() -> None:
    text = draw(FullDashboard(console=recorder()), snapshot(busy=BUSY, failures=FAILURES))
    assert "Item" in lines_with(text, "Busy for")[0]
    (fetch0,) = lines_with(text, "Fetch-W0")
    # worker, state, done, failed, mean time, item, task, busy for, published status
    assert re.findall(r"[\w./-]+", fetch0) == [
        "Fetch-W0", "busy", "250", "0", "10ms", "page-12", "fetch", "2.50s",
        "polling", "batch", "3/10",
    ]  # fmt: skip
    (save1,) = lines_with(text, "Save-W1")
    assert re.findall(r"[\w./-]+", save1)[5:] == ["11", "save", "250ms"]
    (idle,) = lines_with(text, "Save-W0")
    assert "idle" in idle


def test_full_dashboard_lists_recent_errors_newest_first_with_counts_by_type() -> None:
    text = draw(FullDashboard(console=recorder()), snapshot(failures=FAILURES))
    assert "Recent errors (3 failed)" in text
    rows = [line for line in text.splitlines() if " ago " in line]
    assert [re.findall(r"[\w.-]+", row)[:3] for row in rows] == [
        ["user-99", "Fetch", "TimeoutError"],
        ["42", "Save", "ValueError"],
        ["17", "Fetch", "ConnectionError"],
    ]
    assert "timed out after 5s" in rows[0]
    assert "1.00s ago" in rows[0]  # failed at 9.0, snapshot taken at 10.0
    # item, stage, error, attempts, age, message
    assert re.findall(r"[\w.]+", rows[2]) == [
        "17", "Fetch", "ConnectionError", "3", "6.00s", "ago", "host", "17", "unreachable"
    ]  # fmt: skip
    assert "By type: ConnectionError: 1, TimeoutError: 1, ValueError: 1" in text


def test_full_dashboard_caps_the_recent_errors() -> None:
    many = [
        FailureRecord(i, f"boom {i}", "ValueError", "Fetch", 1, START + i / 10) for i in range(30)
    ]
    text = draw(FullDashboard(console=recorder(), max_error_rows=2), snapshot(failures=many))
    assert "Recent errors (30 failed)" in text
    assert "boom 29" in text
    assert "boom 28" in text
    assert "boom 27" not in text
    assert "By type: ValueError: 30" in text


def test_errors_panel_without_failures_says_so() -> None:
    console = recorder()
    console.print(errors_panel(snapshot(failed=0, processed=500)))
    assert "No failures so far" in console.export_text()


def test_worker_table_shares_max_rows_between_the_stages_and_counts_the_rest() -> None:
    console = recorder()
    console.print(worker_table(snapshot(workers=10, busy=BUSY), max_rows=7))
    body = console.export_text().splitlines()[3:]
    # each stage: its busy workers first, then a line counting the rest
    # 7 lines: a line each to count the rest, then rows taken in turn (3 for Fetch, 2 for Save)
    assert body == [
        "Fetch-W0  busy    250       0  10ms",
        "Fetch-W1  idle    251       1  10ms",
        "Fetch-W2  idle    252       2  10ms",
        "… 7 more Fetch workers (0 busy)",
        "Save-W1   busy    251       1  10ms",
        "Save-W0   idle    250       0  10ms",
        "… 8 more Save workers (0 busy)",
    ]
    console = recorder()
    console.print(worker_table(snapshot(workers=10, busy=BUSY), max_rows=2))
    assert console.export_text().splitlines()[3:] == [
        "… 10 Fetch workers (1 busy)",
        "… 10 Save workers (1 busy)",
    ]


def test_every_display_is_a_progress_display() -> None:
    displays: list[RichDisplay] = [
        ProgressBarDisplay(),
        CompactDashboard(),
        DetailedDashboard(),
        FullDashboard(),
    ]
    for display in displays:
        assert isinstance(display, ProgressDisplay)


@pytest.mark.parametrize(
    ("name", "cls", "default"),
    [
        ("progress", ProgressBarDisplay, 0.1),
        ("compact", CompactDashboard, 0.25),
        ("detailed", DetailedDashboard, 1.0),
        ("full", FullDashboard, 1.0),
    ],
)
def test_entry_points_build_each_display_with_the_asked_refresh_interval(
    name: str, cls: type[RichDisplay], default: float
) -> None:
    factory = load_display_factory(name)
    display = factory(refresh_interval=None)
    assert type(display) is cls
    assert display.refresh_interval == default
    assert factory(refresh_interval=2.5).refresh_interval == 2.5


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_a_bad_refresh_interval_says_what_to_pass(bad: object) -> None:
    with pytest.raises(ValueError, match=r"refresh_interval must be a number of seconds > 0"):
        CompactDashboard(refresh_interval=bad)  # type: ignore[arg-type]


def test_bad_limits_say_what_to_pass() -> None:
    with pytest.raises(ValueError, match=r"plain_interval must be a number of seconds > 0"):
        ProgressBarDisplay(plain_interval=0)
    with pytest.raises(ValueError, match=r"max_worker_rows must be an int >= 1"):
        DetailedDashboard(max_worker_rows=0)
    with pytest.raises(ValueError, match=r"max_error_rows must be an int >= 1"):
        FullDashboard(max_error_rows=0)
    with pytest.raises(TypeError, match=r"description must be a str"):
        ProgressBarDisplay(description=None)  # type: ignore[arg-type]


# ---------------------------------------------------------- outside a terminal


def test_outside_a_terminal_it_prints_one_plain_line_per_interval_and_the_summary() -> None:
    console = recorder()
    display = CompactDashboard(console=console, plain_interval=10.0)
    assert not display.is_terminal
    display.start(1000, STAGES)
    for second in range(1, 26):  # 25 refreshes, one per second of the run
        display.update(snapshot(elapsed=float(second), processed=second * 20, failed=0))
    display.finish(snapshot(elapsed=26.0, processed=990, failed=10, fed=1000))
    assert console.export_text().splitlines() == [
        "antflow: 200/1,000 (20%) | 20.0 items/s | ETA 40.0s | 0 failed | 312 in flight",
        "antflow: 400/1,000 (40%) | 20.0 items/s | ETA 30.0s | 0 failed | 112 in flight",
        "antflow: 1,000 items in 26.0s (38.5 items/s): 990 succeeded, 10 failed",
    ]


def test_outside_a_terminal_no_escape_code_is_written() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100)  # a plain file: rich sees no terminal
    display = FullDashboard(console=console, plain_interval=5.0)
    display.start(1000, STAGES)
    for second in range(1, 12):
        display.update(snapshot(elapsed=float(second), busy=BUSY, failures=FAILURES))
    display.finish(snapshot(elapsed=12.0, failures=FAILURES))
    written = out.getvalue()
    assert "\x1b" not in written
    assert len(written.splitlines()) == 3  # two progress lines and the summary
    assert written.splitlines()[-1].startswith("antflow: 500 of 1,000 items in 12.0s")


def test_plain_interval_none_prints_only_the_summary() -> None:
    console = recorder()
    display = ProgressBarDisplay(console=console, plain_interval=None)
    display.start(None, STAGES)
    for second in range(1, 100):
        display.update(snapshot(elapsed=float(second)))
    display.finish(snapshot(elapsed=100.0, processed=500, failed=0, fed=500))
    assert console.export_text().splitlines() == [
        "antflow: 500 items in 1m40s (5.0 items/s): 500 succeeded, 0 failed"
    ]


def test_summary_false_prints_nothing_at_the_end() -> None:
    console = recorder()
    display = ProgressBarDisplay(console=console, summary=False)
    display.start(10, STAGES)
    display.finish(snapshot())
    assert console.export_text() == ""


# ----------------------------------------------------------------- in a terminal


def test_in_a_terminal_it_redraws_in_place_then_leaves_the_last_frame_and_the_summary() -> None:
    console, out = terminal()
    display = ProgressBarDisplay(console=console)
    assert display.is_terminal
    display.start(1000, STAGES)
    assert "0/1,000" in strip_ansi(out.getvalue())  # the first frame is drawn at once
    display.update(snapshot(elapsed=5.0, processed=250, failed=0))
    display.finish(snapshot(elapsed=10.0, processed=995, failed=5, fed=1000))
    raw = out.getvalue()
    assert "\x1b[?25l" in raw  # cursor hidden while drawing...
    assert raw.rstrip().endswith("5 failed")  # ...the summary is the last thing written
    assert "\x1b[?25h" in raw[raw.index("100%") :]  # ...and the cursor comes back
    assert raw.count("\x1b[2K") == 2  # the two later frames each erase the one before
    plain = strip_ansi(raw)
    assert "250/1,000" in plain
    assert "1,000/1,000 100%" in plain
    assert plain.rstrip().splitlines()[-1] == (
        "antflow: 1,000 items in 10.0s (100.0 items/s): 995 succeeded, 5 failed"
    )


def test_after_finish_the_console_is_free_for_the_next_display() -> None:
    console, out = terminal()
    first = CompactDashboard(console=console)
    first.start(10, STAGES)
    first.finish(snapshot())
    second = CompactDashboard(console=console, description="second run")
    second.start(10, STAGES)  # raises if the first one still held the console's live region
    second.finish(snapshot())
    assert "second run" in out.getvalue()


class Exploding(RichDisplay):
    """Renders once, then raises."""

    def __init__(self, console: Console) -> None:
        super().__init__(console=console)
        self.frames = 0

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        self.frames += 1
        if self.frames > 1:
            raise RuntimeError("render bug")
        return Text(f"{view.done} done")


def test_a_display_that_fails_to_render_gives_the_terminal_back() -> None:
    console, out = terminal()
    display = Exploding(console)
    original_stdout = sys.stdout
    display.start(10, STAGES)
    with pytest.raises(RuntimeError, match="render bug"):
        display.update(snapshot())
    assert out.getvalue().endswith("\x1b[?25h")  # cursor shown again
    assert sys.stdout is original_stdout
    display.finish(snapshot())  # still prints the summary, without redrawing
    assert out.getvalue().rstrip().endswith("3 failed")


def test_starting_again_restarts_the_counts_and_the_plain_line_timer() -> None:
    console = recorder()
    display = ProgressBarDisplay(console=console, plain_interval=10.0)
    display.start(1000, STAGES)
    display.update(snapshot(elapsed=9.0))
    display.start(None, ("Only",))
    assert display.total is None
    assert display.stage_names == ("Only",)
    assert display.last_snapshot is None
    display.update(snapshot(elapsed=9.5))
    assert console.export_text() == ""


# ---------------------------------------------------------------- layout details


def test_plain_table_aligns_columns_under_a_rule() -> None:
    table = PlainTable("Name", "Count", justify="lr", title="Things")
    table.add_row("apples", "3")
    table.add_row(Text("kiwis", style="green"), "1,204")
    table.caption = "2 kinds"
    console = recorder()
    console.print(table)
    assert console.export_text().splitlines() == [
        "Things",
        "Name    Count",
        "─────────────",
        "apples      3",
        "kiwis   1,204",
        "2 kinds",
    ]


def test_plain_table_cuts_lines_wider_than_the_console_with_an_ellipsis() -> None:
    table = PlainTable("Worker", "Status")
    table.add_row("W0", "x" * 50)
    console = recorder(width=20)
    console.print(table)
    lines = console.export_text().splitlines()
    assert lines[2] == "W0      xxxxxxxxxxx…"
    assert all(len(line) <= 20 for line in lines)


def test_plain_table_rejects_rows_and_alignments_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match=r"justify must be one 'l' or 'r' per column \(2\)"):
        PlainTable("a", "b", justify="lx")
    table = PlainTable("a", "b")
    with pytest.raises(ValueError, match="expected 2 cells, got 1"):
        table.add_row("only one")


def test_multi_line_statuses_and_errors_are_shown_on_one_line() -> None:
    busy = [("Fetch-W0", "a\nb", "fetch", "step 1\nstep 2", START + 9.0)]
    failures = [FailureRecord(5, "first line\nsecond line", "ValueError", "Fetch", 1, START)]
    text = draw(FullDashboard(console=recorder()), snapshot(busy=busy, failures=failures))
    (row,) = lines_with(text, "Fetch-W0")
    assert "a b" in row
    assert "step 1 step 2" in row
    assert "first line second line" in text


@pytest.mark.parametrize("width", [60, 80])
def test_the_full_dashboard_fits_a_narrow_terminal(width: int) -> None:
    console = Console(record=True, width=width, height=50, file=io.StringIO(), color_system=None)
    display = FullDashboard(console=console)
    snap = snapshot(busy=BUSY, failures=FAILURES, workers=4)
    display.start(1000, STAGES)
    console.print(display.render(display.view(snap), snap))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= width
    assert any(line.startswith("Fetch-W3") for line in lines)
