"""A live display in a real terminal: logging above it, transient, SIGTERM and Ctrl-C.

Programs run in a pseudo-terminal (pexpect) and their output is played into a terminal
emulator (pyte), so the assertions read the screen a person would see at the end, not
the escape codes: a log line glued to the bar, or a stale copy of the bar left behind,
shows up on that screen exactly as it would in a terminal window.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sys
from pathlib import Path

import pexpect
import pyte
import pytest
from antflow_core.model import DashboardSnapshot, StageCounts, compute_pipeline_stats
from antflow_rich import CompactDashboard, ProgressBarDisplay, RichDisplay
from antflow_rich.displays import blank_snapshot
from rich.console import Console

COLUMNS, ROWS = 100, 130
SUMMARY = re.compile(r"crawl: (\d+|\d+ of \d+) items in [\d.]+s \([\d.,]+ items/s\): .*")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    env["TERM"] = "xterm-256color"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def screen_of(raw: str, columns: int = COLUMNS, rows: int = ROWS) -> list[str]:
    """The screen after ``raw`` was written to a terminal, a string per line, blanks cut."""
    screen = pyte.Screen(columns, rows)
    stream = pyte.Stream(screen)
    stream.feed(raw.replace("\n", "\r\n") if "\r\n" not in raw else raw)
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def default_sigint() -> None:
    """Give the child Ctrl-C's default handling: a shell's background job ignores SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(script: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        [str(script)],
        env=environment(),
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        timeout=30,
        preexec_fn=default_sigint,
    )


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


LOGGING_SCRIPT = """
import asyncio, logging
from antflow import Pipeline, Stage
from antflow_rich import ProgressBarDisplay

# made before the display: the handler keeps the terminal's stderr it was given
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("crawler")


async def fetch(n: int) -> int:
    log.info("log line %03d of 100: fetched https://example.com/%d", n, n)
    if n % 25 == 0:
        print(f"print line {n:03d}")
    await asyncio.sleep(0.001)  # the page's I/O: lets the bar refresh between lines
    return n


async def main() -> None:
    pipeline = Pipeline([Stage("Fetch", workers=4, tasks=[fetch])])
    display = ProgressBarDisplay(refresh_interval=0.001, description="crawl")
    await pipeline.run(range(1, 101), progress=display)


asyncio.run(main())
"""


def test_log_lines_print_above_the_live_bar_whole_and_leave_one_bar(tmp_path: Path) -> None:
    script = tmp_path / "crawl.py"
    script.write_text(LOGGING_SCRIPT, encoding="utf-8")
    child = spawn(script)
    raw = finish(child)
    assert child.exitstatus == 0, raw
    assert "\x1b[2K" in raw  # the bar was live: redrawn in place
    screen = screen_of(raw)
    for n in range(1, 101):
        line = f"INFO log line {n:03d} of 100: fetched https://example.com/{n}"
        assert screen.count(line) == 1, f"{line!r} not alone on its line:\n" + "\n".join(screen)
    for n in (25, 50, 75, 100):
        assert screen.count(f"print line {n:03d}") == 1
    bars = [line for line in screen if line.startswith("crawl ") and "━" in line]
    assert len(bars) == 1, "\n".join(screen)  # one bar, not stale copies
    assert "100/100" in bars[0]
    summaries = [line for line in screen if SUMMARY.fullmatch(line)]
    assert len(summaries) == 1
    assert screen[-1] == summaries[0]
    assert screen[-2] == bars[0]  # the final frame, then the summary, under the logs
    # every line on screen is a log line, a print, the bar or the summary
    assert len(screen) == 100 + 4 + 2, "\n".join(screen)


BLOCKED_SCRIPT = """
import asyncio
from antflow import Pipeline, Stage
from antflow_rich import ProgressBarDisplay


async def fetch(n: int) -> int:
    if n >= 2:
        await asyncio.Event().wait()  # a server that never answers
    return n


async def main() -> None:
    pipeline = Pipeline([Stage("Fetch", workers=3, tasks=[fetch])])
    await pipeline.run(range(10), progress=ProgressBarDisplay(description="crawl"))


asyncio.run(main())
"""


def run_until_stuck(tmp_path: Path, code: str = BLOCKED_SCRIPT) -> tuple[pexpect.spawn, str]:
    """Start the blocked crawl; return once its bar shows the 2 items that ended.

    Returns:
        The child, and what it wrote so far.
    """
    script = tmp_path / "blocked.py"
    script.write_text(code, encoding="utf-8")
    child = spawn(script)
    # the live bar (with its colours): 2 done, 3 workers stuck, the rest queued
    child.expect(r"2(\x1b\[[0-9;]*m)*/10")
    return child, str(child.before) + str(child.after)


def test_sigterm_during_run_shuts_down_shows_the_cursor_and_prints_the_summary(
    tmp_path: Path,
) -> None:
    child, raw = run_until_stuck(tmp_path)
    child.kill(signal.SIGTERM)
    raw += finish(child)
    # the documented exit: SystemExit(143) after the shutdown, not death by the signal
    assert (child.exitstatus, child.signalstatus) == (143, None), raw
    assert "\x1b[?25l" in raw  # the display had hidden the cursor...
    tail = raw[raw.rindex("\x1b[?25h") :]  # ...and the last thing it does is show it again
    summary = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tail).strip()
    assert re.fullmatch(
        r"crawl: 2 of 10 items in [\d.]+s \([\d.,]+ items/s\): 2 succeeded, 0 failed, "
        r"8 unfinished",
        summary,
    ), tail  # unfinished_items was filled: 3 held by workers, 5 queued
    assert "Traceback" not in raw


def test_ctrl_c_prints_one_line_and_the_interrupt_still_ends_the_program(
    tmp_path: Path,
) -> None:
    child, raw = run_until_stuck(tmp_path)
    child.sendintr()
    raw += finish(child)
    screen = screen_of(raw)
    assert "Traceback" not in raw, raw
    assert screen.count("KeyboardInterrupt") == 1, raw
    assert screen[-1] == "KeyboardInterrupt"
    assert re.fullmatch(r"crawl: 2 of 10 items in .*, 8 unfinished", screen[-2])
    assert "\x1b[?25h" in raw
    # the KeyboardInterrupt reached the top: Python ends as Ctrl-C ends a program
    assert child.signalstatus == signal.SIGINT or child.exitstatus == 130, (
        child.exitstatus,
        child.signalstatus,
    )


def test_a_program_that_catches_keyboard_interrupt_still_gets_it(tmp_path: Path) -> None:
    code = BLOCKED_SCRIPT.replace(
        "asyncio.run(main())",
        "try:\n    asyncio.run(main())\nexcept KeyboardInterrupt:\n    print('caught it')",
    )
    child, raw = run_until_stuck(tmp_path, code)
    child.sendintr()
    raw += finish(child)
    assert child.exitstatus == 0, raw
    screen = screen_of(raw)
    assert screen[-1] == "caught it"
    assert "KeyboardInterrupt" not in raw


# ---------------------------------------------------------------- transient=True


def snapshot(done: int) -> DashboardSnapshot:
    stats = compute_pipeline_stats(
        ("Fetch",), [StageCounts(completed=done)], fed=done, processed=done, failed=0
    )
    base = blank_snapshot(("Fetch",))
    return DashboardSnapshot(
        1010.0, stats, {}, {}, base.error_summary, started_at=1000.0, stage_names=("Fetch",)
    )


def drawn(display_type: type[RichDisplay], *, transient: bool) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, height=24)
    display = display_type(console=console, transient=transient, description="crawl")
    display.start(100, ("Fetch",))
    display.update(snapshot(50))
    display.finish(snapshot(100))
    return screen_of(out.getvalue(), 80, 24)


@pytest.mark.parametrize("display_type", [ProgressBarDisplay, CompactDashboard])
def test_transient_leaves_only_the_summary(display_type: type[RichDisplay]) -> None:
    kept = drawn(display_type, transient=False)
    gone = drawn(display_type, transient=True)
    summary = "crawl: 100 items in 10.0s (10.0 items/s): 100 succeeded, 0 failed"
    assert kept[-1] == summary
    assert any("100/100" in line for line in kept[:-1])  # the last frame stays above it
    assert gone == [summary]


def test_a_handler_writing_to_a_file_is_left_alone_and_every_stream_comes_back(
    tmp_path: Path,
) -> None:
    import logging

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, log_file = Terminal(), tmp_path / "run.log"
    to_terminal = logging.StreamHandler(terminal)
    to_file = logging.FileHandler(log_file)
    logger = logging.getLogger("antflow-test-terminal")
    logger.addHandler(to_terminal)
    logger.addHandler(to_file)
    logger.setLevel(logging.INFO)
    try:
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=80, height=24)
        display = ProgressBarDisplay(console=console, description="crawl")
        display.start(100, ("Fetch",))
        logger.info("record while live")
        display.finish(snapshot(100))
        logger.info("record after")
    finally:
        logger.removeHandler(to_terminal)
        logger.removeHandler(to_file)
        to_file.close()
    assert to_terminal.stream is terminal
    assert terminal.getvalue() == "record after\n"  # while live, it went through the console
    screen = screen_of(out.getvalue(), 80, 24)
    assert screen[0] == "record while live"
    assert log_file.read_text().splitlines() == ["record while live", "record after"]
