"""Shared test configuration.

Every ``async def`` test also checks, after it returns, that no antflow task (worker,
feeder, display refresher) is left running: structured concurrency is a promise.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator

import pytest


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail the test if it leaves an ``antflow:*`` task running."""
    yield
    leaked = [
        t.get_name()
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and t.get_name().startswith("antflow:") and not t.done()
    ]
    assert not leaked, f"antflow tasks left running: {leaked}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.usefixtures("no_leaked_tasks"))
