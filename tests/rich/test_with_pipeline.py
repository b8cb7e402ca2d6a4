"""The displays on real pipelines: run(progress=True), dashboards, stream, start/feed/join."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence

import pytest
from antflow_core import ExtensionNotInstalledError, Pipeline, Stage
from antflow_core.model import DashboardSnapshot
from antflow_core.runtime import set_task_status
from antflow_rich import FullDashboard, ProgressBarDisplay, ProgressView, RichDisplay
from rich.console import Console, RenderableType
from rich.text import Text


def recorder(width: int = 120) -> Console:
    return Console(record=True, width=width, file=io.StringIO(), color_system=None)


async def double_unless_seven(x: int) -> int:
    if x % 7 == 0:
        raise ValueError(f"{x} is a multiple of 7")
    return x * 2


def two_stages() -> list[Stage]:
    return [
        Stage("Check", workers=3, tasks=[double_unless_seven], task_attempts=1),
        Stage("Keep", workers=2, tasks=[double_unless_seven], task_attempts=1),
    ]


class Frames(RichDisplay):
    """Records the snapshots it is given; sets ``updated`` on the first update."""

    def __init__(self, refresh_interval: float = 0.001) -> None:
        super().__init__(console=recorder(), refresh_interval=refresh_interval)
        self.started: list[tuple[int | None, tuple[str, ...]]] = []
        self.snapshots: list[DashboardSnapshot] = []
        self.finished: list[DashboardSnapshot] = []
        self.updated = asyncio.Event()

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        self.started.append((total, tuple(stage_names)))
        super().start(total, stage_names)

    def update(self, snapshot: DashboardSnapshot) -> None:
        self.snapshots.append(snapshot)
        self.updated.set()
        super().update(snapshot)

    def finish(self, snapshot: DashboardSnapshot) -> None:
        self.finished.append(snapshot)
        super().finish(snapshot)

    def render(self, view: ProgressView, snapshot: DashboardSnapshot) -> RenderableType:
        return Text(f"{view.done}")


async def test_run_with_a_display_ends_with_the_summary_of_the_run() -> None:
    console = recorder()
    pipeline = Pipeline(two_stages())
    results = await pipeline.run(range(1, 21), progress=ProgressBarDisplay(console=console))
    # 7 and 14 fail at Check; nothing doubled is a multiple of 7 at Keep
    assert len(results) == 18
    (summary,) = console.export_text().splitlines()
    assert summary.startswith("antflow: 20 items in ")
    assert summary.endswith(": 18 succeeded, 2 failed (ValueError: 2)")


async def test_a_second_run_of_the_same_pipeline_summarises_only_that_run() -> None:
    pipeline = Pipeline(stages=two_stages())
    await pipeline.run(range(1, 21))
    console = recorder()
    await pipeline.run(range(21, 31), progress=ProgressBarDisplay(console=console))
    (summary,) = console.export_text().splitlines()
    assert summary.startswith("antflow: 10 items in ")
    # 21 and 28 fail at Check: the first run's two failures are not counted again
    assert summary.endswith(": 8 succeeded, 2 failed (ValueError: 2)")


async def test_the_pipeline_drives_start_update_and_finish_with_its_snapshots() -> None:
    display = Frames()
    released = asyncio.Event()

    async def wait_for_a_refresh(x: int) -> int:
        if x == 0:
            await display.updated.wait()  # the item ends only after the display refreshed
            released.set()
        return x

    pipeline = Pipeline([Stage("Wait", workers=2, tasks=[wait_for_a_refresh])])
    await pipeline.run(range(4), dashboard=display)
    assert released.is_set()
    assert display.started == [(4, ("Wait",))]
    assert display.snapshots, "update() was called while item 0 was running"
    assert display.snapshots[0].stats.items_in_flight >= 1
    (final,) = display.finished
    assert (final.stats.items_processed, final.stats.items_in_flight) == (4, 0)


async def test_progress_true_finds_the_bar_through_its_entry_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await Pipeline(two_stages()).run(range(1, 11), progress=True)
    err = capsys.readouterr().err
    assert "\x1b[" not in err  # pytest's capture is not a terminal
    assert err.splitlines()[-1].endswith(": 9 succeeded, 1 failed (ValueError: 1)")
    assert err.splitlines()[-1].startswith("antflow: 10 items in ")


@pytest.mark.parametrize("name", ["compact", "detailed", "full"])
async def test_each_named_dashboard_runs_and_summarises(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    results = await Pipeline(two_stages()).run(range(1, 11), dashboard=name, refresh_interval=0.01)
    assert len(results) == 9
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(": 9 succeeded, 1 failed (ValueError: 1)")


async def test_stream_of_an_unknown_number_of_items_shows_items_done() -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(1, 13):
            yield i

    display = Frames()
    got = [r.value async for r in Pipeline(two_stages()).stream(numbers(), progress=display)]
    assert len(got) == 11
    assert display.started == [(None, ("Check", "Keep"))]
    assert display.summary(display.finished[0]).startswith("antflow: 12 items in ")


async def test_start_feed_join_with_a_total_gives_an_eta() -> None:
    display = Frames()
    pipeline = Pipeline(two_stages())
    await pipeline.start(dashboard=display, total=30)
    await pipeline.feed(range(1, 11))
    await pipeline.feed(range(11, 31))
    await pipeline.join()
    (final,) = display.finished
    view = display.view(final)
    assert (view.total, view.done, view.failed, view.eta) == (30, 30, 4, 0.0)


async def test_full_dashboard_of_a_live_pipeline_shows_task_statuses() -> None:
    gate = asyncio.Event()
    holding = 0
    all_busy = asyncio.Event()

    async def poll_batch(x: int) -> int:
        nonlocal holding
        set_task_status(f"batch {x}: waiting for the provider")
        holding += 1
        if holding == 3:
            all_busy.set()
        await gate.wait()
        return x

    pipeline = Pipeline([Stage("Poll", workers=3, tasks=[poll_batch])])
    await pipeline.start(total=5)
    feeding = asyncio.create_task(pipeline.feed([{"id": f"job-{i}", "value": i} for i in range(5)]))
    await all_busy.wait()
    snap = pipeline.get_dashboard_snapshot()
    display = FullDashboard(console=recorder(width=140))
    display.start(5, snap.stage_names)
    console = recorder(width=140)
    console.print(display.render(display.view(snap), snap))
    text = console.export_text()
    gate.set()
    await feeding
    await pipeline.join()
    rows = [line for line in text.splitlines() if "Poll-W" in line]
    assert len(rows) == 3
    for worker, row in enumerate(rows):
        assert f"Poll-W{worker}" in row
        assert "busy" in row
        assert f"job-{worker}" in row
        assert "poll_batch" in row
        assert f"batch {worker}: waiting for the provider" in row
    assert "0/5" in text
    assert "No failures so far" in text


async def test_without_antflow_rich_asking_for_a_display_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import antflow_core.runtime.extensions as extensions

    monkeypatch.setattr(extensions, "entry_points", lambda **_: ())
    pipeline = Pipeline(two_stages())
    with pytest.raises(ExtensionNotInstalledError, match=r"pip install antflow-rich"):
        await pipeline.run(range(3), progress=True)
    with pytest.raises(ExtensionNotInstalledError, match=r"pip install antflow-rich"):
        await pipeline.run(range(3), dashboard="compact")
    # a display object needs no entry point
    display = Frames()
    assert len(await pipeline.run(range(1, 4), progress=display)) == 3
    assert display.finished


def test_importing_antflow_does_not_import_rich() -> None:
    code = (
        "import sys, antflow, antflow_core, antflow_core.runtime\n"
        "loaded = sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.'))\n"
        "assert not loaded, loaded\n"
        "assert 'antflow_rich' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_quick_with_progress_shows_the_bar_of_the_one_stage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from antflow import Pipeline as FullPipeline  # with antflow-builders' quick()

    results = await FullPipeline.quick(
        range(1, 11), double_unless_seven, workers=3, progress=True, task_wait_seconds=0
    )
    assert len(results) == 9
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("antflow: 10 items in ")
    assert line.endswith(": 9 succeeded, 1 failed (ValueError: 1)")


async def test_the_stage_table_shows_a_pull_stage_with_nothing_queued() -> None:
    from antflow_rich import stage_table

    release = asyncio.Event()
    polling = asyncio.Event()
    uploaded = asyncio.Event()
    counts = {"poll": 0, "upload": 0}

    async def upload(x: int) -> int:
        counts["upload"] += 1
        if counts["upload"] == 6:  # 2 handed to Poll, 4 held by waiting uploaders
            uploaded.set()
        return x

    async def poll(x: int) -> int:
        counts["poll"] += 1
        if counts["poll"] == 2:
            polling.set()
        await release.wait()
        return x

    pipeline = Pipeline(
        [
            Stage("Upload", workers=4, tasks=[upload]),
            Stage("Poll", workers=2, tasks=[poll], pull=True),
        ]
    )
    await pipeline.start()
    await pipeline.feed(range(10))
    async with asyncio.timeout(10):
        await polling.wait()
        await uploaded.wait()
        console = recorder()
        console.print(stage_table(pipeline.get_dashboard_snapshot(), total=10))
        release.set()
        await pipeline.join()
    rows = {line.split()[0]: line.split() for line in console.export_text().splitlines()[1:]}
    # Stage, Done, Queued, Active, Failed, Skipped, Retries (the bar has no text here)
    assert rows["Poll"][-5:] == ["0", "2/2", "0", "0", "0"]  # no queue; its 2 workers busy
    assert rows["Upload"][-5:] == ["4", "4/4", "0", "0", "0"]  # 4 waiting to hand over
