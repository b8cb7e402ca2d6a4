"""One local Ray for the tests of this directory, and two small actors the tests coordinate with.

Ray starts once per session (``num_cpus=2``, this machine's cores) and is shut down at the
end, which stops every process it started. Tasks run in other processes, so a test cannot
share a list or an ``asyncio.Event`` with them; it shares a `Ledger` actor instead: tasks
record their calls there and wait on its gates, and the test awaits its conditions. Nothing
sleeps to wait for state.

Ray 2.60 on CPython 3.11 emits no Python warning in these tests, so none is filtered
(``filterwarnings = error`` would turn one into a failure; filter any that appears here,
narrowly, with the reason).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import ray
from ray import cloudpickle


@ray.remote
class Ledger:
    """Shared state for tasks running in actors: call counts, concurrency, gates."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.log: list[str] = []
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.changed = asyncio.Condition()
        self.gates: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def enter(self, key: str, group: str = "") -> int:
        """Record a call of ``key`` (and one more running in ``group``); return its number."""
        async with self.changed:
            self.calls[key] += 1
            self.log.append(key)
            if group:
                self.running[group] += 1
                self.most[group] = max(self.most[group], self.running[group])
            self.changed.notify_all()
            return self.calls[key]

    async def leave(self, group: str) -> None:
        async with self.changed:
            self.running[group] -= 1

    async def wait_calls(self, total: int) -> None:
        """Return once ``total`` calls were recorded."""
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.log) >= total)

    async def gate(self, name: str) -> None:
        """Wait until `open` is called for ``name``."""
        await self.gates[name].wait()

    def open(self, name: str) -> None:
        self.gates[name].set()

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "log": list(self.log), "most": dict(self.most)}


@pytest.fixture(scope="session", autouse=True)
def ray_session() -> Iterator[None]:
    """Start a local Ray with 2 CPUs for these tests; shut it down (all its processes) after.

    ``pytest_runtest_teardown`` below shuts it down as soon as the last test of this
    directory has run, so the suites after it run on an idle machine.
    """
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        namespace="antflow-tests",
    )
    try:
        yield
    finally:
        if ray.is_initialized():
            ray.shutdown()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Shut Ray down after the last test of this directory (its fixtures already torn down)."""
    here = Path(__file__).resolve().parent
    if (nextitem is None or here not in nextitem.path.resolve().parents) and ray.is_initialized():
        ray.shutdown()


@pytest.fixture(autouse=True)
def tasks_pickled_by_value(request: pytest.FixtureRequest) -> None:
    """Send the test module's functions to the actors by value, as a notebook's would be.

    The worker processes cannot import the test modules (pytest imports them by path).
    """
    register: Callable[[ModuleType], None] = cloudpickle.register_pickle_by_value
    register(sys.modules[request.module.__name__])


@pytest.fixture
def ledger() -> Iterator[Any]:
    """A fresh `Ledger` actor, registered as ``"ledger"`` so tasks find it by name."""
    actor_class: Any = Ledger  # Ray's actor classes are typed loosely
    handle = actor_class.options(name="ledger").remote()
    try:
        yield handle
    finally:
        ray.kill(handle)
