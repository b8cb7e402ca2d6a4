"""The seed documents' examples run on `RayPipeline`, where the options they use are supported.

Each example of ``tests/umbrella/test_seed_examples.py`` (the guide's and the API page's
code, verbatim, with its harness) is rewritten to build a ``RayPipeline`` wherever it
builds a ``Pipeline``, and run against this session's local Ray (``num_cpus=2``). The
output is checked with the same patterns as on the asyncio runtime.

The scripts run in this process, three at a time in threads (each with its own event
loop, and its own stdout and stderr): starting a driver process per example would cost
a Ray connection and fresh worker processes each, several times the examples themselves.

The examples left out, and why, are in ``NOT_ON_RAY``: most share state between the
driver and the tasks (a counter, a list, an ``asyncio.Event``), which processes cannot do;
two use the builders, which make asyncio pipelines.
"""

from __future__ import annotations

import importlib.util
import io
import queue
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "seed_examples", ROOT / "tests" / "umbrella" / "test_seed_examples.py"
)
assert _spec is not None
assert _spec.loader is not None
seeds: Any = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = seeds  # dataclasses look their module up while it executes
_spec.loader.exec_module(seeds)

NOT_ON_RAY: dict[str, str] = {
    "fluent-builder": "Pipeline.create() builds an asyncio Pipeline",
    "quick": "Pipeline.quick() runs an asyncio Pipeline",
    "per-task-retry": "the task counts its calls in a Counter the driver reads",
    "per-stage-retry": "the task counts its calls in a Counter the driver reads",
    "option-b-task-limits": "the task counts concurrent uploads in driver globals",
    "priority-queues": "the task waits on an asyncio.Event the driver sets",
    "internal-queue-entry": "the task waits on an asyncio.Event the driver sets",
}


def on_ray(script: str) -> str:
    """The example's script with every Pipeline it builds made a RayPipeline."""
    script = re.sub(r"\bPipeline\((?=stages|\s*$)", "RayPipeline(", script, flags=re.MULTILINE)
    script = script.replace("(Pipeline):", "(RayPipeline):")
    return "from antflow_ray import RayPipeline\n" + script


EXAMPLES = [e for e in seeds.EXAMPLES if e.id not in NOT_ON_RAY]
THREADS = 3
TIMEOUT = 120.0


class _ByThread(io.TextIOBase):
    """A stream that writes into the buffer of the calling thread, if it has one."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.buffers: dict[int, io.StringIO] = {}

    def write(self, text: str) -> int:
        return self.buffers.get(threading.get_ident(), self.fallback).write(text)

    def isatty(self) -> bool:
        return False


@dataclass
class Run:
    stdout: str = ""
    stderr: str = ""
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _run_all(out: _ByThread, err: _ByThread) -> dict[str, Run]:
    runs = {e.id: Run() for e in EXAMPLES}
    todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for example in EXAMPLES:
        todo.put(example)

    def worker() -> None:
        me = threading.get_ident()
        while True:
            try:
                example = todo.get_nowait()
            except queue.Empty:
                return
            run = runs[example.id]
            out.buffers[me], err.buffers[me] = io.StringIO(), io.StringIO()
            try:
                code = compile(on_ray(example.script()), f"<{example.id}>", "exec")
                exec(code, {"__name__": "__main__"})
            except BaseException as error:
                run.error = error
            finally:
                run.stdout = out.buffers.pop(me).getvalue()
                run.stderr = err.buffers.pop(me).getvalue()
                run.done.set()

    # Daemon threads: an example that hangs fails its test and cannot block the exit.
    for _ in range(THREADS):
        threading.Thread(target=worker, daemon=True, name="seed-example").start()
    return runs


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    """Start every example on Ray (three at a time) and wait for all of them."""
    out, err = _ByThread(sys.stdout), _ByThread(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        started = _run_all(out, err)
        for run in started.values():
            run.done.wait(TIMEOUT)
        yield started
    finally:
        sys.stdout, sys.stderr = out.fallback, err.fallback


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_seed_example_runs_on_ray(example: Any, runs: dict[str, Run]) -> None:
    script = on_ray(example.script())
    body = script.removeprefix("from antflow_ray import RayPipeline\n")
    assert "RayPipeline(" in body or "(RayPipeline):" in body
    run = runs[example.id]
    assert run.done.is_set(), f"{example.id} did not end within {TIMEOUT}s"
    assert run.error is None, f"{example.where}\n--- script\n{script}\n{run.stderr}"
    lines = run.stdout.splitlines()
    for pattern in example.stdout:
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, run.stdout)
    for pattern in example.stderr:
        assert re.search(pattern, run.stderr), (pattern, run.stderr)


def test_every_example_left_out_is_named_with_a_reason() -> None:
    ids = {e.id for e in seeds.EXAMPLES}
    assert set(NOT_ON_RAY) <= ids
    assert len(EXAMPLES) + len(NOT_ON_RAY) == len(ids)
