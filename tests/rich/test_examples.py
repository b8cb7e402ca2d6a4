"""The two dashboard examples, run as a user runs them: in a terminal and through a pipe.

The terminal is real: a tmux pane whose screen is read back with ``capture-pane``, so
the test sees what a person would see (one dashboard redrawn in place, not a scroll of
frames). Where tmux is not installed, a pexpect pseudo-terminal is used instead and the
test reads the bytes written to it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-B]|[=>78])")


@dataclass(frozen=True)
class Example:
    script: str
    args: tuple[str, ...]
    title: str  # printed once per frame
    final: str  # a regex matching a line of the last frame only
    summary: str  # the summary line, as a regex


POLLING = Example(
    "rich_polling_dashboard.py",
    ("--items", "30"),
    title="Batch jobs",
    final=r"Batch jobs 30/30 done · 1 rejected",
    summary=r"batches: 30 items in [\d.]+s \([\d.,]+ items/s\): 29 succeeded, 1 failed "
    r"\(PermissionError: 1\)",
)
CALLBACK = Example(
    "rich_callback_dashboard.py",
    ("--items", "30"),
    title="Items by stage and status",
    # queued, in progress, retrying, completed, failed, skipped: digital orders skip Ship
    final=r"Ship\W+0\W+0\W+0\W+21\W+0\W+7\W",
    summary=r"orders: 30 items in [\d.]+s \([\d.,]+ items/s\): 28 succeeded, 2 failed "
    r"\(ValueError: 2\)",
)
EXAMPLES = [pytest.param(POLLING, id="polling"), pytest.param(CALLBACK, id="callback")]


def environment() -> dict[str, str]:
    """The user's environment without the variables that force rich's terminal detection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    env["TERM"] = "xterm-256color"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def command(example: Example) -> list[str]:
    return [sys.executable, str(ROOT / "examples" / example.script), *example.args]


@pytest.mark.parametrize("example", EXAMPLES)
def test_through_a_pipe_the_example_writes_plain_text_and_the_summary(example: Example) -> None:
    done = subprocess.run(
        command(example),
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "\x1b" not in done.stderr
    assert done.stdout.count(example.title) == 1  # the final state, printed once
    assert re.search(example.final, done.stdout)
    summary = done.stdout.splitlines()[-2]
    assert re.fullmatch(example.summary, summary), summary


@dataclass(frozen=True)
class Screen:
    text: str  # what the screen shows, without styles
    styled: str  # the same with its escape codes (colors, bold)
    exit_status: int


def in_tmux(argv: list[str], columns: int, rows: int, socket: Path) -> Screen:
    """Run ``argv`` in a new tmux server's pane and read the screen when it exits."""
    done, release = f"{socket.name}-done", f"{socket.name}-release"
    tmux = ["tmux", "-S", str(socket), "-f", "/dev/null"]
    script = (
        f"{shlex.join(argv)}; echo EXIT=$?; "
        f"{shlex.join([*tmux, 'wait-for', '-S', done])}; "
        f"{shlex.join([*tmux, 'wait-for', release])}"
    )
    env = environment()
    try:
        subprocess.run(
            [*tmux, "new-session", "-d", "-x", str(columns), "-y", str(rows), script],
            env=env,
            check=True,
            timeout=30,
        )
        subprocess.run([*tmux, "wait-for", done], env=env, check=True, timeout=120)
        capture = [*tmux, "capture-pane", "-p", "-t", "0"]
        text = subprocess.run(capture, env=env, check=True, capture_output=True, text=True)
        styled = subprocess.run(
            [*capture, "-e"], env=env, check=True, capture_output=True, text=True
        )
    finally:
        subprocess.run([*tmux, "kill-server"], env=env, check=False, capture_output=True)
    status = re.search(r"EXIT=(\d+)", text.stdout)
    assert status is not None, text.stdout
    return Screen(text.stdout, styled.stdout, int(status.group(1)))


def in_pexpect(argv: list[str], columns: int, rows: int) -> Screen:
    """Run ``argv`` in a pseudo-terminal; the "screen" is everything written, codes stripped."""
    child = pexpect.spawn(
        argv[0],
        argv[1:],
        env=environment(),
        dimensions=(rows, columns),
        encoding="utf-8",
        timeout=120,
    )
    child.expect(pexpect.EOF)
    child.close()
    raw = str(child.before)
    return Screen(ANSI.sub("", raw).replace("\r", ""), raw, int(child.exitstatus or 0))


@pytest.mark.parametrize("example", EXAMPLES)
def test_in_a_terminal_the_example_redraws_one_dashboard_in_place(
    example: Example, tmp_path: Path
) -> None:
    columns, rows = 110, 60
    if shutil.which("tmux"):
        socket = tmp_path / f"tmux-{uuid.uuid4().hex[:8]}"
        screen = in_tmux(command(example), columns, rows, socket)
        # tmux shows the screen as a person sees it: a single dashboard, redrawn in place
        assert screen.text.count(example.title) == 1, screen.text
    else:
        screen = in_pexpect(command(example), columns, rows)
        # every frame is in the byte stream; more than one means it was redrawn live
        assert screen.text.count(example.title) > 1, screen.text
    assert screen.exit_status == 0, screen.text
    assert "\x1b[" in screen.styled  # rich saw a terminal: it drew with colors
    assert re.search(example.final, screen.text)
    lines = [line.rstrip() for line in screen.text.splitlines() if line.strip()]
    summaries = [line for line in lines if re.fullmatch(example.summary, line)]
    assert len(summaries) == 1, lines
